#!/usr/bin/env python3
"""A STAND-IN for Google Cloud Storage and the GCE metadata server, for tests.

No GCS emulator or metadata server installs here, so this small server replays
responses in the shapes Google documents, over objects kept as files under
--data DIR (DIR/<bucket>/<object name>):

  JSON API (https://cloud.google.com/storage/docs/json_api/v1/objects)
    GET /storage/v1/b/<bucket>/o?prefix=&maxResults=&pageToken=   objects.list
        {"kind": "storage#objects", "items": [...], "nextPageToken": "..."}
    GET /storage/v1/b/<bucket>/o/<name>                            objects.get
    GET /storage/v1/b/<bucket>/o/<name>?alt=media[&ifGenerationMatch=G]
        media download: Range -> 206 + Content-Range, 416 beyond the end,
        412 conditionNotMet when G is not the live generation;
        x-goog-generation and ETag headers
    401 authError {"error": {...}} unless "Authorization: Bearer <--token>"
  XML API (S3-compatible; only a listing, to check HMAC/SigV4 requests)
    GET /<bucket>?list-type=2 -> <ListBucketResult>; the Authorization header is
        recorded. Requests without "AWS4-HMAC-SHA256" get 403.
  Metadata server
    GET /computeMetadata/v1/instance/service-accounts/default/token with
        "Metadata-Flavor: Google" -> {"access_token", "expires_in", "token_type"}
  Test hooks
    GET /standin/stats -> request counters and the last XML Authorization header

A generation is the object file's st_mtime_ns (writing the file again makes a
new one). Binds 127.0.0.1 port 0 and prints "GCS stand-in listening on
127.0.0.1:PORT".
"""
import argparse
import base64
import hashlib
import json
import os
import sys
import threading
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATS = {"list": 0, "get": 0, "media": 0, "metadata_token": 0, "xml_list": 0,
         "unauthorized": 0, "xml_authorization": ""}
LOCK = threading.Lock()


def count(key):
    with LOCK:
        STATS[key] += 1


