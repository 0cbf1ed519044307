#include "common/objstore/s3_xml.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/http_client.h"
#include "common/objstore/xml_extract.h"

namespace shardcast {
namespace {

Result<uint64_t> parseSize(const std::string& s, const std::string& key) {
  if (s.empty() || s.size() > 19 ||
      !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return invalidArgument("bad <Size> '" + s.substr(0, 40) + "' for key '" +
                           key.substr(0, 200) + "'");
  }
  return static_cast<uint64_t>(std::stoull(s));
}

// S3's url encoding-type: '+' is a space, then %XX escapes.
Result<std::string> decodeUrlEncodedKey(std::string key) {
  std::replace(key.begin(), key.end(), '+', ' ');
  return urlDecode(key);
}

Result<S3ListedObject> parseContents(std::string_view block, bool url_encoded) {
  S3ListedObject o;
  ASSIGN_OR_RETURN(auto key, xmlChildText(block, "Key"));
  ASSIGN_OR_RETURN(auto size, xmlChildText(block, "Size"));
  ASSIGN_OR_RETURN(auto etag, xmlChildText(block, "ETag"));
  if (!key || key->empty()) return invalidArgument("a <Contents> element has no <Key>");
  if (url_encoded) {
    auto decoded = decodeUrlEncodedKey(*key);
    if (!decoded.isOk()) return decoded.status().withContext("key '" + key->substr(0, 200) + "'");
    o.key = std::move(decoded).value();
  } else {
    o.key = std::move(*key);
  }
  if (!size) return invalidArgument("key '" + o.key.substr(0, 200) + "' has no <Size>");
  ASSIGN_OR_RETURN(o.size, parseSize(*size, o.key));
  o.etag = etag.value_or("");
  return o;
}

}  // namespace

Result<S3ListPage> parseS3ListObjectsV2(std::string_view xml) {
  auto root = findXmlElement(xml, "ListBucketResult", 0);
  if (!root) return invalidArgument("not a ListObjectsV2 answer (no <ListBucketResult>)");
  // Top-level fields are read from the document with every <Contents> cut out.
  XmlBlocks split = splitXmlBlocks(root->content(xml), "Contents");
  const std::string& top = split.rest;
  const std::vector<std::string_view>& blocks = split.blocks;

  S3ListPage page;
  ASSIGN_OR_RETURN(auto encoding, xmlChildText(top, "EncodingType"));
  ASSIGN_OR_RETURN(auto truncated, xmlChildText(top, "IsTruncated"));
  ASSIGN_OR_RETURN(auto token, xmlChildText(top, "NextContinuationToken"));
  bool url_encoded = encoding && *encoding == "url";
  page.truncated = truncated && *truncated == "true";
  page.next_continuation_token = token.value_or("");
  for (std::string_view block : blocks) {
    ASSIGN_OR_RETURN(S3ListedObject o, parseContents(block, url_encoded));
    page.objects.push_back(std::move(o));
  }
  return page;
}

S3ErrorDocument parseS3Error(std::string_view xml) {
  S3ErrorDocument doc;
  auto root = findXmlElement(xml, "Error", 0);
  if (!root) return doc;
  std::string_view body = root->content(xml);
  auto text = [&](std::string_view name) {
    auto t = xmlChildText(body, name);
    return t.isOk() && t->has_value() ? **t : std::string();
  };
  doc.code = text("Code");
  doc.message = text("Message");
  doc.region = text("Region");
  return doc;
}

}  // namespace shardcast
