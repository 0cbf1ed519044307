#include "common/objstore/s3_object_store.h"

#include <algorithm>
#include <cctype>

#include "common/log.h"
#include "common/objstore/http_range_read.h"
#include "common/objstore/object_rules.h"
#include "common/objstore/s3_errors.h"
#include "common/objstore/s3_xml.h"
#include "common/objstore/sts_web_identity.h"
#include "common/path_rules.h"

namespace shardcast {
namespace {

constexpr size_t kMaxListPageBytes = 64u << 20;
constexpr size_t kMaxListedObjects = 1000000;
constexpr size_t kMaxPageSize = 1000;  // S3 never returns more per page
constexpr int64_t kCredentialsRefreshMs = 5 * 60 * 1000;

}  // namespace

Result<std::unique_ptr<ObjectStore>> S3ObjectStore::open(const SourceSpec& source,
                                                         const ObjectStoreOptions& options) {
  S3StoreDeps deps;
  deps.credentials.env = processEnvironment();
  return openWith(source, options, std::move(deps));
}

Result<std::unique_ptr<ObjectStore>> S3ObjectStore::openWith(const SourceSpec& source,
                                                             const ObjectStoreOptions& options,
                                                             S3StoreDeps deps) {
  ASSIGN_OR_RETURN(S3Target target, S3Target::fromSource(source));
  std::string single_name;
  if (!target.is_prefix) single_name = target.key.substr(target.key.rfind('/') + 1);
  if (!deps.clock) deps.clock = std::make_shared<SystemClock>();
  if (!deps.credentials.web_identity) {
    deps.credentials.web_identity = StsWebIdentity::exchange(std::make_shared<StsWebIdentity>(
        StsWebIdentityConfig{deps.credentials.env, deps.clock, options.request_timeout_ms}));
  }
  std::unique_ptr<S3ObjectStore> store(new S3ObjectStore(
      std::move(target), source.uri, source.credentials, single_name, options, std::move(deps)));
  auto creds = store->credentials_.get();
  if (!creds.isOk()) return creds.status().withContext(store->describe());
  return std::unique_ptr<ObjectStore>(std::move(store));
}

ObjectStoreRegistry::Factory S3ObjectStore::factory(S3StoreDeps deps) {
  return [deps](const SourceSpec& source, const ObjectStoreOptions& options) {
    return openWith(source, options, deps);
  };
}

S3ObjectStore::S3ObjectStore(S3Target target, std::string uri, std::string credentials_name,
                             std::string single_name, const ObjectStoreOptions& options,
                             S3StoreDeps deps)
    : target_(std::move(target)),
      uri_(std::move(uri)),
      credentials_name_(std::move(credentials_name)),
      single_name_(std::move(single_name)),
      options_(options),
      clock_(std::move(deps.clock)),
      pool_(originClientOptions(options)),
      credentials_(clock_, kCredentialsRefreshMs, uri_,
                   [name = credentials_name_,
                    chain = std::make_shared<const AwsCredentialChain>(std::move(deps.credentials))] {
                     return chain->resolve(name);
                   }) {}

std::string S3ObjectStore::describe() const { return uri_; }

std::string S3ObjectStore::objectName(const std::string& path) const {
  return target_.uri_scheme + "://" + target_.bucket + "/" + (single_name_.empty() ? target_.key + path : target_.key);
}

Result<HttpRequest> S3ObjectStore::signedRequest(
    const std::string& method, const std::string& decoded_path,
    const std::multimap<std::string, std::string>& query) {
  ASSIGN_OR_RETURN(AwsCredentials creds, credentials_.get());
  SigV4Request sr;
  sr.method = method;
  sr.host = target_.host;
  sr.path = decoded_path;
  sr.query = query;
  sr.payload_hash = kEmptyPayloadSha256;
  SigV4Options so;
  so.region = target_.region;
  so.service = "s3";
  SigV4Signature sig = signSigV4(sr, creds, so, clock_->wallMs() / 1000);

  HttpRequest req;
  req.method = method;
  req.url = target_.url(decoded_path, sig.query_string);
  req.timeout_ms = options_.request_timeout_ms;
  req.connect_timeout_ms = options_.connect_timeout_ms;
  req.headers.emplace_back("Host", target_.host);
  for (auto& h : sig.headers_to_add) req.headers.push_back(std::move(h));
  return req;
}

Status S3ObjectStore::s3Error(const HttpResponse& resp, const std::string& what) {
  S3ErrorContext ctx{describe(), target_.bucket, target_.region, credentials_.source(),
                     !credentials_name_.empty()};
  return mapS3Error(resp, ctx, what);
}

Result<ObjectInfo> S3ObjectStore::headSingle() {
  ASSIGN_OR_RETURN(HttpRequest req, signedRequest("HEAD", target_.objectPath(target_.key), {}));
  auto resp = pool_.acquire()->send(req);
  if (!resp.isOk()) return originTransportError(resp.status()).withContext(describe());
  if (resp->status != 200) return s3Error(*resp, "reading '" + single_name_ + "'");
  auto length = parseOriginSize(resp->header("content-length"), "Content-Length");
  if (!length.isOk()) return length.status().withContext(describe());
  return ObjectInfo{single_name_, *length, headerFormEtag(resp->header("etag")), ""};
}

Result<std::string> S3ObjectStore::fetchListPage(const std::string& continuation_token) {
  size_t page = std::clamp<size_t>(options_.list_page_size, 1, kMaxPageSize);
  std::multimap<std::string, std::string> query = {
      {"list-type", "2"}, {"max-keys", std::to_string(page)}, {"encoding-type", "url"}};
  if (!target_.key.empty()) query.emplace("prefix", target_.key);
  if (!continuation_token.empty()) query.emplace("continuation-token", continuation_token);
  ASSIGN_OR_RETURN(HttpRequest req, signedRequest("GET", target_.bucketPath(), query));
  auto resp = fetchBoundedBody(pool_, std::move(req), kMaxListPageBytes);
  if (!resp.isOk()) return resp.status().withContext(describe());
  if (resp->status != 200) return s3Error(*resp, "listing");
  return std::move(resp->body);
}

Status S3ObjectStore::addListPage(const std::string& xml, std::vector<ObjectInfo>& out,
                                  std::string& next_token) {
  auto page = parseS3ListObjectsV2(xml);
  if (!page.isOk()) return page.status().withContext(describe() + ": bad listing");
  const std::string& prefix = target_.key;
  for (S3ListedObject& o : page->objects) {
    if (o.key.compare(0, prefix.size(), prefix) != 0) {
      return unavailable(describe() + ": listing returned key '" + o.key.substr(0, 200) +
                             "' outside the prefix",
                         "origin_error");
    }
    std::string path = o.key.substr(prefix.size());
    if (path.empty() || path.back() == '/') continue;  // folder marker
    Status valid = validateRelativePath(path);
    if (!valid.isOk()) return valid.withContext(describe() + ": key '" + o.key.substr(0, 200) + "'");
    if (out.size() >= kMaxListedObjects) {
      return invalidArgument(describe() + " holds more than 1000000 objects");
    }
    out.push_back(ObjectInfo{std::move(path), o.size, headerFormEtag(o.etag), ""});
  }
  std::string token = page->truncated ? page->next_continuation_token : "";
  if (page->truncated && (token.empty() || token == next_token)) {
    return unavailable(describe() + ": truncated listing without a new continuation token",
                       "origin_error");
  }
  next_token = std::move(token);
  return Status::ok();
}

Result<std::vector<ObjectInfo>> S3ObjectStore::list() {
  if (!single_name_.empty()) {
    ASSIGN_OR_RETURN(ObjectInfo info, headSingle());
    return std::vector<ObjectInfo>{std::move(info)};
  }
  std::vector<ObjectInfo> objects;
  std::string token;
  do {
    ASSIGN_OR_RETURN(std::string xml, fetchListPage(token));
    RETURN_IF_ERROR(addListPage(xml, objects, token));
  } while (!token.empty());
  return finishListing(describe(), std::move(objects));
}

Status S3ObjectStore::readRange(const std::string& path, const std::string& pin,
                                uint64_t offset, uint64_t length, const ByteSink& sink) {
  RETURN_IF_ERROR(checkRangeRequest(describe(), single_name_, path, offset, length));
  if (length == 0) return Status::ok();
  std::string key = single_name_.empty() ? target_.key + path : target_.key;
  ASSIGN_OR_RETURN(HttpRequest req, signedRequest("GET", target_.objectPath(key), {}));
  RangeRead read;
  read.request = std::move(req);
  read.pin = pin;
  read.offset = offset;
  read.length = length;
  read.on_error = [&](const HttpResponse& resp) { return s3Error(resp, "reading '" + path + "'"); };
  Status st = readRangeOverHttp(pool_, std::move(read), sink);
  if (st.reason() == "object_changed" || st.reason() == "source_unreachable") {
    return st.withContext(objectName(path));
  }
  return st;
}

}  // namespace shardcast
