#include "common/objstore/xml_extract.h"

#include <cctype>
#include <cstdint>

namespace shardcast {
namespace {

bool isNameEnd(char c) { return c == '>' || c == '/' || std::isspace(static_cast<unsigned char>(c)); }

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

}  // namespace

std::optional<XmlElement> findXmlElement(std::string_view xml, std::string_view name, size_t from) {
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
    XmlElement e;
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

Result<std::optional<std::string>> xmlChildText(std::string_view xml, std::string_view name) {
  auto e = findXmlElement(xml, name, 0);
  if (!e) return std::optional<std::string>();
  std::string_view raw = e->content(xml);
  if (raw.find('<') != std::string_view::npos) {
    return invalidArgument("element <" + std::string(name) + "> has markup inside");
  }
  ASSIGN_OR_RETURN(std::string text, xmlDecodeEntities(raw));
  return std::optional<std::string>(std::move(text));
}

XmlBlocks splitXmlBlocks(std::string_view body, std::string_view name) {
  XmlBlocks out;
  size_t pos = 0;
  while (auto e = findXmlElement(body, name, pos)) {
    out.rest.append(body.substr(pos, e->start - pos));
    out.blocks.push_back(e->content(body));
    pos = e->end;
  }
  out.rest.append(body.substr(pos));
  return out;
}

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

}  // namespace shardcast
