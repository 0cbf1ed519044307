#include "agent/version_store.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/api/json_fields.h"
#include "common/log.h"
#include "common/model_ref.h"
#include "common/path_rules.h"
#include "common/sha256.h"

namespace shardcast::agent {
namespace {

// Parent directories of every file, deepest first ("a/b" before "a").
std::vector<std::string> directoriesOf(const Manifest& m) {
  std::set<std::string> dirs;
  for (const auto& f : m.files()) {
    for (size_t pos = f.path.find('/'); pos != std::string::npos; pos = f.path.find('/', pos + 1)) {
      dirs.insert(f.path.substr(0, pos));
    }
  }
  std::vector<std::string> out(dirs.begin(), dirs.end());
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
  });
  return out;
}

Status sizeFile(int fd, uint64_t size, const std::string& path) {
  if (size > 0) {
    int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
    if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) return errnoStatus("allocate " + path, rc);
  }
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return errnoStatus("truncate " + path, errno);
  return Status::ok();
}

}  // namespace

VersionStore::VersionStore(UniqueFd root, const Manifest& manifest)
    : manifest_(manifest),
      root_(std::move(root)),
      bits_(manifest.pieceCount()),
      write_fds_(manifest.files().size()),
      hash_hints_(manifest.pieceCount()) {}

VersionStore::~VersionStore() = default;

Result<std::shared_ptr<VersionStore>> VersionStore::open(int root_fd, const Manifest& manifest) {
  RETURN_IF_ERROR(validateModelName(manifest.model().name));
  RETURN_IF_ERROR(validateModelVersion(manifest.model().version));
  for (const auto& f : manifest.files()) RETURN_IF_ERROR(validateRelativePath(f.path));
  int fd = ::fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return errnoStatus("dup data dir", errno);
  std::shared_ptr<VersionStore> vs(new VersionStore(UniqueFd(fd), manifest));
  const ModelRef& ref = manifest.model();
  auto published = openDirBeneath(vs->root_.get(), "models/" + ref.name + "/" + ref.version, false);
  if (published.isOk()) {
    vs->version_dir_ = std::move(published).value();
    RETURN_IF_ERROR(vs->openExisting());
  } else if (published.status().code() == StatusCode::kNotFound) {
    RETURN_IF_ERROR(vs->openPartial());
  } else {
    return published.status();
  }
  return vs;
}

Status VersionStore::openExisting() {
  // Publishing is one rename, so a published directory is complete; check sizes
  // anyway to catch tampering, and clean up what a crash after the rename left.
  for (const auto& f : manifest_.files()) {
    ASSIGN_OR_RETURN(UniqueFd fd, openFileBeneath(version_dir_.get(), f.path, O_RDONLY));
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return errnoStatus("stat " + f.path, errno);
    if (static_cast<uint64_t>(st.st_size) != f.size) {
      return corruption("published file '" + f.path + "' of " + manifest_.model().toString() +
                        " has " + std::to_string(st.st_size) + " bytes, want " +
                        std::to_string(f.size));
    }
  }
  auto partial = openDirBeneath(root_.get(), "partial/" + manifest_.model().name, false);
  if (partial.isOk()) (void)::unlinkat(partial->get(), piecesFileName().c_str(), 0);
  std::lock_guard<std::mutex> lock(mu_);
  published_ = true;
  for (uint32_t i = 0; i < manifest_.pieceCount(); ++i) bits_.set(i);
  bytes_done_ = manifest_.totalBytes();
  return Status::ok();
}

Status VersionStore::openPartial() {
  const ModelRef& ref = manifest_.model();
  ASSIGN_OR_RETURN(partial_name_, openDirBeneath(root_.get(), "partial/" + ref.name, true));
  RETURN_IF_ERROR(tryResume());
  if (!resumed_) {
    RETURN_IF_ERROR(removeTreeAt(partial_name_.get(), ref.version));
    (void)::unlinkat(partial_name_.get(), piecesFileName().c_str(), 0);
  }
  ASSIGN_OR_RETURN(version_dir_, openDirBeneath(partial_name_.get(), ref.version, true));
  if (resumed_) RETURN_IF_ERROR(restoreWritable());
  return createFiles();
}

