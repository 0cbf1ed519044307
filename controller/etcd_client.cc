#include "controller/etcd_client.h"

#include <cstdlib>
#include <exception>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/objstore/base64.h"

namespace shardcast::controller {
namespace {

using nlohmann::json;

// scheme://host:port of an endpoint, without userinfo or path, for messages.
std::string endpointName(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t end = url.find('/', start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  size_t at = authority.rfind('@');
  if (at != std::string::npos) authority = authority.substr(at + 1);
  return url.substr(0, start) + authority;
}

// etcd's JSON gateway writes int64 fields as strings and omits zero values.
int64_t int64Field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) return std::strtoll(it->get<std::string>().c_str(), nullptr, 10);
  return 0;
}

Result<std::string> bytesField(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::string();
  auto decoded = base64Decode(it->get<std::string>());
  if (!decoded.isOk()) return corruption(std::string("etcd answered malformed base64 in '") + name + "'");
  return decoded;
}

Result<EtcdRange> rangeFromJson(const json& j) {
  EtcdRange out;
  if (auto h = j.find("header"); h != j.end()) out.revision = int64Field(*h, "revision");
  out.more = j.value("more", false);
  out.count = int64Field(j, "count");
  if (auto kvs = j.find("kvs"); kvs != j.end() && kvs->is_array()) {
    for (const auto& kv : *kvs) {
      EtcdKeyValue e;
      ASSIGN_OR_RETURN(e.key, bytesField(kv, "key"));
      ASSIGN_OR_RETURN(e.value, bytesField(kv, "value"));
      e.create_revision = int64Field(kv, "create_revision");
      e.mod_revision = int64Field(kv, "mod_revision");
      e.version = int64Field(kv, "version");
      e.lease = int64Field(kv, "lease");
      out.kvs.push_back(std::move(e));
    }
  }
  return out;
}

json rangeToJson(const EtcdRangeRequest& r) {
  json j = {{"key", base64Encode(r.key)}};
  if (!r.range_end.empty()) j["range_end"] = base64Encode(r.range_end);
  if (r.limit > 0) j["limit"] = std::to_string(r.limit);
  if (r.revision > 0) j["revision"] = std::to_string(r.revision);
  return j;
}

json compareToJson(const EtcdCompare& c) {
  static const char* kOps[] = {"EQUAL", "NOT_EQUAL", "GREATER", "LESS"};
  json j = {{"key", base64Encode(c.key)}, {"result", kOps[static_cast<int>(c.op)]}};
  switch (c.target) {
    case EtcdCompare::Target::kVersion:
      j["target"] = "VERSION";
      j["version"] = std::to_string(c.number);
      break;
    case EtcdCompare::Target::kCreateRevision:
      j["target"] = "CREATE";
      j["create_revision"] = std::to_string(c.number);
      break;
    case EtcdCompare::Target::kModRevision:
      j["target"] = "MOD";
      j["mod_revision"] = std::to_string(c.number);
      break;
    case EtcdCompare::Target::kValue:
      j["target"] = "VALUE";
      j["value"] = base64Encode(c.value);
      break;
    case EtcdCompare::Target::kLease:
      j["target"] = "LEASE";
      j["lease"] = std::to_string(c.number);
      break;
  }
  return j;
}

json opToJson(const EtcdOp& op) {
  switch (op.kind) {
    case EtcdOp::Kind::kPut: {
      json put = {{"key", base64Encode(op.key)}, {"value", base64Encode(op.value)}};
      if (op.lease != 0) put["lease"] = std::to_string(op.lease);
      return json{{"request_put", std::move(put)}};
    }
    case EtcdOp::Kind::kDelete: {
      json del = {{"key", base64Encode(op.key)}};
      if (!op.range_end.empty()) del["range_end"] = base64Encode(op.range_end);
      return json{{"request_delete_range", std::move(del)}};
    }
    case EtcdOp::Kind::kRange:
      return json{{"request_range", rangeToJson(EtcdRangeRequest{op.key, op.range_end, 0, 0})}};
  }
  return json::object();
}

// Maps an etcd error answer ({"error","message","code"} with a gRPC code).
Status etcdError(const std::string& endpoint, long http_status, const std::string& body) {
  std::string message;
  int code = -1;
  try {
    json j = json::parse(body);
    message = j.value("message", j.value("error", std::string()));
    code = j.value("code", -1);
  } catch (const std::exception&) {
    message = "HTTP " + std::to_string(http_status);
  }
  std::string text = "etcd " + endpoint + ": " + message.substr(0, 300);
  if (message.find("too many operations") != std::string::npos ||
      message.find("request is too large") != std::string::npos) {
    return resourceExhausted(text, "etcd_limit");
  }
  switch (code) {
    case 3: return invalidArgument(text);
    case 4: return deadlineExceeded(text);
    case 5: return notFound(text);
    case 7: return permissionDenied(text);
    case 8: return resourceExhausted(text);
    case 9: return failedPrecondition(text);
    case 11:
      return failedPrecondition(text, message.find("compacted") != std::string::npos
                                          ? "etcd_compacted"
                                          : "etcd_out_of_range");
    case 16: return unauthenticated(text);
    case 1:
    case 14: return unavailable(text);
    default:
      if (http_status == 503) return unavailable(text);
      return internalError(text);
  }
}

// Worth trying the next endpoint: the request did not reach a working member.
bool failsOver(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded;
}

}  // namespace

