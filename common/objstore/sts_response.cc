#include "common/objstore/sts_response.h"

#include <cctype>
#include <ctime>
#include <optional>

#include "common/http_client.h"  // urlEncode
#include "common/objstore/xml_extract.h"

namespace shardcast {
namespace {

constexpr size_t kMaxQuotedMessage = 200;

std::optional<std::string> envValue(const EnvLookup& env, const char* name) {
  if (!env) return std::nullopt;
  auto v = env(name);
  if (!v) return std::nullopt;
  std::string t = trimWhitespace(*v);
  if (t.empty()) return std::nullopt;
  return t;
}

// Reads `n` digits at `pos` of `s`; -1 when they are not digits.
int digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// The decoded text of `name` in `xml`, "" when it is absent or undecodable.
std::string textOrEmpty(std::string_view xml, std::string_view name) {
  auto t = xmlChildText(xml, name);
  if (!t.isOk() || !*t) return "";
  return trimWhitespace(**t);
}

}  // namespace

std::string stsEndpoint(const EnvLookup& env) {
  if (auto url = envValue(env, "AWS_ENDPOINT_URL_STS")) {
    std::string u = *url;
    while (!u.empty() && u.back() == '/') u.pop_back();
    return u;
  }
  auto region = envValue(env, "AWS_REGION");
  if (!region) region = envValue(env, "AWS_DEFAULT_REGION");
  if (region) return "https://sts." + *region + ".amazonaws.com";
  return "https://sts.amazonaws.com";
}

std::string assumeRoleWithWebIdentityBody(const std::string& role_arn,
                                          const std::string& session_name,
                                          const std::string& token) {
  return "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + urlEncode(role_arn) +
         "&RoleSessionName=" + urlEncode(session_name) + "&WebIdentityToken=" + urlEncode(token);
}

Status validateRoleSessionName(const std::string& name) {
  if (name.size() < 2 || name.size() > 64) {
    return invalidArgument("AWS_ROLE_SESSION_NAME must be 2 to 64 characters");
  }
  for (unsigned char c : name) {
    if (!std::isalnum(c) && std::string_view("+=,.@_-").find(static_cast<char>(c)) == std::string_view::npos) {
      return invalidArgument("AWS_ROLE_SESSION_NAME may hold only letters, digits and +=,.@_-");
    }
  }
  return Status::ok();
}

Result<int64_t> parseIso8601UtcMs(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.f+]Z
  int year = digits(s, 0, 4), mon = digits(s, 5, 2), day = digits(s, 8, 2);
  int hour = digits(s, 11, 2), min = digits(s, 14, 2), sec = digits(s, 17, 2);
  bool seps = s.size() >= 20 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't') &&
              s[13] == ':' && s[16] == ':';
  if (!seps || year < 0 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      min < 0 || min > 59 || sec < 0 || sec > 60) {
    return invalidArgument("not an ISO 8601 UTC time: '" + std::string(s.substr(0, 40)) + "'");
  }
  size_t pos = 19;
  int64_t ms = 0;
  if (s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (pos - start < 3) ms = ms * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start) return invalidArgument("not an ISO 8601 UTC time: '" + std::string(s) + "'");
    for (size_t k = pos - start; k < 3; ++k) ms *= 10;
  }
  if (pos + 1 != s.size() || (s[pos] != 'Z' && s[pos] != 'z')) {
    return invalidArgument("not an ISO 8601 UTC time (want a trailing Z): '" +
                           std::string(s.substr(0, 40)) + "'");
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return static_cast<int64_t>(::timegm(&tm)) * 1000 + ms;
}

Result<StsCredentials> parseAssumeRoleWithWebIdentityResponse(std::string_view xml,
                                                              const std::string& role_arn) {
  const std::string what = "STS AssumeRoleWithWebIdentity answer for " + role_arn;
  auto result = findXmlElement(xml, "AssumeRoleWithWebIdentityResult");
  if (!result) return invalidArgument(what + " has no <AssumeRoleWithWebIdentityResult>");
  auto creds = findXmlElement(xml, "Credentials", result->content_begin);
  if (!creds || creds->end > result->end) return invalidArgument(what + " has no <Credentials>");
  std::string_view block = creds->content(xml);
  StsCredentials out;
  struct Field {
    const char* name;
    std::string* into;
  } fields[] = {{"AccessKeyId", &out.credentials.access_key_id},
                {"SecretAccessKey", &out.credentials.secret_access_key},
                {"SessionToken", &out.credentials.session_token}};
  std::string expiration;
  for (const Field& f : fields) {
    auto t = xmlChildText(block, f.name);
    if (!t.isOk()) return invalidArgument(what + ": <" + f.name + "> is malformed");
    if (!*t || trimWhitespace(**t).empty()) return invalidArgument(what + " lacks <" + f.name + ">");
    *f.into = trimWhitespace(**t);
  }
  auto exp = xmlChildText(block, "Expiration");
  if (!exp.isOk() || !*exp) return invalidArgument(what + " lacks <Expiration>");
  auto at = parseIso8601UtcMs(trimWhitespace(**exp));
  if (!at.isOk()) return at.status().withContext(what);
  out.expiration_wall_ms = *at;
  out.credentials.source = "web identity " + role_arn;
  return out;
}

Status stsErrorStatus(long http_status, std::string_view body, const std::string& role_arn) {
  std::string code, message;
  if (auto err = findXmlElement(body, "Error")) {
    std::string_view block = err->content(body);
    code = textOrEmpty(block, "Code");
    message = textOrEmpty(block, "Message");
  }
  if (message.size() > kMaxQuotedMessage) message = message.substr(0, kMaxQuotedMessage) + "...";
  std::string msg = "STS AssumeRoleWithWebIdentity for role " + role_arn + " failed (HTTP " +
                    std::to_string(http_status) + (code.empty() ? "" : ": " + code) +
                    (message.empty() ? "" : ": " + message) + ")";
  if (http_status >= 500 || http_status == 429 || code == "Throttling" ||
      code == "IDPCommunicationError") {
    return unavailable(msg, "origin_error");
  }
  return permissionDenied(msg, "sts_denied");
}

}  // namespace shardcast
