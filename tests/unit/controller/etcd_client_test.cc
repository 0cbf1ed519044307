// EtcdClient against a real etcd on loopback: ranges with pages and pinned
// revisions, txns with every compare target, leases, endpoint failover, limits.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "controller/etcd_client.h"
#include "controller/state_store_factory.h"
#include "tests/unit/common/server_process.h"
#include "tests/unit/common/temp_dir.h"
#include "tests/unit/controller/etcd_server.h"

namespace shardcast::controller {
namespace {

using testing::EtcdServer;

std::string deadEndpoint() { return "http://127.0.0.1:" + std::to_string(testing::unusedLoopbackPort()); }

void put(EtcdClient& c, const std::string& k, const std::string& v, int64_t lease = 0) {
  auto r = c.txn({}, {EtcdOp::put(k, v, lease)});
  REQUIRE_MESSAGE(r.isOk(), r.status().toString());
  REQUIRE(r->succeeded);
}

TEST_CASE("etcd client: prefix ranges page through keys at one revision") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  EtcdClient c(EtcdClientOptions{{etcd.url()}});
  for (int i = 0; i < 7; ++i) put(c, "/t/k" + std::to_string(i), "v" + std::to_string(i));
  put(c, "/u/other", "x");  // outside the prefix
  // Binary-safe keys and values.
  put(c, std::string("/t/\xff\x01", 5), std::string("a\0b", 3));

  auto first = c.range(EtcdRangeRequest{"/t/", EtcdClient::prefixEnd("/t/"), 3, 0});
  REQUIRE(first.isOk());
  CHECK(first->kvs.size() == 3);
  CHECK(first->more);
  CHECK(first->count == 8);

  auto all = c.rangePrefix("/t/", 0, 3);
  REQUIRE(all.isOk());
  REQUIRE(all->kvs.size() == 8);
  CHECK(all->kvs[0].key == "/t/k0");
  CHECK(all->kvs[0].value == "v0");
  CHECK(all->kvs[7].value == std::string("a\0b", 3));
  CHECK(all->kvs[0].version == 1);
  CHECK(all->kvs[0].create_revision == all->kvs[0].mod_revision);

  // Reads pinned at a revision do not see later writes.
  int64_t at = all->revision;
  put(c, "/t/k0", "changed");
  put(c, "/t/k9", "new");
  auto old = c.rangePrefix("/t/", at, 2);
  REQUIRE(old.isOk());
  CHECK(old->kvs.size() == 8);
  CHECK(old->kvs[0].value == "v0");
  auto now = c.rangePrefix("/t/", 0, 2);
  REQUIRE(now.isOk());
  CHECK(now->kvs.size() == 9);
  CHECK(now->kvs[0].value == "changed");
  CHECK(now->kvs[0].version == 2);

  auto future = c.range(EtcdRangeRequest{"/t/k0", "", 0, now->revision + 100});
  CHECK_FALSE(future.isOk());
  CHECK(future.status().reason() == "etcd_out_of_range");
}

TEST_CASE("etcd client: txn compares decide the branch") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  EtcdClient c(EtcdClientOptions{{etcd.url()}});

  // Create if absent: the first wins, the second sees the winner in its failure branch.
  auto a = c.txn({EtcdCompare::createRevision("/e/leader", 0)}, {EtcdOp::put("/e/leader", "A")},
                 {EtcdOp::get("/e/leader")});
  REQUIRE(a.isOk());
  CHECK(a->succeeded);
  int64_t created = a->revision;
  auto b = c.txn({EtcdCompare::createRevision("/e/leader", 0)}, {EtcdOp::put("/e/leader", "B")},
                 {EtcdOp::get("/e/leader")});
  REQUIRE(b.isOk());
  CHECK_FALSE(b->succeeded);
  REQUIRE(b->ranges.size() == 1);
  REQUIRE(b->ranges[0].kvs.size() == 1);
  CHECK(b->ranges[0].kvs[0].value == "A");
  CHECK(b->ranges[0].kvs[0].create_revision == created);

