// Helpers to read typed fields out of JSON objects with clear errors, in the two
// modes shardcast needs: strict (public API: unknown fields are rejected) and
// lenient (agent <-> controller: unknown fields are ignored so mixed versions
// interoperate during a rolling update). Never throws; thread-safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace shardcast::api {

// Parses text as JSON; InvalidArgument with the parser's position on failure.
Result<nlohmann::json> parseJson(const std::string& text);

// Checks that j is an object and, when strict, that it has no keys outside `allowed`.
Status checkObject(const nlohmann::json& j, const char* what,
                   std::initializer_list<const char*> allowed, bool strict);

// Each reader leaves `out` untouched when the key is absent and `required` is false.
Status readString(const nlohmann::json& j, const char* key, std::string& out, bool required);
Status readU64(const nlohmann::json& j, const char* key, uint64_t& out, bool required);
Status readU32(const nlohmann::json& j, const char* key, uint32_t& out, bool required);
Status readI64(const nlohmann::json& j, const char* key, int64_t& out, bool required);
Status readBool(const nlohmann::json& j, const char* key, bool& out, bool required);
Status readStringList(const nlohmann::json& j, const char* key, std::vector<std::string>& out,
                      bool required);
Status readStringMap(const nlohmann::json& j, const char* key,
                     std::map<std::string, std::string>& out, bool required);
Status readU32List(const nlohmann::json& j, const char* key, std::vector<uint32_t>& out,
                   bool required);

}  // namespace shardcast::api
