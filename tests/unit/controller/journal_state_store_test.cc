// The journal StateStore on the real file system (and, for injected I/O errors,
// on FaultJournalFs): the StateStore contract shared with InMemoryStateStore,
// replay after reopen, snapshot + compaction, a torn tail dropped, damage in the
// middle reported; plus the record format, the data dir lock and the factory.
#include "controller/journal_state_store.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "controller/data_dir_lock.h"
#include "controller/in_memory_state_store.h"
#include "controller/journal_format.h"
#include "controller/state_store_factory.h"
#include "tests/unit/common/temp_dir.h"
#include "tests/unit/controller/fault_journal_fs.h"

namespace shardcast::controller {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using shardcast::testing::TempDir;
using testing::FaultJournalFs;

std::unique_ptr<JournalStateStore> openJournal(const std::string& dir, uint64_t snapshot_every = 1000) {
  auto s = JournalStateStore::open(makePosixJournalFs(), dir, JournalOptions{snapshot_every});
  REQUIRE_MESSAGE(s.isOk(), s.status().toString());
  return std::move(s).value();
}

Status openError(const std::string& dir) {
  auto s = JournalStateStore::open(makePosixJournalFs(), dir, JournalOptions{});
  REQUIRE(!s.isOk());
  return s.status();
}

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::vector<std::string> segments(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.rfind("journal-", 0) == 0) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Backends for the shared StateStore contract.
struct MemoryBackend {
  std::unique_ptr<StateStore> make() { return std::make_unique<InMemoryStateStore>(); }
};
struct JournalBackend {
  TempDir dir;
  std::unique_ptr<StateStore> make() { return openJournal(dir.path()); }
};

}  // namespace

TEST_CASE_TEMPLATE("StateStore contract: batches, revisions, compare-and-set", Backend, MemoryBackend,
                   JournalBackend) {
  Backend backend;
  auto store = backend.make();
  CHECK(store->load()->revision == 0);
  CHECK(store->load()->entries.empty());

  REQUIRE(store->commit({StateOp::put("a", 1), StateOp::put("b", json{{"x", {1, 2}}})}).isOk());
  REQUIRE(store->commit({StateOp::put("c", "text"), StateOp::del("a")}).isOk());
  auto s = store->load();
  CHECK(s->revision == 2);
  CHECK(s->entries.size() == 2);
  CHECK(s->entries.at("b") == json{{"x", {1, 2}}});
  CHECK(s->entries.at("c") == "text");

  // An empty batch changes nothing.
  REQUIRE(store->commit({}).isOk());
  CHECK(store->load()->revision == 2);

  // Compare-and-set: a stale revision applies nothing.
  Status stale = store->commit({StateOp::put("d", 4)}, 1);
  CHECK(stale.code() == StatusCode::kAborted);
  CHECK(stale.reason() == "precondition_failed");
  CHECK(store->load()->revision == 2);
  CHECK(!store->load()->entries.count("d"));
  REQUIRE(store->commit({StateOp::put("d", 4)}, 2).isOk());
  CHECK(store->load()->revision == 3);
  CHECK(store->load()->entries.at("d") == 4);
}

TEST_CASE("journal: record format, CRC32C and scanning") {
  CHECK(crc32c("123456789", 9) == 0xe3069283u);  // the standard check value
  std::string a = encodeRecord(7, R"([["put","k",1]])");
  std::string b = encodeRecord(8, R"([["del","k"]])");
  FileScan ok = scanFile(a + b);
  REQUIRE(ok.records.size() == 2);
  CHECK(ok.records[0].revision == 7);
  CHECK(ok.records[1].payload == R"([["del","k"]])");
  CHECK(!ok.torn_tail);
  CHECK(!ok.corrupt_middle);

  // A write cut short, or a size that reached the disk before the data: torn.
  for (const std::string& tail : {b.substr(0, 3), b.substr(0, 25), std::string(b.size(), '\0')}) {
    FileScan t = scanFile(a + tail);
    CHECK(t.records.size() == 1);
    CHECK(t.valid_bytes == a.size());
    CHECK(t.torn_tail);
    CHECK(!t.corrupt_middle);
  }
  // A flipped byte with a good record after it: damage in the middle.
  std::string bad = a;
  bad[kRecordHeaderSize + 2] ^= 0x20;
  FileScan m = scanFile(bad + b);
  CHECK(m.records.empty());
  CHECK(m.corrupt_middle);
  CHECK(m.problem == "a record failing its checksum");
  // Ops round trip; what JSON cannot hold is refused up front.
  auto ops = decodeOps(*encodeOps({StateOp::put("k", json{{"v", 1}}), StateOp::del("x")}));
  REQUIRE(ops.isOk());
  CHECK(ops->size() == 2);
  CHECK((*ops)[0].value == json{{"v", 1}});
  CHECK((*ops)[1].kind == StateOp::Kind::kDelete);
  CHECK(!encodeOps({StateOp::put("k", std::string("\xff\xfe"))}).isOk());
  CHECK(decodeOps("[[\"nope\",\"k\"]]").status().code() == StatusCode::kCorruption);
}

