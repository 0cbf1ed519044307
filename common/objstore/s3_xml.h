// The few S3 XML documents shardcast reads: a ListObjectsV2 page and an error
// document (<Error><Code/><Message/></Error>, the same shape Azure Blob uses).
// Built on the small extractor of xml_extract.h: anything it does not understand
// is an error, never a silent guess.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/objstore/xml_extract.h"  // xmlDecodeEntities
#include "common/status.h"

namespace shardcast {

struct S3ListedObject {
  std::string key;   // decoded (entities, and percent-escapes when url-encoded)
  uint64_t size = 0;
  std::string etag;  // as listed, entities decoded: usually "\"<hex>\"" with quotes
};

struct S3ListPage {
  std::vector<S3ListedObject> objects;
  bool truncated = false;
  std::string next_continuation_token;  // "" when absent
};

// Parses a ListObjectsV2 answer (<ListBucketResult>). When the answer says
// <EncodingType>url</EncodingType>, keys are percent-decoded ('+' is a space, as
// S3 encodes them). InvalidArgument on a document that is not a listing, an
// element without Key or Size, a bad size or a bad entity.
Result<S3ListPage> parseS3ListObjectsV2(std::string_view xml);

struct S3ErrorDocument {
  std::string code;     // e.g. "InvalidAccessKeyId"; "" when the body is no error document
  std::string message;
  std::string region;   // <Region> of a wrong-region answer, "" otherwise
};

// Best effort: fields that are absent or undecodable stay empty.
S3ErrorDocument parseS3Error(std::string_view xml);

}  // namespace shardcast
