#include "common/objstore/gcs_token_source.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/log.h"

namespace shardcast {
namespace {

constexpr int64_t kFileRereadMs = 60 * 1000;
constexpr int64_t kExpiryMarginMs = 60 * 1000;
constexpr size_t kMaxTokenAnswerBytes = 64 * 1024;

bool tokenChars(const std::string& t) {
  for (unsigned char c : t) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return !t.empty();
}

}  // namespace

Result<GcsAccessToken> parseGcsAccessToken(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return invalidArgument("token answer is not a JSON object");
  auto at = j.find("access_token");
  if (at == j.end() || !at->is_string() || !tokenChars(at->get<std::string>())) {
    return invalidArgument("token answer has no usable \"access_token\"");
  }
  GcsAccessToken t;
  t.access_token = at->get<std::string>();
  auto exp = j.find("expires_in");
  if (exp != j.end() && exp->is_number_integer()) t.expires_in_seconds = exp->get<int64_t>();
  return t;
}

Result<std::unique_ptr<GcsTokenSource>> GcsTokenSource::create(const std::string& name,
                                                                GcsTokenConfig config) {
  if (!config.clock) config.clock = std::make_shared<SystemClock>();
  std::string file, metadata_url;
  if (!name.empty()) {
    RETURN_IF_ERROR(validateCredentialsName(name));
    const std::string var = credentialsEnvPrefix(name) + "GCS_TOKEN_FILE";
    auto from_env = config.env ? config.env(var) : std::nullopt;
    if (from_env && !trimWhitespace(*from_env).empty()) {
      file = trimWhitespace(*from_env);
    } else {
      std::string dir = credentialsDir(config.secret_dir, config.env) + "/" + name;
      ASSIGN_OR_RETURN(auto content, readCredentialFile(dir + "/gcs_token"));
      if (!content) {
        return notFound("credentials '" + name + "' not found: set " + var +
                            " to a token file, or mount a file gcs_token in " + dir +
                            " (for the XML API, HMAC keys as access_key_id and "
                            "secret_access_key)",
                        "credentials_not_found");
      }
      file = dir + "/gcs_token";
    }
  } else {
    auto host = config.env ? config.env("GCE_METADATA_HOST") : std::nullopt;
    std::string h = host && !trimWhitespace(*host).empty() ? trimWhitespace(*host) : kDefaultMetadataHost;
    metadata_url = "http://" + h + "/computeMetadata/v1/instance/service-accounts/default/token";
  }
  std::unique_ptr<GcsTokenSource> s(new GcsTokenSource(name, file, metadata_url, std::move(config)));
  return s;
}

GcsTokenSource::GcsTokenSource(std::string name, std::string file, std::string metadata_url,
                               GcsTokenConfig config)
    : name_(std::move(name)),
      file_(std::move(file)),
      metadata_url_(std::move(metadata_url)),
      source_(file_.empty() ? "the metadata server at " + metadata_url_
                            : "credentials '" + name_ + "' (token file " + file_ + ")"),
      config_(std::move(config)),
      metadata_client_([&] {
        HttpClientOptions o;
        o.user_agent = config_.user_agent;
        o.use_proxy_env = false;
        return o;
      }()) {}

Result<GcsTokenSource::Fetched> GcsTokenSource::fromFile() const {
  ASSIGN_OR_RETURN(auto content, readCredentialFile(file_));
  if (!content) return notFound("token file " + file_ + " does not exist", "credentials_not_found");
  std::string text = trimWhitespace(*content);
  if (!text.empty() && text.front() == '{') {
    auto parsed = parseGcsAccessToken(text);
    if (!parsed.isOk()) return parsed.status().withContext("token file " + file_);
    return Fetched{parsed->access_token, kFileRereadMs};
  }
  if (!tokenChars(text)) return invalidArgument("token file " + file_ + " holds no usable token");
  return Fetched{text, kFileRereadMs};
}

Result<GcsTokenSource::Fetched> GcsTokenSource::fromMetadata() {
  HttpRequest req;
  req.url = metadata_url_;
  req.timeout_ms = config_.timeout_ms;
  req.connect_timeout_ms = std::min<long>(config_.timeout_ms, 5000);
  req.headers.emplace_back("Metadata-Flavor", "Google");
  auto resp = metadata_client_.send(req);
  if (!resp.isOk()) {
    return Status(resp.status().code(), "metadata server unreachable: " + resp.status().message(),
                  "source_unreachable");
  }
  if (resp->status != 200) {
    std::string msg = "metadata server answered HTTP " + std::to_string(resp->status) + " for " +
                      metadata_url_;
    if (resp->status == 404 || resp->status == 403) return permissionDenied(msg + " (no service account?)");
    return unavailable(msg, "source_unreachable");
  }
  if (resp->body.size() > kMaxTokenAnswerBytes) return unavailable("metadata token answer too large");
  auto parsed = parseGcsAccessToken(resp->body);
  if (!parsed.isOk()) return parsed.status().withContext(metadata_url_);
  int64_t valid = parsed->expires_in_seconds * 1000 - kExpiryMarginMs;
  return Fetched{parsed->access_token, std::max<int64_t>(valid, 0)};
}

Result<std::string> GcsTokenSource::token() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = config_.clock->nowMs();
  if (!token_.empty() && now < refresh_at_ms_) return token_;
  auto fetched = file_.empty() ? fromMetadata() : fromFile();
  if (!fetched.isOk()) {
    if (!token_.empty() && now < expires_at_ms_) {
      LOG_WARN("cannot refresh the GCS token from " << source_ << ", keeping the current one: "
                                                    << fetched.status().message());
      return token_;
    }
    return fetched.status();
  }
  token_ = fetched->token;
  refresh_at_ms_ = now + fetched->valid_ms;
  expires_at_ms_ = now + fetched->valid_ms + (file_.empty() ? kExpiryMarginMs : 0);
  return token_;
}

void GcsTokenSource::invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  token_.clear();
  refresh_at_ms_ = expires_at_ms_ = 0;
}

}  // namespace shardcast
