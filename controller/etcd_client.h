// EtcdClient: a small typed client for etcd's v3 JSON gateway (/v3/kv/range,
// /v3/kv/txn, /v3/lease/grant|keepalive|revoke) over libcurl, for the etcd state
// store and the leader elector (DESIGN §7). Keys and values are raw bytes here;
// the client does the gateway's base64 and its int64-as-string fields.
//
// Several endpoints may be given (members of one etcd cluster). Every request
// goes to the current endpoint; on a transport failure (refused, reset, timeout)
// or an etcd "unavailable" answer it is sent to the next endpoint, each endpoint
// tried once, and the one that answered becomes current. A request that timed
// out may have been applied, so a retried txn may apply twice: callers write
// txns that are idempotent under their own compares (puts of the same values,
// create-if-absent that recognises its own earlier win).
//
// Errors name the endpoint (scheme://host:port, userinfo stripped) and etcd's
// message, never a value. etcd's gRPC codes map to Status codes; "too many
// operations" and "request is too large" become ResourceExhausted.
//
// Thread-safe: each request borrows its own HttpClient from a pool; the current
// endpoint is guarded by a mutex. Not responsible for key layout or retries
// beyond the endpoint failover (callers own their loops).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/http_client.h"
#include "common/status.h"

namespace shardcast::controller {

struct EtcdClientOptions {
  std::vector<std::string> endpoints;  // "http://host:port", at least one
  long timeout_ms = 5000;              // per request and endpoint
  long connect_timeout_ms = 1000;
  // TLS (https:// endpoints): the CA that signed etcd's certificate ("" = the
  // system's), and a client certificate and key when etcd requires one.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

struct EtcdKeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct EtcdRangeRequest {
  std::string key;
  std::string range_end;  // "" = the single key `key`
  int64_t limit = 0;      // 0 = no limit
  int64_t revision = 0;   // 0 = the newest
};

struct EtcdRange {
  int64_t revision = 0;  // the store's revision the answer was read at
  std::vector<EtcdKeyValue> kvs;
  bool more = false;     // a limit cut the answer short
  int64_t count = 0;     // keys in the whole range
};

struct EtcdCompare {
  enum class Target { kVersion, kCreateRevision, kModRevision, kValue, kLease };
  enum class Op { kEqual, kNotEqual, kGreater, kLess };
  std::string key;
  Target target = Target::kVersion;
  Op op = Op::kEqual;
  int64_t number = 0;  // for every target but kValue
  std::string value;   // for kValue

  static EtcdCompare createRevision(std::string key, int64_t rev, Op op = Op::kEqual) {
    return {std::move(key), Target::kCreateRevision, op, rev, {}};
  }
  static EtcdCompare modRevision(std::string key, int64_t rev, Op op = Op::kEqual) {
    return {std::move(key), Target::kModRevision, op, rev, {}};
  }
  static EtcdCompare version(std::string key, int64_t v, Op op = Op::kEqual) {
    return {std::move(key), Target::kVersion, op, v, {}};
  }
  static EtcdCompare valueIs(std::string key, std::string v, Op op = Op::kEqual) {
    return {std::move(key), Target::kValue, op, 0, std::move(v)};
  }
  static EtcdCompare lease(std::string key, int64_t id, Op op = Op::kEqual) {
    return {std::move(key), Target::kLease, op, id, {}};
  }
};

struct EtcdOp {
  enum class Kind { kPut, kDelete, kRange };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;      // kPut
  int64_t lease = 0;      // kPut: attach the key to this lease (0 = none)
  std::string range_end;  // kDelete, kRange: "" = the single key

  static EtcdOp put(std::string key, std::string value, int64_t lease = 0) {
    return {Kind::kPut, std::move(key), std::move(value), lease, {}};
  }
  static EtcdOp del(std::string key) { return {Kind::kDelete, std::move(key), {}, 0, {}}; }
  static EtcdOp get(std::string key) { return {Kind::kRange, std::move(key), {}, 0, {}}; }
};

struct EtcdTxnResult {
  bool succeeded = false;  // the compares held and the success ops ran
  int64_t revision = 0;    // the store's revision after the txn
  // One entry per op of the branch that ran; filled for kRange ops only.
  std::vector<EtcdRange> ranges;
};

struct EtcdLease {
  int64_t id = 0;
  int64_t ttl_s = 0;  // as granted (etcd may raise a small TTL)
};

class EtcdClient {
 public:
  explicit EtcdClient(EtcdClientOptions options);
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  Result<EtcdRange> range(const EtcdRangeRequest& request);
  // Every key under `prefix`, read in pages of `page` keys, all at one revision
  // (`revision`, or the newest when 0).
  Result<EtcdRange> rangePrefix(const std::string& prefix, int64_t revision = 0, int64_t page = 128);
  Result<EtcdTxnResult> txn(const std::vector<EtcdCompare>& compares,
                            const std::vector<EtcdOp>& success,
                            const std::vector<EtcdOp>& failure = {});

  Result<EtcdLease> leaseGrant(int64_t ttl_s);
  // The remaining TTL in seconds; NotFound with reason "lease_expired" when the
  // lease is gone.
  Result<int64_t> leaseKeepAlive(int64_t id, long timeout_ms = 0);
  Status leaseRevoke(int64_t id);

  // The endpoint requests go to now (for logs).
  std::string currentEndpoint() const;

  // The first key after every key that starts with `prefix` (etcd's range_end for
  // a prefix).
  static std::string prefixEnd(const std::string& prefix);

 private:
  // POSTs `body` to `path` on the current endpoint, failing over as described
  // above; returns the parsed JSON of a 200 answer.
  Result<nlohmann::json> call(const std::string& path, const std::string& body, long timeout_ms);

  const EtcdClientOptions options_;
  HttpClientPool pool_;
  mutable std::mutex mu_;
  size_t current_ = 0;  // guarded by mu_: index into options_.endpoints
};

// Checks an --etcd-endpoints value: comma-separated http(s)://host:port URLs.
Result<std::vector<std::string>> parseEtcdEndpoints(const std::string& text);

}  // namespace shardcast::controller
