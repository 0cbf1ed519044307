#include "controller/journal_state_store.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "common/log.h"
#include "controller/journal_format.h"

namespace shardcast::controller {
namespace {

constexpr const char* kSnapshot = "snapshot";
constexpr const char* kSnapshotTmp = "snapshot.tmp";
constexpr const char* kRestoreHint =
    " The controller does not start on a damaged journal: move the data dir aside and restore "
    "it from a backup (or start with an empty --data-dir and deploy again).";

bool parseSegmentName(const std::string& name, uint64_t* base) {
  const std::string prefix = "journal-", suffix = ".log";
  if (name.size() != prefix.size() + 20 + suffix.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = prefix.size(); i < prefix.size() + 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *base = v;
  return true;
}

}  // namespace

std::string journalSegmentName(uint64_t base) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "journal-%020llu.log", static_cast<unsigned long long>(base));
  return buf;
}

JournalStateStore::JournalStateStore(std::shared_ptr<JournalFs> fs, std::string dir,
                                     JournalOptions options, std::unique_ptr<DataDirLock> lock)
    : fs_(std::move(fs)),
      dir_(std::move(dir)),
      options_(options),
      lock_(std::move(lock)),
      next_compaction_(std::max<uint64_t>(1, options.snapshot_every)) {}

JournalStateStore::~JournalStateStore() = default;

Result<std::unique_ptr<JournalStateStore>> JournalStateStore::open(
    std::shared_ptr<JournalFs> fs, std::string dir, JournalOptions options,
    std::unique_ptr<DataDirLock> lock) {
  std::unique_ptr<JournalStateStore> store(
      new JournalStateStore(std::move(fs), std::move(dir), options, std::move(lock)));
  RETURN_IF_ERROR(store->replay());
  return store;
}

Status JournalStateStore::replay() {
  RETURN_IF_ERROR(loadSnapshot());
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->list(dir_));
  std::vector<std::pair<uint64_t, std::string>> segments;
  for (const auto& name : names) {
    uint64_t base;
    if (name == kSnapshotTmp) {
      // A snapshot a crash interrupted; the journal still holds everything in it.
      Status removed = fs_->remove(path(name));
      if (!removed.isOk()) LOG_WARN("journal: " << removed.message());
    } else if (parseSegmentName(name, &base)) {
      segments.emplace_back(base, name);
    }
  }
  std::sort(segments.begin(), segments.end());
  std::vector<std::string> covered;  // older segments the snapshot holds entirely
  for (size_t i = 0; i < segments.size(); ++i) {
    bool last = i + 1 == segments.size();
    uint64_t before = state_.revision;
    RETURN_IF_ERROR(replaySegment(segments[i].second, last));
    if (!last && state_.revision == before) {
      covered.push_back(segments[i].second);
    } else {
      segments_.push_back(segments[i].second);
    }
  }
  if (segments_.empty()) RETURN_IF_ERROR(startSegment(state_.revision));
  for (const auto& name : covered) {
    Status removed = fs_->remove(path(name));
    if (!removed.isOk()) LOG_WARN("journal: " << removed.message());
  }
  if (!covered.empty()) (void)fs_->syncDir(dir_);  // best effort: replay skips them anyway
  if (segment_records_ >= next_compaction_) next_compaction_ = segment_records_ + 1;
  LOG_INFO("journal " << dir_ << ": replayed to revision " << state_.revision << " (snapshot at "
                      << snapshot_revision_ << ", " << segment_records_
                      << " records in the active segment, " << state_.entries.size() << " keys)");
  return Status::ok();
}

Status JournalStateStore::loadSnapshot() {
  auto data = fs_->read(path(kSnapshot));
  if (!data.isOk()) {
    if (data.status().code() == StatusCode::kNotFound) return Status::ok();
    return data.status();
  }
  FileScan scan = scanFile(*data);
  if (scan.records.size() != 1 || scan.valid_bytes != data->size()) {
    return corruption("journal snapshot " + path(kSnapshot) + " is damaged (" +
                      (scan.problem.empty() ? "not exactly one record" : scan.problem) +
                      " at offset " + std::to_string(scan.valid_bytes) + ")." + kRestoreHint);
  }
  auto entries = decodeSnapshot(scan.records[0].payload);
  if (!entries.isOk()) {
    return corruption("journal snapshot " + path(kSnapshot) + ": " + entries.status().message() +
                      "." + kRestoreHint);
  }
  state_.entries = std::move(entries).value();
  state_.revision = scan.records[0].revision;
  snapshot_revision_ = state_.revision;
  return Status::ok();
}

