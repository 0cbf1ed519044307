// The origin interface: every place model bytes come from (HTTP servers, local
// files, and later S3, GCS, Azure Blob, the Hugging Face Hub and OCI registries)
// is one ObjectStore, created from a SourceSpec by the ObjectStoreRegistry.
//
// An ObjectStore is bound to one source (a prefix or a single object). It is
// thread-safe: the agent calls readRange from several threads at once for
// parallel ranged GETs. It knows nothing about pieces, rollouts or peers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"

namespace shardcast {

// One replica of a model's content (DESIGN §3). `credentials` is a name resolved
// locally; no secret is ever stored here.
struct SourceSpec {
  std::string uri;
  std::string endpoint;
  std::string region;
  std::string addressing;  // "path" | "virtual" | ""
  std::string credentials;
  std::string location;

  std::string scheme() const;  // "http", "https", "file", "s3", ... ("" if none)
  bool isPrefix() const { return !uri.empty() && uri.back() == '/'; }
  bool operator==(const SourceSpec&) const = default;
};

// Parses a string URI or an object {uri, endpoint?, ...}; unknown fields are an
// error when `strict` (public API), ignored otherwise.
Result<SourceSpec> sourceSpecFromJson(const nlohmann::json& j, bool strict);
nlohmann::json sourceSpecToJson(const SourceSpec& s);

struct ObjectInfo {
  std::string path;    // relative to the source root (validated by the caller)
  uint64_t size = 0;
  std::string pin;     // ETag or version id ("" when the origin has none)
  std::string sha256;  // publisher checksum, hex, "" when unknown
};

struct ObjectStoreOptions {
  std::string user_agent = "shardcast/" SHARDCAST_VERSION;
  std::string ca_bundle;
  size_t list_page_size = 1000;
  long request_timeout_ms = 60000;
  long connect_timeout_ms = 5000;
};

// Receives the bytes of a ranged read in order; a non-OK Status aborts the read.
using ByteSink = std::function<Status(const char* data, size_t len)>;

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Every object of the source: all objects under a prefix, or the single object
  // of a non-prefix URI (its path is then the URI's last segment). Errors:
  // Unavailable (cannot reach), PermissionDenied/Unauthenticated, NotFound.
  virtual Result<std::vector<ObjectInfo>> list() = 0;

  // Streams bytes [offset, offset + length) of `path` to `sink`. When `pin` is not
  // empty the object must still carry it (If-Match, and the response's ETag is
  // compared too); otherwise FailedPrecondition with reason "object_changed" and a
  // message naming the object. Exactly `length` bytes reach the sink on success.
  virtual Status readRange(const std::string& path, const std::string& pin, uint64_t offset,
                           uint64_t length, const ByteSink& sink) = 0;

  // A human-readable name for errors and logs ("http://host/prefix/"), no secrets.
  virtual std::string describe() const = 0;
};

}  // namespace shardcast
