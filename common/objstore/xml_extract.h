// A small XML extractor shared by the object stores that read XML answers (S3
// ListObjectsV2 and error documents, Azure List Blobs and error documents). Not a
// general XML parser: it finds non-nesting elements by name (attributes and
// self-closing tags allowed, namespace prefixes not) and decodes the five
// predefined entities and numeric character references. Anything it does not
// understand is an error, never a silent guess.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shardcast {

// Where one element sits in a document.
struct XmlElement {
  size_t start = 0;          // '<' of the start tag
  size_t content_begin = 0;  // after the start tag's '>'
  size_t content_end = 0;    // '<' of the end tag (== content_begin when self-closing)
  size_t end = 0;            // after the end tag

  std::string_view content(std::string_view xml) const {
    return xml.substr(content_begin, content_end - content_begin);
  }
};

// The next element called `name` at or after `from`. Elements of that name must
// not nest (true for every element shardcast reads).
std::optional<XmlElement> findXmlElement(std::string_view xml, std::string_view name,
                                         size_t from = 0);

// Decoded text of the first `name` element in `xml`, nullopt when there is none.
// InvalidArgument when the element holds markup or a bad entity.
Result<std::optional<std::string>> xmlChildText(std::string_view xml, std::string_view name);

// A document body split into its repeated `name` elements (their content) and
// everything else (`rest`), so top-level fields are never read from inside a block.
struct XmlBlocks {
  std::string rest;
  std::vector<std::string_view> blocks;  // views into the body passed in
};
XmlBlocks splitXmlBlocks(std::string_view body, std::string_view name);

// Decodes &lt; &gt; &amp; &quot; &apos; &#N; &#xH; (as UTF-8).
Result<std::string> xmlDecodeEntities(std::string_view text);

}  // namespace shardcast
