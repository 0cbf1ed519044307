#include "controller/journal_format.h"

#include <array>
#include <cstring>

namespace shardcast::controller {
namespace {

using nlohmann::json;

constexpr uint32_t kCrcMaskDelta = 0xa282ead8u;

std::array<uint32_t, 256> makeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    table[i] = c;
  }
  return table;
}

uint32_t maskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta; }

void putU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void putU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t getU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t getU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// The checksum covers length and revision (bytes 8..20 of the header) and the payload.
uint32_t recordCrc(std::string_view header_tail, std::string_view payload) {
  uint32_t crc = crc32c(header_tail.data(), header_tail.size());
  return maskCrc(crc32c(payload.data(), payload.size(), crc));
}

// True when a record that passes every check starts anywhere at or after `from`.
bool validRecordFrom(std::string_view data, size_t from) {
  std::string magic;
  putU32(magic, kRecordMagic);
  for (size_t pos = data.find(magic, from); pos != std::string_view::npos;
       pos = data.find(magic, pos + 1)) {
    DecodedRecord r;
    if (decodeRecord(data, pos, &r) == RecordCheck::kOk) return true;
  }
  return false;
}

const char* describe(RecordCheck c) {
  switch (c) {
    case RecordCheck::kIncomplete: return "an incomplete record";
    case RecordCheck::kBadMagic: return "bytes that are not a record (bad magic)";
    case RecordCheck::kBadChecksum: return "a record failing its checksum";
    case RecordCheck::kOk: break;
  }
  return "a good record";
}

std::string dumpJson(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::strict);
}

}  // namespace

uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
  static const std::array<uint32_t, 256> kTable = makeCrcTable();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = kTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::string encodeRecord(uint64_t revision, std::string_view payload) {
  std::string tail;
  putU32(tail, static_cast<uint32_t>(payload.size()));
  putU64(tail, revision);
  std::string out;
  out.reserve(kRecordHeaderSize + payload.size());
  putU32(out, kRecordMagic);
  putU32(out, recordCrc(tail, payload));
  out += tail;
  out.append(payload.data(), payload.size());
  return out;
}

RecordCheck decodeRecord(std::string_view data, size_t offset, DecodedRecord* out) {
  if (offset > data.size() || data.size() - offset < kRecordHeaderSize) {
    // A short tail that is not even the start of a record is no record at all.
    if (offset < data.size() && data.size() - offset >= 4 &&
        getU32(data.data() + offset) != kRecordMagic) {
      return RecordCheck::kBadMagic;
    }
    return RecordCheck::kIncomplete;
  }
  const char* h = data.data() + offset;
  if (getU32(h) != kRecordMagic) return RecordCheck::kBadMagic;
  uint32_t length = getU32(h + 8);
  if (length > kMaxRecordPayload) return RecordCheck::kBadChecksum;
  if (data.size() - offset - kRecordHeaderSize < length) return RecordCheck::kIncomplete;
  std::string_view payload(h + kRecordHeaderSize, length);
  if (recordCrc(std::string_view(h + 8, 12), payload) != getU32(h + 4)) {
    return RecordCheck::kBadChecksum;
  }
  out->revision = getU64(h + 12);
  out->payload = payload;
  out->offset = offset;
  out->size = kRecordHeaderSize + length;
  return RecordCheck::kOk;
}

FileScan scanFile(std::string_view data) {
  FileScan scan;
  size_t offset = 0;
  while (offset < data.size()) {
    DecodedRecord r;
    RecordCheck c = decodeRecord(data, offset, &r);
    if (c == RecordCheck::kOk) {
      scan.records.push_back(r);
      offset += r.size;
      continue;
    }
    scan.problem = describe(c);
    // A crash cuts only the last write short; a valid record after the bad one
    // means the damage is in the middle and must not be dropped silently.
    if (validRecordFrom(data, offset + 1)) {
      scan.corrupt_middle = true;
    } else {
      scan.torn_tail = true;
    }
    break;
  }
  scan.valid_bytes = offset;
  return scan;
}

Result<std::string> encodeOps(const std::vector<StateOp>& ops) {
  try {
    json arr = json::array();
    for (const auto& op : ops) {
      if (op.kind == StateOp::Kind::kPut) {
        arr.push_back(json::array({"put", op.key, op.value}));
      } else {
        arr.push_back(json::array({"del", op.key}));
      }
    }
    return dumpJson(arr);
  } catch (const json::exception& e) {
    return invalidArgument(std::string("cannot encode state ops as JSON: ") + e.what());
  }
}

Result<std::vector<StateOp>> decodeOps(std::string_view payload) {
  try {
    json arr = json::parse(payload);
    if (!arr.is_array()) return corruption("journal record is not a JSON array of ops");
    std::vector<StateOp> ops;
    ops.reserve(arr.size());
    for (const auto& op : arr) {
      if (!op.is_array() || op.empty() || !op[0].is_string() || op.size() < 2 ||
          !op[1].is_string()) {
        return corruption("journal record holds a malformed op");
      }
      const std::string& kind = op[0].get_ref<const std::string&>();
      if (kind == "put" && op.size() == 3) {
        ops.push_back(StateOp::put(op[1].get<std::string>(), op[2]));
      } else if (kind == "del" && op.size() == 2) {
        ops.push_back(StateOp::del(op[1].get<std::string>()));
      } else {
        return corruption("journal record holds an unknown op '" + kind.substr(0, 16) + "'");
      }
    }
    return ops;
  } catch (const json::exception& e) {
    return corruption(std::string("journal record is not valid JSON: ") + e.what());
  }
}

Result<std::string> encodeSnapshot(const std::map<std::string, json>& entries) {
  try {
    json obj = json::object();
    for (const auto& [k, v] : entries) obj[k] = v;
    return dumpJson(json{{"format", 1}, {"entries", std::move(obj)}});
  } catch (const json::exception& e) {
    return invalidArgument(std::string("cannot encode the snapshot as JSON: ") + e.what());
  }
}

Result<std::map<std::string, json>> decodeSnapshot(std::string_view payload) {
  try {
    json j = json::parse(payload);
    if (!j.is_object() || j.value("format", 0) != 1 || !j.contains("entries") ||
        !j["entries"].is_object()) {
      return corruption("snapshot payload is not format 1 with an entries object");
    }
    std::map<std::string, json> out;
    for (auto& [k, v] : j["entries"].items()) out.emplace(k, std::move(v));
    return out;
  } catch (const json::exception& e) {
    return corruption(std::string("snapshot is not valid JSON: ") + e.what());
  }
}

}  // namespace shardcast::controller
