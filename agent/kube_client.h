// KubeClient: the two Kubernetes API calls the agent makes with its service
// account (RBAC: get nodes, list pods):
//   GET /api/v1/nodes/NAME                                  -> the Node's labels
//   GET /api/v1/pods?fieldSelector=spec.nodeName=NAME&limit -> UIDs of the pods on
//       that node, following metadata.continue until the last page.
//
// The bearer token is read from the token file on every request (projected
// service-account tokens rotate; the kubelet rewrites the file), and on a 401
// the file is read again and the request retried once if the token changed. The
// token is never logged or put in a Status. TLS is verified against the CA file
// (--kube-ca-file); proxy variables are ignored.
//
// Errors are one line saying what to do: 401 (token refused), 403 (RBAC), 404
// (no such node: --name must be the node name), anything else with the API's
// own message. Thread-safe: one mutex serialises requests (one HttpClient).
// Not responsible for deciding anything from the answers (NodeTopology,
// PodLeasePolicy do).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "common/http_client.h"
#include "common/status.h"

namespace shardcast::agent {

struct KubeClientOptions {
  std::string api_url;     // e.g. https://10.96.0.1:443 (no trailing slash)
  std::string token_file;  // service-account token
  std::string ca_file;     // PEM CA bundle for https; "" = the system's
  uint32_t page_size = 500;
  long timeout_ms = 15000;
};

class KubeClient {
 public:
  explicit KubeClient(KubeClientOptions options);

  // The labels of Node `node`.
  Result<std::map<std::string, std::string>> nodeLabels(const std::string& node);
  // UIDs (lowercase) of the pods bound to `node` that are not in a terminal phase
  // (Succeeded/Failed pods never run again). An error when any page fails: the
  // caller must not act on a partial list.
  Result<std::set<std::string>> livePodUids(const std::string& node);

 private:
  Result<std::string> readToken() const;
  // GET api_url + path_and_query with the bearer token; a 2xx body or an error.
  Result<std::string> get(const std::string& path_and_query, const std::string& node);

  const KubeClientOptions options_;
  std::mutex mu_;
  HttpClient http_;  // guarded by mu_
};

}  // namespace shardcast::agent
