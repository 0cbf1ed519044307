#include "controller/source_lister.h"

#include <algorithm>
#include <cctype>
#include <future>
#include <map>
#include <thread>

#include "common/log.h"
#include "common/objstore/retry_policy.h"
#include "common/path_rules.h"
#include "common/sha256.h"

namespace shardcast::controller {
namespace {

std::string describeReplica(size_t i, const SourceSpec& spec) {
  return "source " + std::to_string(i) + " (" + redactUri(spec.uri) + ")";
}

std::string quoted(const std::string& s) { return "'" + s.substr(0, 200) + "'"; }

// The API's reason for a failed listing (all answered with 422 but an unknown scheme).
Status classifyListError(const Status& s, const std::string& what) {
  std::string msg = what + ": " + s.message();
  switch (s.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return unavailable("cannot reach " + msg, "source_unreachable");
    case StatusCode::kNotFound: return notFound(msg, "source_not_found");
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated: return permissionDenied(msg, "source_forbidden");
    case StatusCode::kInvalidArgument:
    case StatusCode::kCorruption: return invalidArgument(msg, "source_invalid");
    default: return Status(s.code(), msg, "source_error");
  }
}

using Listing = std::map<std::string, ObjectInfo>;

Result<Listing> indexListing(size_t i, const SourceSpec& spec, std::vector<ObjectInfo> objects) {
  Listing out;
  for (auto& o : objects) {
    Status valid = validateRelativePath(o.path);
    if (!valid.isOk()) {
      return invalidArgument(describeReplica(i, spec) + " lists an invalid path " + quoted(o.path) +
                                 ": " + valid.message(),
                             "source_invalid");
    }
    std::transform(o.sha256.begin(), o.sha256.end(), o.sha256.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!o.sha256.empty() && !isSha256Hex(o.sha256)) {
      return invalidArgument(describeReplica(i, spec) + " publishes a malformed sha256 for " +
                                 quoted(o.path),
                             "source_invalid");
    }
    std::string path = o.path;
    if (!out.emplace(path, std::move(o)).second) {
      return invalidArgument(describeReplica(i, spec) + " lists " + quoted(path) + " twice",
                             "source_invalid");
    }
  }
  return out;
}

// Same paths and sizes as replica 0, or a sources_differ error naming the first difference.
Status compareListings(const Listing& first, const Listing& other, const std::string& other_name,
                       const std::string& first_name) {
  for (const auto& [path, info] : first) {
    auto it = other.find(path);
    if (it == other.end()) {
      return invalidArgument(other_name + " lacks " + quoted(path) + " listed by " + first_name,
                             "sources_differ");
    }
    if (it->second.size != info.size) {
      return invalidArgument(quoted(path) + " is " + std::to_string(it->second.size) + " bytes in " +
                                 other_name + " but " + std::to_string(info.size) + " in " + first_name,
                             "sources_differ");
    }
  }
  for (const auto& [path, info] : other) {
    if (!first.count(path)) {
      return invalidArgument(other_name + " has " + quoted(path) + " that " + first_name + " lacks",
                             "sources_differ");
    }
  }
  return Status::ok();
}

}  // namespace

std::string redactUri(const std::string& uri) {
  std::string out = uri.substr(0, uri.find_first_of("?#"));
  size_t scheme_end = out.find("://");
  if (scheme_end != std::string::npos) {
    size_t host_start = scheme_end + 3;
    size_t path_start = out.find('/', host_start);
    size_t at = out.rfind('@', path_start == std::string::npos ? out.size() : path_start);
    if (at != std::string::npos && at >= host_start) out.erase(host_start, at + 1 - host_start);
  }
  return out.substr(0, 300);
}

SourceLister::SourceLister(const ObjectStoreRegistry& registry, long list_timeout_ms)
    : registry_(registry), list_timeout_ms_(list_timeout_ms) {}

Result<std::vector<ObjectInfo>> SourceLister::listReplica(const SourceSpec& spec) const {
  ObjectStoreOptions options;
  options.user_agent = "shardcast-controller/" SHARDCAST_VERSION;
  options.request_timeout_ms = list_timeout_ms_;
  options.connect_timeout_ms = std::min<long>(options.connect_timeout_ms, list_timeout_ms_);
  auto store = registry_.open(spec, options);
  // Marks a failure to open (unknown scheme, malformed URI), which is the
  // request's fault when InvalidArgument: buildManifest answers 400 for it.
  if (!store.isOk()) return Status(store.status().code(), store.status().message(), "source_spec");
  // An origin that answered 5xx/429 is asked again a few times (briefly: the
  // client waits for this answer); unreachable origins and timeouts are not, so a
  // deploy against a dead origin still answers within the list timeout.
  RetryOptions ro;
  ro.max_attempts = 3;
  ro.initial_backoff_ms = 200;
  ro.max_backoff_ms = 1000;
  ro.max_retry_after_ms = 2000;
  RetryPolicy policy(ro, std::hash<std::string>{}(spec.uri));
  while (true) {
    Result<std::vector<ObjectInfo>> listed = internalError("not listed");
    try {
      listed = (*store)->list();
    } catch (const std::exception& e) {
      return internalError(std::string("listing threw: ") + e.what());
    }
    const Status& s = listed.status();
    if (listed.isOk() || s.code() != StatusCode::kUnavailable || s.reason() != "origin_error") {
      return listed;
    }
    auto delay = policy.nextDelayMs(s, false);
    if (!delay) return listed;
    LOG_WARN("listing " << redactUri(spec.uri) << " failed (attempt " << policy.attempts()
                        << "; retrying in " << *delay << " ms): " << s.message());
    std::this_thread::sleep_for(std::chrono::milliseconds(*delay));
  }
}

Result<Manifest> SourceLister::buildManifest(const api::RolloutRequest& request) const {
  const auto& sources = request.sources;
  std::vector<std::future<Result<std::vector<ObjectInfo>>>> pending;
  for (size_t i = 1; i < sources.size(); ++i) {
    pending.push_back(std::async(std::launch::async, [this, &sources, i] { return listReplica(sources[i]); }));
  }
  std::vector<Result<std::vector<ObjectInfo>>> listed;
  listed.push_back(listReplica(sources[0]));
  for (auto& f : pending) listed.push_back(f.get());

  std::vector<Listing> listings;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (!listed[i].isOk()) {
      const Status& s = listed[i].status();
      LOG_WARN("listing " << describeReplica(i, sources[i]) << " failed: " << s.message());
      if (s.reason() == "source_spec" && s.code() == StatusCode::kInvalidArgument) {
        return invalidArgument(describeReplica(i, sources[i]) + ": " + s.message());
      }
      if (s.reason() == "source_spec") {
        return classifyListError(Status(s.code(), s.message()), describeReplica(i, sources[i]));
      }
      return classifyListError(s, describeReplica(i, sources[i]));
    }
    ASSIGN_OR_RETURN(Listing l, indexListing(i, sources[i], std::move(listed[i]).value()));
    if (l.empty()) {
      return invalidArgument(describeReplica(i, sources[i]) + " lists no objects", "empty_source");
    }
    if (i > 0) {
      RETURN_IF_ERROR(compareListings(listings[0], l, describeReplica(i, sources[i]),
                                      describeReplica(0, sources[0])));
    }
    listings.push_back(std::move(l));
  }

  std::vector<ManifestFile> files;
  for (const auto& [path, info] : listings[0]) {
    ManifestFile f{path, info.size, {}, ""};
    for (size_t i = 0; i < listings.size(); ++i) {
      const ObjectInfo& o = listings[i].at(path);
      f.pins.push_back(o.pin);
      if (o.sha256.empty()) continue;
      if (!f.sha256.empty() && f.sha256 != o.sha256) {
        return invalidArgument("sources publish different sha256 for " + quoted(path), "sources_differ");
      }
      f.sha256 = o.sha256;
    }
    files.push_back(std::move(f));
  }
  uint64_t total = 0;
  for (const ManifestFile& f : files) total += f.size;
  const uint64_t piece_size = request.piece_size ? request.piece_size : autoPieceSize(total);
  auto manifest = Manifest::create(request.model, piece_size, std::move(files));
  if (!manifest.isOk()) {
    return invalidArgument("the sources cannot form a model: " + manifest.status().message(),
                           "source_invalid");
  }
  return manifest;
}

}  // namespace shardcast::controller