def error_doc(code, message, reason):
    # The JSON API's documented error shape.
    return {"error": {"code": code, "message": message,
                      "errors": [{"message": message, "domain": "global", "reason": reason}]}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gcs-standin/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send_json(self, code, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_bytes(self, code, body, headers):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def object_path(self, bucket, name):
        root = os.path.realpath(os.path.join(self.server.data, bucket))
        path = os.path.realpath(os.path.join(root, name))
        if not path.startswith(root + os.sep):
            return None
        return path

    def resource(self, bucket, name, path):
        st = os.stat(path)
        data = open(path, "rb").read()
        gen = str(st.st_mtime_ns)
        return {
            "kind": "storage#object", "id": "%s/%s/%s" % (bucket, name, gen),
            "name": name, "bucket": bucket, "generation": gen, "metageneration": "1",
            "contentType": "application/octet-stream", "storageClass": "STANDARD",
            "size": str(len(data)),
            "md5Hash": base64.b64encode(hashlib.md5(data).digest()).decode(),
            "crc32c": base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode(),  # stand-in value
            "etag": base64.b64encode(gen.encode()).decode(),
        }

    def authorized(self):
        if self.headers.get("Authorization") == "Bearer " + self.server.token:
            return True
        count("unauthorized")
        self.send_json(401, error_doc(401, "Invalid Credentials", "authError"),
                       {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
        return False

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        q = {k: v[0] for k, v in query.items()}
        parts = url.path.split("/")
        if url.path == "/standin/stats":
            with LOCK:
                return self.send_json(200, dict(STATS))
        if url.path == "/computeMetadata/v1/instance/service-accounts/default/token":
            if self.headers.get("Metadata-Flavor") != "Google":
                return self.send_json(403, {"error": "Missing Metadata-Flavor:Google header"})
            count("metadata_token")
            return self.send_json(200, {"access_token": self.server.token,
                                        "expires_in": self.server.expires_in,
                                        "token_type": "Bearer"})
        if url.path.startswith("/storage/v1/b/"):
            # /storage/v1/b/<bucket>/o[/<name>]
            if len(parts) < 6 or parts[5] != "o":
                return self.send_json(404, error_doc(404, "Not Found", "notFound"))
            if not self.authorized():
                return
            bucket = urllib.parse.unquote(parts[4])
            if not os.path.isdir(os.path.join(self.server.data, bucket)):
                return self.send_json(404, error_doc(404, "The specified bucket does not exist.", "notFound"))
            if len(parts) == 6:
                return self.list_objects(bucket, q)
            name = urllib.parse.unquote("/".join(parts[6:]))
            return self.get_object(bucket, name, q)
        if len(parts) == 2 and "list-type" in q:
            return self.xml_list(parts[1], q)
        self.send_json(404, error_doc(404, "Not Found", "notFound"))

    def list_objects(self, bucket, q):
        count("list")
        root = os.path.join(self.server.data, bucket)
        names = []
        for dirpath, _, files in os.walk(root):
            for f in files:
                names.append(os.path.relpath(os.path.join(dirpath, f), root))
        prefix = q.get("prefix", "")
        names = sorted(n for n in names if n.startswith(prefix))
        start = q.get("pageToken", "")
        if start:
            after = base64.urlsafe_b64decode(start.encode()).decode()
            names = [n for n in names if n > after]
        page = int(q.get("maxResults", "1000"))
        items = [self.resource(bucket, n, os.path.join(root, n)) for n in names[:page]]
        out = {"kind": "storage#objects", "items": items}
        if len(names) > page:
            out["nextPageToken"] = base64.urlsafe_b64encode(names[page - 1].encode()).decode()
        self.send_json(200, out)

    def get_object(self, bucket, name, q):
        path = self.object_path(bucket, name)
        if path is None or not os.path.isfile(path):
            return self.send_json(404, error_doc(404, "No such object: %s/%s" % (bucket, name), "notFound"))
        res = self.resource(bucket, name, path)
        if q.get("alt") != "media":
            count("get")
            return self.send_json(200, res)
        count("media")
        want = q.get("ifGenerationMatch")
        if want is not None and want != res["generation"]:
            return self.send_json(412, error_doc(412, "Precondition Failed", "conditionNotMet"))
        data = open(path, "rb").read()
        headers = {"Content-Type": "application/octet-stream", "ETag": res["etag"],
                   "x-goog-generation": res["generation"], "x-goog-metageneration": "1",
                   "x-goog-stored-content-length": res["size"], "Accept-Ranges": "bytes"}
        rng = self.headers.get("Range")
        if not rng:
            return self.send_bytes(200, data, headers)
        first, _, last = rng[len("bytes="):].partition("-")
        first = int(first)
        last = min(int(last) if last else len(data) - 1, len(data) - 1)
        if first >= len(data):
            return self.send_json(416, error_doc(416, "The requested range cannot be satisfied.", "requestedRangeNotSatisfiable"))
        headers["Content-Range"] = "bytes %d-%d/%d" % (first, last, len(data))
        self.send_bytes(206, data[first:last + 1], headers)

    def xml_list(self, bucket, q):
        count("xml_list")
        auth = self.headers.get("Authorization", "")
        with LOCK:
            STATS["xml_authorization"] = auth
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return self.send_bytes(403, b"<Error><Code>AccessDenied</Code></Error>",
                                   {"Content-Type": "application/xml"})
        root = os.path.join(self.server.data, bucket)
        prefix = q.get("prefix", "")
        rows = []
        for dirpath, _, files in os.walk(root):
            for f in files:
                n = os.path.relpath(os.path.join(dirpath, f), root)
                if n.startswith(prefix):
                    rows.append("<Contents><Key>%s</Key><Size>%d</Size><ETag>\"%s\"</ETag></Contents>"
                                % (n, os.path.getsize(os.path.join(root, n)), "0" * 32))
        body = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
                'xmlns="http://doc.s3.amazonaws.com/2006-03-01"><Name>%s</Name>'
                '<IsTruncated>false</IsTruncated>%s</ListBucketResult>' % (bucket, "".join(sorted(rows))))
        self.send_bytes(200, body.encode(), {"Content-Type": "application/xml"})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--expires-in", type=int, default=3599)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.data = args.data
    server.token = args.token
    server.expires_in = args.expires_in
    print("GCS stand-in listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
