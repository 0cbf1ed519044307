// FaultJournalFs: an in-memory JournalFs that models what survives a crash
// (leveldb's fault_injection_test in spirit), for the journal's crash tests.
//
// It keeps, per file, the bytes written so far and the bytes made durable by
// the last sync(), and, for the (single, flat) directory, the names made durable
// by the last syncDir() plus the log of creations, renames and removals since.
// Every mutating call (create, append, sync, truncate, rename, remove, syncDir)
// is one numbered *boundary*. crashAt(k) makes boundary k the crash: an append
// there writes only a random prefix of its bytes, any other call does nothing,
// and from then on every call fails with IOError. crashImage() then builds the
// disk as a reboot would find it:
//   - directory: the durable names plus a random prefix of the unsynced
//     creations/renames/removals (metadata reaches the disk in order);
//   - each file: its durable bytes, plus all (one time in four) or a random
//     prefix of the bytes written after the last sync — sometimes followed by
//     zeros up to the written size
//     (the size reached the disk, the data did not) — or, after an unsynced
//     truncate, either the old durable bytes or the cut ones.
// failNext() makes the next call of a kind fail (ENOSPC-like; an append writes
// half its bytes first) without a crash.
//
// Not thread-safe (JournalStateStore serialises its calls). Test-only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "controller/journal_fs.h"

namespace shardcast::controller::testing {

class FaultJournalFs : public JournalFs, public std::enable_shared_from_this<FaultJournalFs> {
 public:
  enum class Op { kCreate, kAppend, kSync, kTruncate, kRename, kRemove, kSyncDir };

  // What a reboot finds: name -> bytes.
  using Image = std::map<std::string, std::string>;

  FaultJournalFs() = default;
  explicit FaultJournalFs(const Image& image) {
    for (const auto& [name, data] : image) {
      int ino = next_ino_++;
      inodes_[ino] = Inode{data, data};
      names_[name] = ino;
    }
    durable_names_ = names_;
  }

  void crashAt(uint64_t boundary, uint64_t seed) {
    crash_at_ = boundary;
    rng_.seed(seed);
  }
  void failNext(Op op) { fail_next_.push_back(op); }
  bool crashed() const { return crashed_; }
  uint64_t boundaries() const { return boundary_; }
  std::vector<Op> opsForTest() const { return ops_; }

  // The files as they are now (everything written counts).
  Image current() const {
    Image out;
    for (const auto& [name, ino] : names_) out[name] = inodes_.at(ino).data;
    return out;
  }

  // The files as a reboot after a crash now would find them (see above).
  Image crashImage(uint64_t seed) const {
    std::mt19937_64 rng(seed);
    std::map<std::string, int> names = durable_names_;
    size_t keep = std::uniform_int_distribution<size_t>(0, dir_log_.size())(rng);
    for (size_t i = 0; i < keep; ++i) applyDirOp(names, dir_log_[i]);
    Image out;
    for (const auto& [name, ino] : names) out[name] = crashContent(inodes_.at(ino), rng);
    return out;
  }

  // --- JournalFs ---
  Result<std::vector<std::string>> list(const std::string&) override {
    if (crashed_) return ioError("crashed");
    std::vector<std::string> out;
    for (const auto& [path, ino] : names_) out.push_back(baseName(path));
    return out;
  }

  Result<std::string> read(const std::string& path) override {
    if (crashed_) return ioError("crashed");
    auto it = names_.find(path);
    if (it == names_.end()) return notFound("no file " + path);
    return inodes_.at(it->second).data;
  }

  Result<std::unique_ptr<AppendFile>> create(const std::string& path) override {
    RETURN_IF_ERROR(boundary(Op::kCreate));
    auto it = names_.find(path);
    if (it != names_.end()) {
      inodes_[it->second].data.clear();
    } else {
      int ino = next_ino_++;
      inodes_[ino] = Inode{};
      names_[path] = ino;
      dir_log_.push_back(DirOp{DirOp::kLink, path, "", ino});
    }
    return std::unique_ptr<AppendFile>(std::make_unique<File>(shared_from_this(), names_[path]));
  }

  Result<std::unique_ptr<AppendFile>> openAppend(const std::string& path) override {
    if (crashed_) return ioError("crashed");
    auto it = names_.find(path);
    if (it == names_.end()) return notFound("no file " + path);
    return std::unique_ptr<AppendFile>(std::make_unique<File>(shared_from_this(), it->second));
  }

  Status rename(const std::string& from, const std::string& to) override {
    RETURN_IF_ERROR(boundary(Op::kRename));
    auto it = names_.find(from);
    if (it == names_.end()) return notFound("no file " + from);
    DirOp op{DirOp::kRename, from, to, it->second};
    applyDirOp(names_, op);
    dir_log_.push_back(op);
    return Status::ok();
  }