Status VersionStore::restoreWritable() {
  // A crash between makeReadOnly() and the rename leaves a read-only partial tree.
  if (::fchmod(version_dir_.get(), 0755) != 0) return errnoStatus("chmod version dir", errno);
  auto dirs = directoriesOf(manifest_);
  std::reverse(dirs.begin(), dirs.end());  // shallow first
  for (const auto& dir : dirs) {
    auto fd = openDirBeneath(version_dir_.get(), dir, false);
    if (fd.isOk()) (void)::fchmod(fd->get(), 0755);
  }
  for (const auto& f : manifest_.files()) {
    auto fd = openFileBeneath(version_dir_.get(), f.path, O_RDONLY);
    if (fd.isOk()) (void)::fchmod(fd->get(), 0644);
  }
  return Status::ok();
}

Status VersionStore::tryResume() {
  auto raw = readFileAt(partial_name_.get(), piecesFileName(), 64 * 1024 + manifest_.pieceCount() / 8);
  if (!raw.isOk()) return Status::ok();  // nothing to resume
  size_t nl = raw->find('\n');
  if (nl == std::string::npos) return Status::ok();
  auto header = api::parseJson(raw->substr(0, nl));
  std::string digest;
  uint32_t pieces = 0;
  if (!header.isOk() || !api::readString(*header, "manifest_digest", digest, true).isOk() ||
      !api::readU32(*header, "pieces", pieces, true).isOk()) {
    return Status::ok();
  }
  if (digest != manifest_.digest() || pieces != manifest_.pieceCount()) {
    LOG_INFO("discarding partial " << manifest_.model().toString()
                                   << ": its bitfield belongs to another manifest");
    return Status::ok();
  }
  auto bits = Bitfield::fromBytes(pieces, raw->substr(nl + 1));
  if (!bits.isOk()) return Status::ok();
  std::lock_guard<std::mutex> lock(mu_);
  bits_ = std::move(bits).value();
  bytes_done_ = 0;
  for (uint32_t i = 0; i < bits_.size(); ++i) {
    if (bits_.get(i)) bytes_done_ += manifest_.piece(i).length;
  }
  resumed_ = true;
  return Status::ok();
}

Status VersionStore::createFiles() {
  const auto& files = manifest_.files();
  for (uint32_t fi = 0; fi < files.size(); ++fi) {
    ASSIGN_OR_RETURN(UniqueFd fd,
                     openFileBeneath(version_dir_.get(), files[fi].path, O_RDWR | O_CREAT));
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return errnoStatus("stat " + files[fi].path, errno);
    if (static_cast<uint64_t>(st.st_size) == files[fi].size) continue;
    if (resumed_) {
      // The file does not match what the bitfield promised: forget its pieces.
      std::lock_guard<std::mutex> lock(mu_);
      uint32_t first = manifest_.firstPiece(fi);
      for (uint32_t p = first; p < first + manifest_.pieceCountOfFile(fi); ++p) {
        if (bits_.get(p)) bytes_done_ -= manifest_.piece(p).length;
        bits_.clear(p);
      }
    }
    RETURN_IF_ERROR(sizeFile(fd.get(), files[fi].size, files[fi].path));
  }
  return Status::ok();
}

bool VersionStore::published() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_;
}

bool VersionStore::complete() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bits_.complete();
}

Bitfield VersionStore::bits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bits_;
}

uint32_t VersionStore::bitCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bits_.count();
}

bool VersionStore::hasPiece(uint32_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  return index < bits_.size() && bits_.get(index);
}

uint64_t VersionStore::bytesDone() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_done_;
}

Result<std::shared_ptr<UniqueFd>> VersionStore::writeFd(uint32_t file) {
  std::lock_guard<std::mutex> lock(mu_);
  if (published_) return failedPrecondition(manifest_.model().toString() + " is already published");
  touched_files_.insert(file);
  if (write_fds_[file]) return write_fds_[file];
  ASSIGN_OR_RETURN(UniqueFd fd, openFileBeneath(version_dir_.get(), manifest_.files()[file].path, O_RDWR));
  write_fds_[file] = std::make_shared<UniqueFd>(std::move(fd));
  write_fd_order_.push_back(file);
  // Models may have more files than the process may open: drop the oldest. Unsynced
  // data stays in the page cache; flush() syncs through a fresh descriptor.
  while (write_fd_order_.size() > kMaxWriteFds) {
    write_fds_[write_fd_order_.front()].reset();
    write_fd_order_.pop_front();
  }
  return write_fds_[file];
}

