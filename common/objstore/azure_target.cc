#include "common/objstore/azure_target.h"

#include <algorithm>
#include <cctype>

#include "common/http_client.h"
#include "common/objstore/http_range_read.h"
#include "common/objstore/origin_endpoint.h"
#include "common/path_rules.h"

namespace shardcast {
namespace {

constexpr char kScheme[] = "az://";

bool accountChar(unsigned char c) { return (c >= 'a' && c <= 'z') || std::isdigit(c); }
bool containerChar(unsigned char c) { return accountChar(c) || c == '-'; }

template <typename Pred>
bool allOf(const std::string& s, Pred ok) {
  return std::all_of(s.begin(), s.end(), [&](unsigned char c) { return ok(c); });
}

}  // namespace

Result<AzureTarget> AzureTarget::fromSource(const SourceSpec& source) {
  const std::string& uri = source.uri;
  if (source.scheme() != "az") return invalidArgument("not an az:// URI: '" + uri.substr(0, 200) + "'");
  auto bad = [&](const std::string& why) {
    return invalidArgument("Azure source '" + withoutQuery(uri).substr(0, 200) + "': " + why);
  };
  if (uri.find('?') != std::string::npos) {
    return bad("no query string allowed (put a SAS token in named credentials)");
  }
  AzureTarget t;
  std::string rest = uri.substr(sizeof(kScheme) - 1);
  size_t slash1 = rest.find('/');
  size_t slash2 = slash1 == std::string::npos ? slash1 : rest.find('/', slash1 + 1);
  if (slash2 == std::string::npos) {
    return bad("expected az://account/container/prefix/ or az://account/container/blob");
  }
  t.account = rest.substr(0, slash1);
  t.container = rest.substr(slash1 + 1, slash2 - slash1 - 1);
  t.key = rest.substr(slash2 + 1);
  t.is_prefix = t.key.empty() || t.key.back() == '/';
  if (t.account.size() < 3 || t.account.size() > 24 || !allOf(t.account, accountChar)) {
    return bad("invalid account name '" + t.account.substr(0, 64) +
               "' (3-24 lower-case letters and digits)");
  }
  if ((t.container.size() < 3 || t.container.size() > 63 || !allOf(t.container, containerChar)) &&
      t.container != "$root") {
    return bad("invalid container name '" + t.container.substr(0, 64) +
               "' (3-63 lower-case letters, digits and '-')");
  }
  if (!t.key.empty()) {
    Status st = validateRelativePath(t.is_prefix ? t.key.substr(0, t.key.size() - 1) : t.key);
    if (!st.isOk()) return st.withContext("Azure source '" + uri.substr(0, 200) + "'");
  }
  OriginEndpoint ep{"https", t.account + ".blob.core.windows.net", ""};
  if (!source.endpoint.empty()) {
    ASSIGN_OR_RETURN(ep, parseOriginEndpoint(source.endpoint, "Azure"));
  }
  t.scheme = ep.scheme;
  t.host = ep.host;
  t.base_path = ep.path;
  return t;
}

std::string AzureTarget::path(const std::string& blob) const {
  return base_path + "/" + container + (blob.empty() ? "" : "/" + urlEncode(blob, true));
}

}  // namespace shardcast
