// Wire types: round-trips, strict public parsing, lenient agent<->controller parsing.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "common/api/error.h"
#include "common/api/node.h"
#include "common/api/rollout.h"
#include "common/bitfield.h"
#include "common/flag_parser.h"
#include "common/sha256.h"

using namespace shardcast;
using nlohmann::json;

TEST_CASE("rollout request: strict parsing") {
  auto ok = api::rolloutRequestFromJson(json::parse(
      R"({"model": "m:v1", "sources": ["http://h/p/", {"uri": "file:///x/"}],
          "target": {"regions": ["east"], "selector": {"gpu": "h100"}}, "piece_size": 1048576})"));
  REQUIRE(ok.isOk());
  CHECK(ok->sources.size() == 2);
  CHECK(ok->sources[1].uri == "file:///x/");
  CHECK(ok->target.regions == std::vector<std::string>{"east"});
  CHECK(ok->piece_size == 1048576);
  auto back = api::rolloutRequestFromJson(api::toJson(*ok));
  REQUIRE(back.isOk());
  CHECK(back->sources == ok->sources);
  CHECK(back->target == ok->target);

  auto unknown = api::rolloutRequestFromJson(json::parse(R"({"model": "m:v", "sources": ["http://h/"], "x": 1})"));
  REQUIRE_FALSE(unknown.isOk());
  CHECK(unknown.status().message().find("'x'") != std::string::npos);
  CHECK_FALSE(api::rolloutRequestFromJson(json::parse(R"({"model": 5, "sources": ["http://h/"]})")).isOk());
  CHECK_FALSE(api::rolloutRequestFromJson(json::parse(R"({"model": "m:v", "sources": []})")).isOk());
  CHECK_FALSE(api::rolloutRequestFromJson(json::parse(R"({"model": "m:v", "sources": ["http://h/"], "target": {"zones": []}})")).isOk());
  CHECK_FALSE(api::rolloutRequestFromJson(json::parse(R"({"model": "m:v", "sources": ["http://h/"], "piece_size": -1})")).isOk());
}

TEST_CASE("agent wire types ignore unknown fields and round-trip") {
  api::PeersReply r;
  r.rollout_state = "in_progress";
  r.peers = {{"n1", "127.0.0.1:1", "z"}};
  r.stripe = {1, 5, 9};
  r.hashes = {{3, std::string(64, 'b')}};
  r.hash_cursor = 7;
  r.zone_rank = 2;
  r.zone_size = 5;
  json j = api::toJson(r);
  j["from_the_future"] = {1, 2};
  auto back = api::peersReplyFromJson(j);
  REQUIRE(back.isOk());
  CHECK(back->stripe == r.stripe);
  CHECK(back->zone_rank == 2);
  CHECK(back->zone_size == 5);
  j.erase("zone_rank");
  j.erase("zone_size");  // an older controller: no zone rule
  auto old = api::peersReplyFromJson(j);
  REQUIRE(old.isOk());
  CHECK(old->zone_size == 0);
  CHECK(back->hashes.size() == 1);
  CHECK(back->hashes[0].piece == 3);
  CHECK(back->hash_cursor == 7);

  api::PieceReport p;
  p.node = "n";
  p.hashes = {{1, std::string(64, 'c')}};
  p.bad_peers = {{"liar", 4, "hash mismatch"}};
  p.state = "fetching";
  p.bytes_from_peers = 99;
  auto pb = api::pieceReportFromJson(api::toJson(p));
  REQUIRE(pb.isOk());
  CHECK(pb->bad_peers.size() == 1);
  CHECK(pb->bad_peers[0].peer == "liar");
  CHECK(pb->bytes_from_peers == 99);
  CHECK_FALSE(api::pieceReportFromJson(json::parse(R"({"node": "n", "hashes": [[1]]})")).isOk());
}

TEST_CASE("error bodies carry the reason and map to HTTP statuses") {
  Status s = invalidArgument("bad", "version_immutable");
  json b = api::errorBody(s);
  CHECK(b["error"]["code"] == "version_immutable");
  CHECK(b["error"]["message"] == "bad");
  CHECK(api::httpStatusFor(invalidArgument("x")) == 400);
  CHECK(api::httpStatusFor(notFound("x")) == 404);
  CHECK(api::httpStatusFor(unavailable("x")) == 503);
  Status back = api::statusFromErrorBody(409, b.dump());
  CHECK(back.reason() == "version_immutable");
  CHECK(back.message() == "bad");
  CHECK(api::statusFromErrorBody(502, "<html>").message().find("502") != std::string::npos);
}

TEST_CASE("bitfield bytes are MSB first and reject spare bits") {
  Bitfield b(10);
  b.set(0);
  b.set(9);
  b.set(9);
  CHECK(b.count() == 2);
  CHECK(b.bytes()[0] == 0x80);
  CHECK(b.bytes()[1] == 0x40);
  auto back = Bitfield::fromBytes(10, b.toBytes());
  REQUIRE(back.isOk());
  CHECK(*back == b);
  CHECK(back->count() == 2);
  CHECK_FALSE(Bitfield::fromBytes(10, std::string("\x80\x20", 2)).isOk());  // spare bit
  CHECK_FALSE(Bitfield::fromBytes(10, std::string("\x80", 1)).isOk());
  b.clear(0);
  CHECK_FALSE(b.get(0));
  CHECK(b.count() == 1);
}

TEST_CASE("sha256 matches the FIPS 180-2 vectors") {
  CHECK(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.update("a");
  h.update("bc");
  CHECK(h.finishHex() == sha256Hex("abc"));
  CHECK(isSha256Hex(sha256Hex("x")));
  CHECK_FALSE(isSha256Hex(std::string(64, 'G')));
}

TEST_CASE("flag parser: values, lists, booleans, sizes and errors") {
  FlagParser p;
  p.addValue("listen", "where", "0.0.0.0:1");
  p.addList("source", "src");
  p.addBool("wait", "w");
  REQUIRE(p.parse({"pos", "--listen=1.2.3.4:5", "--source", "a", "--source", "b", "--wait"}).isOk());
  CHECK(p.value("listen") == "1.2.3.4:5");
  CHECK(p.list("source") == std::vector<std::string>{"a", "b"});
  CHECK(p.flag("wait"));
  CHECK(p.positional() == std::vector<std::string>{"pos"});
  FlagParser q;
  q.addValue("n", "n");
  CHECK_FALSE(q.parse({"--bogus"}).isOk());
  FlagParser r;
  r.addValue("n", "n");
  CHECK_FALSE(r.parse({"--n"}).isOk());
  CHECK(*parseByteSize("16MiB") == 16ull << 20);
  CHECK(*parseByteSize("1g") == 1ull << 30);
  CHECK(*parseByteSize("123") == 123);
  CHECK_FALSE(parseByteSize("12parsecs").isOk());
  CHECK_FALSE(parseByteSize("").isOk());
  auto labels = parseLabels("gpu=h100,pool=a");
  REQUIRE(labels.isOk());
  CHECK(labels->at("gpu") == "h100");
  CHECK_FALSE(parseLabels("novalue").isOk());
}
