"""A fault-injecting HTTP proxy for origin tests (python3 stdlib only).

Sits between the agents and a real origin (the harness's nginx, which counts the
origin bytes) and, for the agents' ranged GETs of model objects:

  * answers the first `fail_first` of them, and then every `fail_every`-th, itself
    with 503 or 429 (alternating) carrying `Retry-After: <retry_after>`; nothing
    reaches the origin, so the origin counts nothing for them;
  * for every `drop_every`-th of the others (at most `max_drops` times), sends the
    full response head (206, the whole Content-Range and Content-Length the agent
    asked for) but only the first `drop_after` bytes of the body, then cuts the TCP
    connection. It asks the origin for exactly those bytes (a Range of
    `drop_after` bytes), so the origin's log counts what really went out before
    the cut — the egress a real origin would see when a connection dies mid-body —
    and a client that resumes costs nothing extra while one that starts the piece
    over is counted for the repeat.
  * passes everything else (listings, index files, HEAD, other GETs) through.

It also records the most ranged GETs in flight at once per region (from the
agents' User-Agent, "region=<r>"): `max_in_flight()`, to check origin concurrency
limits.

Runs in the test process on its own threads; start() returns once it listens on
127.0.0.1:<port>, stop() closes it. Thread-safe counters: `stats()`.
"""
import http.client
import http.server
import re
import socket
import threading

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "host",
              "server", "date"}  # the last two: the proxy's own are sent


def _cuttable(rng):
    """True for a "bytes=A-B" range of at least two bytes: one that _drop can cut."""
    m = re.fullmatch(r"bytes=(\d+)-(\d+)", rng.strip())
    return bool(m) and int(m.group(2)) > int(m.group(1))


class FaultyProxy:
    def __init__(self, upstream_host, upstream_port, fail_first=0, fail_every=0,
                 retry_after="1", drop_every=0, drop_after=65536, max_drops=1 << 30,
                 path_prefix="/"):
        self.upstream = (upstream_host, upstream_port)
        self.fail_first = fail_first
        self.fail_every = fail_every
        self.retry_after = retry_after
        self.drop_every = drop_every
        self.drop_after = drop_after
        self.max_drops = max_drops
        self.path_prefix = path_prefix
        self._lock = threading.Lock()
        self._ranged = 0      # ranged GETs seen; guarded by _lock
        self._passed = 0      # ranged GETs forwarded (whole or cut); guarded by _lock
        self._counts = {"503": 0, "429": 0, "dropped": 0, "passed": 0, "other": 0}
        self._in_flight = {}      # region -> ranged GETs now; guarded by _lock
        self._max_in_flight = {}  # region -> most at once; guarded by _lock
        self._server = None
        self._thread = None
        self.port = None

    # --- decisions -------------------------------------------------------
    def _decide(self, can_cut):
        """The action for the next ranged GET; `can_cut` is False for a range too
        short to cut mid-body (one byte), so a counted cut is always a real one."""
        with self._lock:
            self._ranged += 1
            n = self._ranged
            if n <= self.fail_first or (self.fail_every and n % self.fail_every == 0):
                code = "503" if (self._counts["503"] <= self._counts["429"]) else "429"
                self._counts[code] += 1
                return code
            self._passed += 1
            if (can_cut and self.drop_every and self._passed % self.drop_every == 0
                    and self._counts["dropped"] < self.max_drops):
                self._counts["dropped"] += 1
                return "drop"
            self._counts["passed"] += 1
            return "pass"

    def stats(self):
        with self._lock:
            return dict(self._counts)

    def max_in_flight(self):
        with self._lock:
            return dict(self._max_in_flight)

    def _enter(self, region):
        with self._lock:
            n = self._in_flight.get(region, 0) + 1
            self._in_flight[region] = n
            self._max_in_flight[region] = max(n, self._max_in_flight.get(region, 0))

    def _leave(self, region):
        with self._lock:
            self._in_flight[region] -= 1

    # --- server ----------------------------------------------------------
    def start(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                proxy._forward(self, "HEAD")

            def do_GET(self):
                rng = self.headers.get("Range")
                if rng is None or not self.path.startswith(proxy.path_prefix):
                    with proxy._lock:
                        proxy._counts["other"] += 1
                    return proxy._forward(self, "GET")
                m = re.search(r"region=([^;)]*)", self.headers.get("User-Agent", ""))
                region = m.group(1) if m else "?"
                proxy._enter(region)
                try:
                    action = proxy._decide(_cuttable(rng))
                    if action in ("503", "429"):
                        return proxy._error(self, int(action))
                    if action == "drop":
                        return proxy._drop(self, rng)
                    return proxy._forward(self, "GET")
                finally:
                    proxy._leave(region)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}/{path}"

    # --- actions ---------------------------------------------------------
    def _upstream_headers(self, h, extra=None):
        headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Host"] = f"{self.upstream[0]}:{self.upstream[1]}"
        headers.update(extra or {})
        return headers

    def _error(self, h, code):
        body = (b"<Error><Code>SlowDown</Code><Message>injected by faulty_proxy</Message></Error>"
                if code == 503 else b"too many requests (injected by faulty_proxy)\n")
        h.send_response(code)
        h.send_header("Retry-After", self.retry_after)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _forward(self, h, method, extra=None):
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            conn.request(method, h.path, headers=self._upstream_headers(h, extra))
            resp = conn.getresponse()
            h.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP:
                    h.send_header(k, v)
            if resp.getheader("Content-Length") is None and method != "HEAD":
                h.send_header("Connection", "close")
                h.close_connection = True
            h.end_headers()
            if method == "HEAD":
                return
            while True:
                chunk = resp.read(256 * 1024)
                if not chunk:
                    break
                h.wfile.write(chunk)
        except (OSError, http.client.HTTPException):
            h.close_connection = True
        finally:
            conn.close()

    def _drop(self, h, rng):
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", rng.strip())
        if not m:
            return self._forward(h, "GET")
        first, last = int(m.group(1)), int(m.group(2))
        keep = min(self.drop_after, last - first)  # at least one byte is never sent
        if keep <= 0:
            return self._forward(h, "GET")
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            conn.request("GET", h.path, headers=self._upstream_headers(
                h, {"Range": f"bytes={first}-{first + keep - 1}"}))
            resp = conn.getresponse()
            if resp.status != 206:  # an error or a changed object: pass it on as it is
                body = resp.read()
                h.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                        h.send_header(k, v)
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                h.wfile.write(body)
                return
            total = resp.getheader("Content-Range", "").rpartition("/")[2] or "*"
            body = resp.read()
            h.send_response(206)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP | {"content-length", "content-range"}:
                    h.send_header(k, v)
            h.send_header("Content-Range", f"bytes {first}-{last}/{total}")
            h.send_header("Content-Length", str(last - first + 1))
            h.end_headers()
            h.wfile.write(body)
            h.wfile.flush()
        finally:
            conn.close()
        # Cut the connection mid-body.
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
