#include "controller/follower_reads.h"

#include "controller/rollout_restore.h"

namespace shardcast::controller {

Result<std::shared_ptr<const FollowerView>> FollowerView::build(const StateSnapshot& snapshot,
                                                                const Clock& clock) {
  ASSIGN_OR_RETURN(RestoredState restored, restoreRollouts(snapshot));
  std::shared_ptr<FollowerView> view(new FollowerView(clock));
  view->revision_ = snapshot.revision;
  for (auto& r : restored.rollouts) {
    std::string id = r->id();
    view->rollouts_[id] = std::move(r);
  }
  view->manifests_ = std::move(restored.manifests);
  return std::shared_ptr<const FollowerView>(std::move(view));
}

Result<api::RolloutStatus> FollowerView::getRollout(const std::string& id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = rollouts_.find(id);
  if (it == rollouts_.end()) return notFound("rollout '" + id.substr(0, 64) + "' not found");
  return it->second->status(nodes_);
}

std::vector<api::RolloutStatus> FollowerView::listRollouts() const {
  std::lock_guard<std::mutex> l(mu_);
  return statusesOldestFirst(rollouts_, nodes_);
}

Result<Manifest> FollowerView::manifest(const ModelRef& model) const {
  auto it = manifests_.find(model);
  if (it == manifests_.end()) return notFound("no manifest for " + model.toString());
  return *it->second;
}

Result<std::shared_ptr<const FollowerView>> FollowerReads::view() {
  std::lock_guard<std::mutex> l(mu_);
  const int64_t now = clock_.nowMs();
  if (view_ && now - loaded_at_ms_ < max_age_ms_) return view_;
  auto snapshot = store_.load();
  if (!snapshot.isOk()) {
    if (view_ && now - loaded_at_ms_ < 10 * max_age_ms_) return view_;
    return unavailable("this replica is a follower and cannot read the replicated state: " +
                       snapshot.status().message());
  }
  auto built = FollowerView::build(*snapshot, clock_);
  if (!built.isOk()) return built.status();
  view_ = std::move(built).value();
  loaded_at_ms_ = now;
  return view_;
}

}  // namespace shardcast::controller
