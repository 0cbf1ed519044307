// SourceLister retries a listing the origin answered with 5xx/429, and only that.
#include <doctest/doctest.h>

#include <atomic>

#include "common/objstore/http_range_read.h"
#include "controller/source_lister.h"

namespace shardcast::controller {
namespace {

// Fails the first `failures` list() calls with `status`, then lists one object.
struct Flaky {
  std::atomic<int> calls{0};
  int failures = 0;
  Status status;

  ObjectStoreRegistry registry() {
    ObjectStoreRegistry r;
    r.add("flaky", [this](const SourceSpec&, const ObjectStoreOptions&)
                       -> Result<std::unique_ptr<ObjectStore>> {
      struct Store final : ObjectStore {
        Flaky* f;
        explicit Store(Flaky* f) : f(f) {}
        Result<std::vector<ObjectInfo>> list() override {
          if (f->calls++ < f->failures) return f->status;
          return std::vector<ObjectInfo>{ObjectInfo{"a.bin", 1000, "\"e1\"", ""}};
        }
        Status readRange(const std::string&, const std::string&, uint64_t, uint64_t,
                         const ByteSink&) override {
          return internalError("unused");
        }
        std::string describe() const override { return "flaky://"; }
      };
      return std::unique_ptr<ObjectStore>(new Store(this));
    });
    return r;
  }
};

api::RolloutRequest request() {
  api::RolloutRequest r;
  r.model = *parseModelRef("m:v1");
  r.sources.push_back(SourceSpec{"flaky://x/", "", "", "", "", ""});
  r.piece_size = 64 << 10;
  return r;
}

TEST_CASE("a 503 then a 429 (with Retry-After 0) are retried; the listing succeeds") {
  Flaky f;
  f.failures = 2;
  f.status = originHttpError(503, "flaky://x/").withRetryAfterMs(0);
  ObjectStoreRegistry reg = f.registry();
  SourceLister lister(reg, 1000);
  auto m = lister.buildManifest(request());
  REQUIRE_MESSAGE(m.isOk(), m.status().toString());
  CHECK(m->files().size() == 1);
  CHECK(f.calls == 3);
}

TEST_CASE("persistent 5xx gives up after 3 attempts") {
  Flaky f;
  f.failures = 100;
  f.status = originHttpError(500, "flaky://x/");
  ObjectStoreRegistry reg = f.registry();
  SourceLister lister(reg, 1000);
  CHECK_FALSE(lister.buildManifest(request()).isOk());
  CHECK(f.calls == 3);
}

TEST_CASE("unreachable origins, denials and missing objects are not retried") {
  for (const Status& s : {originTransportError(unavailable("connection refused")),
                          originTransportError(deadlineExceeded("timed out")),
                          originHttpError(403, "flaky://x/"), originHttpError(404, "flaky://x/")}) {
    Flaky f;
    f.failures = 100;
    f.status = s;
    ObjectStoreRegistry reg = f.registry();
    SourceLister lister(reg, 1000);
    CHECK_FALSE(lister.buildManifest(request()).isOk());
    CHECK(f.calls == 1);
  }
}

}  // namespace
}  // namespace shardcast::controller