Status VersionStore::writePiece(uint32_t index, const char* data, size_t len) {
  if (index >= manifest_.pieceCount()) return invalidArgument("piece index out of range");
  const PieceRef& piece = manifest_.piece(index);
  if (len != piece.length) {
    return invalidArgument("piece " + std::to_string(index) + " has " + std::to_string(len) +
                           " bytes, want " + std::to_string(piece.length));
  }
  std::shared_lock<std::shared_mutex> io(io_mu_);
  ASSIGN_OR_RETURN(std::shared_ptr<UniqueFd> fd, writeFd(piece.file));
  return pwriteAll(fd->get(), data, len, piece.offset, manifest_.files()[piece.file].path);
}

void VersionStore::markVerified(uint32_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  if (index < bits_.size() && !bits_.get(index)) pending_.insert(index);
}

size_t VersionStore::pendingCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

std::string VersionStore::piecesFileContent(const Bitfield& bits) const {
  nlohmann::json header = {{"manifest_digest", manifest_.digest()},
                           {"pieces", manifest_.pieceCount()}};
  return header.dump() + "\n" + bits.toBytes();
}

Status VersionStore::syncFiles(const std::vector<std::pair<std::shared_ptr<UniqueFd>, uint32_t>>& files) {
  for (const auto& [cached, f] : files) {
    const std::string& path = manifest_.files()[f].path;
    std::shared_ptr<UniqueFd> fd = cached;
    if (!fd) {
      // fdatasync works on the file, whichever descriptor wrote the data.
      ASSIGN_OR_RETURN(UniqueFd fresh, openFileBeneath(version_dir_.get(), path, O_RDWR));
      fd = std::make_shared<UniqueFd>(std::move(fresh));
    }
    if (::fdatasync(fd->get()) != 0) return errnoStatus("fdatasync " + path, errno);
  }
  return Status::ok();
}

Result<size_t> VersionStore::flush() {
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  std::shared_lock<std::shared_mutex> io(io_mu_);
  std::set<uint32_t> pieces;
  std::vector<std::pair<std::shared_ptr<UniqueFd>, uint32_t>> files;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (published_ || pending_.empty()) return size_t{0};
    pieces.swap(pending_);
    for (uint32_t f : touched_files_) files.emplace_back(write_fds_[f], f);
    touched_files_.clear();
  }
  Status synced = syncFiles(files);
  Bitfield snapshot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!synced.isOk()) {
      // Nothing becomes servable; the pieces stay queued for the next attempt.
      pending_.insert(pieces.begin(), pieces.end());
      for (const auto& entry : files) touched_files_.insert(entry.second);
      return synced;
    }
    for (uint32_t p : pieces) {
      if (!bits_.get(p)) bytes_done_ += manifest_.piece(p).length;
      bits_.set(p);
    }
    snapshot = bits_;
  }
  RETURN_IF_ERROR(writeFileAtomicAt(partial_name_.get(), piecesFileName(), piecesFileContent(snapshot)));
  return pieces.size();
}

Result<PieceFd> VersionStore::openPieceFd(uint32_t index) const {
  if (index >= manifest_.pieceCount()) return notFound("no piece " + std::to_string(index));
  if (!hasPiece(index)) return notFound("piece " + std::to_string(index) + " is not held");
  const PieceRef& piece = manifest_.piece(index);
  ASSIGN_OR_RETURN(UniqueFd fd,
                   openFileBeneath(version_dir_.get(), manifest_.files()[piece.file].path, O_RDONLY));
  return PieceFd{std::move(fd), piece.offset, piece.length};
}

Result<std::string> VersionStore::pieceSha256(uint32_t index) const {
  if (index >= manifest_.pieceCount()) return invalidArgument("piece index out of range");
  const PieceRef& piece = manifest_.piece(index);
  ASSIGN_OR_RETURN(UniqueFd fd,
                   openFileBeneath(version_dir_.get(), manifest_.files()[piece.file].path, O_RDONLY));
  return sha256File(fd.get(), piece.offset, piece.length);
}