EtcdClient::EtcdClient(EtcdClientOptions options)
    : options_(std::move(options)), pool_([this] {
        HttpClientOptions h;
        h.use_proxy_env = false;  // etcd is cluster-internal traffic
        h.ca_bundle = options_.ca_file;
        h.client_cert = options_.cert_file;
        h.client_key = options_.key_file;
        return h;
      }()) {}

std::string EtcdClient::currentEndpoint() const {
  std::lock_guard<std::mutex> l(mu_);
  return options_.endpoints.empty() ? "" : endpointName(options_.endpoints[current_]);
}

std::string EtcdClient::prefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key (etcd's convention)
}

Result<nlohmann::json> EtcdClient::call(const std::string& path, const std::string& body,
                                        long timeout_ms) {
  if (options_.endpoints.empty()) return invalidArgument("no etcd endpoints configured");
  size_t start;
  {
    std::lock_guard<std::mutex> l(mu_);
    start = current_;
  }
  Status last = unavailable("no etcd endpoint answered");
  size_t n = options_.endpoints.size();
  for (size_t attempt = 0; attempt < n; ++attempt) {
    size_t index = (start + attempt) % n;
    const std::string& base = options_.endpoints[index];
    std::string name = endpointName(base);
    HttpRequest req;
    req.method = "POST";
    req.url = base + path;
    req.body = body;
    req.timeout_ms = timeout_ms > 0 ? timeout_ms : options_.timeout_ms;
    req.connect_timeout_ms = options_.connect_timeout_ms;
    req.headers.emplace_back("Content-Type", "application/json");
    auto client = pool_.acquire();
    auto resp = client->send(req);
    Status failure;
    if (!resp.isOk()) {
      // The transport message names the URL (endpoint + path) and curl's reason.
      failure = Status(resp.status().code(), "etcd " + name + ": " + resp.status().message());
    } else if (resp->status != 200) {
      failure = etcdError(name, resp->status, resp->body);
    } else {
      try {
        json parsed = json::parse(resp->body);
        if (attempt > 0) {
          std::lock_guard<std::mutex> l(mu_);
          current_ = index;
          LOG_WARN("etcd: now using endpoint " << name);
        }
        return parsed;
      } catch (const std::exception&) {
        return corruption("etcd " + name + " answered " + path + " with malformed JSON");
      }
    }
    if (!failsOver(failure)) return failure;
    last = failure;
  }
  {
    // Next time start with the endpoint after the one we started with.
    std::lock_guard<std::mutex> l(mu_);
    if (current_ == start) current_ = (start + 1) % n;
  }
  return last;
}

Result<EtcdRange> EtcdClient::range(const EtcdRangeRequest& request) {
  ASSIGN_OR_RETURN(json j, call("/v3/kv/range", rangeToJson(request).dump(), 0));
  return rangeFromJson(j);
}

