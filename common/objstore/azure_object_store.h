// AzureObjectStore: an ObjectStore over Azure Blob Storage (and Azurite).
//
// Sources: az://account/container/prefix/ (every blob under the prefix; the
// container root is az://account/container/) or az://account/container/blob (one
// blob, named by its last segment). The part after the container is the raw blob
// name, not percent-encoded. SourceSpec fields:
//   endpoint    "" for https://<account>.blob.core.windows.net, else a URL whose
//               path (if any) leads every request, e.g. Azurite's path-style
//               http://127.0.0.1:10000/devstoreaccount1
//   credentials a name resolved by resolveAzureCredentials (account key or SAS
//               token); "" = AZURE_STORAGE_KEY / AZURE_STORAGE_SAS_TOKEN
//   region, addressing: not used
//
// list() is List Blobs (restype=container&comp=list&prefix=&marker=&maxresults =
// ObjectStoreOptions::list_page_size, at most 5,000) following NextMarker; each
// blob's pin is its ETag (quoted, as the ETag header sends it). Content-MD5 is not
// recorded (no MD5 check exists yet), so ObjectInfo::sha256 stays empty.
// readRange is Get Blob with x-ms-range and If-Match: <pin>, and the response ETag
// is compared with the pin too. Requests carry x-ms-version 2021-08-06 and are
// signed with Shared Key (over x-ms-range and If-Match), or carry the SAS token in
// the query. Errors name the source and never hold the key or the token (URLs in
// messages lose their query): 401/403 PermissionDenied naming the credentials'
// origin; ContainerNotFound/BlobNotFound NotFound; 412 and a changed ETag
// FailedPrecondition "object_changed" naming az://account/container/blob;
// unreachable Unavailable "source_unreachable"; 5xx, 429, ServerBusy Unavailable
// "origin_error".
//
// Thread-safe: connections come from an HttpClientPool, credentials from a
// CredentialCache (resolved at open() and again every five minutes); everything
// else is immutable after open().
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/objstore/azure_credentials.h"
#include "common/objstore/azure_target.h"
#include "common/objstore/credential_cache.h"
#include "common/objstore/object_store.h"
#include "common/objstore/registry.h"

namespace shardcast {

inline constexpr char kAzureApiVersion[] = "2021-08-06";

struct AzureStoreDeps {
  AzureCredentialsConfig credentials;
  std::shared_ptr<const Clock> clock;  // null: SystemClock (x-ms-date, refresh)
};

class AzureObjectStore : public ObjectStore {
 public:
  // With credentials from the process environment; the registered form.
  static Result<std::unique_ptr<ObjectStore>> open(const SourceSpec& source,
                                                   const ObjectStoreOptions& options);
  static Result<std::unique_ptr<ObjectStore>> openWith(const SourceSpec& source,
                                                       const ObjectStoreOptions& options,
                                                       AzureStoreDeps deps);
  static ObjectStoreRegistry::Factory factory(AzureStoreDeps deps);

  Result<std::vector<ObjectInfo>> list() override;
  Status readRange(const std::string& path, const std::string& pin, uint64_t offset,
                   uint64_t length, const ByteSink& sink) override;
  std::string describe() const override;

 private:
  AzureObjectStore(AzureTarget target, std::string uri, std::string credentials_name,
                   std::string single_name, const ObjectStoreOptions& options,
                   AzureStoreDeps deps);

  // A request to `blob` ("" = the container) with `query`, authorized with the
  // current credentials. With Shared Key the signature is added by authorize(),
  // after every header is in place.
  Result<HttpRequest> newRequest(const std::string& method, const std::string& blob,
                                 const std::multimap<std::string, std::string>& query);
  Status authorize(HttpRequest& req, const std::string& blob,
                   const std::multimap<std::string, std::string>& query);
  Status azureError(const HttpResponse& resp, const std::string& what);
  std::string objectName(const std::string& path) const;
  std::string blobOf(const std::string& path) const;
  Result<std::string> fetchListPage(const std::string& marker);
  Status addListPage(const std::string& xml, std::vector<ObjectInfo>& out, std::string& marker);
  Result<ObjectInfo> headSingle();

  const AzureTarget target_;
  const std::string uri_;
  const std::string credentials_name_;
  const std::string single_name_;
  const ObjectStoreOptions options_;
  const std::shared_ptr<const Clock> clock_;
  HttpClientPool pool_;
  CredentialCache<AzureCredentials> credentials_;
};

}  // namespace shardcast
