// ModelVerifier: `shardcast verify` on the agent's side (DESIGN §4.5): re-hashes
// every piece of a PUBLISHED version against the accepted hashes, fetched from the
// controller for a rollout of that model this agent knows (the resume check's code
// path, accepted_hashes.h), and checks the publisher's whole-file sha256 where the
// manifest has one.
//
// Report only: a corrupt published version is neither deleted nor re-fetched nor
// hidden from the inference server; the operator decides what to do with it.
// Runs on the caller's thread at full disk speed (not rate-limited); one
// verification at a time (a second one gets ResourceExhausted "verify_busy").
//
// Borrows the ContentStore and ControllerClient; reads rollout workers through
// `workers` (the Server's callback). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "agent/content_store.h"
#include "agent/controller_client.h"
#include "agent/model_lifecycle.h"
#include "common/model_ref.h"
#include "common/status.h"

namespace shardcast::agent {

struct VerifyReport {
  ModelRef model;
  std::string rollout_id;               // whose accepted hashes were used
  uint32_t pieces = 0;
  std::vector<uint32_t> bad_pieces;     // bytes differ from the accepted hash (or unreadable)
  uint32_t unverified_pieces = 0;       // the controller has no accepted hash for them
  std::vector<std::string> files_bad;   // holding a bad piece, or failing the publisher's sha256
  uint64_t bytes_hashed = 0;
  double seconds = 0;
  // Every piece checked and nothing bad.
  bool ok() const { return bad_pieces.empty() && files_bad.empty() && unverified_pieces == 0; }
};
nlohmann::json toJson(const VerifyReport& r);

class ModelVerifier {
 public:
  ModelVerifier(ContentStore* content, ControllerClient* controller, std::string node,
                std::function<std::vector<WorkerView>()> workers);

  // NotFound "not_published" when the version is not published here;
  // FailedPrecondition "no_rollout" when no known rollout has its manifest;
  // Unavailable "controller_unreachable" when no accepted hashes could be fetched.
  Result<VerifyReport> verify(const ModelRef& ref);

 private:
  Result<std::shared_ptr<VersionStore>> publishedStore(const ModelRef& ref);
  Status fetchHashes(const VersionStore& store, VerifyReport& report,
                     std::vector<std::string>& accepted);
  void checkFiles(const VersionStore& store, VerifyReport& report);

  ContentStore* content_;
  ControllerClient* controller_;
  const std::string node_;
  const std::function<std::vector<WorkerView>()> workers_;
  std::mutex running_;  // held for the whole of one verification
};

}  // namespace shardcast::agent