  // Every target, holding and not holding.
  struct Case {
    EtcdCompare cmp;
    bool holds;
  };
  std::vector<Case> cases = {
      {EtcdCompare::createRevision("/e/leader", created), true},
      {EtcdCompare::createRevision("/e/leader", created + 1), false},
      {EtcdCompare::modRevision("/e/leader", created), true},
      {EtcdCompare::modRevision("/e/leader", created, EtcdCompare::Op::kLess), false},
      {EtcdCompare::modRevision("/e/leader", created - 1, EtcdCompare::Op::kGreater), true},
      {EtcdCompare::version("/e/leader", 1), true},
      {EtcdCompare::version("/e/leader", 1, EtcdCompare::Op::kNotEqual), false},
      {EtcdCompare::valueIs("/e/leader", "A"), true},
      {EtcdCompare::valueIs("/e/leader", "B"), false},
      {EtcdCompare::lease("/e/leader", 0), true},
      {EtcdCompare::lease("/e/leader", 12345), false},
  };
  for (const auto& k : cases) {
    auto r = c.txn({k.cmp}, {});
    REQUIRE(r.isOk());
    CHECK(r->succeeded == k.holds);
  }

  // Delete in a txn.
  auto d = c.txn({EtcdCompare::valueIs("/e/leader", "A")}, {EtcdOp::del("/e/leader")});
  REQUIRE(d.isOk());
  CHECK(d->succeeded);
  auto gone = c.range(EtcdRangeRequest{"/e/leader", "", 0, 0});
  REQUIRE(gone.isOk());
  CHECK(gone->kvs.empty());
}

TEST_CASE("etcd client: leases keep keys alive until revoked") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  EtcdClient c(EtcdClientOptions{{etcd.url()}});
  auto lease = c.leaseGrant(5);
  REQUIRE_MESSAGE(lease.isOk(), lease.status().toString());
  CHECK(lease->id != 0);
  CHECK(lease->ttl_s >= 5);
  put(c, "/l/key", "held", lease->id);
  auto kv = c.range(EtcdRangeRequest{"/l/key", "", 0, 0});
  REQUIRE(kv.isOk());
  REQUIRE(kv->kvs.size() == 1);
  CHECK(kv->kvs[0].lease == lease->id);

  auto ttl = c.leaseKeepAlive(lease->id);
  REQUIRE_MESSAGE(ttl.isOk(), ttl.status().toString());
  CHECK(*ttl >= 4);

  REQUIRE(c.leaseRevoke(lease->id).isOk());
  auto after = c.range(EtcdRangeRequest{"/l/key", "", 0, 0});
  REQUIRE(after.isOk());
  CHECK(after->kvs.empty());  // revoking deletes the lease's keys
  auto dead = c.leaseKeepAlive(lease->id);
  CHECK_FALSE(dead.isOk());
  CHECK(dead.status().reason() == "lease_expired");
}

TEST_CASE("etcd client: a lease that is not kept alive expires with its keys") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  EtcdClient c(EtcdClientOptions{{etcd.url()}});
  auto lease = c.leaseGrant(2);
  REQUIRE(lease.isOk());
  put(c, "/x/key", "v", lease->id);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    auto r = c.range(EtcdRangeRequest{"/x/key", "", 0, 0});
    REQUIRE(r.isOk());
    gone = r->kvs.empty();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(gone);
  CHECK(c.leaseKeepAlive(lease->id).status().reason() == "lease_expired");
}

TEST_CASE("etcd client: fails over to the next endpoint and stays there") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  std::string dead = deadEndpoint();
  EtcdClient c(EtcdClientOptions{{dead, etcd.url()}, 2000, 500});
  CHECK(c.currentEndpoint() == dead);
  put(c, "/f/k", "v");
  CHECK(c.currentEndpoint() == etcd.url());
  auto r = c.range(EtcdRangeRequest{"/f/k", "", 0, 0});
  REQUIRE(r.isOk());
  CHECK(r->kvs.size() == 1);

  // Every endpoint down: one Unavailable naming an endpoint.
  EtcdClient none(EtcdClientOptions{{deadEndpoint(), deadEndpoint()}, 2000, 500});
  auto fail = none.range(EtcdRangeRequest{"/f/k", "", 0, 0});
  CHECK_FALSE(fail.isOk());
  CHECK(fail.status().code() == StatusCode::kUnavailable);
  CHECK(fail.status().message().find("etcd http://127.0.0.1:") != std::string::npos);
}

TEST_CASE("etcd client: etcd's limits become ResourceExhausted") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  EtcdClient c(EtcdClientOptions{{etcd.url()}});
  std::vector<EtcdOp> ops;
  for (int i = 0; i < 129; ++i) ops.push_back(EtcdOp::put("/m/" + std::to_string(i), "v"));
  auto many = c.txn({}, ops);
  CHECK_FALSE(many.isOk());
  CHECK(many.status().code() == StatusCode::kResourceExhausted);
  CHECK(many.status().message().find(etcd.url()) != std::string::npos);
  ops.pop_back();
  auto fits = c.txn({}, ops);
  REQUIRE(fits.isOk());
  CHECK(fits->succeeded);

  auto big = c.txn({}, {EtcdOp::put("/m/big", std::string(1600 * 1024, 'x'))});
  CHECK_FALSE(big.isOk());
  CHECK(big.status().code() == StatusCode::kResourceExhausted);
  CHECK(big.status().message().find("xxxx") == std::string::npos);  // never quotes a value
}

