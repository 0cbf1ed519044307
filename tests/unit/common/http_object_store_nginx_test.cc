// HttpObjectStore and HttpClient against a real nginx on loopback (installed by
// scripts/install-deps). Labelled "integration": it starts a server process.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/http_client.h"
#include "common/objstore/http_object_store.h"
#include "tests/unit/common/server_process.h"
#include "tests/unit/common/temp_dir.h"

namespace shardcast {
namespace {

using testing::patternBytes;
using testing::TempDir;

constexpr char kNginx[] = "/usr/sbin/nginx";
constexpr char kUserAgent[] = "shardcast-agent/test (node=n1; region=r1; rollout=ro-1)";

// Runs nginx in the foreground (daemon off, no master process so it keeps the
// test's user and can read the temp dir) with every path inside `dir`. The
// destructor stops it; the child also dies with the test process (PDEATHSIG).
class NginxServer {
 public:
  NginxServer(const std::string& dir, const std::string& locations) : dir_(dir) {
    REQUIRE_MESSAGE(::access(kNginx, X_OK) == 0,
                    "nginx not found at /usr/sbin/nginx: run scripts/install-deps (nginx-light)");
    // A port free a moment ago may be taken before nginx binds it: retry.
    for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) {
      port_ = testing::unusedLoopbackPort();
      writeConfig(locations);
      if (launch()) return;
    }
    FAIL("nginx did not start; error log:\n" << testing::readWholeFile(dir_ + "/error.log"));
  }
  ~NginxServer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string socketPath() const { return dir_ + "/nginx.sock"; }
  // nginx logs a request right after its last byte is written, so a client can read
  // the log first. One nginx process handles events one at a time: once a later
  // request is answered, every earlier one has been logged.
  std::string accessLog() const {
    HttpClient barrier;
    auto r = barrier.get(url("/__log_barrier"));
    REQUIRE_MESSAGE(r.isOk(), r.status().toString());
    return testing::readWholeFile(dir_ + "/access.log");
  }

 private:
  void writeConfig(const std::string& locations) {
    std::ofstream conf(dir_ + "/nginx.conf", std::ios::trunc);
    conf << "daemon off;\nmaster_process off;\n"
         << "pid " << dir_ << "/nginx.pid;\nerror_log " << dir_ << "/error.log info;\n"
         << "events { worker_connections 64; }\n"
         << "http {\n"
         << "  log_format counting '$connection $request_method $status $body_bytes_sent "
            "\"$uri\" \"$http_user_agent\" \"$http_x_test\" \"$http_authorization\"';\n"
         << "  access_log " << dir_ << "/access.log counting;\n"
         << "  client_body_temp_path " << dir_ << "/tmp_body;\n"
         << "  proxy_temp_path " << dir_ << "/tmp_proxy;\n"
         << "  fastcgi_temp_path " << dir_ << "/tmp_fastcgi;\n"
         << "  uwsgi_temp_path " << dir_ << "/tmp_uwsgi;\n"
         << "  scgi_temp_path " << dir_ << "/tmp_scgi;\n"
         << "  default_type application/octet-stream;\n"
         << "  server {\n"
         << "    listen 127.0.0.1:" << port_ << ";\n"
         << "    listen unix:" << socketPath() << ";\n"
         << "    root " << dir_ << "/www;\n"
         << locations << "  }\n}\n";
  }

  // Starts nginx and waits until it has bound its sockets (it writes the pid file
  // after binding) or exited. Returns false when it exited (e.g. port taken).
  bool launch() {
    std::string pid_file = dir_ + "/nginx.pid";
    ::unlink(pid_file.c_str());
    ::unlink(socketPath().c_str());
    std::string conf = dir_ + "/nginx.conf", log = dir_ + "/error.log";
    std::vector<std::string> args = {kNginx, "-p", dir_ + "/", "-c", conf, "-e", log};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::execv(kNginx, argv.data());
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) return false;
      if (testing::readWholeFile(pid_file).find(std::to_string(pid)) != std::string::npos) {
        pid_ = pid;
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return false;
  }

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// The served tree. /auto/ is listed by nginx autoindex (JSON); /indexed/ and the
// broken variants carry a shardcast-index.json; /noindex/ has neither.
struct Origin {
  TempDir tmp;
  std::string a = patternBytes(300000, 1);
  std::string b = patternBytes(4096, 2);
  std::string c = patternBytes(17, 3);
  std::string spaced = patternBytes(50, 4);
  std::string x = patternBytes(2000, 5);
  std::string y = patternBytes(3000, 6);
  std::unique_ptr<NginxServer> nginx;

