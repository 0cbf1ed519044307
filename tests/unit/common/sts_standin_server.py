#!/usr/bin/env python3
"""A STAND-IN for AWS STS AssumeRoleWithWebIdentity (IRSA), plus just enough of
S3 ListObjectsV2 to show which credentials a client signs with.

No STS emulator installs here, so this replays the answers the STS API reference
documents (version 2011-06-15):
  - 200 AssumeRoleWithWebIdentityResponse with Credentials (AccessKeyId,
    SecretAccessKey, SessionToken, Expiration) when RoleArn is --role and
    WebIdentityToken is --token;
  - 403 ErrorResponse AccessDenied ("Not authorized to perform
    sts:AssumeRoleWithWebIdentity") for any other role;
  - 400 ErrorResponse InvalidIdentityToken for any other token.
It accepts the query either as a POST form body or in the URL (GET).
GET /<bucket>?list-type=2 answers a one-object ListBucketResult when the request
carries X-Amz-Security-Token equal to the issued session token and a SigV4
Authorization with the issued access key id, else 403 InvalidToken.
GET /standin/stats returns counters and the last request seen, as JSON.
Passing against this shows the client speaks the documented protocol, not that
real STS agrees.
"""
import argparse
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCESS_KEY_ID = "ASIASTANDINEXAMPLE01"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSTANDINKEY"
SESSION_TOKEN = "FwoGZXIvYXdzEStandInSessionToken//example+token="

LOCK = threading.Lock()
STATS = {"assume": 0, "denied": 0, "list": 0, "last_sts": {}, "last_s3_token": ""}


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def success_doc(role, session, expiration):
    return f"""<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:models:shardcast-agent</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>{xml_escape(role.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/"))}/{xml_escape(session)}</Arn>
      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:{xml_escape(session)}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>{xml_escape(SESSION_TOKEN)}</SessionToken>
      <SecretAccessKey>{xml_escape(SECRET_ACCESS_KEY)}</SecretAccessKey>
      <Expiration>{expiration}</Expiration>
      <AccessKeyId>{ACCESS_KEY_ID}</AccessKeyId>
    </Credentials>
    <Provider>arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
"""


def error_doc(kind, code, message):
    return f"""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>{kind}</Type>
    <Code>{code}</Code>
    <Message>{xml_escape(message)}</Message>
  </Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>
"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("sts-standin: " + (fmt % args) + "\n")

    def send_bytes(self, status, body, ctype="text/xml"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode()
        self.sts(dict(urllib.parse.parse_qsl(body, keep_blank_values=True)),
                 self.headers.get("Content-Type", ""))

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        if url.path == "/standin/stats":
            with LOCK:
                return self.send_bytes(200, json.dumps(STATS).encode(), "application/json")
        if q.get("Action") == "AssumeRoleWithWebIdentity":
            return self.sts(q, "")
        if q.get("list-type") == "2":
            return self.s3_list(url.path.strip("/"))
        self.send_bytes(404, b"<Error><Code>NoSuchKey</Code></Error>")

    def sts(self, q, ctype):
        with LOCK:
            STATS["last_sts"] = {
                "action": q.get("Action", ""), "version": q.get("Version", ""),
                "role_arn": q.get("RoleArn", ""), "session_name": q.get("RoleSessionName", ""),
                "token": q.get("WebIdentityToken", ""), "content_type": ctype,
                "authorization": self.headers.get("Authorization", "")}
        if q.get("Action") != "AssumeRoleWithWebIdentity" or q.get("Version") != "2011-06-15":
            return self.send_bytes(400, error_doc("Sender", "InvalidAction", "bad action").encode())
        if q.get("RoleArn") != self.server.role:
            with LOCK:
                STATS["denied"] += 1
            return self.send_bytes(403, error_doc(
                "Sender", "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity").encode())
        if q.get("WebIdentityToken") != self.server.token:
            with LOCK:
                STATS["denied"] += 1
            return self.send_bytes(400, error_doc(
                "Sender", "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider").encode())
        with LOCK:
            STATS["assume"] += 1
        expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + self.server.duration))
        self.send_bytes(200, success_doc(q["RoleArn"], q.get("RoleSessionName", ""), expiration).encode())

    def s3_list(self, bucket):
        token = self.headers.get("X-Amz-Security-Token", "")
        auth = self.headers.get("Authorization", "")
        with LOCK:
            STATS["list"] += 1
            STATS["last_s3_token"] = token
            STATS["last_s3_authorization"] = auth
        if token != SESSION_TOKEN or ("Credential=" + ACCESS_KEY_ID + "/") not in auth:
            return self.send_bytes(403, b"<Error><Code>InvalidToken</Code>"
                                        b"<Message>The provided token is malformed or otherwise invalid.</Message></Error>",
                                   "application/xml")
        body = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
                'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>%s</Name><KeyCount>1</KeyCount>'
                '<IsTruncated>false</IsTruncated><Contents><Key>m/weights.bin</Key><Size>42</Size>'
                '<ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag></Contents></ListBucketResult>' % bucket)
        self.send_bytes(200, body.encode(), "application/xml")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--duration", type=int, default=3600, help="seconds until Expiration")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.role, server.token, server.duration = args.role, args.token, args.duration
    print("STS stand-in listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
