#include "common/objstore/s3_xml.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/http_client.h"

namespace shardcast {
namespace {

// Where one element sits in the document.
struct Element {
  size_t start = 0;          // '<' of the start tag
  size_t content_begin = 0;  // after the start tag's '>'
  size_t content_end = 0;    // '<' of the end tag (== content_begin when self-closing)
  size_t end = 0;            // after the end tag
};

bool isNameEnd(char c) { return c == '>' || c == '/' || std::isspace(static_cast<unsigned char>(c)); }

// The next element called `name` at or after `from`. Elements of that name must
// not nest (true for every element read here).
std::optional<Element> findElement(std::string_view xml, std::string_view name, size_t from) {
  const std::string open = "<" + std::string(name);
  const std::string close = "</" + std::string(name) + ">";
  size_t pos = from;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    size_t after_name = pos + open.size();
    if (after_name >= xml.size() || !isNameEnd(xml[after_name])) {
      pos = after_name;
      continue;
    }
    size_t gt = xml.find('>', after_name);
    if (gt == std::string_view::npos) return std::nullopt;
    Element e;
    e.start = pos;
    e.content_begin = gt + 1;
    if (xml[gt - 1] == '/') {  // <Name/>
      e.content_end = e.content_begin;
      e.end = e.content_begin;
      return e;
    }
    size_t end_tag = xml.find(close, e.content_begin);
    if (end_tag == std::string_view::npos) return std::nullopt;
    e.content_end = end_tag;
    e.end = end_tag + close.size();
    return e;
  }
  return std::nullopt;
}

// Decoded text of the first `name` element in `xml`, nullopt when there is none.
Result<std::optional<std::string>> childText(std::string_view xml, std::string_view name) {
  auto e = findElement(xml, name, 0);
  if (!e) return std::optional<std::string>();
  std::string_view raw = xml.substr(e->content_begin, e->content_end - e->content_begin);
  if (raw.find('<') != std::string_view::npos) {
    return invalidArgument("element <" + std::string(name) + "> has markup inside");
  }
  ASSIGN_OR_RETURN(std::string text, xmlDecodeEntities(raw));
  return std::optional<std::string>(std::move(text));
}

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// "&#65;" / "&#x41;" body (without '&#' and ';') -> code point.
std::optional<uint32_t> parseCharRef(std::string_view ref) {
  bool hex = !ref.empty() && (ref[0] == 'x' || ref[0] == 'X');
  std::string_view digits = hex ? ref.substr(1) : ref;
  if (digits.empty() || digits.size() > 8) return std::nullopt;
  uint32_t v = 0;
  for (char c : digits) {
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : hex && std::isxdigit(static_cast<unsigned char>(c))
                ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                : -1;
    if (d < 0) return std::nullopt;
    v = v * (hex ? 16 : 10) + static_cast<uint32_t>(d);
  }
  if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return std::nullopt;
  return v;
}

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
  ASSIGN_OR_RETURN(auto key, childText(block, "Key"));
  ASSIGN_OR_RETURN(auto size, childText(block, "Size"));
  ASSIGN_OR_RETURN(auto etag, childText(block, "ETag"));
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

Result<std::string> xmlDecodeEntities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      return invalidArgument("unterminated XML entity");
    }
    std::string_view ent = text.substr(i + 1, semi - i - 1);
    if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "amp") out += '&';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (auto cp = ent.size() > 1 && ent[0] == '#' ? parseCharRef(ent.substr(1)) : std::nullopt) {
      appendUtf8(out, *cp);
    } else {
      return invalidArgument("unknown XML entity '&" + std::string(ent) + ";'");
    }
    i = semi;
  }
  return out;
}

Result<S3ListPage> parseS3ListObjectsV2(std::string_view xml) {
  auto root = findElement(xml, "ListBucketResult", 0);
  if (!root) return invalidArgument("not a ListObjectsV2 answer (no <ListBucketResult>)");
  std::string_view body = xml.substr(root->content_begin, root->content_end - root->content_begin);

  // Top-level fields are read from the document with every <Contents> cut out.
  std::string top;
  std::vector<std::string_view> blocks;
  size_t pos = 0;
  while (auto e = findElement(body, "Contents", pos)) {
    top.append(body.substr(pos, e->start - pos));
    blocks.push_back(body.substr(e->content_begin, e->content_end - e->content_begin));
    pos = e->end;
  }
  top.append(body.substr(pos));

  S3ListPage page;
  ASSIGN_OR_RETURN(auto encoding, childText(top, "EncodingType"));
  ASSIGN_OR_RETURN(auto truncated, childText(top, "IsTruncated"));
  ASSIGN_OR_RETURN(auto token, childText(top, "NextContinuationToken"));
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
  auto root = findElement(xml, "Error", 0);
  if (!root) return doc;
  std::string_view body = xml.substr(root->content_begin, root->content_end - root->content_begin);
  auto text = [&](std::string_view name) {
    auto t = childText(body, name);
    return t.isOk() && t->has_value() ? **t : std::string();
  };
  doc.code = text("Code");
  doc.message = text("Message");
  doc.region = text("Region");
  return doc;
}

}  // namespace shardcast
