#include "common/objstore/azure_shared_key.h"

#include <algorithm>
#include <ctime>

#include "common/http_client.h"
#include "common/objstore/base64.h"
#include "common/objstore/sigv4.h"

namespace shardcast {
namespace {

// The standard headers in string-to-sign order (after the verb).
constexpr const char* kStandardHeaders[] = {
    "content-encoding", "content-language", "content-length", "content-md5",
    "content-type",     "date",             "if-modified-since", "if-match",
    "if-none-match",    "if-unmodified-since", "range"};

std::string toLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return s;
}

// Unfolded (line breaks with their indentation become one space) and trimmed.
std::string unfold(const std::string& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\r' || v[i] == '\n') {
      while (i + 1 < v.size() && (v[i + 1] == '\r' || v[i + 1] == '\n' || v[i + 1] == ' ' ||
                                  v[i + 1] == '\t')) {
        ++i;
      }
      while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
      out += ' ';
      continue;
    }
    out += v[i];
  }
  size_t b = out.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return out.substr(b, out.find_last_not_of(" \t") - b + 1);
}

std::string headerValue(const std::vector<std::pair<std::string, std::string>>& headers,
                        const std::string& lower_name) {
  std::string joined;
  bool seen = false;
  for (const auto& [name, value] : headers) {
    if (toLower(name) != lower_name) continue;
    joined += (seen ? "," : "") + unfold(value);
    seen = true;
  }
  return joined;
}

Result<std::string> signWithKey(const std::string& base64_key, const std::string& text) {
  auto key = base64Decode(base64_key);
  if (!key.isOk()) return invalidArgument("the Azure account key is not valid base64");
  return base64Encode(hmacSha256(*key, text));
}

}  // namespace

std::string azureCanonicalizedHeaders(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::map<std::string, std::vector<std::string>> ms;
  for (const auto& [name, value] : headers) {
    std::string lower = toLower(name);
    if (lower.rfind("x-ms-", 0) == 0) ms[lower].push_back(unfold(value));
  }
  std::string out;
  for (const auto& [name, values] : ms) {
    out += name + ":";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i];
    out += "\n";
  }
  return out;
}

std::string azureCanonicalizedResource(const std::string& account, const std::string& path,
                                       const std::multimap<std::string, std::string>& query) {
  std::string out = "/" + account + (path.empty() ? "/" : path);
  std::map<std::string, std::vector<std::string>> params;
  for (const auto& [name, value] : query) params[toLower(name)].push_back(value);
  for (auto& [name, values] : params) {
    std::sort(values.begin(), values.end());
    out += "\n" + name + ":";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i];
  }
  return out;
}

std::string azureHttpDate(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

Result<AzureSharedKeySignature> signAzureSharedKey(const AzureSharedKeyRequest& request,
                                                   const std::string& base64_key) {
  AzureSharedKeySignature sig;
  std::string& sts = sig.string_to_sign;
  sts = request.method + "\n";
  for (const char* name : kStandardHeaders) {
    std::string v = headerValue(request.headers, name);
    if (std::string(name) == "content-length" && v == "0") v.clear();
    sts += v + "\n";
  }
  sts += azureCanonicalizedHeaders(request.headers);
  sts += azureCanonicalizedResource(request.account, request.path, request.query);
  ASSIGN_OR_RETURN(sig.signature, signWithKey(base64_key, sts));
  sig.authorization = "SharedKey " + request.account + ":" + sig.signature;
  return sig;
}

Result<AzureAccountSas> azureAccountSas(const std::string& account, const std::string& base64_key,
                                        const AzureAccountSasParams& p) {
  if (p.expiry.empty()) return invalidArgument("an account SAS needs an expiry");
  if (p.version < "2020-12-06") {
    return invalidArgument("account SAS version " + p.version + " predates 2020-12-06");
  }
  AzureAccountSas sas;
  sas.string_to_sign = account + "\n" + p.permissions + "\n" + p.services + "\n" +
                       p.resource_types + "\n" + p.start + "\n" + p.expiry + "\n" + p.ip + "\n" +
                       p.protocol + "\n" + p.version + "\n" + p.encryption_scope + "\n";
  ASSIGN_OR_RETURN(std::string sig, signWithKey(base64_key, sas.string_to_sign));
  std::vector<std::pair<std::string, std::string>> q = {
      {"sv", p.version}, {"ss", p.services}, {"srt", p.resource_types}, {"sp", p.permissions}};
  if (!p.start.empty()) q.emplace_back("st", p.start);
  q.emplace_back("se", p.expiry);
  if (!p.ip.empty()) q.emplace_back("sip", p.ip);
  if (!p.protocol.empty()) q.emplace_back("spr", p.protocol);
  if (!p.encryption_scope.empty()) q.emplace_back("ses", p.encryption_scope);
  q.emplace_back("sig", sig);
  for (const auto& [k, v] : q) sas.token += (sas.token.empty() ? "" : "&") + k + "=" + urlEncode(v);
  return sas;
}

}  // namespace shardcast
