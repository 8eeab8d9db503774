#!/usr/bin/python3
"""A stand-in vCenter that answers badly on purpose (robustness tests).

  hostile-vcenter.py MODE CERT KEY PORTFILE

Serves HTTPS on 127.0.0.1 (a free port, written to PORTFILE) and answers
POST /sdk from tests/data/soap/service-content.xml (a real vCenter 6.5
RetrieveServiceContent answer), changed as MODE says:
  no-session-manager-type   sessionManager without its type attribute
  no-view-manager           no viewManager (login works)
  billion-laughs            a DTD whose entities expand 10^9 times, used in
                            about.fullName ("billion laughs")
  deep                      300,000 nested elements in about.fullName
  huge                      2 GiB of valid-looking XML, generated as it is
                            sent, no Content-Length
  trickle                   the real answer's headers, then its body one byte
                            per second
  silent                    accepts TCP connections, never answers (no TLS
                            handshake either)
Login answers a UserSession with a session cookie; every other call a
NotImplemented fault.  It never encodes what ferry does: only what a broken
or hostile server could send."""
import http.server, os, re, socket, ssl, sys, time

mode, cert, key, portfile = sys.argv[1:5]
here = os.path.dirname(os.path.abspath(__file__))
sc = open(os.path.join(here, "..", "data", "soap", "service-content.xml")).read()
FULLNAME = "<fullName>VMware vCenter Server 6.5.0 build-5973321</fullName>"
DEPTH = 300000
HUGE = 2 << 30
if mode == "no-session-manager-type":
    sc = sc.replace('<sessionManager type="SessionManager">', "<sessionManager>")
elif mode == "no-view-manager":
    sc = re.sub(r"<viewManager[^>]*>[^<]*</viewManager>", "", sc)
elif mode == "billion-laughs":
    dtd = '<!DOCTYPE soapenv:Envelope [<!ENTITY lol0 "lol">'
    for i in range(1, 10):
        dtd += '<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1)) * 10)
    dtd += "]>"
    sc = sc.replace("?>", "?>" + dtd, 1).replace(FULLNAME, "<fullName>&lol9;</fullName>")
elif mode == "deep":
    sc = sc.replace(FULLNAME, "<fullName>" + "<a>" * DEPTH + "</a>" * DEPTH + "</fullName>")
elif mode not in ("huge", "trickle", "silent"):
    sys.exit("unknown mode " + mode)

ENV = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
       'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
       'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>%s'
       '</soapenv:Body></soapenv:Envelope>')
LOGIN = ('<LoginResponse xmlns="urn:vim25"><returnval><key>52a1</key><userName>u</userName>'
         '<fullName>u</fullName><loginTime>2026-12-03T00:00:00Z</loginTime>'
         '<lastActiveTime>2026-12-03T00:00:00Z</lastActiveTime><locale>en</locale>'
         '<messageLocale>en</messageLocale><extensionSession>false</extensionSession>'
         '<ipAddress>127.0.0.1</ipAddress><userAgent>x</userAgent><callCount>0</callCount>'
         '</returnval></LoginResponse>')
FAULT = ('<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>not implemented'
         '</faultstring><detail><NotImplementedFault xmlns="urn:vim25" '
         'xsi:type="NotImplemented"/></detail></soapenv:Fault>')


def write_port(port):
    with open(portfile + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(portfile + ".tmp", portfile)


if mode == "silent":
    # Connections are accepted (and kept) but nothing is ever sent.
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

    def huge(self):
        # The service content's beginning, then objects until HUGE bytes:
        # made as they go out, never held.
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.end_headers()
        head = sc[:sc.index("<about>")]
        item = "<extension><key>com.example.x</key><version>1.0</version></extension>"
        chunk = (item * ((1 << 20) // len(item))).encode()
        self.wfile.write(head.encode())
        sent = len(head)
        while sent < HUGE:
            self.wfile.write(chunk)
            sent += len(chunk)
        self.wfile.write(sc[sc.index("<about>"):].encode())

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        status, cookie = 200, None
        if "<RetrieveServiceContent" in body:
            if mode == "huge":
                try:
                    self.huge()
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass
                return
            out = sc
        elif "<Login " in body or "<Login>" in body:
            out, cookie = ENV % LOGIN, 'vmware_soap_session="hostile-session-cookie"; Path=/'
        else:
            out, status = ENV % FAULT, 500
        data = out.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        if mode != "trickle":
            self.wfile.write(data)
            return
        # The answer's body a byte a second (4 KB: over an hour).
        try:
            for i in range(len(data)):
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
                time.sleep(1)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
write_port(srv.server_address[1])
srv.serve_forever()