  Origin() {
    tmp.write("www/auto/a.bin", a);
    tmp.write("www/auto/sub/b.bin", b);
    tmp.write("www/auto/sub/deeper/c.bin", c);
    tmp.write("www/auto/with space%.bin", spaced);
    std::filesystem::create_directories(tmp.path() + "/www/auto/emptydir");
    tmp.write("www/indexed/x.bin", x);
    tmp.write("www/indexed/nested/y.bin", y);
    tmp.write("www/indexed/not-listed.bin", "ignored: only the index counts");
    tmp.write("www/indexed/shardcast-index.json",
              R"([{"path": "x.bin", "size": 2000, "sha256": ")" + std::string(64, 'A') +
                  R"("}, {"path": "nested/y.bin", "size": 3000, "extra": 1},
                  {"path": "shardcast-index.json", "size": 1}])");
    tmp.write("www/badindex/shardcast-index.json", R"([{"path": "../etc/passwd", "size": 1}])");
    tmp.write("www/wrongsize/f.bin", "12345");
    tmp.write("www/wrongsize/shardcast-index.json", R"([{"path": "f.bin", "size": 6}])");
    tmp.write("www/noindex/f.bin", "z");
    tmp.write("www/slow/big.bin", patternBytes(200000, 7));
    std::filesystem::create_directories(tmp.path() + "/www/dav");
    nginx = std::make_unique<NginxServer>(
        tmp.path(),
        "    location /auto/ { autoindex on; autoindex_format json; }\n"
        "    location /denied/ { return 401; }\n"
        "    location /slow/ { limit_rate 1k; }\n"
        "    location /dav/ { dav_methods PUT DELETE; }\n");
  }

  std::unique_ptr<ObjectStore> store(const std::string& path) const {
    return storeFor(nginx->url(path));
  }
  static std::unique_ptr<ObjectStore> storeFor(const std::string& uri) {
    SourceSpec spec;
    spec.uri = uri;
    ObjectStoreOptions options;
    options.user_agent = kUserAgent;
    options.request_timeout_ms = 10000;
    auto s = HttpObjectStore::open(spec, options);
    REQUIRE_MESSAGE(s.isOk(), s.status().toString());
    return std::move(s).value();
  }
};

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

void bumpMtime(const std::string& path, int seconds) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  times[1].tv_sec += seconds;
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