Result<EtcdRange> EtcdClient::rangePrefix(const std::string& prefix, int64_t revision, int64_t page) {
  EtcdRange all;
  EtcdRangeRequest req{prefix, prefixEnd(prefix), page, revision};
  for (;;) {
    ASSIGN_OR_RETURN(EtcdRange part, range(req));
    // Later pages are read at the first page's revision: one consistent view.
    if (req.revision == 0) req.revision = part.revision;
    all.revision = req.revision;
    all.count = std::max(all.count, part.count);
    for (auto& kv : part.kvs) all.kvs.push_back(std::move(kv));
    if (!part.more || all.kvs.empty()) break;
    req.key = all.kvs.back().key + std::string(1, '\0');
  }
  return all;
}

Result<EtcdTxnResult> EtcdClient::txn(const std::vector<EtcdCompare>& compares,
                                      const std::vector<EtcdOp>& success,
                                      const std::vector<EtcdOp>& failure) {
  json body = json::object();
  json c = json::array(), s = json::array(), f = json::array();
  for (const auto& x : compares) c.push_back(compareToJson(x));
  for (const auto& x : success) s.push_back(opToJson(x));
  for (const auto& x : failure) f.push_back(opToJson(x));
  if (!c.empty()) body["compare"] = std::move(c);
  if (!s.empty()) body["success"] = std::move(s);
  if (!f.empty()) body["failure"] = std::move(f);
  ASSIGN_OR_RETURN(json j, call("/v3/kv/txn", body.dump(), 0));
  EtcdTxnResult out;
  out.succeeded = j.value("succeeded", false);
  if (auto h = j.find("header"); h != j.end()) out.revision = int64Field(*h, "revision");
  const auto& ops = out.succeeded ? success : failure;
  out.ranges.resize(ops.size());
  if (auto responses = j.find("responses"); responses != j.end() && responses->is_array()) {
    for (size_t i = 0; i < responses->size() && i < ops.size(); ++i) {
      auto r = (*responses)[i].find("response_range");
      if (r == (*responses)[i].end()) continue;
      ASSIGN_OR_RETURN(out.ranges[i], rangeFromJson(*r));
    }
  }
  return out;
}

Result<EtcdLease> EtcdClient::leaseGrant(int64_t ttl_s) {
  json body = {{"TTL", std::to_string(ttl_s)}};
  ASSIGN_OR_RETURN(json j, call("/v3/lease/grant", body.dump(), 0));
  EtcdLease lease{int64Field(j, "ID"), int64Field(j, "TTL")};
  if (lease.id == 0 || lease.ttl_s <= 0) {
    return unavailable("etcd " + currentEndpoint() + " granted no lease: " +
                       j.value("error", std::string("no ID in the answer")).substr(0, 200));
  }
  return lease;
}

Result<int64_t> EtcdClient::leaseKeepAlive(int64_t id, long timeout_ms) {
  json body = {{"ID", std::to_string(id)}};
  ASSIGN_OR_RETURN(json j, call("/v3/lease/keepalive", body.dump(), timeout_ms));
  // The gateway streams: one {"result": {...}} object per keepalive sent.
  if (j.contains("error")) {
    return unavailable("etcd " + currentEndpoint() + ": lease keepalive failed");
  }
  const json& r = j.contains("result") ? j["result"] : j;
  int64_t ttl = int64Field(r, "TTL");
  if (ttl <= 0) return notFound("etcd lease " + std::to_string(id) + " has expired", "lease_expired");
  return ttl;
}

Status EtcdClient::leaseRevoke(int64_t id) {
  json body = {{"ID", std::to_string(id)}};
  auto r = call("/v3/lease/revoke", body.dump(), 0);
  return r.isOk() ? Status::ok() : r.status();
}

Result<std::vector<std::string>> parseEtcdEndpoints(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    while (!item.empty() && item.back() == '/') item.pop_back();
    if (!item.empty()) {
      if (item.find('@') != std::string::npos) {
        // Not quoted: the part before '@' would be a password.
        return invalidArgument("--etcd-endpoints must not carry credentials (user:password@)");
      }
      bool http = item.rfind("http://", 0) == 0 || item.rfind("https://", 0) == 0;
      size_t host = item.find("://") + 3;
      if (!http || item.size() <= host || item.find('/', host) != std::string::npos) {
        return invalidArgument("--etcd-endpoints wants http://host:port URLs separated by commas, got '" +
                               item.substr(0, 100) + "'");
      }
      out.push_back(item);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (out.empty()) return invalidArgument("--etcd-endpoints needs at least one http://host:port URL");
  return out;
}

}  // namespace shardcast::controller
