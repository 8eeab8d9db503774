#!/usr/bin/python3
"""A stand-in vCenter that answers badly on purpose (robustness tests).

  hostile-vcenter.py MODE CERT KEY PORTFILE

Serves HTTPS on 127.0.0.1 (a free port, written to PORTFILE) and answers
POST /sdk from tests/data/soap/service-content.xml (a real vCenter 6.5
RetrieveServiceContent answer), changed as MODE says:
  no-session-manager-type   sessionManager without its type attribute
  no-view-manager           no viewManager (login works)
Login answers a UserSession with a session cookie; every other call a
NotImplemented fault.  It never encodes what ferry does: only what a broken
or hostile server could send."""
import http.server, os, re, ssl, sys

mode, cert, key, portfile = sys.argv[1:5]
here = os.path.dirname(os.path.abspath(__file__))
sc = open(os.path.join(here, "..", "data", "soap", "service-content.xml")).read()
if mode == "no-session-manager-type":
    sc = sc.replace('<sessionManager type="SessionManager">', "<sessionManager>")
elif mode == "no-view-manager":
    sc = re.sub(r"<viewManager[^>]*>[^<]*</viewManager>", "", sc)
else:
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


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        status, cookie = 200, None
        if "<RetrieveServiceContent" in body:
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
        self.wfile.write(data)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