TEST_CASE("HttpObjectStore against nginx") {
  Origin origin;

  SUBCASE("list() of an autoindex prefix recurses into directories and HEADs every file") {
    auto list = origin.store("/auto/")->list();
    REQUIRE_MESSAGE(list.isOk(), list.status().toString());
    REQUIRE(list->size() == 4);
    CHECK((*list)[0].path == "a.bin");
    CHECK((*list)[0].size == origin.a.size());
    CHECK((*list)[1].path == "sub/b.bin");
    CHECK((*list)[1].size == origin.b.size());
    CHECK((*list)[2].path == "sub/deeper/c.bin");
    CHECK((*list)[2].size == origin.c.size());
    CHECK((*list)[3].path == "with space%.bin");
    CHECK((*list)[3].size == origin.spaced.size());
    for (const auto& o : *list) {
      CHECK(o.pin.size() > 2);
      CHECK(o.pin.front() == '"');  // nginx ETags are strong: "<mtime>-<size>"
      CHECK(o.sha256.empty());
    }
    std::string log = origin.nginx->accessLog();
    CHECK(log.find("HEAD 200 0 \"/auto/with space%.bin\"") != std::string::npos);
    CHECK(log.find(kUserAgent) != std::string::npos);
  }

  SUBCASE("list() of an indexed prefix uses shardcast-index.json and checks sizes") {
    auto list = origin.store("/indexed/")->list();
    REQUIRE_MESSAGE(list.isOk(), list.status().toString());
    REQUIRE(list->size() == 2);
    CHECK((*list)[0].path == "nested/y.bin");
    CHECK((*list)[0].size == 3000);
    CHECK((*list)[0].sha256.empty());
    CHECK(!(*list)[0].pin.empty());
    CHECK((*list)[1].path == "x.bin");
    CHECK((*list)[1].size == 2000);
    CHECK((*list)[1].sha256 == std::string(64, 'a'));  // lowercased

    auto wrong = origin.store("/wrongsize/")->list();
    REQUIRE_FALSE(wrong.isOk());
    CHECK(wrong.status().code() == StatusCode::kFailedPrecondition);
    CHECK(wrong.status().message().find("/wrongsize/f.bin") != std::string::npos);

    auto bad = origin.store("/badindex/")->list();
    REQUIRE_FALSE(bad.isOk());
    CHECK(bad.status().code() == StatusCode::kInvalidArgument);
    CHECK(bad.status().message().find("../etc/passwd") != std::string::npos);
  }

  SUBCASE("a prefix without index or listing, 401 and 404 map to clear errors") {
    auto noindex = origin.store("/noindex/")->list();
    REQUIRE_FALSE(noindex.isOk());
    CHECK(noindex.status().code() == StatusCode::kPermissionDenied);  // nginx: 403
    CHECK(noindex.status().message().find(origin.nginx->url("/noindex/")) != std::string::npos);

    auto denied = origin.store("/denied/model.bin")->list();
    REQUIRE_FALSE(denied.isOk());
    CHECK(denied.status().code() == StatusCode::kPermissionDenied);
    CHECK(denied.status().message().find(origin.nginx->url("/denied/model.bin")) !=
          std::string::npos);

    auto missing = origin.store("/nothing-here/")->list();
    REQUIRE_FALSE(missing.isOk());
    CHECK(missing.status().code() == StatusCode::kNotFound);
  }

  SUBCASE("a single-file URI lists one object named by its decoded last segment") {
    auto store = origin.store("/auto/with%20space%25.bin");
    auto list = store->list();
    REQUIRE_MESSAGE(list.isOk(), list.status().toString());
    REQUIRE(list->size() == 1);
    CHECK((*list)[0].path == "with space%.bin");
    CHECK((*list)[0].size == origin.spaced.size());
    auto whole = readAll(*store, "with space%.bin", (*list)[0].pin, 0, origin.spaced.size());
    REQUIRE_MESSAGE(whole.isOk(), whole.status().toString());
    CHECK(*whole == origin.spaced);
    auto other = readAll(*store, "a.bin", "", 0, 1);
    REQUIRE_FALSE(other.isOk());
    CHECK(other.status().code() == StatusCode::kNotFound);
  }

  SUBCASE("readRange returns exactly the requested ranges") {
    auto store = origin.store("/auto/");
    auto list = store->list();
    REQUIRE(list.isOk());
    const std::string pin = (*list)[0].pin;
    for (auto [off, len] : std::vector<std::pair<uint64_t, uint64_t>>{
             {0, 1}, {0, 10}, {1000, 65536}, {299999, 1}, {0, 300000}, {123, 299877}}) {
      auto got = readAll(*store, "a.bin", pin, off, len);
      REQUIRE_MESSAGE(got.isOk(), got.status().toString());
      CHECK(*got == origin.a.substr(off, len));
    }
    auto nested = readAll(*store, "sub/deeper/c.bin", (*list)[2].pin, 0, 17);
    REQUIRE(nested.isOk());
    CHECK(*nested == origin.c);
    auto beyond = readAll(*store, "a.bin", "", 300000, 1);
    REQUIRE_FALSE(beyond.isOk());
    CHECK(beyond.status().reason() == "object_changed");
  }

  SUBCASE("an overwritten file fails a pinned read with object_changed naming the object") {
    auto store = origin.store("/auto/");
    auto list = store->list();
    REQUIRE(list.isOk());
    const std::string old_pin = (*list)[1].pin;  // sub/b.bin
    std::string path = origin.tmp.write("www/auto/sub/b.bin", patternBytes(4000, 8));
    bumpMtime(path, 10);
    auto r = readAll(*store, "sub/b.bin", old_pin, 0, 100);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().code() == StatusCode::kFailedPrecondition);
    CHECK(r.status().reason() == "object_changed");
    CHECK(r.status().message().find(origin.nginx->url("/auto/sub/b.bin")) != std::string::npos);
    CHECK(origin.nginx->accessLog().find("GET 412") != std::string::npos);

    // A weak pin is not sent as If-Match; the response ETag is compared instead.
    auto weak = readAll(*store, "sub/b.bin", "W/" + old_pin, 0, 100);
    REQUIRE_FALSE(weak.isOk());
    CHECK(weak.status().reason() == "object_changed");

    auto relisted = store->list();
    REQUIRE(relisted.isOk());
    CHECK((*relisted)[1].pin != old_pin);
    auto fresh = readAll(*store, "sub/b.bin", (*relisted)[1].pin, 0, 4000);
    REQUIRE(fresh.isOk());
    CHECK(*fresh == patternBytes(4000, 8));
  }

  SUBCASE("a slow origin times out with reason source_unreachable") {
    SourceSpec spec;
    spec.uri = origin.nginx->url("/slow/");
    ObjectStoreOptions options;
    options.request_timeout_ms = 300;
    auto store = HttpObjectStore::open(spec, options);
    REQUIRE(store.isOk());
    auto r = readAll(**store, "big.bin", "", 0, 200000);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().code() == StatusCode::kDeadlineExceeded);
    CHECK(r.status().reason() == "source_unreachable");
  }
}

