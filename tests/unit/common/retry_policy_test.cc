// RetryPolicy and parseRetryAfterMs: which origin failures are retried, the
// full-jitter exponential delays, the cap, attempt limits, resume progress and
// Retry-After as a floor.
#include <doctest/doctest.h>

#include "common/objstore/http_range_read.h"
#include "common/objstore/retry_policy.h"

namespace shardcast {
namespace {

RetryOptions opts() {
  RetryOptions o;
  o.max_attempts = 5;
  o.max_total_attempts = 12;
  o.initial_backoff_ms = 100;
  o.max_backoff_ms = 1000;
  o.max_retry_after_ms = 5000;
  return o;
}

Status e503() { return originHttpError(503, "http://o/m/a.bin"); }

TEST_CASE("retryable: 5xx, 408, 429, transport failures and timeouts") {
  CHECK(RetryPolicy::isRetryable(originHttpError(500, "u")));
  CHECK(RetryPolicy::isRetryable(originHttpError(502, "u")));
  CHECK(RetryPolicy::isRetryable(originHttpError(503, "u")));
  CHECK(RetryPolicy::isRetryable(originHttpError(429, "u")));
  CHECK(RetryPolicy::isRetryable(originHttpError(408, "u")));
  CHECK(RetryPolicy::isRetryable(originTransportError(unavailable("connection reset"))));
  CHECK(RetryPolicy::isRetryable(originTransportError(deadlineExceeded("timed out"))));
  CHECK(RetryPolicy::isRetryable(unavailable("short read", "origin_error")));
}

TEST_CASE("not retryable: changed, denied, missing, bad requests, local errors") {
  CHECK_FALSE(RetryPolicy::isRetryable(originHttpError(412, "u")));
  CHECK_FALSE(RetryPolicy::isRetryable(originHttpError(403, "u")));
  CHECK_FALSE(RetryPolicy::isRetryable(originHttpError(401, "u")));
  CHECK_FALSE(RetryPolicy::isRetryable(originHttpError(404, "u")));
  CHECK_FALSE(RetryPolicy::isRetryable(originHttpError(400, "u")));
  CHECK_FALSE(RetryPolicy::isRetryable(failedPrecondition("changed", "object_changed")));
  // Even an Unavailable with reason object_changed is final.
  CHECK_FALSE(RetryPolicy::isRetryable(unavailable("changed", "object_changed")));
  CHECK_FALSE(RetryPolicy::isRetryable(corruption("too many bytes")));
  CHECK_FALSE(RetryPolicy::isRetryable(aborted("stopping")));
  CHECK_FALSE(RetryPolicy::isRetryable(ioError("disk")));
  CHECK_FALSE(RetryPolicy::isRetryable(Status::ok()));
}

TEST_CASE("full jitter: delay n is within [0, min(cap, initial * 2^(n-1))]") {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    RetryPolicy p(opts(), seed);
    int64_t ceilings[] = {100, 200, 400, 800};
    for (int64_t ceiling : ceilings) {
      auto d = p.nextDelayMs(e503(), false);
      REQUIRE(d.has_value());
      CHECK(*d >= 0);
      CHECK(*d <= ceiling);
    }
  }
}

TEST_CASE("full jitter spreads: many seeds cover low and high parts of the range") {
  int low = 0, high = 0;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    RetryPolicy p(opts(), seed);
    p.nextDelayMs(e503(), false);
    p.nextDelayMs(e503(), false);
    int64_t d = *p.nextDelayMs(e503(), false);  // third failure: [0, 400]
    if (d < 100) ++low;
    if (d > 300) ++high;
  }
  CHECK(low > 40);
  CHECK(high > 40);
}

TEST_CASE("the cap bounds long runs of failures") {
  RetryOptions o = opts();
  o.max_attempts = 100;
  o.max_total_attempts = 100;
  RetryPolicy p(o, 7);
  int64_t max_seen = 0;
  for (int i = 0; i < 60; ++i) max_seen = std::max(max_seen, *p.nextDelayMs(e503(), false));
  CHECK(max_seen <= 1000);
  CHECK(max_seen > 500);  // the capped range [0, 1000] was reached many times
}

TEST_CASE("same seed, same delays; different seeds differ") {
  RetryPolicy a(opts(), 42), b(opts(), 42), c(opts(), 43);
  bool differs = false;
  for (int i = 0; i < 4; ++i) {
    auto da = a.nextDelayMs(e503(), false), db = b.nextDelayMs(e503(), false),
         dc = c.nextDelayMs(e503(), false);
    CHECK(da == db);
    differs = differs || da != dc;
  }
  CHECK(differs);
}

TEST_CASE("gives up after max_attempts failures in a row") {
  RetryPolicy p(opts(), 1);
  for (int i = 1; i < 5; ++i) CHECK(p.nextDelayMs(e503(), false).has_value());
  CHECK_FALSE(p.nextDelayMs(e503(), false).has_value());
  CHECK(p.attempts() == 5);
}

