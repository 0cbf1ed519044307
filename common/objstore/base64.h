// Standard base64 (RFC 4648 §4, with '=' padding) over OpenSSL: Azure account
// keys and signatures, GCS md5Hash/crc32c fields.
//
// Pure functions; thread-safe. Errors never quote the input (it may be a key).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace shardcast {

std::string base64Encode(std::string_view raw);
// InvalidArgument when `text` is not padded standard base64 (whitespace is not
// allowed).
Result<std::string> base64Decode(std::string_view text);

}  // namespace shardcast
