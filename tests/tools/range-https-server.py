#!/usr/bin/python3
"""A small HTTPS file server answering byte ranges (RFC 9110 Range, 206 with
Content-Range), as vSphere's datastore file access does, for tests of
ferry's https:// reader without the lab.

  range-https-server.py FILE CERT KEY PORTFILE [COOKIE] [--no-ranges]

Serves FILE at /disk on 127.0.0.1 (a free port, written to PORTFILE).  With
COOKIE ("name=value"), a request without that cookie gets 401.  With
--no-ranges, the Range header is ignored (200 with the whole file: a server
ferry must refuse rather than misread)."""
import http.server, os, re, ssl, sys

path, cert, key, portfile = sys.argv[1:5]
rest = sys.argv[5:]
ranges = "--no-ranges" not in rest
rest = [a for a in rest if a != "--no-ranges"]
cookie = rest[0] if rest else None
size = os.path.getsize(path)


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path.split("?")[0] != "/disk":
            self.send_error(404)
            return
        if cookie and cookie not in (self.headers.get("Cookie") or ""):
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        m = re.match(r"bytes=(\d+)-(\d+)$", self.headers.get("Range") or "")
        with open(path, "rb") as f:
            if ranges and m:
                a, b = int(m.group(1)), min(int(m.group(2)), size - 1)
                f.seek(a)
                data = f.read(b - a + 1)
                self.send_response(206)
                self.send_header("Content-Range", "bytes %d-%d/%d" % (a, b, size))
            else:
                data = f.read()
                self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