TEST_CASE("a final error gives up at once") {
  RetryPolicy p(opts(), 1);
  CHECK_FALSE(p.nextDelayMs(failedPrecondition("object changed", "object_changed"), false));
  RetryPolicy q(opts(), 1);
  CHECK_FALSE(q.nextDelayMs(originHttpError(404, "u"), true));
}

TEST_CASE("progress resets the exponent and the run, but total attempts are bounded") {
  RetryPolicy p(opts(), 3);
  // Four failures without progress, then one with progress: the run starts over.
  for (int i = 0; i < 4; ++i) REQUIRE(p.nextDelayMs(e503(), false));
  auto after_progress = p.nextDelayMs(unavailable("reset", "source_unreachable"), true);
  REQUIRE(after_progress);
  CHECK(*after_progress <= 100);  // exponent 0 again
  for (int i = 0; i < 4; ++i) REQUIRE(p.nextDelayMs(e503(), false));
  // A connection that always drops after some bytes is still cut off eventually.
  int more = 0;
  while (p.nextDelayMs(unavailable("reset", "source_unreachable"), true)) ++more;
  CHECK(p.attempts() == 12);
  CHECK(more == 2);
}

TEST_CASE("Retry-After is a floor, clamped to max_retry_after_ms") {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    RetryPolicy p(opts(), seed);
    auto d = p.nextDelayMs(e503().withRetryAfterMs(1000), false);
    REQUIRE(d);
    CHECK(*d >= 1000);
    CHECK(*d <= 1000);  // first ceiling is 100 < 1000: exactly the floor
  }
  RetryPolicy p(opts(), 1);
  CHECK(*p.nextDelayMs(e503().withRetryAfterMs(3600 * 1000), false) == 5000);
  // A small Retry-After does not shorten the backoff below its jitter draw.
  RetryOptions o = opts();
  o.initial_backoff_ms = 1000;
  int above = 0;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    RetryPolicy q(o, seed);
    int64_t d = *q.nextDelayMs(e503().withRetryAfterMs(10), false);
    CHECK(d >= 10);
    if (d > 10) ++above;
  }
  CHECK(above > 40);
}

TEST_CASE("Status keeps its retry hint through withContext and copies") {
  Status s = e503().withRetryAfterMs(2500);
  REQUIRE(s.retryAfterMs().has_value());
  Status c = s.withContext("origin pull of piece 3");
  REQUIRE(c.retryAfterMs().has_value());
  CHECK(*c.retryAfterMs() == 2500);
  CHECK(c.reason() == "origin_error");
  CHECK_FALSE(e503().retryAfterMs().has_value());
  CHECK(*unavailable("x").withRetryAfterMs(-5).retryAfterMs() == 0);
}

TEST_CASE("withRetryAfter reads the response header") {
  HttpResponse r;
  r.status = 429;
  r.headers["retry-after"] = "3";
  Status s = withRetryAfter(originHttpError(429, "u"), r);
  REQUIRE(s.retryAfterMs());
  CHECK(*s.retryAfterMs() == 3000);
  r.headers["retry-after"] = "soon";
  CHECK_FALSE(withRetryAfter(originHttpError(429, "u"), r).retryAfterMs());
  r.headers.clear();
  CHECK_FALSE(withRetryAfter(originHttpError(429, "u"), r).retryAfterMs());
}

TEST_CASE("parseRetryAfterMs: delta-seconds") {
  CHECK(parseRetryAfterMs("0", 0) == 0);
  CHECK(parseRetryAfterMs("1", 0) == 1000);
  CHECK(parseRetryAfterMs(" 120 ", 0) == 120000);
  CHECK_FALSE(parseRetryAfterMs("", 0));
  CHECK_FALSE(parseRetryAfterMs("-1", 0));
  CHECK_FALSE(parseRetryAfterMs("1.5", 0));
  CHECK_FALSE(parseRetryAfterMs("12abc", 0));
  CHECK(*parseRetryAfterMs("99999999999999999999", 0) > 0);  // huge, not an overflow
}

TEST_CASE("parseRetryAfterMs: HTTP-dates in all three forms, relative to now") {
  // Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 s.
  const int64_t at = 1445412480LL * 1000;
  CHECK(parseRetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", at - 5000) == 5000);
  CHECK(parseRetryAfterMs("Wednesday, 21-Oct-15 07:28:00 GMT", at - 5000) == 5000);
  CHECK(parseRetryAfterMs("Wed Oct 21 07:28:00 2015", at - 5000) == 5000);
  CHECK(parseRetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", at + 60000) == 0);  // past
  CHECK_FALSE(parseRetryAfterMs("Wed, 21 Oct 2015 07:28:00", at));
  CHECK_FALSE(parseRetryAfterMs("Wed, 32 Oct 2015 07:28:00 GMT", at));
  CHECK_FALSE(parseRetryAfterMs("tomorrow", at));
}

}  // namespace
}  // namespace shardcast
