#include "common/objstore/azure_object_store.h"

#include <algorithm>
#include <cctype>

#include "common/objstore/azure_shared_key.h"
#include "common/objstore/http_range_read.h"
#include "common/objstore/object_rules.h"
#include "common/objstore/s3_xml.h"  // parseS3Error: Azure error documents have the same shape
#include "common/objstore/xml_extract.h"
#include "common/path_rules.h"

namespace shardcast {
namespace {

constexpr size_t kMaxListPageBytes = 64u << 20;
constexpr size_t kMaxListedObjects = 1000000;
constexpr size_t kMaxPageSize = 5000;  // List Blobs never returns more per page
constexpr int64_t kCredentialsRefreshMs = 5 * 60 * 1000;
constexpr size_t kMaxQuotedMessage = 200;


// "k=v&k2=v2" with encoded values, in the map's (sorted) order.
std::string encodeQuery(const std::multimap<std::string, std::string>& query) {
  std::string out;
  for (const auto& [k, v] : query) out += (out.empty() ? "" : "&") + urlEncode(k) + "=" + urlEncode(v);
  return out;
}

bool isRetryableCode(const std::string& code) {
  return code == "ServerBusy" || code == "OperationTimedOut" || code == "InternalError";
}

}  // namespace

Result<std::unique_ptr<ObjectStore>> AzureObjectStore::open(const SourceSpec& source,
                                                            const ObjectStoreOptions& options) {
  AzureStoreDeps deps;
  deps.credentials.env = processEnvironment();
  return openWith(source, options, std::move(deps));
}

Result<std::unique_ptr<ObjectStore>> AzureObjectStore::openWith(const SourceSpec& source,
                                                                const ObjectStoreOptions& options,
                                                                AzureStoreDeps deps) {
  ASSIGN_OR_RETURN(AzureTarget target, AzureTarget::fromSource(source));
  std::string single_name;
  if (!target.is_prefix) single_name = target.key.substr(target.key.rfind('/') + 1);
  if (!deps.clock) deps.clock = std::make_shared<SystemClock>();
  std::unique_ptr<AzureObjectStore> store(new AzureObjectStore(
      std::move(target), source.uri, source.credentials, single_name, options, std::move(deps)));
  auto creds = store->credentials_.get();
  if (!creds.isOk()) return creds.status().withContext(store->describe());
  return std::unique_ptr<ObjectStore>(std::move(store));
}

ObjectStoreRegistry::Factory AzureObjectStore::factory(AzureStoreDeps deps) {
  return [deps](const SourceSpec& source, const ObjectStoreOptions& options) {
    return openWith(source, options, deps);
  };
}

AzureObjectStore::AzureObjectStore(AzureTarget target, std::string uri,
                                   std::string credentials_name, std::string single_name,
                                   const ObjectStoreOptions& options, AzureStoreDeps deps)
    : target_(std::move(target)),
      uri_(std::move(uri)),
      credentials_name_(std::move(credentials_name)),
      single_name_(std::move(single_name)),
      options_(options),
      clock_(std::move(deps.clock)),
      pool_(originClientOptions(options)),
      credentials_(clock_, kCredentialsRefreshMs, uri_,
                   [name = credentials_name_, config = std::move(deps.credentials)] {
                     return resolveAzureCredentials(name, config);
                   }) {}

std::string AzureObjectStore::describe() const { return uri_; }

std::string AzureObjectStore::blobOf(const std::string& path) const {
  return single_name_.empty() ? target_.key + path : target_.key;
}

std::string AzureObjectStore::objectName(const std::string& path) const {
  return "az://" + target_.account + "/" + target_.container + "/" + blobOf(path);
}

Result<HttpRequest> AzureObjectStore::newRequest(
    const std::string& method, const std::string& blob,
    const std::multimap<std::string, std::string>& query) {
  ASSIGN_OR_RETURN(AzureCredentials creds, credentials_.get());
  std::string q = encodeQuery(query);
  if (!creds.sas_token.empty()) q += (q.empty() ? "" : "&") + creds.sas_token;
  HttpRequest req;
  req.method = method;
  req.url = target_.scheme + "://" + target_.host + target_.path(blob) + (q.empty() ? "" : "?" + q);
  req.timeout_ms = options_.request_timeout_ms;
  req.connect_timeout_ms = options_.connect_timeout_ms;
  req.headers.emplace_back("x-ms-version", kAzureApiVersion);
  req.headers.emplace_back("x-ms-date", azureHttpDate(clock_->wallMs() / 1000));
  return req;
}

Status AzureObjectStore::authorize(HttpRequest& req, const std::string& blob,
                                   const std::multimap<std::string, std::string>& query) {
  ASSIGN_OR_RETURN(AzureCredentials creds, credentials_.get());
  if (creds.account_key.empty()) return Status::ok();  // SAS: the token is in the URL
  AzureSharedKeyRequest sr;
  sr.method = req.method;
  sr.account = target_.account;
  sr.path = target_.path(blob);
  sr.query = query;
  sr.headers = req.headers;
  auto sig = signAzureSharedKey(sr, creds.account_key);
  if (!sig.isOk()) return sig.status().withContext(describe() + ": " + creds.source);
  req.headers.emplace_back("Authorization", sig->authorization);
  return Status::ok();
}

Status AzureObjectStore::azureError(const HttpResponse& resp, const std::string& what) {
  S3ErrorDocument doc = parseS3Error(resp.body);
  if (doc.code.empty()) doc.code = resp.header("x-ms-error-code");
  if (doc.code.empty()) doc.code = "HTTP " + std::to_string(resp.status);
  std::string message = doc.message.substr(0, doc.message.find('\n')).substr(0, kMaxQuotedMessage);
  std::replace_if(message.begin(), message.end(), [](unsigned char c) { return c < 0x20; }, ' ');
  const std::string quoted = doc.code + (message.empty() ? "" : ": " + message);
  const std::string prefix = describe() + ": ";
  if (resp.status == 401 || resp.status == 403) {
    return permissionDenied(prefix + "access denied (" + quoted + ") " + what + ": check " +
                            credentials_.source());
  }
  if (resp.status == 404) {
    if (doc.code == "ContainerNotFound") {
      return notFound(prefix + "container '" + target_.container + "' does not exist in account '" +
                      target_.account + "'");
    }
    return notFound(prefix + "not found (" + quoted + ") " + what);
  }
  if (resp.status == 412) return failedPrecondition(prefix + "object changed " + what, "object_changed");
  if (resp.status == 408 || resp.status == 429 || resp.status >= 500 || isRetryableCode(doc.code)) {
    return unavailable(prefix + "origin error (HTTP " + std::to_string(resp.status) + ", " +
                           quoted + ") " + what,
                       "origin_error");
  }
  return failedPrecondition(
      prefix + "unexpected HTTP " + std::to_string(resp.status) + " (" + quoted + ") " + what,
      "origin_error");
}

Result<ObjectInfo> AzureObjectStore::headSingle() {
  ASSIGN_OR_RETURN(HttpRequest req, newRequest("HEAD", target_.key, {}));
  RETURN_IF_ERROR(authorize(req, target_.key, {}));
  auto resp = pool_.acquire()->send(req);
  if (!resp.isOk()) return originTransportError(resp.status()).withContext(describe());
  if (resp->status != 200) return azureError(*resp, "reading '" + single_name_ + "'");
  auto length = parseOriginSize(resp->header("content-length"), "Content-Length");
  if (!length.isOk()) return length.status().withContext(describe());
  return ObjectInfo{single_name_, *length, headerFormEtag(resp->header("etag")), ""};
}

Result<std::string> AzureObjectStore::fetchListPage(const std::string& marker) {
  size_t page = std::clamp<size_t>(options_.list_page_size, 1, kMaxPageSize);
  std::multimap<std::string, std::string> query = {
      {"restype", "container"}, {"comp", "list"}, {"maxresults", std::to_string(page)}};
  if (!target_.key.empty()) query.emplace("prefix", target_.key);
  if (!marker.empty()) query.emplace("marker", marker);
  ASSIGN_OR_RETURN(HttpRequest req, newRequest("GET", "", query));
  RETURN_IF_ERROR(authorize(req, "", query));
  auto resp = fetchBoundedBody(pool_, std::move(req), kMaxListPageBytes);
  if (!resp.isOk()) return resp.status().withContext(describe());
  if (resp->status != 200) return azureError(*resp, "listing");
  return std::move(resp->body);
}

Status AzureObjectStore::addListPage(const std::string& xml, std::vector<ObjectInfo>& out,
                                     std::string& marker) {
  auto bad = [&](const std::string& why) {
    return unavailable(describe() + ": bad listing: " + why, "origin_error");
  };
  auto root = findXmlElement(xml, "EnumerationResults");
  if (!root) return bad("no <EnumerationResults>");
  XmlBlocks split = splitXmlBlocks(root->content(xml), "Blob");
  for (std::string_view block : split.blocks) {
    auto name = xmlChildText(block, "Name");
    auto size = xmlChildText(block, "Content-Length");
    auto etag = xmlChildText(block, "Etag");
    if (!name.isOk() || !size.isOk() || !etag.isOk() || !*name || !*size) {
      return bad("a <Blob> without a readable <Name> or <Content-Length>");
    }
    const std::string& blob = **name;
    if (blob.compare(0, target_.key.size(), target_.key) != 0) {
      return bad("blob '" + blob.substr(0, 200) + "' outside the prefix");
    }
    std::string path = blob.substr(target_.key.size());
    if (path.empty() || path.back() == '/') continue;  // folder marker
    Status valid = validateRelativePath(path);
    if (!valid.isOk()) return valid.withContext(describe() + ": blob '" + blob.substr(0, 200) + "'");
    auto bytes = parseOriginSize(**size, "Content-Length of '" + blob.substr(0, 200) + "'");
    if (!bytes.isOk()) return bytes.status().withContext(describe());
    if (out.size() >= kMaxListedObjects) {
      return invalidArgument(describe() + " holds more than 1000000 objects");
    }
    out.push_back(ObjectInfo{std::move(path), *bytes, headerFormEtag(etag->value_or("")), ""});
  }
  auto next = xmlChildText(split.rest, "NextMarker");
  if (!next.isOk()) return bad("unreadable <NextMarker>");
  std::string token = next->value_or("");
  if (!token.empty() && token == marker) return bad("NextMarker repeats the marker '" + token + "'");
  marker = std::move(token);
  return Status::ok();
}

Result<std::vector<ObjectInfo>> AzureObjectStore::list() {
  if (!single_name_.empty()) {
    ASSIGN_OR_RETURN(ObjectInfo info, headSingle());
    return std::vector<ObjectInfo>{std::move(info)};
  }
  std::vector<ObjectInfo> objects;
  std::string marker;
  do {
    ASSIGN_OR_RETURN(std::string xml, fetchListPage(marker));
    RETURN_IF_ERROR(addListPage(xml, objects, marker));
  } while (!marker.empty());
  return finishListing(describe(), std::move(objects));
}

Status AzureObjectStore::readRange(const std::string& path, const std::string& pin,
                                   uint64_t offset, uint64_t length, const ByteSink& sink) {
  RETURN_IF_ERROR(checkRangeRequest(describe(), single_name_, path, offset, length));
  if (length == 0) return Status::ok();
  const std::string blob = blobOf(path);
  ASSIGN_OR_RETURN(HttpRequest req, newRequest("GET", blob, {}));
  RangeRead read;
  read.request = std::move(req);
  read.pin = pin;
  read.offset = offset;
  read.length = length;
  read.range_header = "x-ms-range";
  read.finalize = [&](HttpRequest& r) { return authorize(r, blob, {}); };
  read.on_error = [&](const HttpResponse& resp) { return azureError(resp, "reading '" + path + "'"); };
  Status st = readRangeOverHttp(pool_, std::move(read), sink);
  if (st.reason() == "object_changed" || st.reason() == "source_unreachable") {
    return st.withContext(objectName(path));
  }
  return st;
}

}  // namespace shardcast
