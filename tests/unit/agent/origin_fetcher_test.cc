// OriginFetcher against a scripted ObjectStore: resume from the
// byte reached, hash over the whole piece exactly once, no retry of final errors,
// restart from the start when there is no pin.
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
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
  std::string path;
};

struct Script {
  std::mutex mu;
  std::deque<Step> steps;  // guarded by mu; empty: deliver everything
  std::vector<Call> calls;  // guarded by mu
  uint64_t delivered = 0;   // guarded by mu
  int in_flight = 0;        // guarded by mu
  int max_in_flight = 0;    // guarded by mu
  std::condition_variable cv;
  // readRange waits up to overlap_wait_ms for this many calls in flight.
  int overlap_target = 0;
  int overlap_wait_ms = 0;
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
      std::unique_lock<std::mutex> l(s_->mu);
      s_->calls.push_back(Call{offset, length, pin, path});
      s_->max_in_flight = std::max(s_->max_in_flight, ++s_->in_flight);
      s_->cv.notify_all();
      // Give the other fetch threads a moment to be in flight at the same time.
      s_->cv.wait_for(l, std::chrono::milliseconds(s_->overlap_wait_ms),
                      [&] { return s_->in_flight >= s_->overlap_target; });
      if (!s_->steps.empty()) {
        step = s_->steps.front();
        s_->steps.pop_front();
      }
    }
    struct Leave {
      Script* s;
      ~Leave() {
        std::lock_guard<std::mutex> l(s->mu);
        --s->in_flight;
      }
    } leave{s_};
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

// Runs the fetcher over every piece of the fixture with `concurrency` threads and
// returns each piece's result.
std::map<uint32_t, Result<FetchedPiece>> pullAll(Rig& rig, unsigned concurrency, unsigned limit) {
  std::mutex mu;
  std::condition_variable cv;
  std::map<uint32_t, Result<FetchedPiece>> results;
  uint32_t next = 0;
  const uint32_t n = rig.f.manifest.pieceCount();
  rig.fetcher->setMinPartBytes(16 * 1024);
  if (limit) rig.fetcher->setRequestLimit(limit);
  rig.fetcher->start(
      concurrency,
      [&]() -> std::optional<uint32_t> {
        std::lock_guard<std::mutex> l(mu);
        if (next == n) return std::nullopt;
        return next++;
      },
      [&](uint32_t piece, Result<FetchedPiece> r) {
        std::lock_guard<std::mutex> l(mu);
        CHECK(results.count(piece) == 0);  // each piece is handed back once
        results.emplace(piece, std::move(r));
        cv.notify_all();
      });
  std::unique_lock<std::mutex> l(mu);
  cv.wait_for(l, std::chrono::seconds(20), [&] { return results.size() == n; });
  l.unlock();
  rig.fetcher->stop();
  return results;
}

TEST_CASE("pieces are pulled in parallel parts, in piece order, and hashed whole") {
  Rig rig;
  rig.script.overlap_target = 4;
  rig.script.overlap_wait_ms = 2000;
  auto results = pullAll(rig, 4, 0);
  REQUIRE(results.size() == rig.f.manifest.pieceCount());
  for (auto& [piece, r] : results) {
    REQUIRE_MESSAGE(r.isOk(), r.status().toString());
    CHECK(r->data == rig.f.piece(piece));
    CHECK(r->sha256 == rig.f.pieceHash(piece));
  }
  // A 64 KiB piece is 4 ranges of 16 KiB that tile it; a short piece is one range.
  const PieceRef& p0 = rig.f.manifest.piece(0);
  std::vector<uint64_t> starts;
  for (const auto& c : rig.script.calls) {
    if (c.path == "a.bin" && c.offset < p0.offset + p0.length) {
      CHECK(c.length == p0.length / 4);
      starts.push_back(c.offset - p0.offset);
    }
  }
  std::sort(starts.begin(), starts.end());
  CHECK(starts == std::vector<uint64_t>{0, 16384, 32768, 49152});
  CHECK(rig.script.max_in_flight == 4);
  CHECK(rig.script.delivered == rig.f.manifest.totalBytes());
}

TEST_CASE("the request limit (the region's budget share) caps the parts in flight") {
  Rig rig;
  rig.script.overlap_target = 2;
  rig.script.overlap_wait_ms = 20;
  auto results = pullAll(rig, 4, 1);
  REQUIRE(results.size() == rig.f.manifest.pieceCount());
  for (auto& [piece, r] : results) CHECK(r.isOk());
  CHECK(rig.script.max_in_flight == 1);
}

TEST_CASE("a part that fails for good fails its piece once; the others arrive") {
  Rig rig;
  rig.script.steps = {Step{0, originHttpError(403, "scripted://x/a.bin")}};
  auto results = pullAll(rig, 2, 0);
  REQUIRE(results.size() == rig.f.manifest.pieceCount());
  int failed = 0;
  for (auto& [piece, r] : results) {
    if (r.isOk()) {
      CHECK(r->data == rig.f.piece(piece));
    } else {
      ++failed;
      CHECK(r.status().message().find("origin pull of piece " + std::to_string(piece)) !=
            std::string::npos);
    }
  }
  CHECK(failed == 1);
}

}  // namespace
}  // namespace shardcast::agent