  Status remove(const std::string& path) override {
    RETURN_IF_ERROR(boundary(Op::kRemove));
    if (!names_.count(path)) return notFound("no file " + path);
    DirOp op{DirOp::kUnlink, path, "", 0};
    applyDirOp(names_, op);
    dir_log_.push_back(op);
    return Status::ok();
  }

  Status syncDir(const std::string&) override {
    RETURN_IF_ERROR(boundary(Op::kSyncDir));
    durable_names_ = names_;
    dir_log_.clear();
    return Status::ok();
  }

 private:
  struct Inode {
    std::string data;     // written (page cache)
    std::string durable;  // as of the last sync
  };
  struct DirOp {
    enum Kind { kLink, kUnlink, kRename } kind;
    std::string name, to;
    int ino;
  };

  class File final : public AppendFile {
   public:
    File(std::shared_ptr<FaultJournalFs> fs, int ino) : fs_(std::move(fs)), ino_(ino) {}
    Status append(std::string_view data) override { return fs_->append(ino_, data); }
    Status sync() override {
      RETURN_IF_ERROR(fs_->boundary(Op::kSync));
      Inode& n = fs_->inodes_[ino_];
      n.durable = n.data;
      return Status::ok();
    }
    Status truncate(uint64_t size) override {
      RETURN_IF_ERROR(fs_->boundary(Op::kTruncate));
      Inode& n = fs_->inodes_[ino_];
      if (size < n.data.size()) n.data.resize(size);
      return Status::ok();
    }
    uint64_t size() const override { return fs_->inodes_.at(ino_).data.size(); }

   private:
    std::shared_ptr<FaultJournalFs> fs_;
    int ino_;
  };

  static std::string baseName(const std::string& path) {
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
  }

  static void applyDirOp(std::map<std::string, int>& names, const DirOp& op) {
    if (op.kind == DirOp::kLink) {
      names[op.name] = op.ino;
    } else if (op.kind == DirOp::kUnlink) {
      names.erase(op.name);
    } else {
      names.erase(op.name);
      names[op.to] = op.ino;
    }
  }

  std::string crashContent(const Inode& n, std::mt19937_64& rng) const {
    size_t common = 0;
    while (common < n.data.size() && common < n.durable.size() && n.data[common] == n.durable[common]) {
      ++common;
    }
    if (common == n.data.size() && common == n.durable.size()) return n.data;
    // An unsynced truncate may not have reached the disk.
    if (n.durable.size() > common && rng() % 2 == 0) return n.durable;
    // Often the page cache did reach the disk; otherwise a random prefix did.
    size_t extra = rng() % 4 == 0 ? n.data.size() - common
                                  : std::uniform_int_distribution<size_t>(0, n.data.size() - common)(rng);
    std::string out = n.data.substr(0, common + extra);
    if (rng() % 3 == 0) out.resize(n.data.size(), '\0');  // size durable, data not
    return out;
  }

  Status boundary(Op op) {
    if (crashed_) return ioError("crashed");
    for (auto it = fail_next_.begin(); it != fail_next_.end(); ++it) {
      if (*it == op) {
        fail_next_.erase(it);
        return Status(StatusCode::kResourceExhausted, "injected failure", "no_space");
      }
    }
    ops_.push_back(op);
    if (boundary_++ == crash_at_) {
      crashed_ = true;
      return ioError("crashed");
    }
    return Status::ok();
  }

  Status append(int ino, std::string_view data) {
    if (crashed_) return ioError("crashed");
    uint64_t at = boundary_;
    Status s = boundary(Op::kAppend);
    Inode& n = inodes_[ino];
    if (!s.isOk()) {
      if (crashed_ && at == crash_at_) {  // the crash cut this write short
        size_t keep = std::uniform_int_distribution<size_t>(0, data.size())(rng_);
        n.data.append(data.data(), keep);
      } else if (!crashed_) {  // an injected failure: a short write, then the error
        n.data.append(data.data(), data.size() / 2);
      }
      return s;
    }
    n.data.append(data.data(), data.size());
    return Status::ok();
  }

  std::map<int, Inode> inodes_;
  std::map<std::string, int> names_;          // path -> inode, as it is now
  std::map<std::string, int> durable_names_;  // as of the last syncDir
  std::vector<DirOp> dir_log_;                // since the last syncDir
  int next_ino_ = 1;
  uint64_t boundary_ = 0;
  uint64_t crash_at_ = UINT64_MAX;
  bool crashed_ = false;
  std::vector<Op> fail_next_;
  std::vector<Op> ops_;
  std::mt19937_64 rng_{1};
};

}  // namespace shardcast::controller::testing
