#include "common/objstore/gcs_json_object_store.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/objstore/http_range_read.h"
#include "common/objstore/object_rules.h"
#include "common/path_rules.h"

namespace shardcast {
namespace {

using nlohmann::json;

constexpr size_t kMaxListPageBytes = 64u << 20;
constexpr size_t kMaxObjectBytes = 1u << 20;
constexpr size_t kMaxListedObjects = 1000000;
constexpr size_t kMaxPageSize = 1000;  // the JSON API's maximum maxResults
constexpr size_t kMaxQuotedMessage = 200;

std::string stringField(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

struct ListedObject {
  std::string name;
  std::string size;
  std::string generation;
};

Result<ListedObject> parseObject(const json& item) {
  if (!item.is_object()) return invalidArgument("an item is not an object");
  ListedObject o{stringField(item, "name"), stringField(item, "size"), stringField(item, "generation")};
  if (o.name.empty() || o.generation.empty()) {
    return invalidArgument("an item lacks \"name\" or \"generation\"");
  }
  return o;
}

}  // namespace

Result<std::unique_ptr<ObjectStore>> GcsJsonObjectStore::openWith(const SourceSpec& source,
                                                                  const ObjectStoreOptions& options,
                                                                  GcsTokenConfig token_config) {
  ASSIGN_OR_RETURN(GcsTarget target, GcsTarget::fromSource(source));
  token_config.user_agent = options.user_agent;
  auto tokens = GcsTokenSource::create(source.credentials, std::move(token_config));
  if (!tokens.isOk()) return tokens.status().withContext(source.uri.substr(0, 200));
  std::string single_name;
  if (!target.is_prefix) single_name = target.key.substr(target.key.rfind('/') + 1);
  return std::unique_ptr<ObjectStore>(new GcsJsonObjectStore(
      std::move(target), source.uri, single_name, options, std::move(tokens).value()));
}

GcsJsonObjectStore::GcsJsonObjectStore(GcsTarget target, std::string uri, std::string single_name,
                                       const ObjectStoreOptions& options,
                                       std::unique_ptr<GcsTokenSource> tokens)
    : target_(std::move(target)),
      uri_(std::move(uri)),
      single_name_(std::move(single_name)),
      options_(options),
      tokens_(std::move(tokens)),
      pool_(originClientOptions(options)) {}

std::string GcsJsonObjectStore::describe() const { return uri_; }

std::string GcsJsonObjectStore::objectOf(const std::string& path) const {
  return single_name_.empty() ? target_.key + path : target_.key;
}

std::string GcsJsonObjectStore::objectName(const std::string& path) const {
  return "gs://" + target_.bucket + "/" + objectOf(path);
}

std::string GcsJsonObjectStore::objectUrl(const std::string& object) const {
  return target_.base_url + "/storage/v1/b/" + urlEncode(target_.bucket) + "/o/" + urlEncode(object);
}

Result<HttpRequest> GcsJsonObjectStore::newRequest(const std::string& url) {
  auto token = tokens_->token();
  if (!token.isOk()) return token.status().withContext(describe() + ": no GCS token");
  HttpRequest req;
  req.url = url;
  req.timeout_ms = options_.request_timeout_ms;
  req.connect_timeout_ms = options_.connect_timeout_ms;
  req.headers.emplace_back("Authorization", "Bearer " + *token);
  return req;
}

Status GcsJsonObjectStore::gcsError(const HttpResponse& resp, const std::string& what) {
  std::string message;
  json j = json::parse(resp.body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_object()) {
    message = stringField(j["error"], "message").substr(0, kMaxQuotedMessage);
  }
  std::replace_if(message.begin(), message.end(), [](unsigned char c) { return c < 0x20; }, ' ');
  const std::string quoted = "HTTP " + std::to_string(resp.status) + (message.empty() ? "" : ": " + message);
  const std::string prefix = describe() + ": ";
  if (resp.status == 401 || resp.status == 403) {
    if (resp.status == 401) tokens_->invalidate();
    return permissionDenied(prefix + "access denied (" + quoted + ") " + what + ": check " +
                            tokens_->source());
  }
  if (resp.status == 404) return notFound(prefix + "not found (" + quoted + ") " + what);
  if (resp.status == 412) return failedPrecondition(prefix + "object changed " + what, "object_changed");
  if (resp.status == 408 || resp.status == 429 || resp.status >= 500) {
    return unavailable(prefix + "origin error (" + quoted + ") " + what, "origin_error");
  }
  return failedPrecondition(prefix + "unexpected " + quoted + " " + what, "origin_error");
}

Result<ObjectInfo> GcsJsonObjectStore::getSingle() {
  ASSIGN_OR_RETURN(HttpRequest req, newRequest(objectUrl(target_.key)));
  auto resp = fetchBoundedBody(pool_, std::move(req), kMaxObjectBytes);
  if (!resp.isOk()) return resp.status().withContext(describe());
  if (resp->status != 200) return gcsError(*resp, "reading '" + single_name_ + "'");
  json j = json::parse(resp->body, nullptr, false);
  auto o = parseObject(j);
  if (!o.isOk()) return unavailable(describe() + ": bad object metadata: " + o.status().message(), "origin_error");
  auto size = parseOriginSize(o->size, "size");
  if (!size.isOk()) return size.status().withContext(describe());
  return ObjectInfo{single_name_, *size, o->generation, ""};
}

Status GcsJsonObjectStore::addListPage(const std::string& body, std::vector<ObjectInfo>& out,
                                       std::string& token) {
  auto bad = [&](const std::string& why) {
    return unavailable(describe() + ": bad listing: " + why, "origin_error");
  };
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  auto items = j.find("items");
  if (items != j.end() && !items->is_array()) return bad("\"items\" is not an array");
  if (items != j.end()) {
    for (const json& item : *items) {
      auto o = parseObject(item);
      if (!o.isOk()) return bad(o.status().message());
      if (o->name.compare(0, target_.key.size(), target_.key) != 0) {
        return bad("object '" + o->name.substr(0, 200) + "' outside the prefix");
      }
      std::string path = o->name.substr(target_.key.size());
      if (path.empty() || path.back() == '/') continue;  // folder placeholder
      Status valid = validateRelativePath(path);
      if (!valid.isOk()) return valid.withContext(describe() + ": object '" + o->name.substr(0, 200) + "'");
      auto size = parseOriginSize(o->size, "size of '" + o->name.substr(0, 200) + "'");
      if (!size.isOk()) return size.status().withContext(describe());
      if (out.size() >= kMaxListedObjects) {
        return invalidArgument(describe() + " holds more than 1000000 objects");
      }
      out.push_back(ObjectInfo{std::move(path), *size, o->generation, ""});
    }
  }
  std::string next = stringField(j, "nextPageToken");
  if (!next.empty() && next == token) return bad("nextPageToken repeats the page token");
  token = std::move(next);
  return Status::ok();
}

Result<std::vector<ObjectInfo>> GcsJsonObjectStore::list() {
  if (!single_name_.empty()) {
    ASSIGN_OR_RETURN(ObjectInfo info, getSingle());
    return std::vector<ObjectInfo>{std::move(info)};
  }
  size_t page = std::clamp<size_t>(options_.list_page_size, 1, kMaxPageSize);
  std::vector<ObjectInfo> objects;
  std::string token;
  do {
    std::string url = target_.base_url + "/storage/v1/b/" + urlEncode(target_.bucket) +
                      "/o?maxResults=" + std::to_string(page);
    if (!target_.key.empty()) url += "&prefix=" + urlEncode(target_.key);
    if (!token.empty()) url += "&pageToken=" + urlEncode(token);
    ASSIGN_OR_RETURN(HttpRequest req, newRequest(url));
    auto resp = fetchBoundedBody(pool_, std::move(req), kMaxListPageBytes);
    if (!resp.isOk()) return resp.status().withContext(describe());
    if (resp->status != 200) return gcsError(*resp, "listing");
    RETURN_IF_ERROR(addListPage(resp->body, objects, token));
  } while (!token.empty());
  return finishListing(describe(), std::move(objects));
}

Status GcsJsonObjectStore::readRange(const std::string& path, const std::string& pin,
                                     uint64_t offset, uint64_t length, const ByteSink& sink) {
  RETURN_IF_ERROR(checkRangeRequest(describe(), single_name_, path, offset, length));
  if (length == 0) return Status::ok();
  std::string url = objectUrl(objectOf(path)) + "?alt=media";
  if (!pin.empty()) url += "&ifGenerationMatch=" + urlEncode(pin);
  ASSIGN_OR_RETURN(HttpRequest req, newRequest(url));
  RangeRead read;
  read.request = std::move(req);
  read.pin = pin;
  read.offset = offset;
  read.length = length;
  read.pin_header = "x-goog-generation";
  read.pin_in_request = true;
  read.on_error = [&](const HttpResponse& resp) { return gcsError(resp, "reading '" + path + "'"); };
  Status st = readRangeOverHttp(pool_, std::move(read), sink);
  if (st.reason() == "object_changed" || st.reason() == "source_unreachable") {
    return st.withContext(objectName(path));
  }
  return st;
}

}  // namespace shardcast