TEST_CASE("etcd client: TLS with a client certificate; a missing certificate or a wrong CA is refused") {
  SKIP_WITHOUT_ETCD();
  shardcast::testing::TempDir pki;
  testing::makeTestPki(pki.path());
  EtcdServer etcd(pki.path());
  REQUIRE(etcd.url().rfind("https://", 0) == 0);

  EtcdClientOptions good{{etcd.url()}};
  good.ca_file = pki.path() + "/ca.crt";
  good.cert_file = pki.path() + "/client.crt";
  good.key_file = pki.path() + "/client.key";
  EtcdClient c(good);
  put(c, "/tls/k", "v");
  auto got = c.range(EtcdRangeRequest{"/tls/k", "", 0, 0});
  REQUIRE_MESSAGE(got.isOk(), got.status().toString());
  REQUIRE(got->kvs.size() == 1);
  CHECK(got->kvs[0].value == "v");

  EtcdClientOptions no_cert{{etcd.url()}};
  no_cert.ca_file = pki.path() + "/ca.crt";
  EtcdClient anonymous(no_cert);
  auto refused = anonymous.range(EtcdRangeRequest{"/tls/k", "", 0, 0});
  REQUIRE_FALSE(refused.isOk());
  CHECK(refused.status().message().find(etcd.url()) != std::string::npos);  // names the endpoint

  EtcdClientOptions wrong_ca = good;
  wrong_ca.ca_file = pki.path() + "/other-ca.crt";
  EtcdClient doubtful(wrong_ca);
  auto untrusted = doubtful.range(EtcdRangeRequest{"/tls/k", "", 0, 0});
  REQUIRE_FALSE(untrusted.isOk());
  MESSAGE("wrong CA: " << untrusted.status().toString());
}

TEST_CASE("etcd client: TLS settings are checked before anything starts") {
  shardcast::testing::TempDir dir;
  dir.write("ca.crt", "x");
  dir.write("c.crt", "x");
  StateStoreConfig c;
  c.kind = "etcd";
  c.etcd_endpoints = {"https://etcd:2379"};
  CHECK(validateStateStoreConfig(c).isOk());  // the system's CAs
  c.etcd_ca_file = dir.path() + "/ca.crt";
  CHECK(validateStateStoreConfig(c).isOk());
  c.etcd_cert_file = dir.path() + "/c.crt";  // no key
  Status s = validateStateStoreConfig(c);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message().find("--etcd-key-file") != std::string::npos);
  c.etcd_key_file = dir.path() + "/missing.key";
  s = validateStateStoreConfig(c);
  CHECK(s.message().find("missing.key cannot be read") != std::string::npos);
  c.etcd_key_file = dir.path() + "/c.crt";
  CHECK(validateStateStoreConfig(c).isOk());
  c.etcd_endpoints = {"https://etcd-0:2379", "http://etcd-1:2379"};
  s = validateStateStoreConfig(c);
  CHECK(s.message().find("http://etcd-1:2379 is plain http") != std::string::npos);
}

TEST_CASE("etcd client: --etcd-endpoints parsing") {
  auto ok = parseEtcdEndpoints("http://a:2379, http://b:2379/,https://c:2379");
  CHECK_FALSE(ok.isOk());  // a space is not a URL scheme
  auto two = parseEtcdEndpoints("http://a:2379,http://b:2379/");
  REQUIRE(two.isOk());
  CHECK(*two == std::vector<std::string>{"http://a:2379", "http://b:2379"});
  CHECK_FALSE(parseEtcdEndpoints("").isOk());
  CHECK_FALSE(parseEtcdEndpoints("a:2379").isOk());
  CHECK_FALSE(parseEtcdEndpoints("http://a:2379/v3").isOk());
  auto secret = parseEtcdEndpoints("http://user:hunter2@a:2379");
  CHECK_FALSE(secret.isOk());
  CHECK(secret.status().message().find("hunter2") == std::string::npos);
  CHECK(EtcdClient::prefixEnd("/a/") == "/a0");
  CHECK(EtcdClient::prefixEnd(std::string("a\xff", 2)) == "b");
}

}  // namespace
}  // namespace shardcast::controller
