#include "common/objstore/http_object_store.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <nlohmann/json.hpp>

#include "common/api/json_fields.h"
#include "common/objstore/http_range_read.h"
#include "common/objstore/object_rules.h"
#include "common/path_rules.h"

namespace shardcast {
namespace {

using nlohmann::json;

constexpr char kIndexFileName[] = "shardcast-index.json";
constexpr size_t kMaxListingBytes = 64u << 20;  // one index file or directory listing
constexpr size_t kMaxListedObjects = 1000000;
constexpr int kMaxDepth = 64;

bool isHex64(const std::string& s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); });
}

Result<ObjectInfo> parseIndexEntry(const json& e) {
  ObjectInfo info;
  RETURN_IF_ERROR(api::checkObject(e, "index entry", {}, false));
  RETURN_IF_ERROR(api::readString(e, "path", info.path, true));
  RETURN_IF_ERROR(api::readU64(e, "size", info.size, true));
  RETURN_IF_ERROR(api::readString(e, "sha256", info.sha256, false));
  RETURN_IF_ERROR(validateRelativePath(info.path));
  if (!info.sha256.empty()) {
    if (!isHex64(info.sha256)) {
      return invalidArgument("field 'sha256' of '" + info.path + "' is not 64 hex digits");
    }
    std::transform(info.sha256.begin(), info.sha256.end(), info.sha256.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  return info;
}

Result<std::vector<ObjectInfo>> parseIndex(const std::string& body) {
  ASSIGN_OR_RETURN(json j, api::parseJson(body));
  if (!j.is_array()) return invalidArgument("expected a JSON array of {path, size, sha256?}");
  if (j.size() > kMaxListedObjects) return invalidArgument("more than 1000000 entries");
  std::vector<ObjectInfo> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < j.size(); ++i) {
    auto entry = parseIndexEntry(j[i]);
    if (!entry.isOk()) return entry.status().withContext("entry " + std::to_string(i));
    if (entry->path == kIndexFileName) continue;
    if (!seen.insert(entry->path).second) {
      return invalidArgument("path '" + entry->path + "' is listed twice");
    }
    out.push_back(std::move(entry).value());
  }
  return out;
}

}  // namespace

HttpObjectStore::HttpObjectStore(std::string uri, std::string single_name,
                                 const ObjectStoreOptions& options)
    : uri_(std::move(uri)),
      single_name_(std::move(single_name)),
      options_(options),
      pool_(originClientOptions(options)) {}

Result<std::unique_ptr<ObjectStore>> HttpObjectStore::open(const SourceSpec& source,
                                                           const ObjectStoreOptions& options) {
  const std::string& uri = source.uri;
  std::string scheme = source.scheme();
  std::string shown = withoutQuery(uri).substr(0, 200);
  if (scheme != "http" && scheme != "https") {
    return invalidArgument("not an http(s) URL: '" + shown + "'");
  }
  size_t host_start = scheme.size() + 3;
  size_t path_start = uri.find('/', host_start);
  size_t host_end = std::min(path_start, uri.find('?', host_start));
  if (host_end == host_start) return invalidArgument("URL has no host: '" + shown + "'");
  if (uri.find('#') != std::string::npos) {
    return invalidArgument("URL must not have a fragment: '" + shown + "'");
  }
  if (source.isPrefix()) {
    if (uri.find('?') != std::string::npos) {
      return invalidArgument("a prefix URL must not have a query: '" + shown + "'");
    }
    return std::unique_ptr<ObjectStore>(new HttpObjectStore(uri, "", options));
  }
  std::string path_part = withoutQuery(uri);
  if (path_start == std::string::npos || path_start >= path_part.size()) {
    return invalidArgument("URL names no file (a prefix must end with '/'): '" + shown + "'");
  }
  ASSIGN_OR_RETURN(std::string name, urlDecode(path_part.substr(path_part.rfind('/') + 1)));
  if (name.find('/') != std::string::npos) {
    return invalidArgument("file name in '" + shown + "' contains an encoded '/'");
  }
  RETURN_IF_ERROR(validateRelativePath(name));
  return std::unique_ptr<ObjectStore>(new HttpObjectStore(uri, name, options));
}

std::string HttpObjectStore::describe() const { return withoutQuery(uri_); }

std::string HttpObjectStore::objectUrl(const std::string& path) const {
  if (!single_name_.empty()) return uri_;
  return uri_ + urlEncode(path, true);
}

Result<HttpResponse> HttpObjectStore::fetchSmall(const std::string& url) {
  HttpRequest req;
  req.url = url;
  req.timeout_ms = options_.request_timeout_ms;
  req.connect_timeout_ms = options_.connect_timeout_ms;
  return fetchBoundedBody(pool_, std::move(req), kMaxListingBytes);
}

