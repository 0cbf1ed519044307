// The on-disk format of the controller's journal and snapshot (DESIGN §7): pure
// encode/decode, no I/O.
//
// A file is a sequence of records, every integer little-endian:
//
//   magic u32 "SCJ1" | crc u32 | length u32 | revision u64 | payload[length]
//
// crc is CRC32C (Castagnoli) over length, revision and payload, masked as in
// leveldb so that a record holding CRCs does not checksum to a pattern. A journal
// segment holds one record per commit, its payload the commit's ops as JSON; a
// snapshot file holds exactly one record whose payload is every key and value.
//
// Thread-safe (pure functions). Not responsible for where files are or when they
// are synced: see JournalStateStore.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "controller/state_store.h"

namespace shardcast::controller {

inline constexpr uint32_t kRecordMagic = 0x314a4353;  // "SCJ1" read as little-endian
inline constexpr size_t kRecordHeaderSize = 20;
inline constexpr uint32_t kMaxRecordPayload = 1u << 30;

uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

// One framed record.
std::string encodeRecord(uint64_t revision, std::string_view payload);

struct DecodedRecord {
  uint64_t revision = 0;
  std::string_view payload;  // points into the scanned buffer
  size_t offset = 0;         // where the record starts
  size_t size = 0;           // header + payload
};

enum class RecordCheck {
  kOk,
  kIncomplete,   // the header or the payload runs past the end of the data
  kBadMagic,
  kBadChecksum,  // also a length over kMaxRecordPayload
};

// Decodes the record at `offset`; *out is set only for kOk.
RecordCheck decodeRecord(std::string_view data, size_t offset, DecodedRecord* out);

// The records of one file, read from the start.
struct FileScan {
  std::vector<DecodedRecord> records;  // every good record before the first bad one
  size_t valid_bytes = 0;              // end of the last good record
  // Bytes after valid_bytes that are not a record, but no valid record follows
  // them: a write cut short by a crash (a torn tail), safe to drop.
  bool torn_tail = false;
  // A bad record that valid records follow: damage in the middle of the file.
  bool corrupt_middle = false;
  std::string problem;  // what is wrong at valid_bytes ("" when nothing is)
};
FileScan scanFile(std::string_view data);

// A commit's ops: [["put", key, value] | ["del", key], ...]. Encoding fails with
// InvalidArgument on a value JSON cannot write (invalid UTF-8).
Result<std::string> encodeOps(const std::vector<StateOp>& ops);
Result<std::vector<StateOp>> decodeOps(std::string_view payload);

// A snapshot's payload: {"format": 1, "entries": {key: value, ...}}.
Result<std::string> encodeSnapshot(const std::map<std::string, nlohmann::json>& entries);
Result<std::map<std::string, nlohmann::json>> decodeSnapshot(std::string_view payload);

}  // namespace shardcast::controller
