#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/objstore/file_object_store.h"
#include "tests/unit/common/temp_dir.h"

namespace shardcast {
namespace {

using testing::patternBytes;
using testing::TempDir;

std::unique_ptr<ObjectStore> openStore(const std::string& uri) {
  SourceSpec spec;
  spec.uri = uri;
  auto store = FileObjectStore::open(spec, ObjectStoreOptions{});
  REQUIRE_MESSAGE(store.isOk(), store.status().toString());
  return std::move(store).value();
}

Result<std::string> readAll(ObjectStore& store, const std::string& path, const std::string& pin,
                            uint64_t offset, uint64_t length) {
  std::string got;
  Status st = store.readRange(path, pin, offset, length, [&](const char* d, size_t n) {
    got.append(d, n);
    return Status::ok();
  });
  if (!st.isOk()) return st;
  return got;
}

// Moves the file's mtime forward so its pin changes even within one clock tick.
void bumpMtime(const std::string& path, int seconds) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  times[1].tv_sec += seconds;
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

struct Fixture {
  TempDir outside;
  TempDir dir;
  std::string a = patternBytes(3 << 20, 1);  // spans several read chunks
  std::string b = patternBytes(1000, 2);
  std::string c = patternBytes(1, 3);

  Fixture() {
    dir.write("a.bin", a);
    dir.write("sub/b.bin", b);
    dir.write("sub/deeper/c.bin", c);
    dir.write("sub/empty.bin", "");
    dir.write("shardcast-index.json", "[]");  // the index is not content
    outside.write("secret.txt", "do not serve");
    std::filesystem::create_symlink(outside.path() + "/secret.txt", dir.path() + "/link.txt");
    std::filesystem::create_directory_symlink(outside.path(), dir.path() + "/linkdir");
  }
  std::string uri() const { return "file://" + dir.path() + "/"; }
};

TEST_CASE("a file:// prefix lists regular files recursively, sorted, without symlinks") {
  Fixture f;
  auto store = openStore(f.uri());
  auto list = store->list();
  REQUIRE_MESSAGE(list.isOk(), list.status().toString());
  REQUIRE(list->size() == 4);
  CHECK((*list)[0].path == "a.bin");
  CHECK((*list)[0].size == f.a.size());
  CHECK((*list)[1].path == "sub/b.bin");
  CHECK((*list)[1].size == f.b.size());
  CHECK((*list)[2].path == "sub/deeper/c.bin");
  CHECK((*list)[3].path == "sub/empty.bin");
  CHECK((*list)[3].size == 0);
  for (const auto& o : *list) {
    CHECK(o.pin.rfind(std::to_string(o.size) + "-", 0) == 0);
    CHECK(o.sha256.empty());
  }
  CHECK(store->describe() == f.uri());
}

TEST_CASE("readRange returns exactly the requested bytes") {
  Fixture f;
  auto store = openStore(f.uri());
  auto list = store->list();
  REQUIRE(list.isOk());
  const std::string pin = (*list)[0].pin;
  auto whole = readAll(*store, "a.bin", pin, 0, f.a.size());
  REQUIRE(whole.isOk());
  CHECK(*whole == f.a);
  auto middle = readAll(*store, "a.bin", pin, 1234567, 1500000);
  REQUIRE(middle.isOk());
  CHECK(*middle == f.a.substr(1234567, 1500000));
  auto nested = readAll(*store, "sub/deeper/c.bin", "", 0, 1);
  REQUIRE(nested.isOk());
  CHECK(*nested == f.c);
  auto last = readAll(*store, "sub/b.bin", "", 999, 1);
  REQUIRE(last.isOk());
  CHECK(*last == f.b.substr(999));
}

TEST_CASE("readRange rejects ranges beyond the end, bad paths and symlinks") {
  Fixture f;
  auto store = openStore(f.uri());
  auto beyond = readAll(*store, "sub/b.bin", "", 990, 11);
  REQUIRE_FALSE(beyond.isOk());
  CHECK(beyond.status().code() == StatusCode::kInvalidArgument);
  auto escape = readAll(*store, "../x", "", 0, 1);
  REQUIRE_FALSE(escape.isOk());
  CHECK(escape.status().code() == StatusCode::kInvalidArgument);
  auto link = readAll(*store, "link.txt", "", 0, 4);
  REQUIRE_FALSE(link.isOk());
  CHECK(link.status().code() == StatusCode::kNotFound);
  auto through = readAll(*store, "linkdir/secret.txt", "", 0, 4);
  REQUIRE_FALSE(through.isOk());
  CHECK(through.status().code() == StatusCode::kNotFound);
  auto missing = readAll(*store, "nope.bin", "", 0, 1);
  REQUIRE_FALSE(missing.isOk());
  CHECK(missing.status().code() == StatusCode::kNotFound);
}

TEST_CASE("a changed file fails a pinned read with object_changed naming the object") {
  Fixture f;
  auto store = openStore(f.uri());
  auto list = store->list();
  REQUIRE(list.isOk());
  const std::string old_pin = (*list)[1].pin;  // sub/b.bin
  std::string path = f.dir.write("sub/b.bin", patternBytes(1000, 9));
  bumpMtime(path, 5);
  auto r = readAll(*store, "sub/b.bin", old_pin, 0, 10);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.status().code() == StatusCode::kFailedPrecondition);
  CHECK(r.status().reason() == "object_changed");
  CHECK(r.status().message().find(f.uri() + "sub/b.bin") != std::string::npos);
  // Without a pin, or with the new one, the new bytes are served.
  auto relisted = store->list();
  REQUIRE(relisted.isOk());
  CHECK((*relisted)[1].pin != old_pin);
  auto fresh = readAll(*store, "sub/b.bin", (*relisted)[1].pin, 0, 1000);
  REQUIRE(fresh.isOk());
  CHECK(*fresh == patternBytes(1000, 9));
}

TEST_CASE("a sink error aborts the read and is returned") {
  Fixture f;
  auto store = openStore(f.uri());
  size_t calls = 0;
  Status st = store->readRange("a.bin", "", 0, f.a.size(), [&](const char*, size_t) {
    ++calls;
    return resourceExhausted("disk full", "no_space");
  });
  CHECK(st.reason() == "no_space");
  CHECK(calls == 1);
}

TEST_CASE("a single-file URI lists one object named by its last segment") {
  Fixture f;
  auto store = openStore("file://" + f.dir.path() + "/sub/b.bin");
  auto list = store->list();
  REQUIRE_MESSAGE(list.isOk(), list.status().toString());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].path == "b.bin");
  CHECK((*list)[0].size == 1000);
  auto r = readAll(*store, "b.bin", (*list)[0].pin, 10, 20);
  REQUIRE(r.isOk());
  CHECK(*r == f.b.substr(10, 20));
  auto other = readAll(*store, "a.bin", "", 0, 1);
  REQUIRE_FALSE(other.isOk());
  CHECK(other.status().code() == StatusCode::kNotFound);
}

TEST_CASE("listing fails on a file name that is not a valid path, naming it") {
  TempDir dir;
  dir.write("ok.bin", "x");
  dir.write("bad\\name.bin", "y");
  auto store = openStore("file://" + dir.path() + "/");
  auto list = store->list();
  REQUIRE_FALSE(list.isOk());
  CHECK(list.status().code() == StatusCode::kInvalidArgument);
  CHECK(list.status().message().find("bad\\name.bin") != std::string::npos);
}

TEST_CASE("a missing directory is NotFound and a relative file URI is rejected") {
  TempDir dir;
  auto store = openStore("file://" + dir.path() + "/missing/");
  auto list = store->list();
  REQUIRE_FALSE(list.isOk());
  CHECK(list.status().code() == StatusCode::kNotFound);
  SourceSpec rel;
  rel.uri = "file://relative/dir/";
  auto bad = FileObjectStore::open(rel, ObjectStoreOptions{});
  REQUIRE_FALSE(bad.isOk());
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shardcast
