// HttpObjectStore: an ObjectStore over plain HTTP(S) origins (nginx, a CDN, any
// static file server).
//
// A source URI ending in '/' is a prefix. It is listed from
// <prefix>shardcast-index.json ([{"path", "size", "sha256"?}], written by
// `shardcast index DIR`) or, when that is 404, from nginx `autoindex_format json`
// directory listings, recursing into directories. Every listed file is then
// HEADed for its size and ETag (the pin). Any other URI is one file whose path is
// the URI's last segment, decoded.
//
// Reads are ranged GETs with If-Match: <pin>; a 412 or a response ETag that
// differs from the pin is FailedPrecondition with reason "object_changed".
// Origin traffic honours the *_proxy variables and carries the user agent of
// ObjectStoreOptions (the agent builds one store per rollout with its
// "shardcast-agent/... (node=..; region=..; rollout=..)" agent).
//
// Thread-safe: connections come from an internal HttpClientPool; everything else
// is immutable after open(). Not responsible for credentials (plain HTTP origins
// have none here) nor for checking content hashes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "common/objstore/object_store.h"

namespace shardcast {

class HttpObjectStore : public ObjectStore {
 public:
  // InvalidArgument unless source.uri is an http:// or https:// URL with a host
  // (and, for a single file, a non-empty last segment).
  static Result<std::unique_ptr<ObjectStore>> open(const SourceSpec& source,
                                                   const ObjectStoreOptions& options);

  Result<std::vector<ObjectInfo>> list() override;
  Status readRange(const std::string& path, const std::string& pin, uint64_t offset,
                   uint64_t length, const ByteSink& sink) override;
  std::string describe() const override;

 private:
  struct Head {
    uint64_t size = 0;
    std::string etag;
  };

  HttpObjectStore(std::string uri, std::string single_name, const ObjectStoreOptions& options);

  // Full URL of an object: the prefix plus the percent-encoded path, or the URI
  // itself for a single-file source.
  std::string objectUrl(const std::string& path) const;
  Result<HttpResponse> fetchSmall(const std::string& url);
  Result<Head> head(const std::string& url);
  // Entries of <prefix>shardcast-index.json, or nullopt when the origin answers 404.
  Result<std::optional<std::vector<ObjectInfo>>> listFromIndex();
  Status listFromAutoindex(const std::string& dir, int depth, std::vector<ObjectInfo>& out);
  Status addHeads(std::vector<ObjectInfo>& objects, bool check_sizes);

  const std::string uri_;          // as given (may carry a query for a single file)
  const std::string single_name_;  // decoded last segment, "" for a prefix
  const ObjectStoreOptions options_;
  HttpClientPool pool_;
};

}  // namespace shardcast