TEST_CASE("journal: replay after reopen restores every commit and the revision") {
  TempDir dir;
  {
    auto store = openJournal(dir.path());
    for (int i = 0; i < 5; ++i) REQUIRE(store->commit({StateOp::put("k" + std::to_string(i), i)}).isOk());
    REQUIRE(store->commit({StateOp::del("k0")}).isOk());
  }
  auto store = openJournal(dir.path());
  auto s = store->load();
  CHECK(s->revision == 6);
  CHECK(s->entries.size() == 4);
  CHECK(s->entries.at("k4") == 4);
  CHECK(!s->entries.count("k0"));
  REQUIRE(store->commit({StateOp::put("k5", 5)}, 6).isOk());
  CHECK(openJournal(dir.path())->load()->revision == 7);
  CHECK(segments(dir.path()).size() == 1);
}

TEST_CASE("journal: a snapshot every N records compacts the journal") {
  TempDir dir;
  {
    auto store = openJournal(dir.path(), 3);
    for (int i = 1; i <= 10; ++i) {
      REQUIRE(store->commit({StateOp::put("k" + std::to_string(i % 4), i)}).isOk());
    }
    CHECK(store->snapshotRevisionForTest() == 9);
    CHECK(store->segmentRecordsForTest() == 1);
  }
  CHECK(fs::exists(dir.path() + "/snapshot"));
  CHECK(!fs::exists(dir.path() + "/snapshot.tmp"));
  CHECK(segments(dir.path()) == std::vector<std::string>{journalSegmentName(9)});
  auto store = openJournal(dir.path(), 3);
  auto s = store->load();
  CHECK(s->revision == 10);
  CHECK(s->entries.size() == 4);
  CHECK(s->entries.at("k2") == 10);
  CHECK(s->entries.at("k1") == 9);
  CHECK(store->snapshotRevisionForTest() == 9);

  // A leftover temp snapshot and a segment the snapshot covers are cleaned up.
  writeAll(dir.path() + "/snapshot.tmp", "half a snapshot");
  writeAll(dir.path() + "/" + journalSegmentName(3), encodeRecord(4, R"([["put","old",1]])"));
  store.reset();
  store = openJournal(dir.path(), 3);
  CHECK(store->load()->revision == 10);
  CHECK(!store->load()->entries.count("old"));
  CHECK(!fs::exists(dir.path() + "/snapshot.tmp"));
  CHECK(segments(dir.path()) == std::vector<std::string>{journalSegmentName(9)});
}

TEST_CASE("journal: a torn last record is dropped and truncated away") {
  TempDir dir;
  const std::string seg = dir.path() + "/" + journalSegmentName(0);
  {
    auto store = openJournal(dir.path());
    for (int i = 0; i < 3; ++i) REQUIRE(store->commit({StateOp::put("k" + std::to_string(i), i)}).isOk());
  }
  const std::string good = readAll(seg);
  const std::string next = encodeRecord(4, R"([["put","k3",3]])");
  SUBCASE("cut short") { writeAll(seg, good + next.substr(0, next.size() - 5)); }
  SUBCASE("size without data") { writeAll(seg, good + std::string(next.size(), '\0')); }
  SUBCASE("half a header") { writeAll(seg, good + next.substr(0, 7)); }

  auto store = openJournal(dir.path());
  CHECK(store->load()->revision == 3);
  CHECK(!store->load()->entries.count("k3"));
  CHECK(readAll(seg) == good);  // truncated: the next record follows a good one
  REQUIRE(store->commit({StateOp::put("k3", "again")}).isOk());
  store.reset();
  auto again = openJournal(dir.path());
  CHECK(again->load()->revision == 4);
  CHECK(again->load()->entries.at("k3") == "again");
}

TEST_CASE("journal: damage in the middle is an error that names the file, never dropped") {
  TempDir dir;
  const std::string seg = dir.path() + "/" + journalSegmentName(0);
  {
    auto store = openJournal(dir.path());
    for (int i = 0; i < 3; ++i) REQUIRE(store->commit({StateOp::put("k" + std::to_string(i), i)}).isOk());
  }
  std::string data = readAll(seg);
  std::string first = encodeRecord(1, *encodeOps({StateOp::put("k0", 0)}));
  REQUIRE(data.compare(0, first.size(), first) == 0);
  data[first.size() + kRecordHeaderSize + 3] ^= 0x01;  // the second record's payload
  writeAll(seg, data);
  Status s = openError(dir.path());
  CHECK(s.code() == StatusCode::kCorruption);
  CHECK(s.message().find(seg) != std::string::npos);
  CHECK(s.message().find("at offset " + std::to_string(first.size())) != std::string::npos);
  CHECK(s.message().find("damaged in the middle") != std::string::npos);
  CHECK(readAll(seg) == data);  // nothing was truncated
}

