#include "common/objstore/registry.h"

#include "common/objstore/azure_object_store.h"
#include "common/objstore/file_object_store.h"
#include "common/objstore/gcs_origin.h"
#include "common/objstore/http_object_store.h"
#include "common/objstore/s3_object_store.h"

namespace shardcast {
namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The URI as shown in errors: no query string (it may be a signature), bounded length.
std::string shownUri(const std::string& uri) { return uri.substr(0, uri.find('?')).substr(0, 200); }

}  // namespace

void ObjectStoreRegistry::add(const std::string& scheme, Factory factory) {
  factories_[scheme] = std::move(factory);
}

Result<std::unique_ptr<ObjectStore>> ObjectStoreRegistry::open(
    const SourceSpec& source, const ObjectStoreOptions& options) const {
  std::string scheme = source.scheme();
  auto it = factories_.find(scheme);
  if (it == factories_.end()) {
    std::string what = scheme.empty() ? "source URI '" + shownUri(source.uri) + "' has no scheme"
                                      : "unsupported source scheme '" + scheme + "' in '" +
                                            shownUri(source.uri) + "'";
    return invalidArgument(what + "; supported schemes: " + joined(schemes()));
  }
  return it->second(source, options);
}

bool ObjectStoreRegistry::supports(const std::string& scheme) const {
  return factories_.count(scheme) != 0;
}

std::vector<std::string> ObjectStoreRegistry::schemes() const {
  std::vector<std::string> out;
  for (const auto& [scheme, factory] : factories_) out.push_back(scheme);
  return out;
}

ObjectStoreRegistry ObjectStoreRegistry::withBuiltins() {
  ObjectStoreRegistry r;
  r.add("http", &HttpObjectStore::open);
  r.add("https", &HttpObjectStore::open);
  r.add("file", &FileObjectStore::open);
  r.add("s3", &S3ObjectStore::open);
  r.add("gs", &GcsOrigin::open);
  r.add("az", &AzureObjectStore::open);
  return r;
}

}  // namespace shardcast
