#include "agent/kube_client.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/api/json_fields.h"

namespace shardcast::agent {
namespace {

// Pages of the pod list followed at most (500 pods a page: far beyond a node's
// pod limit); a server that never ends the list is an error, not a loop.
constexpr int kMaxPages = 1000;

HttpClientOptions httpOptions(const KubeClientOptions& o) {
  HttpClientOptions h;
  h.user_agent = "shardcast-agent/" SHARDCAST_VERSION;
  if (o.api_url.rfind("https://", 0) == 0) h.ca_bundle = o.ca_file;
  return h;  // use_proxy_env stays false: the API is in the cluster
}

// The "message" of a Kubernetes Status body, printable and short; "" if none.
std::string apiMessage(const std::string& body) {
  auto j = api::parseJson(body);
  if (!j.isOk() || !j->is_object() || !j->contains("message") || !(*j)["message"].is_string()) {
    return "";
  }
  std::string m = (*j)["message"].get<std::string>().substr(0, 300);
  for (char& c : m) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return m;
}

Status httpError(const HttpResponse& r, const std::string& path, const std::string& node,
                 const std::string& token_file) {
  std::string msg = apiMessage(r.body);
  std::string said = msg.empty() ? "" : ": " + msg;
  switch (r.status) {
    case 401:
      return unauthenticated("the Kubernetes API refused the service account token (401 on GET " +
                             path + "); check the token mount (--kube-token-file " + token_file +
                             ")");
    case 403:
      return permissionDenied("the Kubernetes API forbids GET " + path + " (403" + said +
                              "); RBAC: the agent's ServiceAccount needs get nodes / list pods "
                              "(a ClusterRole bound to it)");
    case 404:
      if (path.rfind("/api/v1/nodes/", 0) == 0) {
        return notFound("node " + node + " not found in the Kubernetes API; --name must be the "
                        "Kubernetes node name, e.g. from spec.nodeName");
      }
      break;
    default:
      break;
  }
  return unavailable("the Kubernetes API answered " + std::to_string(r.status) + " to GET " + path +
                     said + "; check --kube-api");
}

}  // namespace

KubeClient::KubeClient(KubeClientOptions options)
    : options_(std::move(options)), http_(httpOptions(options_)) {}

Result<std::string> KubeClient::readToken() const {
  std::ifstream in(options_.token_file);
  if (!in) {
    return unauthenticated("cannot read the service account token " + options_.token_file +
                           "; check the token mount (--kube-token-file)");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  size_t b = t.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) {
    return unauthenticated("the service account token " + options_.token_file +
                           " is empty; check the token mount (--kube-token-file)");
  }
  size_t e = t.find_last_not_of(" \t\r\n");
  return t.substr(b, e - b + 1);
}

Result<std::string> KubeClient::get(const std::string& path_and_query, const std::string& node) {
  std::string path = path_and_query.substr(0, path_and_query.find('?'));
  std::lock_guard<std::mutex> lock(mu_);
  std::string used;
  for (int attempt = 0; attempt < 2; ++attempt) {
    ASSIGN_OR_RETURN(std::string token, readToken());
    if (attempt == 1 && token == used) break;  // the 401 stands: the token did not rotate
    used = token;
    HttpRequest req;
    req.url = options_.api_url + path_and_query;
    req.timeout_ms = options_.timeout_ms;
    req.headers.emplace_back("Authorization", "Bearer " + token);
    req.headers.emplace_back("Accept", "application/json");
    auto r = http_.send(req);
    if (!r.isOk()) {
      return unavailable("cannot reach the Kubernetes API (" + r.status().message() +
                         "); check --kube-api and --kube-ca-file");
    }
    if (r->status >= 200 && r->status < 300) return std::move(r->body);
    if (r->status != 401 || attempt == 1) {
      return httpError(*r, path, node, options_.token_file);
    }
  }
  HttpResponse refused;
  refused.status = 401;
  return httpError(refused, path, node, options_.token_file);
}

Result<std::map<std::string, std::string>> KubeClient::nodeLabels(const std::string& node) {
  ASSIGN_OR_RETURN(std::string body, get("/api/v1/nodes/" + urlEncode(node), node));
  auto j = api::parseJson(body);
  if (!j.isOk()) return unavailable("the Kubernetes API sent a Node that is not JSON");
  std::map<std::string, std::string> labels;
  try {
    const auto& meta = j->at("metadata");
    if (meta.contains("labels") && meta["labels"].is_object()) {
      for (const auto& [k, v] : meta["labels"].items()) {
        if (v.is_string()) labels[k] = v.get<std::string>();
      }
    }
  } catch (const nlohmann::json::exception&) {
    return unavailable("the Kubernetes API sent a Node without metadata");
  }
  return labels;
}

Result<std::set<std::string>> KubeClient::livePodUids(const std::string& node) {
  std::set<std::string> uids;
  std::string cont;
  for (int page = 0; page < kMaxPages; ++page) {
    std::string q = "/api/v1/pods?fieldSelector=" + urlEncode("spec.nodeName=" + node) +
                    "&limit=" + std::to_string(options_.page_size);
    if (!cont.empty()) q += "&continue=" + urlEncode(cont);
    ASSIGN_OR_RETURN(std::string body, get(q, node));
    auto j = api::parseJson(body);
    if (!j.isOk() || !j->is_object() || !j->contains("items") || !(*j)["items"].is_array()) {
      return unavailable("the Kubernetes API sent a pod list without items");
    }
    for (const auto& pod : (*j)["items"]) {
      if (!pod.is_object() || !pod.contains("metadata") || !pod["metadata"].is_object()) continue;
      const auto& meta = pod["metadata"];
      if (!meta.contains("uid") || !meta["uid"].is_string()) continue;
      std::string phase;
      if (pod.contains("status") && pod["status"].is_object() && pod["status"].contains("phase") &&
          pod["status"]["phase"].is_string()) {
        phase = pod["status"]["phase"].get<std::string>();
      }
      if (phase == "Succeeded" || phase == "Failed") continue;
      std::string uid = meta["uid"].get<std::string>();
      for (char& c : uid) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      uids.insert(uid);
    }
    cont.clear();
    const auto& meta = (*j).contains("metadata") ? (*j)["metadata"] : nlohmann::json();
    if (meta.is_object() && meta.contains("continue") && meta["continue"].is_string()) {
      cont = meta["continue"].get<std::string>();
    }
    if (cont.empty()) return uids;
  }
  return unavailable("the Kubernetes pod list did not end after " + std::to_string(kMaxPages) +
                     " pages");
}

}  // namespace shardcast::agent
