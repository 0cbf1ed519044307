#include "agent/model_verifier.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "agent/accepted_hashes.h"
#include "common/log.h"

namespace shardcast::agent {

nlohmann::json toJson(const VerifyReport& r) {
  return {{"model", r.model.toString()},
          {"rollout_id", r.rollout_id},
          {"pieces", r.pieces},
          {"bad_pieces", r.bad_pieces},
          {"unverified_pieces", r.unverified_pieces},
          {"files_bad", r.files_bad},
          {"ok", r.ok()},
          {"bytes_hashed", r.bytes_hashed},
          {"seconds", r.seconds}};
}

ModelVerifier::ModelVerifier(ContentStore* content, ControllerClient* controller, std::string node,
                             std::function<std::vector<WorkerView>()> workers)
    : content_(content),
      controller_(controller),
      node_(std::move(node)),
      workers_(std::move(workers)) {}

Result<std::shared_ptr<VersionStore>> ModelVerifier::publishedStore(const ModelRef& ref) {
  bool on_disk = false;
  for (const auto& v : content_->storedVersions()) {
    if (v.model == ref && v.published) on_disk = true;
  }
  if (!on_disk) {
    return notFound(ref.toString() + " is not published on this node", "not_published");
  }
  if (auto vs = content_->find(ref); vs && vs->published()) return vs;
  // Published by an earlier run and not opened yet by this one.
  ASSIGN_OR_RETURN(Manifest m, controller_->manifest(ref));
  ASSIGN_OR_RETURN(std::shared_ptr<VersionStore> vs, content_->openVersion(m));
  if (!vs->published()) {
    return notFound(ref.toString() + " is not published on this node", "not_published");
  }
  return vs;
}

Status ModelVerifier::fetchHashes(const VersionStore& store, VerifyReport& report,
                                  std::vector<std::string>& accepted) {
  const Manifest& m = store.manifest();
  // Rollouts of this very manifest (piece layout), ready ones first.
  std::vector<WorkerView> candidates;
  for (auto& w : workers_()) {
    if (w.model == m.model() && w.manifest_digest == m.digest()) candidates.push_back(w);
  }
  std::stable_partition(candidates.begin(), candidates.end(),
                        [](const WorkerView& w) { return w.phase == "ready"; });
  if (candidates.empty()) {
    return failedPrecondition("no rollout of " + m.model().toString() +
                                  " with this node's manifest is known to this agent, so "
                                  "there are no accepted hashes to verify against",
                              "no_rollout");
  }
  accepted.assign(m.pieceCount(), "");
  Status last;
  bool fetched = false;
  for (const auto& w : candidates) {
    auto r = fetchAcceptedHashes(*controller_, w.rollout_id, node_, m.pieceCount());
    if (!r.isOk()) {
      last = r.status();
      continue;
    }
    if (!fetched) report.rollout_id = w.rollout_id;
    fetched = true;
    bool all = true;
    for (uint32_t i = 0; i < m.pieceCount(); ++i) {
      if (accepted[i].empty()) accepted[i] = r->sha256[i];
      all = all && !accepted[i].empty();
    }
    if (all) break;
  }
  if (!fetched) {
    return Status(StatusCode::kUnavailable,
                  "cannot fetch the accepted hashes of " + m.model().toString() +
                      " from the controller: " + last.message(),
                  "controller_unreachable");
  }
  return Status::ok();
}

void ModelVerifier::checkFiles(const VersionStore& store, VerifyReport& report) {
  const Manifest& m = store.manifest();
  std::set<uint32_t> bad_files;
  for (uint32_t p : report.bad_pieces) bad_files.insert(m.piece(p).file);
  for (uint32_t fi = 0; fi < m.files().size(); ++fi) {
    const auto& f = m.files()[fi];
    if (f.sha256.empty()) continue;
    auto h = store.fileSha256(fi);
    report.bytes_hashed += f.size;
    if (!h.isOk() || *h != f.sha256) bad_files.insert(fi);
  }
  for (uint32_t fi : bad_files) report.files_bad.push_back(m.files()[fi].path);
}

Result<VerifyReport> ModelVerifier::verify(const ModelRef& ref) {
  std::unique_lock<std::mutex> running(running_, std::try_to_lock);
  if (!running.owns_lock()) {
    return resourceExhausted("another verification is running on this node; try again later",
                             "verify_busy");
  }
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::shared_ptr<VersionStore> store, publishedStore(ref));
  VerifyReport report;
  report.model = ref;
  report.pieces = store->manifest().pieceCount();
  std::vector<std::string> accepted;
  RETURN_IF_ERROR(fetchHashes(*store, report, accepted));
  std::vector<uint32_t> all(report.pieces);
  for (uint32_t i = 0; i < report.pieces; ++i) all[i] = i;
  PieceCheck check = checkPieces(*store, accepted, all);
  report.bad_pieces = std::move(check.bad);
  report.unverified_pieces = static_cast<uint32_t>(check.unknown.size());
  report.bytes_hashed = check.bytes_hashed;
  checkFiles(*store, report);
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (report.ok()) {
    LOG_INFO("verify " << ref.toString() << ": " << report.pieces << " pieces ok ("
                       << report.bytes_hashed << " bytes in " << report.seconds << " s)");
  } else if (!report.bad_pieces.empty() || !report.files_bad.empty()) {
    std::string files;
    for (const auto& f : report.files_bad) files += (files.empty() ? "" : ", ") + f;
    LOG_ERROR("verify " << ref.toString() << ": CORRUPT: " << report.bad_pieces.size()
                        << " bad pieces; files: " << files << " (left in place)");
  } else {
    LOG_WARN("verify " << ref.toString() << ": " << report.unverified_pieces
                       << " pieces have no accepted hash on the controller");
  }
  return report;
}

}  // namespace shardcast::agent
