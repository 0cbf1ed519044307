// JournalStateStore: the embedded, crash-safe StateStore (DESIGN §7) — the
// controller's default. Every commit appends one checksummed record to the
// active journal segment and fdatasyncs it before it returns OK; every
// `snapshot_every` records the whole state is written to a snapshot and the
// journal starts a new segment (compaction).
//
// Files in the directory (format: journal_format.h):
//   snapshot                    one record: every key and value at revision S
//   snapshot.tmp                a snapshot being written (removed on open)
//   journal-<20-digit S>.log    commits after revision S, one record each
//
// Compaction: write snapshot.tmp, sync, rename to snapshot, sync the directory;
// create journal-<S>.log, sync it and the directory; remove older segments, sync
// the directory. A crash at any point leaves files that replay to the same state.
//
// Replay (open): the snapshot, then every segment in order, skipping records the
// snapshot already holds; each record's revision must follow the previous one.
// A torn last record (a write cut short by a crash, with no valid record after
// it) is dropped and truncated away; it was never acknowledged. Any other damage
// (a bad record with valid ones after it, a gap in revisions, a bad snapshot) is
// a Corruption error that names the file and offset: nothing is dropped silently.
//
// After a failed fdatasync (or a failed roll-back of a failed append) the store
// refuses every further commit: the kernel may have dropped the unsynced pages,
// and only a restart (replay from disk) shows what is durable.
//
// Thread-safe (one mutex; commits are serialised). Does not create, check or
// lock the directory: see DataDirLock. Not responsible for what the keys mean.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controller/data_dir_lock.h"
#include "controller/journal_fs.h"
#include "controller/state_store.h"

namespace shardcast::controller {

struct JournalOptions {
  uint64_t snapshot_every = 1000;  // records per segment before a snapshot
};

class JournalStateStore final : public StateStore {
 public:
  // Replays `dir` (which must exist) through `fs`. `lock`, when given, is held
  // for the store's lifetime.
  static Result<std::unique_ptr<JournalStateStore>> open(std::shared_ptr<JournalFs> fs,
                                                         std::string dir, JournalOptions options,
                                                         std::unique_ptr<DataDirLock> lock = {});
  ~JournalStateStore() override;

  Status commit(const std::vector<StateOp>& ops,
                std::optional<uint64_t> if_revision = std::nullopt) override;
  Result<StateSnapshot> load() const override;

  // The revision the snapshot file holds, and records in the active segment.
  uint64_t snapshotRevisionForTest() const;
  uint64_t segmentRecordsForTest() const;

 private:
  JournalStateStore(std::shared_ptr<JournalFs> fs, std::string dir, JournalOptions options,
                    std::unique_ptr<DataDirLock> lock);

  // Open-time steps; mu_ not needed (no other thread sees the store yet).
  Status replay();
  Status loadSnapshot();
  Status replaySegment(const std::string& name, bool last);
  Status startSegment(uint64_t base);

  // mu_ held.
  Status compact();
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  const std::shared_ptr<JournalFs> fs_;
  const std::string dir_;
  const JournalOptions options_;
  const std::unique_ptr<DataDirLock> lock_;

  mutable std::mutex mu_;
  StateSnapshot state_;                  // guarded by mu_
  uint64_t snapshot_revision_ = 0;       // guarded by mu_
  std::vector<std::string> segments_;    // names, oldest first; guarded by mu_
  std::unique_ptr<AppendFile> active_;   // the last segment; guarded by mu_
  uint64_t segment_records_ = 0;         // records in the active segment; guarded by mu_
  uint64_t next_compaction_ = 0;         // compact when segment_records_ reaches it; guarded by mu_
  Status broken_;                        // set after a failed sync; guarded by mu_
};

// "journal-<20-digit base>.log"; the base is the revision before its first record.
std::string journalSegmentName(uint64_t base);

}  // namespace shardcast::controller
