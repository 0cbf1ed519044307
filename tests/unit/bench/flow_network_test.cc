#include "bench/sim/flow_network.h"

#include <doctest/doctest.h>

namespace shardcast::bench {
namespace {

constexpr double B = 1000.0;  // bytes/s

}  // namespace

TEST_CASE("two flows sharing one down link get B/2 each") {
  FlowNetwork net;
  uint32_t up_a = net.addResource(B), up_b = net.addResource(B), down = net.addResource(B);
  uint32_t f1 = net.addFlow({up_a, down}, 100);
  uint32_t f2 = net.addFlow({up_b, down}, 100);
  net.computeRates();
  CHECK(net.rate(f1) == doctest::Approx(B / 2).epsilon(1e-3));
  CHECK(net.rate(f2) == doctest::Approx(B / 2).epsilon(1e-3));
  CHECK(net.used(down) == doctest::Approx(B).epsilon(1e-3));
}

TEST_CASE("a flow held back by its sender's up link leaves the rest to the others") {
  FlowNetwork net;
  uint32_t slow_up = net.addResource(B / 4), fast_up = net.addResource(B), down = net.addResource(B);
  uint32_t slow = net.addFlow({slow_up, down}, 100);
  uint32_t fast = net.addFlow({fast_up, down}, 100);
  net.computeRates();
  CHECK(net.rate(slow) == doctest::Approx(B / 4).epsilon(1e-3));
  CHECK(net.rate(fast) == doctest::Approx(3 * B / 4).epsilon(1e-3));
}

TEST_CASE("progressive filling on a chain: the textbook max-min example") {
  // Links L1 (cap 10) and L2 (cap 4). Flow a crosses both, b only L1, c only L2.
  // L2 is the first bottleneck: a = c = 2; then b takes what L1 has left: 8.
  FlowNetwork net;
  uint32_t l1 = net.addResource(10), l2 = net.addResource(4);
  uint32_t a = net.addFlow({l1, l2}, 1), b = net.addFlow({l1}, 1), c = net.addFlow({l2}, 1);
  net.computeRates();
  CHECK(net.rate(a) == doctest::Approx(2).epsilon(1e-3));
  CHECK(net.rate(c) == doctest::Approx(2).epsilon(1e-3));
  CHECK(net.rate(b) == doctest::Approx(8).epsilon(1e-3));
}

TEST_CASE("a flow's own cap and unlimited resources") {
  FlowNetwork net;
  uint32_t up = net.addResource(B), down = net.addResource(B);
  uint32_t wide = net.addResource(FlowNetwork::kUnlimited);
  uint32_t capped = net.addFlow({up, down, wide}, 100, B / 10);
  uint32_t other = net.addFlow({up, down}, 100);
  net.computeRates();
  CHECK(net.rate(capped) == doctest::Approx(B / 10).epsilon(1e-3));
  CHECK(net.rate(other) == doctest::Approx(9 * B / 10).epsilon(1e-3));
}

TEST_CASE("flows drain at their rates and the first to end is reported") {
  FlowNetwork net;
  uint32_t up_a = net.addResource(B), up_b = net.addResource(B), down = net.addResource(B);
  uint32_t small = net.addFlow({up_a, down}, 100);
  uint32_t big = net.addFlow({up_b, down}, 300);
  net.computeRates();
  auto first = net.nextCompletion();
  REQUIRE(first.has_value());
  CHECK(first->second == small);
  CHECK(first->first == doctest::Approx(0.2).epsilon(1e-3));  // 100 bytes at 500 B/s
  net.advanceTo(first->first);
  CHECK(net.remaining(big) == doctest::Approx(200).epsilon(1e-3));
  CHECK(net.removeFlow(small) == doctest::Approx(0).epsilon(1e-3).epsilon(1e-9));
  net.computeRates();
  CHECK(net.rate(big) == doctest::Approx(B).epsilon(1e-3));
  auto second = net.nextCompletion();
  REQUIRE(second.has_value());
  CHECK(second->second == big);
  CHECK(second->first == doctest::Approx(0.4).epsilon(1e-3));  // 200 more bytes at 1000 B/s
}

TEST_CASE("between computations a new flow gets only the capacity that is free") {
  FlowNetwork net;
  uint32_t up_a = net.addResource(B), up_b = net.addResource(B), down = net.addResource(B);
  uint32_t a = net.addFlow({up_a, down}, 100);
  net.computeRates();
  CHECK(net.rate(a) == doctest::Approx(B).epsilon(1e-3));
  uint32_t b = net.addFlow({up_b, down}, 100);
  CHECK(net.dirty());
  CHECK(net.rate(b) == doctest::Approx(0).epsilon(1e-3));  // the down link is full until recomputed
  net.removeFlow(a);
  uint32_t c = net.addFlow({up_a, down}, 100);
  CHECK(net.rate(c) == doctest::Approx(B).epsilon(1e-3));  // a's share is free again
  net.computeRates();
  CHECK(net.rate(b) == doctest::Approx(B / 2).epsilon(1e-3));
  CHECK(net.rate(c) == doctest::Approx(B / 2).epsilon(1e-3));
}

TEST_CASE("flow ids are reused and stale completions are skipped") {
  FlowNetwork net;
  uint32_t up = net.addResource(B), down = net.addResource(B);
  uint32_t a = net.addFlow({up, down}, 100);
  net.computeRates();
  net.removeFlow(a);
  CHECK(!net.nextCompletion().has_value());
  uint32_t b = net.addFlow({up, down}, 50);
  CHECK(b == a);
  net.computeRates();
  auto due = net.nextCompletion();
  REQUIRE(due.has_value());
  CHECK(due->first == doctest::Approx(0.05).epsilon(1e-3));
  CHECK(net.activeFlows() == 1);
}

}  // namespace shardcast::bench
