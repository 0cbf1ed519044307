// OriginFetcher::fetchWithRetry against a scripted ObjectStore: resume from the
// byte reached, hash over the whole piece exactly once, no retry of final errors,
// restart from the start when there is no pin.
#include <doctest/doctest.h>

#include <deque>
#include <mutex>

#include "agent/origin_fetcher.h"
#include "common/objstore/http_range_read.h"
#include "tests/unit/agent/agent_fixtures.h"

namespace shardcast::agent {
namespace {

using testing::makeModelFixture;
using testing::ModelFixture;

// What one readRange call does: deliver up to `deliver` bytes of the asked range
// (in chunks of `chunk`), then return `result` (OK only when all were delivered).
struct Step {
  uint64_t deliver = UINT64_MAX;
  Status result;
};

struct Call {
  uint64_t offset, length;
  std::string pin;
};

struct Script {
  std::mutex mu;
  std::deque<Step> steps;  // guarded by mu; empty: deliver everything
  std::vector<Call> calls;  // guarded by mu
  uint64_t delivered = 0;   // guarded by mu
};

class ScriptedStore final : public ObjectStore {
 public:
  ScriptedStore(const ModelFixture* f, Script* s) : f_(f), s_(s) {}
  Result<std::vector<ObjectInfo>> list() override { return std::vector<ObjectInfo>{}; }
  std::string describe() const override { return "scripted://"; }
  Status readRange(const std::string& path, const std::string& pin, uint64_t offset,
                   uint64_t length, const ByteSink& sink) override {
    Step step;
    {
      std::lock_guard<std::mutex> l(s_->mu);
      s_->calls.push_back(Call{offset, length, pin});
      if (!s_->steps.empty()) {
        step = s_->steps.front();
        s_->steps.pop_front();
      }
    }
    const std::string& content = f_->content.at(path);
    uint64_t n = std::min(step.deliver, length);
    for (uint64_t at = 0; at < n;) {
      uint64_t len = std::min<uint64_t>(4096, n - at);
      RETURN_IF_ERROR(sink(content.data() + offset + at, len));
      at += len;
      std::lock_guard<std::mutex> l(s_->mu);
      s_->delivered += len;
    }
    if (n < length) return step.result.isOk() ? unavailable("cut short", "source_unreachable") : step.result;
    return step.result;
  }

 private:
  const ModelFixture* f_;
  Script* s_;
};

struct Rig {
  explicit Rig(const std::string& pin = "etag-1")
      : f(makeModelFixture({{"a.bin", 200000}, {"b.bin", 70000}}, "m", "v1", pin)) {
    registry.add("scripted", [this](const SourceSpec&, const ObjectStoreOptions&)
                                 -> Result<std::unique_ptr<ObjectStore>> {
      return std::unique_ptr<ObjectStore>(new ScriptedStore(&f, &script));
    });
    auto o = OriginFetcher::open(registry, SourceSpec{"scripted://x/"}, {},
                                 OriginIdentity{"n1", "east", "r1"}, &f.manifest, 0);
    REQUIRE(o.isOk());
    fetcher = std::move(o).value();
    RetryOptions ro;
    ro.initial_backoff_ms = 1;
    ro.max_backoff_ms = 2;
    fetcher->setRetryOptions(ro);
  }
  ModelFixture f;
  Script script;
  ObjectStoreRegistry registry;
  std::unique_ptr<OriginFetcher> fetcher;
};

TEST_CASE("a read cut short resumes from the byte it reached; hashed once, in order") {
  Rig rig;
  const PieceRef& p = rig.f.manifest.piece(1);  // a.bin, second piece (64 KiB)
  rig.script.steps = {Step{10000, unavailable("reset", "source_unreachable")},
                      Step{0, originHttpError(503, "u")},
                      Step{20001, unavailable("reset", "source_unreachable")},
                      Step{}};
  auto r = rig.fetcher->fetchWithRetry(1, 9);
  REQUIRE_MESSAGE(r.isOk(), r.status().toString());
  CHECK(r->data == rig.f.piece(1));
  CHECK(r->sha256 == rig.f.pieceHash(1));
  REQUIRE(rig.script.calls.size() == 4);
  CHECK(rig.script.calls[0].offset == p.offset);
  CHECK(rig.script.calls[0].length == p.length);
  CHECK(rig.script.calls[1].offset == p.offset + 10000);
  CHECK(rig.script.calls[2].offset == p.offset + 10000);
  CHECK(rig.script.calls[3].offset == p.offset + 30001);
  CHECK(rig.script.calls[3].length == p.length - 30001);
  for (const auto& c : rig.script.calls) CHECK(c.pin == "etag-1");
  // Only the piece's bytes crossed the wire: nothing was sent twice.
  CHECK(rig.script.delivered == p.length);
  CHECK(rig.fetcher->retries() == 3);
  CHECK(rig.fetcher->restartedBytes() == 0);
}

TEST_CASE("a changed object is not retried, even after bytes arrived") {
  Rig rig;
  rig.script.steps = {Step{5000, unavailable("reset", "source_unreachable")},
                      Step{0, failedPrecondition("object changed: scripted://x/a.bin", "object_changed")}};
  auto r = rig.fetcher->fetchWithRetry(0, 1);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().reason() == "object_changed");
  CHECK(r.status().message().find("a.bin") != std::string::npos);
  CHECK(rig.script.calls.size() == 2);
}

TEST_CASE("denied and missing objects are final") {
  for (long code : {403L, 404L}) {
    Rig rig;
    rig.script.steps = {Step{0, originHttpError(code, "scripted://x/a.bin")}};
    auto r = rig.fetcher->fetchWithRetry(0, 1);
    REQUIRE_FALSE(r.isOk());
    CHECK(rig.script.calls.size() == 1);
  }
}

TEST_CASE("persistent 503s give up after max_attempts, saying so") {
  Rig rig;
  RetryOptions ro;
  ro.max_attempts = 3;
  ro.initial_backoff_ms = 1;
  ro.max_backoff_ms = 1;
  rig.fetcher->setRetryOptions(ro);
  for (int i = 0; i < 10; ++i) rig.script.steps.push_back(Step{0, originHttpError(503, "u")});
  auto r = rig.fetcher->fetchWithRetry(2, 1);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().reason() == "origin_error");
  CHECK(r.status().message().find("gave up after 3 attempts") != std::string::npos);
  CHECK(rig.script.calls.size() == 3);
}

TEST_CASE("without a pin a cut-short piece is read again from its start") {
  Rig rig("");
  const PieceRef& p = rig.f.manifest.piece(4);  // b.bin, first piece
  rig.script.steps = {Step{7000, unavailable("reset", "source_unreachable")}, Step{}};
  auto r = rig.fetcher->fetchWithRetry(4, 1);
  REQUIRE(r.isOk());
  CHECK(r->data == rig.f.piece(4));
  CHECK(r->sha256 == rig.f.pieceHash(4));
  REQUIRE(rig.script.calls.size() == 2);
  CHECK(rig.script.calls[1].offset == p.offset);
  CHECK(rig.script.calls[1].length == p.length);
  CHECK(rig.fetcher->restartedBytes() == 7000);
}

}  // namespace
}  // namespace shardcast::agent
