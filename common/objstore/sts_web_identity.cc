#include "common/objstore/sts_web_identity.h"

#include <algorithm>
#include <random>

namespace shardcast {
namespace {

constexpr int64_t kRenewBeforeExpiryMs = 5 * 60 * 1000;
constexpr int64_t kRetryMs = 60 * 1000;
constexpr size_t kMaxAnswerBytes = 64 * 1024;

std::string randomSessionName() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex(0, 15);
  std::string s = "shardcast-";
  for (int i = 0; i < 16; ++i) s += "0123456789abcdef"[hex(rd)];
  return s;
}

// `st` with every occurrence of `secret` in its message replaced.
Status scrub(const Status& st, const std::string& secret) {
  std::string msg = st.message();
  if (secret.size() < 4 || msg.find(secret) == std::string::npos) return st;
  for (size_t p; (p = msg.find(secret)) != std::string::npos;) msg.replace(p, secret.size(), "<token>");
  return Status(st.code(), msg, st.reason());
}

}  // namespace

StsWebIdentity::StsWebIdentity(StsWebIdentityConfig config)
    : config_([&] {
        if (!config.clock) config.clock = std::make_shared<SystemClock>();
        return std::move(config);
      }()),
      endpoint_(stsEndpoint(config_.env)),
      default_session_name_(randomSessionName()),
      pool_([] {
        HttpClientOptions o;
        o.use_proxy_env = true;  // STS is reached like an origin
        return o;
      }()) {}

WebIdentityExchange StsWebIdentity::exchange(std::shared_ptr<StsWebIdentity> self) {
  return [self = std::move(self)](const WebIdentity& identity) { return self->credentials(identity); };
}

Result<StsWebIdentity::Session> StsWebIdentity::assumeRole(const WebIdentity& identity) {
  std::string session = identity.session_name.empty() ? default_session_name_ : identity.session_name;
  RETURN_IF_ERROR(validateRoleSessionName(session));
  ASSIGN_OR_RETURN(auto content, readCredentialFile(identity.token_file));
  if (!content) {
    return notFound("AWS_WEB_IDENTITY_TOKEN_FILE " + identity.token_file + " does not exist",
                    "credentials_not_found");
  }
  std::string token = trimWhitespace(*content);
  if (token.empty()) {
    return invalidArgument("AWS_WEB_IDENTITY_TOKEN_FILE " + identity.token_file + " is empty");
  }
  HttpRequest req;
  req.method = "POST";
  req.url = endpoint_ + "/";
  req.body = assumeRoleWithWebIdentityBody(identity.role_arn, session, token);
  req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  req.headers.emplace_back("Accept", "application/xml");
  req.timeout_ms = config_.timeout_ms;
  req.connect_timeout_ms = std::min<long>(config_.timeout_ms, 5000);
  auto resp = pool_.acquire()->send(req);
  if (!resp.isOk()) {
    return scrub(Status(resp.status().code(),
                        "STS at " + endpoint_ + " unreachable (role " + identity.role_arn +
                            "): " + resp.status().message(),
                        "source_unreachable"),
                 token);
  }
  if (resp->body.size() > kMaxAnswerBytes) {
    return unavailable("STS answer for role " + identity.role_arn + " is too large", "origin_error");
  }
  if (resp->status != 200) return scrub(stsErrorStatus(resp->status, resp->body, identity.role_arn), token);
  auto parsed = parseAssumeRoleWithWebIdentityResponse(resp->body, identity.role_arn);
  if (!parsed.isOk()) return scrub(parsed.status(), token);
  Session s{std::move(parsed).value(), ""};
  s.source = s.sts.credentials.source;
  return s;
}

Result<AwsCredentials> StsWebIdentity::credentials(const WebIdentity& identity) {
  std::shared_ptr<CredentialCache<Session>> cache;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = caches_[identity.token_file + '\n' + identity.role_arn + '\n' + identity.session_name];
    if (!slot) {
      auto clock = config_.clock;
      slot = std::make_shared<CredentialCache<Session>>(
          clock, kRetryMs, "web identity " + identity.role_arn,
          [this, identity] { return assumeRole(identity); },
          [clock](const Session& s) {
            int64_t left = s.sts.expiration_wall_ms - clock->wallMs();
            return std::max<int64_t>(left - kRenewBeforeExpiryMs, std::max<int64_t>(left / 2, 0));
          });
    }
    cache = slot;
  }
  ASSIGN_OR_RETURN(Session s, cache->get());
  if (config_.clock->wallMs() >= s.sts.expiration_wall_ms) {
    return unavailable("the temporary credentials for role " + identity.role_arn +
                           " expired and STS could not renew them (see the log)",
                       "source_unreachable");
  }
  return s.sts.credentials;
}

}  // namespace shardcast