TEST_CASE("an unreachable origin is Unavailable with reason source_unreachable") {
  int port = testing::unusedLoopbackPort();  // nothing listens there
  std::string base = "http://127.0.0.1:" + std::to_string(port) + "/models/m/";
  auto store = Origin::storeFor(base);
  auto list = store->list();
  REQUIRE_FALSE(list.isOk());
  CHECK(list.status().code() == StatusCode::kUnavailable);
  CHECK(list.status().reason() == "source_unreachable");
  CHECK(list.status().message().find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  auto read = readAll(*store, "w.bin", "", 0, 10);
  REQUIRE_FALSE(read.isOk());
  CHECK(read.status().reason() == "source_unreachable");
  CHECK(read.status().message().find(base + "w.bin") != std::string::npos);
}

TEST_CASE("HttpClient against nginx") {
  Origin origin;

  SUBCASE("HEAD has no body; headers are lowercased; keep-alive reuses one connection") {
    HttpClient client;
    HttpRequest head;
    head.method = "HEAD";
    head.url = origin.nginx->url("/auto/a.bin");
    auto r1 = client.send(head);
    REQUIRE_MESSAGE(r1.isOk(), r1.status().toString());
    CHECK(r1->status == 200);
    CHECK(r1->body.empty());
    CHECK(r1->headers.count("content-length") == 1);
    CHECK(r1->header("Content-Length") == "300000");
    auto r2 = client.get(origin.nginx->url("/auto/sub/deeper/c.bin"));
    REQUIRE(r2.isOk());
    CHECK(r2->status == 200);
    CHECK(r2->body == origin.c);
    // $connection is the first field of each access-log line.
    std::istringstream log(origin.nginx->accessLog());
    std::string line1, line2;
    std::getline(log, line1);
    std::getline(log, line2);
    CHECK(line1.substr(0, line1.find(' ')) == line2.substr(0, line2.find(' ')));
  }

  SUBCASE("custom headers, bearer token and PUT bodies reach the server") {
    HttpClientOptions options;
    options.bearer_token = "tok-123";
    HttpClient client(options);
    HttpRequest put;
    put.method = "PUT";
    put.url = origin.nginx->url("/dav/up.bin");
    put.body = patternBytes(100000, 11);
    put.headers.emplace_back("X-Test", "hello");
    auto r = client.send(put);
    REQUIRE_MESSAGE(r.isOk(), r.status().toString());
    CHECK(r->status == 201);
    CHECK(testing::readWholeFile(origin.tmp.path() + "/www/dav/up.bin") == put.body);
    std::string log = origin.nginx->accessLog();
    CHECK(log.find("PUT 201 0 \"/dav/up.bin\"") != std::string::npos);
    CHECK(log.find("\"hello\" \"Bearer tok-123\"") != std::string::npos);
  }

  SUBCASE("on_body streams 2xx bodies; error bodies stay in the response") {
    HttpClient client;
    std::string streamed;
    int header_calls = 0;
    HttpRequest req;
    req.url = origin.nginx->url("/auto/a.bin");
    req.on_headers = [&](const HttpResponse& h) {
      ++header_calls;
      CHECK(h.status == 200);
      CHECK(h.header("content-length") == "300000");
      return Status::ok();
    };
    req.on_body = [&](const char* d, size_t n) {
      streamed.append(d, n);
      return Status::ok();
    };
    auto r = client.send(req);
    REQUIRE(r.isOk());
    CHECK(header_calls == 1);
    CHECK(streamed == origin.a);
    CHECK(r->body.empty());

    streamed.clear();
    req.url = origin.nginx->url("/auto/missing.bin");
    req.on_headers = nullptr;
    auto missing = client.send(req);
    REQUIRE(missing.isOk());
    CHECK(missing->status == 404);
    CHECK(streamed.empty());
    CHECK(missing->body.find("404") != std::string::npos);
  }

  SUBCASE("an on_body error aborts the transfer and is returned") {
    HttpClient client;
    HttpRequest req;
    req.url = origin.nginx->url("/auto/a.bin");
    req.on_body = [](const char*, size_t) { return resourceExhausted("full", "no_space"); };
    auto r = client.send(req);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.status().reason() == "no_space");
    auto after = client.get(origin.nginx->url("/auto/sub/deeper/c.bin"));
    REQUIRE(after.isOk());
    CHECK(after->body == origin.c);
  }

  SUBCASE("unix_socket_path sends HTTP over a unix socket") {
    HttpClientOptions options;
    options.unix_socket_path = origin.nginx->socketPath();
    HttpClient client(options);
    auto r = client.get("http://localhost/auto/sub/deeper/c.bin");
    REQUIRE_MESSAGE(r.isOk(), r.status().toString());
    CHECK(r->status == 200);
    CHECK(r->body == origin.c);
  }

  SUBCASE("proxy variables are ignored unless use_proxy_env") {
    std::string dead_proxy = "http://127.0.0.1:" + std::to_string(testing::unusedLoopbackPort());
    ::setenv("http_proxy", dead_proxy.c_str(), 1);
    ::unsetenv("no_proxy");
    ::unsetenv("NO_PROXY");
    HttpClient direct;
    auto ok = direct.get(origin.nginx->url("/auto/sub/deeper/c.bin"));
    HttpClientOptions proxied_options;
    proxied_options.use_proxy_env = true;
    HttpClient proxied(proxied_options);
    auto failed = proxied.get(origin.nginx->url("/auto/sub/deeper/c.bin"));
    ::unsetenv("http_proxy");
    REQUIRE(ok.isOk());
    CHECK(ok->status == 200);
    REQUIRE_FALSE(failed.isOk());
    CHECK(failed.status().code() == StatusCode::kUnavailable);
  }

  SUBCASE("HttpClientPool hands back released clients") {
    HttpClientPool pool(HttpClientOptions{});
    HttpClient* first = nullptr;
    {
      auto h = pool.acquire();
      first = &*h;
      auto r = h->get(origin.nginx->url("/auto/sub/deeper/c.bin"));
      REQUIRE(r.isOk());
    }
    auto h1 = pool.acquire();
    auto h2 = pool.acquire();
    CHECK(&*h1 == first);
    CHECK(&*h2 != first);
  }
}

}  // namespace
}  // namespace shardcast
