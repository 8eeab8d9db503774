#!/usr/bin/python3
"""A stand-in Keystone that answers badly on purpose (robustness tests).

  hostile-keystone.py MODE PORTFILE

Serves plain HTTP on 127.0.0.1 (a free port, written to PORTFILE) and
answers POST /v3/auth/tokens (a password authentication) with a 201, an
X-Subject-Token header and a token body as MODE says:
  huge        2 GiB of valid-looking JSON (a catalog that never ends),
              announced in Content-Length, generated as it is sent
  deep        JSON nested 300,000 levels deep
  trickle     a real token body, one byte per second
  silent      accepts TCP connections, never answers
  malformed   a token body cut short and followed by garbage
Anything else: 404.  It never encodes what ferry does: only what a broken
or hostile server could send."""
import http.server, json, os, socket, sys, time

mode, portfile = sys.argv[1:3]
if mode not in ("huge", "deep", "trickle", "silent", "malformed"):
    sys.exit("unknown mode " + mode)
DEPTH = 300000
HUGE = 2 << 30
TOKEN = {"token": {
    "methods": ["password"], "expires_at": "2099-01-01T00:00:00.000000Z",
    "user": {"id": "u1", "name": "ferry", "domain": {"id": "default", "name": "Default"}},
    "project": {"id": "p1", "name": "migration", "domain": {"id": "default"}},
    "roles": [{"id": "r1", "name": "member"}],
    "catalog": [{"type": "compute", "name": "nova", "endpoints": [
        {"interface": "public", "region": "RegionOne", "region_id": "RegionOne",
         "url": "http://127.0.0.1:9/compute/v2.1"}]}]}}


def write_port(port):
    with open(portfile + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(portfile + ".tmp", portfile)


if mode == "silent":
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    write_port(lsock.getsockname()[1])
    held = []
    while True:
        held.append(lsock.accept()[0])


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not self.path.endswith("/auth/tokens"):
            self.send_error(404)
            return
        body = json.dumps(TOKEN).encode()
        if mode == "deep":
            body = b'{"token": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"
        elif mode == "malformed":
            body = body[:len(body) // 2] + b'\x00\xff}}]] "not json'
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Subject-Token", "gAAAAAhostiletoken")
        self.send_header("Content-Length", str(HUGE if mode == "huge" else len(body)))
        self.end_headers()
        try:
            if mode == "huge":
                # A catalog entry after another, made as they go out.
                head = b'{"token": {"catalog": ['
                item = b'{"type": "x", "endpoints": [{"url": "http://127.0.0.1:9/"}]},'
                chunk = item * ((1 << 20) // len(item))
                self.wfile.write(head)
                sent = len(head)
                while sent + len(chunk) <= HUGE:
                    self.wfile.write(chunk)
                    sent += len(chunk)
                self.wfile.write(b" " * (HUGE - sent))
            elif mode == "trickle":
                for i in range(len(body)):
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(1)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
write_port(srv.server_address[1])
srv.serve_forever()
