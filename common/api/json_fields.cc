#include "common/api/json_fields.h"

#include <algorithm>
#include <cstring>

namespace shardcast::api {
namespace {

using nlohmann::json;

Status typeError(const char* key, const char* want) {
  return invalidArgument(std::string("field '") + key + "' must be " + want);
}

// Looks up key; returns nullptr when absent. Missing + required is an error.
Status find(const json& j, const char* key, bool required, const json** out) {
  *out = nullptr;
  if (!j.is_object()) return invalidArgument("expected a JSON object");
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return invalidArgument(std::string("missing required field '") + key + "'");
    return Status::ok();
  }
  *out = &*it;
  return Status::ok();
}

}  // namespace

Result<json> parseJson(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    return invalidArgument(std::string("malformed JSON: ") + e.what());
  }
}

Status checkObject(const json& j, const char* what, std::initializer_list<const char*> allowed,
                   bool strict) {
  if (!j.is_object()) return invalidArgument(std::string(what) + " must be a JSON object");
  if (!strict) return Status::ok();
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = std::any_of(allowed.begin(), allowed.end(),
                             [&](const char* a) { return it.key() == a; });
    if (!known) {
      std::string key = it.key().substr(0, 64);
      return invalidArgument("unknown field '" + key + "' in " + what);
    }
  }
  return Status::ok();
}

Status readString(const json& j, const char* key, std::string& out, bool required) {
  const json* v;
  RETURN_IF_ERROR(find(j, key, required, &v));
  if (!v) return Status::ok();
  if (!v->is_string()) return typeError(key, "a string");
  out = v->get<std::string>();
  return Status::ok();
}

Status readU64(const json& j, const char* key, uint64_t& out, bool required) {
  const json* v;
  RETURN_IF_ERROR(find(j, key, required, &v));
  if (!v) return Status::ok();
  if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<int64_t>() >= 0)) {
    return typeError(key, "a non-negative integer");
  }
  out = v->get<uint64_t>();
  return Status::ok();
}

Status readU32(const json& j, const char* key, uint32_t& out, bool required) {
  uint64_t v = out;
  RETURN_IF_ERROR(readU64(j, key, v, required));
  if (v > UINT32_MAX) return typeError(key, "an integer below 2^32");
  out = static_cast<uint32_t>(v);
  return Status::ok();
}

Status readI64(const json& j, const char* key, int64_t& out, bool required) {
  const json* v;
  RETURN_IF_ERROR(find(j, key, required, &v));
  if (!v) return Status::ok();
  if (!v->is_number_integer()) return typeError(key, "an integer");
  out = v->get<int64_t>();
  return Status::ok();
}

Status readBool(const json& j, const char* key, bool& out, bool required) {
  const json* v;
  RETURN_IF_ERROR(find(j, key, required, &v));
  if (!v) return Status::ok();
  if (!v->is_boolean()) return typeError(key, "true or false");
  out = v->get<bool>();
  return Status::ok();
}

Status readStringList(const json& j, const char* key, std::vector<std::string>& out,
                      bool required) {
  const json* v;
  RETURN_IF_ERROR(find(j, key, required, &v));
  if (!v) return Status::ok();
  if (!v->is_array()) return typeError(key, "an array of strings");
  std::vector<std::string> r;
  for (const auto& e : *v) {
    if (!e.is_string()) return typeError(key, "an array of strings");
    r.push_back(e.get<std::string>());
  }
  out = std::move(r);
  return Status::ok();
}

Status readStringMap(const json& j, const char* key, std::map<std::string, std::string>& out,
                     bool required) {
  const json* v;
  RETURN_IF_ERROR(find(j, key, required, &v));
  if (!v) return Status::ok();
  if (!v->is_object()) return typeError(key, "an object of string values");
  std::map<std::string, std::string> r;
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it->is_string()) return typeError(key, "an object of string values");
    r[it.key()] = it->get<std::string>();
  }
  out = std::move(r);
  return Status::ok();
}

Status readU32List(const json& j, const char* key, std::vector<uint32_t>& out, bool required) {
  const json* v;
  RETURN_IF_ERROR(find(j, key, required, &v));
  if (!v) return Status::ok();
  if (!v->is_array()) return typeError(key, "an array of integers");
  std::vector<uint32_t> r;
  r.reserve(v->size());
  for (const auto& e : *v) {
    if (!e.is_number_unsigned() || e.get<uint64_t>() > UINT32_MAX) {
      return typeError(key, "an array of non-negative integers");
    }
    r.push_back(e.get<uint32_t>());
  }
  out = std::move(r);
  return Status::ok();
}

}  // namespace shardcast::api