Status VersionStore::dropPieces(const std::vector<uint32_t>& pieces) {
  if (pieces.empty()) return Status::ok();
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  Bitfield snapshot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (published_) return failedPrecondition(manifest_.model().toString() + " is published");
    for (uint32_t p : pieces) {
      if (p >= bits_.size() || !bits_.get(p)) continue;
      bits_.clear(p);
      bytes_done_ -= manifest_.piece(p).length;
    }
    snapshot = bits_;
  }
  return writeFileAtomicAt(partial_name_.get(), piecesFileName(), piecesFileContent(snapshot));
}

Result<std::string> VersionStore::fileSha256(uint32_t file) const {
  if (file >= manifest_.files().size()) return invalidArgument("file index out of range");
  ASSIGN_OR_RETURN(UniqueFd fd,
                   openFileBeneath(version_dir_.get(), manifest_.files()[file].path, O_RDONLY));
  return sha256File(fd.get(), 0, manifest_.files()[file].size);
}

void VersionStore::setHashHint(uint32_t index, const std::string& sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  if (index < hash_hints_.size()) hash_hints_[index] = sha256;
}

std::string VersionStore::hashHint(uint32_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  return index < hash_hints_.size() ? hash_hints_[index] : std::string();
}

Status VersionStore::makeReadOnly() {
  for (const auto& f : manifest_.files()) {
    ASSIGN_OR_RETURN(UniqueFd fd, openFileBeneath(version_dir_.get(), f.path, O_RDONLY));
    RETURN_IF_ERROR(fsyncFd(fd.get(), f.path));
    if (::fchmod(fd.get(), 0444) != 0) return errnoStatus("chmod " + f.path, errno);
  }
  for (const auto& dir : directoriesOf(manifest_)) {
    ASSIGN_OR_RETURN(UniqueFd fd, openDirBeneath(version_dir_.get(), dir, false));
    RETURN_IF_ERROR(fsyncFd(fd.get(), dir));
    if (::fchmod(fd.get(), 0555) != 0) return errnoStatus("chmod " + dir, errno);
  }
  return fsyncFd(version_dir_.get(), manifest_.model().toString());
}

Status VersionStore::renameIntoModels() {
  const ModelRef& ref = manifest_.model();
  ASSIGN_OR_RETURN(UniqueFd models, openDirBeneath(root_.get(), "models", true));
  ASSIGN_OR_RETURN(UniqueFd models_name, openDirBeneath(models.get(), ref.name, true));
  if (::renameat(partial_name_.get(), ref.version.c_str(), models_name.get(), ref.version.c_str()) != 0) {
    return errnoStatus("publish " + ref.toString(), errno);
  }
  // The version directory becomes read-only only now: renaming a directory to
  // another parent needs write permission on it (its ".." entry changes).
  if (::fchmod(version_dir_.get(), 0555) != 0) return errnoStatus("chmod " + ref.toString(), errno);
  RETURN_IF_ERROR(fsyncFd(version_dir_.get(), ref.toString()));
  RETURN_IF_ERROR(fsyncFd(models_name.get(), "models/" + ref.name));
  RETURN_IF_ERROR(fsyncFd(models.get(), "models"));
  RETURN_IF_ERROR(fsyncFd(partial_name_.get(), "partial/" + ref.name));
  if (::unlinkat(partial_name_.get(), piecesFileName().c_str(), 0) != 0 && errno != ENOENT) {
    return errnoStatus("remove bitfield of " + ref.toString(), errno);
  }
  return fsyncFd(partial_name_.get(), "partial/" + ref.name);
}

Status VersionStore::publish() {
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  std::unique_lock<std::shared_mutex> io(io_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (published_) return Status::ok();
    if (!bits_.complete()) {
      return failedPrecondition(manifest_.model().toString() + " has " +
                                std::to_string(bits_.count()) + " of " +
                                std::to_string(bits_.size()) + " pieces; cannot publish");
    }
  }
  RETURN_IF_ERROR(makeReadOnly());
  RETURN_IF_ERROR(renameIntoModels());
  std::lock_guard<std::mutex> lock(mu_);
  published_ = true;
  for (auto& fd : write_fds_) fd.reset();
  write_fd_order_.clear();
  touched_files_.clear();
  pending_.clear();
  return Status::ok();
}

}  // namespace shardcast::agent