TEST_CASE("journal: a damaged snapshot or a missing one is an error") {
  TempDir dir;
  {
    auto store = openJournal(dir.path(), 2);
    for (int i = 0; i < 5; ++i) REQUIRE(store->commit({StateOp::put("k", i)}).isOk());
  }
  const std::string snap = dir.path() + "/snapshot";
  std::string data = readAll(snap);
  SUBCASE("damaged") {
    data[data.size() - 2] ^= 0x01;
    writeAll(snap, data);
    Status s = openError(dir.path());
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK(s.message().find("snapshot") != std::string::npos);
  }
  SUBCASE("missing: the segment continues from a revision nobody holds") {
    fs::remove(snap);
    Status s = openError(dir.path());
    CHECK(s.code() == StatusCode::kCorruption);
    CHECK(s.message().find("continues from revision 4") != std::string::npos);
  }
}

TEST_CASE("journal: a failed append is rolled back; a failed sync stops commits until reopen") {
  auto disk = std::make_shared<FaultJournalFs>();
  auto opened = JournalStateStore::open(disk, "/j", JournalOptions{});
  REQUIRE(opened.isOk());
  auto store = std::move(opened).value();
  REQUIRE(store->commit({StateOp::put("a", 1)}).isOk());

  disk->failNext(FaultJournalFs::Op::kAppend);  // writes half the record, then fails
  Status full = store->commit({StateOp::put("b", 2)});
  CHECK(full.reason() == "no_space");
  REQUIRE(store->commit({StateOp::put("c", 3)}).isOk());
  CHECK(store->load()->revision == 2);

  disk->failNext(FaultJournalFs::Op::kSync);
  CHECK(!store->commit({StateOp::put("d", 4)}).isOk());
  Status refused = store->commit({StateOp::put("e", 5)});
  CHECK(refused.code() == StatusCode::kIOError);
  CHECK(refused.message().find("restart the controller") != std::string::npos);
  store.reset();

  auto reboot = std::make_shared<FaultJournalFs>(disk->current());
  auto again = JournalStateStore::open(reboot, "/j", JournalOptions{});
  REQUIRE_MESSAGE(again.isOk(), again.status().toString());
  auto s = (*again)->load();
  CHECK(s->entries.count("a"));
  CHECK(!s->entries.count("b"));
  CHECK(s->entries.at("c") == 3);
  CHECK(!s->entries.count("e"));
  // "d" failed to sync: it may or may not be durable; here the bytes were written.
  CHECK(s->revision == 2 + s->entries.count("d"));
}

TEST_CASE("data dir: created 0700, locked against a second controller, symlinks refused") {
  TempDir dir;
  const std::string data = dir.path() + "/var/controller";
  auto lock = DataDirLock::acquire(data);
  REQUIRE_MESSAGE(lock.isOk(), lock.status().toString());
  struct stat st;
  REQUIRE(::stat(data.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  auto second = DataDirLock::acquire(data);
  REQUIRE(!second.isOk());
  CHECK(second.status().reason() == "data_dir_locked");
  CHECK(second.status().message().find("another shardcast-controller is using --data-dir " + data) !=
        std::string::npos);
  lock->reset();
  CHECK(DataDirLock::acquire(data).isOk());  // released with the object

  const std::string link = dir.path() + "/link";
  REQUIRE(::symlink(data.c_str(), link.c_str()) == 0);
  CHECK(checkDataDir(link).message().find("is a symbolic link") != std::string::npos);
  CHECK(!DataDirLock::acquire(link).isOk());
  const std::string file = dir.write("plain", "x");
  CHECK(checkDataDir(file).message().find("is not a directory") != std::string::npos);
  CHECK(checkDataDir(dir.path() + "/missing").isOk());
  CHECK(!fs::exists(dir.path() + "/missing"));  // a check creates nothing
}

TEST_CASE("state store factory: flags checked, journal opened and locked") {
  StateStoreConfig c;
  c.kind = "journal";
  CHECK(validateStateStoreConfig(c).message() ==
        "--data-dir is required by the journal state store (or use --state-store memory)");
  c.kind = "disk";
  CHECK(validateStateStoreConfig(c).message() ==
        "--state-store must be journal, etcd or memory, got 'disk'");
  c.kind = "memory";
  CHECK(validateStateStoreConfig(c).isOk());

  TempDir dir;
  c.kind = "journal";
  c.data_dir = dir.path() + "/state";
  auto store = openStateStore(c);
  REQUIRE_MESSAGE(store.isOk(), store.status().toString());
  REQUIRE((*store)->commit({StateOp::put("k", 1)}).isOk());
  auto twice = openStateStore(c);
  REQUIRE(!twice.isOk());
  CHECK(twice.status().reason() == "data_dir_locked");
  store->reset();
  auto reopened = openStateStore(c);
  REQUIRE(reopened.isOk());
  CHECK((*reopened)->load()->entries.at("k") == 1);
}

}  // namespace shardcast::controller