Status JournalStateStore::replaySegment(const std::string& name, bool last) {
  const std::string file = path(name);
  ASSIGN_OR_RETURN(std::string data, fs_->read(file));
  FileScan scan = scanFile(data);
  if (scan.corrupt_middle || (scan.torn_tail && !last)) {
    return corruption("journal " + file + " holds " + scan.problem + " at offset " +
                      std::to_string(scan.valid_bytes) +
                      (scan.corrupt_middle ? " with valid records after it"
                                           : " at the end of a segment that is not the newest") +
                      ": the journal is damaged in the middle, not cut short by a crash." +
                      kRestoreHint);
  }
  uint64_t base = 0;
  parseSegmentName(name, &base);
  if (base > state_.revision) {
    return corruption("journal " + file + " continues from revision " + std::to_string(base) +
                      " but the snapshot and older segments end at revision " +
                      std::to_string(state_.revision) + ": a snapshot or segment is missing." +
                      kRestoreHint);
  }
  for (const auto& rec : scan.records) {
    if (rec.revision <= snapshot_revision_) continue;  // the snapshot holds it
    if (rec.revision != state_.revision + 1) {
      return corruption("journal " + file + ": the record at offset " + std::to_string(rec.offset) +
                        " has revision " + std::to_string(rec.revision) + ", expected " +
                        std::to_string(state_.revision + 1) + "." + kRestoreHint);
    }
    auto ops = decodeOps(rec.payload);
    if (!ops.isOk()) {
      return corruption("journal " + file + ": the record at offset " +
                        std::to_string(rec.offset) + ": " + ops.status().message() + "." +
                        kRestoreHint);
    }
    applyStateOps(state_, *ops);
  }
  if (!last) return Status::ok();
  ASSIGN_OR_RETURN(active_, fs_->openAppend(file));
  if (scan.torn_tail) {
    LOG_WARN("journal " << file << ": dropping a torn last record (" << data.size() - scan.valid_bytes
                        << " bytes at offset " << scan.valid_bytes
                        << "): a write cut short by a crash, never acknowledged");
    RETURN_IF_ERROR(active_->truncate(scan.valid_bytes));
    RETURN_IF_ERROR(active_->sync());
  }
  segment_records_ = scan.records.size();
  return Status::ok();
}

Status JournalStateStore::startSegment(uint64_t base) {
  const std::string name = journalSegmentName(base);
  ASSIGN_OR_RETURN(std::unique_ptr<AppendFile> f, fs_->create(path(name)));
  RETURN_IF_ERROR(f->sync());
  RETURN_IF_ERROR(fs_->syncDir(dir_));
  active_ = std::move(f);
  segments_.push_back(name);
  segment_records_ = 0;
  return Status::ok();
}

Status JournalStateStore::commit(const std::vector<StateOp>& ops,
                                 std::optional<uint64_t> if_revision) {
  std::lock_guard<std::mutex> l(mu_);
  if (!broken_.isOk()) {
    return ioError("the journal refuses commits after an earlier failure (" + broken_.message() +
                   "); restart the controller to replay it from disk");
  }
  if (if_revision && *if_revision != state_.revision) {
    return aborted("state store revision is " + std::to_string(state_.revision) + ", expected " +
                       std::to_string(*if_revision),
                   "precondition_failed");
  }
  if (ops.empty()) return Status::ok();
  ASSIGN_OR_RETURN(std::string payload, encodeOps(ops));
  const std::string record = encodeRecord(state_.revision + 1, payload);
  const uint64_t before = active_->size();
  Status appended = active_->append(record);
  if (!appended.isOk()) {
    // Roll back so the next record does not follow half a record.
    Status cut = active_->truncate(before);
    if (!cut.isOk()) broken_ = cut;
    return appended.withContext("journal");
  }
  Status synced = active_->sync();
  if (!synced.isOk()) {
    broken_ = synced;
    return synced.withContext("journal");
  }
  applyStateOps(state_, ops);
  if (++segment_records_ >= next_compaction_) {
    Status compacted = compact();
    if (!compacted.isOk()) {
      LOG_WARN("journal " << dir_ << ": snapshot failed, the journal keeps growing: "
                          << compacted.message());
      next_compaction_ = segment_records_ + std::max<uint64_t>(1, options_.snapshot_every);
    }
  }
  return Status::ok();  // durable, whatever the snapshot did
}

Status JournalStateStore::compact() {
  ASSIGN_OR_RETURN(std::string payload, encodeSnapshot(state_.entries));
  const std::string record = encodeRecord(state_.revision, payload);
  {
    ASSIGN_OR_RETURN(std::unique_ptr<AppendFile> f, fs_->create(path(kSnapshotTmp)));
    RETURN_IF_ERROR(f->append(record));
    RETURN_IF_ERROR(f->sync());
  }
  RETURN_IF_ERROR(fs_->rename(path(kSnapshotTmp), path(kSnapshot)));
  Status s = fs_->syncDir(dir_);
  if (s.isOk()) {
    snapshot_revision_ = state_.revision;
    std::vector<std::string> old = std::move(segments_);
    segments_.clear();
    s = startSegment(state_.revision);
    if (s.isOk()) {
      for (const auto& name : old) {
        if (name == segments_.back()) continue;
        Status removed = fs_->remove(path(name));
        if (!removed.isOk()) LOG_WARN("journal: " << removed.message());
      }
      (void)fs_->syncDir(dir_);  // a segment left behind is removed on the next open
      next_compaction_ = std::max<uint64_t>(1, options_.snapshot_every);
      LOG_DEBUG("journal " << dir_ << ": snapshot at revision " << state_.revision);
      return Status::ok();
    }
    segments_ = std::move(old);
  }
  // The snapshot may or may not be in place and no new segment could be started.
  // Rather than keep writing into a layout a restart would have to puzzle out,
  // refuse further commits: a restart replays whatever is durable.
  broken_ = s.withContext("journal snapshot");
  return broken_;
}

Result<StateSnapshot> JournalStateStore::load() const {
  std::lock_guard<std::mutex> l(mu_);
  return state_;
}

uint64_t JournalStateStore::snapshotRevisionForTest() const {
  std::lock_guard<std::mutex> l(mu_);
  return snapshot_revision_;
}

uint64_t JournalStateStore::segmentRecordsForTest() const {
  std::lock_guard<std::mutex> l(mu_);
  return segment_records_;
}

}  // namespace shardcast::controller