Result<HttpObjectStore::Head> HttpObjectStore::head(const std::string& url) {
  HttpRequest req;
  req.method = "HEAD";
  req.url = url;
  req.timeout_ms = options_.request_timeout_ms;
  req.connect_timeout_ms = options_.connect_timeout_ms;
  auto resp = pool_.acquire()->send(req);
  if (!resp.isOk()) return originTransportError(resp.status());
  if (resp->status != 200) return originHttpError(resp->status, url);
  std::string length = resp->header("content-length");
  if (length.empty()) {
    return unavailable("no Content-Length in HEAD " + withoutQuery(url), "origin_error");
  }
  ASSIGN_OR_RETURN(uint64_t size, parseOriginSize(length, "Content-Length"));
  return Head{size, resp->header("etag")};
}

Result<std::optional<std::vector<ObjectInfo>>> HttpObjectStore::listFromIndex() {
  std::string url = uri_ + kIndexFileName;
  ASSIGN_OR_RETURN(HttpResponse resp, fetchSmall(url));
  if (resp.status == 404) return std::optional<std::vector<ObjectInfo>>();
  if (resp.status != 200) return originHttpError(resp.status, url);
  auto parsed = parseIndex(resp.body);
  if (!parsed.isOk()) return parsed.status().withContext(url);
  return std::optional<std::vector<ObjectInfo>>(std::move(parsed).value());
}

Status HttpObjectStore::listFromAutoindex(const std::string& dir, int depth,
                                          std::vector<ObjectInfo>& out) {
  std::string url = uri_ + urlEncode(dir, true);
  if (depth > kMaxDepth) return invalidArgument("directory tree under " + uri_ + " is too deep");
  ASSIGN_OR_RETURN(HttpResponse resp, fetchSmall(url));
  if (resp.status != 200) return originHttpError(resp.status, url);
  auto j = api::parseJson(resp.body);
  if (!j.isOk() || !j->is_array()) {
    return invalidArgument("cannot list " + url + ": no " + kIndexFileName +
                           " and no JSON directory listing (nginx autoindex_format json)");
  }
  for (const json& e : *j) {
    std::string name, type;
    Status st = api::checkObject(e, "listing entry", {}, false);
    if (st.isOk()) st = api::readString(e, "name", name, true);
    if (st.isOk()) st = api::readString(e, "type", type, true);
    if (!st.isOk()) return st.withContext("directory listing " + url);
    if (depth == 0 && name == kIndexFileName) continue;
    std::string path = dir + name;
    if (name.find('/') != std::string::npos) {
      return invalidArgument("invalid file path '" + path.substr(0, 200) + "' in " + url);
    }
    RETURN_IF_ERROR(validateRelativePath(path));
    if (type == "directory") {
      RETURN_IF_ERROR(listFromAutoindex(path + "/", depth + 1, out));
    } else if (type == "file") {
      if (out.size() >= kMaxListedObjects) return invalidArgument(uri_ + " lists too many files");
      out.push_back(ObjectInfo{path, 0, "", ""});
    }
    // Other entry types (nginx "other": sockets, devices) are not content.
  }
  return Status::ok();
}

Status HttpObjectStore::addHeads(std::vector<ObjectInfo>& objects, bool check_sizes) {
  for (ObjectInfo& o : objects) {
    std::string url = objectUrl(o.path);
    ASSIGN_OR_RETURN(Head h, head(url));
    if (check_sizes && h.size != o.size) {
      return failedPrecondition("size mismatch for " + url + ": " + kIndexFileName + " says " +
                                    std::to_string(o.size) + " bytes, the origin serves " +
                                    std::to_string(h.size),
                                "index_mismatch");
    }
    o.size = h.size;
    o.pin = h.etag;
  }
  return Status::ok();
}

Result<std::vector<ObjectInfo>> HttpObjectStore::list() {
  if (!single_name_.empty()) {
    ASSIGN_OR_RETURN(Head h, head(uri_));
    return std::vector<ObjectInfo>{ObjectInfo{single_name_, h.size, h.etag, ""}};
  }
  ASSIGN_OR_RETURN(auto indexed, listFromIndex());
  std::vector<ObjectInfo> objects;
  if (indexed) {
    objects = std::move(*indexed);
  } else {
    RETURN_IF_ERROR(listFromAutoindex("", 0, objects));
  }
  RETURN_IF_ERROR(addHeads(objects, indexed.has_value()));
  return finishListing(describe(), std::move(objects));
}

Status HttpObjectStore::readRange(const std::string& path, const std::string& pin,
                                  uint64_t offset, uint64_t length, const ByteSink& sink) {
  RETURN_IF_ERROR(checkRangeRequest(describe(), single_name_, path, offset, length));
  if (length == 0) return Status::ok();
  RangeRead read;
  read.request.url = objectUrl(path);
  read.request.timeout_ms = options_.request_timeout_ms;
  read.request.connect_timeout_ms = options_.connect_timeout_ms;
  read.pin = pin;
  read.offset = offset;
  read.length = length;
  return readRangeOverHttp(pool_, std::move(read), sink);
}

}  // namespace shardcast
