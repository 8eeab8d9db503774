#!/usr/bin/env python3
"""A stand-in vCenter + ESXi authd/NFC server for the nbdkit nfc plugin's tests.

Not the lab (lab/vcsim/harness/nfc*.go is): a small, stdlib-only server
that speaks the protocol as the published captures describe it
(cloudbase/OpenVixDiskLib docs/nfc_auth.md, nfc_open.md, nfc_read.md),
well or -- on purpose -- badly, so that tests can prove the plugin turns
every bad answer into a clear error and never crashes or hangs.

  nfc-standin.py --cert C --key K --disk FILE --state DIR [--mode MODE]

Writes DIR/ports ("SOAP_PORT NFC_PORT") once listening, and appends what
the clients did to DIR/log (authd commands, tickets, NFC messages).
Modes (also read again from DIR/mode at each connection, when present):
  good           as the captures say; read replies in shuffled fragments
  bad-banner     authd greets with something else
  refuse         authd answers BANNER with a 530 line
  stale-ticket   a ticket asked after the last one was used is that one
                 again (once in a row): authd refuses it
  wrong-tp       tickets carry a wrong sslThumbprint
  bad-magic      each connection's first IO reply has a wrong magic
  big-frame      each connection's first IO reply announces a 1 GiB payload
  frag-past-end  each connection's first IO reply's fragment lies past the request
  frag-overlap   each connection's first IO reply sends one fragment twice
  aio-error      every IO read at offset 1 MiB gets an AIO error (code 0xb)
  drop-once      the first NFC connection to read 4 times closes instead
  silent         IO requests get no answer (the plugin's timeout)
  no-ticket-tp   the ticket has no sslThumbprint
"""
import argparse
import hashlib
import http.server
import os
import random
import re
import socket
import socketserver
import ssl
import struct
import sys
import threading
import uuid

MAGIC = 0xA100DA7A
MSG = 264


def log(state, line):
    with open(os.path.join(state, "log"), "a") as f:
        f.write(line + "\n")


class World:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.tickets_issued = []
        self.tickets_used = set()
        self.last_was_stale = False
        self.dropped = False
        self.last_mode = None
        self.nfc_conns = 0
        with open(args.cert, "rb") as f:
            pem = f.read()
        der = ssl.PEM_cert_to_DER_cert(pem.decode())
        self.sha1 = ":".join("%02X" % b for b in hashlib.sha1(der).digest())
        self.sha256 = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
        self.capacity = os.path.getsize(args.disk)
        self.nfc_port = 0

    def mode(self):
        m = self.args.mode
        p = os.path.join(self.args.state, "mode")
        if os.path.exists(p):
            with open(p) as f:
                m = f.read().strip() or self.args.mode
        with self.lock:
            if m != self.last_mode:     # one-shot faults start again
                self.last_mode = m
                self.dropped = False
                self.last_was_stale = False
        return m


def xml_envelope(body):
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<soapenv:Body>%s</soapenv:Body></soapenv:Envelope>' % body)


def soap_handler(world):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, status, body, cookie=None):
            data = xml_envelope(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if cookie:
                self.send_header("Set-Cookie", 'vmware_soap_session="%s"; Path=/; HttpOnly' % cookie)
            self.end_headers()
            self.wfile.write(data)

        def fault(self, typ, msg):
            self.reply(500, '<soapenv:Fault><faultcode>ServerFaultCode</faultcode>'
                       '<faultstring>%s</faultstring><detail><%sFault xmlns="urn:vim25" '
                       'xsi:type="%s"/></detail></soapenv:Fault>' % (msg, typ, typ))

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n).decode()
            m = re.search(r"<soapenv:Body><(\w+)", body)
            method = m.group(1) if m else ""
            log(world.args.state, "soap " + method)
            w = world
            if method == "RetrieveServiceContent":
                self.reply(200, '<RetrieveServiceContentResponse xmlns="urn:vim25"><returnval>'
                           '<rootFolder type="Folder">group-d1</rootFolder>'
                           '<propertyCollector type="PropertyCollector">propertyCollector</propertyCollector>'
                           '<sessionManager type="SessionManager">SessionManager</sessionManager>'
                           '<about><fullName>stand-in</fullName><apiType>VirtualCenter</apiType>'
                           '<apiVersion>8.0.1.0</apiVersion></about>'
                           '</returnval></RetrieveServiceContentResponse>')
            elif method == "Login":
                self.reply(200, '<LoginResponse xmlns="urn:vim25"><returnval><key>k</key>'
                           '<userName>u</userName></returnval></LoginResponse>',
                           cookie=uuid.uuid4().hex)
            elif method == "Logout":
                self.reply(200, '<LogoutResponse xmlns="urn:vim25"></LogoutResponse>')
            elif method == "RetrievePropertiesEx":
                disk = ('<device xsi:type="VirtualDisk"><key>2000</key>'
                        '<backing xsi:type="VirtualDiskFlatVer2BackingInfo">'
                        '<fileName>[ds1] vm/vm.vmdk</fileName><changeId>52 1</changeId></backing>'
                        '<capacityInBytes>%d</capacityInBytes></device>' % w.capacity)
                if "VirtualMachineSnapshot" in body:
                    obj = '<obj type="VirtualMachineSnapshot">snapshot-1</obj>'
                    props = ('<propSet><name>config.hardware</name><val xsi:type="VirtualHardware">'
                             '%s</val></propSet>' % disk)
                else:
                    obj = '<obj type="VirtualMachine">vm-1</obj>'
                    props = ('<propSet><name>name</name><val xsi:type="xsd:string">standin-vm</val></propSet>'
                             '<propSet><name>runtime.host</name><val type="HostSystem" '
                             'xsi:type="ManagedObjectReference">host-1</val></propSet>'
                             '<propSet><name>config.hardware</name><val xsi:type="VirtualHardware">'
                             '%s</val></propSet>' % disk)
                self.reply(200, '<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>'
                           '<objects>%s%s</objects></returnval></RetrievePropertiesExResponse>'
                           % (obj, props))
            elif method in ("NfcRandomAccessOpenReadonly", "NfcGetVmFiles"):
                mode = w.mode()
                with w.lock:
                    sid = str(uuid.uuid4())
                    last = w.tickets_issued[-1] if w.tickets_issued else None
                    if (mode == "stale-ticket" and last in w.tickets_used
                            and not w.last_was_stale):
                        sid = last
                        w.last_was_stale = True
                    else:
                        w.last_was_stale = False
                    w.tickets_issued.append(sid)
                tp = w.sha1
                if mode == "wrong-tp":
                    tp = ":".join(["AB"] * 20)
                tpx = "" if mode == "no-ticket-tp" else "<sslThumbprint>%s</sslThumbprint>" % tp
                log(w.args.state, "ticket " + sid)
                self.reply(200, '<%sResponse xmlns="urn:vim25"><returnval>'
                           '<host>127.0.0.1</host><port>%d</port>%s'
                           '<service>vpxa-nfc</service><serviceVersion>1.1</serviceVersion>'
                           '<sessionId>%s</sessionId></returnval></%sResponse>'
                           % (method, w.nfc_port, tpx, sid, method))
            elif method == "QueryChangedDiskAreas":
                mib = 1 << 20
                self.reply(200, '<QueryChangedDiskAreasResponse xmlns="urn:vim25"><returnval>'
                           '<startOffset>0</startOffset><length>%d</length>'
                           '<changedArea><start>0</start><length>%d</length></changedArea>'
                           '<changedArea><start>%d</start><length>%d</length></changedArea>'
                           '</returnval></QueryChangedDiskAreasResponse>'
                           % (w.capacity, mib, 4 * mib, 2 * mib))
            else:
                self.fault("MethodNotFound", "no such method " + method)

    return H


def recvn(s, n):
    buf = bytearray()
    while len(buf) < n:
        c = s.recv(n - len(buf))
        if not c:
            raise EOFError("client closed after %d of %d bytes" % (len(buf), n))
        buf += c
    return bytes(buf)


def recv_line(s):
    buf = bytearray()
    while not buf.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            raise EOFError("client closed")
        buf += c
        if len(buf) > 2048:
            raise EOFError("line too long")
    return buf.decode(errors="replace").rstrip("\r\n")


def msg(t, body=b""):
    return (struct.pack("<I", t) + body).ljust(MSG, b"\0")


def hdr(t, size, opid, magic=MAGIC):
    return struct.pack("<IIII", magic, t, size, opid)


def serve_nfc(world, conn):
    st = world.args.state
    mode = world.mode()
    with world.lock:
        world.nfc_conns += 1
    if mode == "bad-banner":
        conn.sendall(b"SSH-2.0-OpenSSH_9.2 not authd\r\n")
        return
    conn.sendall(b"220 VMware Authentication Daemon Version 1.10: SSL Required, "
                 b"ServerDaemonProtocol:SOAP, NFCSSL supported/t, SHA256 supported\r\n")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(world.args.cert, world.args.key)
    try:
        t = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        log(st, "authd tls-failed %s" % e.__class__.__name__)
        return
    log(st, "authd tls-ok")
    line = recv_line(t)
    log(st, "authd " + line.split(" ")[0])
    if not line.startswith("SESSION "):
        t.sendall(b"500 expected SESSION\r\n")
        return
    sid = line[8:]
    line = recv_line(t)
    log(st, "authd " + repr(line))
    if mode == "refuse":
        t.sendall(b"530 Login incorrect\r\n")
        return
    with world.lock:
        bad = sid not in world.tickets_issued or sid in world.tickets_used
        world.tickets_used.add(sid)
    if bad:
        log(st, "authd refused-used-ticket")
        t.sendall(b"530 Ticket not valid or already used\r\n")
        return
    t.sendall(b"220 VMware Authentication Daemon Version 1.10\r\n")
    line = recv_line(t)
    log(st, "authd " + line)
    t.sendall(("200 %s\r\n" % world.sha256).encode())
    line = recv_line(t)
    log(st, "authd " + line)
    svc = line.split(" ", 1)[1]
    t.sendall(("200 Connect %s\r\n" % svc.replace("vpxa", "ha")).encode())
    raw = socket.socket(fileno=os.dup(t.fileno()))
    if svc.endswith("ssl"):
        s = ctx.wrap_socket(raw, server_side=True)
    else:
        s = raw
    # Classic handshake (nfc_open.md "Handshake order").
    m = recvn(s, MSG)
    assert struct.unpack_from("<I", m)[0] == 43 and m[4:13] == b"PlainText", "bad 43"
    m = recvn(s, MSG)
    assert struct.unpack_from("<I", m)[0] == 33
    s.sendall(msg(36, b"\0" * 12 + struct.pack("<I", 1)))
    m = recvn(s, MSG)
    assert struct.unpack_from("<I", m)[0] == 51
    s.sendall(msg(51, struct.pack("<I", 11)))
    m = recvn(s, MSG)
    t54, nl, ol = struct.unpack_from("<III", m)
    assert t54 == 54 and nl < 256 and ol < 256
    names = recvn(s, nl + ol)
    log(st, "nfc client %r opid %r" % (names[:nl], names[nl:]))
    m = recvn(s, MSG)
    assert struct.unpack_from("<I", m)[0] == 55
    m = recvn(s, MSG)
    assert struct.unpack_from("<I", m)[0] == 52
    s.sendall(msg(52))
    disk = open(world.args.disk, "rb")
    ios = 0
    while True:
        try:
            h = recvn(s, 16)
        except EOFError:
            log(st, "nfc eof")
            return
        if len(h) == 16 and struct.unpack_from("<I", h)[0] == 4 and h[4:] == b"\0" * 12:
            # A classic SESSION_COMPLETE (264 bytes) after CLOSE_SESSION.
            recvn(s, MSG - 16)
            log(st, "nfc SESSION_COMPLETE")
            return
        magic, typ, size, opid = struct.unpack("<IIII", h)
        assert magic == MAGIC, "client sent a bad magic"
        p = recvn(s, size)
        if typ == 2:
            s.sendall(hdr(2, 16, opid) + b"\0" * 16)
        elif typ == 9:
            s.sendall(hdr(9, 12, opid) + struct.pack("<III", 1 << 20, 1 << 20, 0))
        elif typ == 22:
            s.sendall(hdr(22, 4, opid) + struct.pack("<I", 1))
        elif typ == 4:
            plen, = struct.unpack_from("<I", p, 0)
            flags, = struct.unpack_from("<I", p, 20)
            path = recvn(s, plen).decode()
            log(st, "nfc OPEN_FILE %s flags 0x%x" % (path, flags))
            r = bytearray(60)
            struct.pack_into("<QII", r, 8, 0x1234, 2, flags)
            struct.pack_into("<I", r, 36, 512)
            s.sendall(hdr(4, 60, opid) + bytes(r))
        elif typ == 5:
            log(st, "nfc CLOSE_FILE")
            s.sendall(hdr(5, 8, opid) + p[:8])
        elif typ == 3:
            log(st, "nfc CLOSE_SESSION")
            s.sendall(hdr(3, 4, opid) + b"\0" * 4)
        elif typ == 7:
            handle, opcode, off, length = struct.unpack_from("<QQQQ", p)
            ios += 1
            first = ios == 1
            if mode == "silent":
                continue
            if mode == "drop-once" and ios > 3:
                with world.lock:
                    drop = not world.dropped
                    world.dropped = True
                if drop:
                    log(st, "nfc dropping")
                    s.close()
                    return
            if mode == "aio-error" and off == 1 << 20:
                s.sendall(hdr(1, 8, opid) + struct.pack("<II", 0xB, 0))
                continue
            if first and mode == "bad-magic":
                s.sendall(hdr(7, 44, opid, magic=0xDEADBEEF) + b"\0" * 44)
                continue
            if first and mode == "big-frame":
                s.sendall(hdr(7, 1 << 30, opid))
                continue
            disk.seek(off)
            data = disk.read(length).ljust(length, b"\0")
            frags = [(o, min(65536, length - o)) for o in range(0, length, 65536)]
            random.shuffle(frags)
            if first and mode == "frag-past-end":
                frags = [(length, 512)]
            if first and mode == "frag-overlap" and len(frags) > 1:
                frags = [frags[0], frags[0]] + frags[1:]
            for fo, fl in frags:
                r = struct.pack("<QQQIIIII", 0, 1, off, length, fo, fl, fl, 0)
                s.sendall(hdr(7, 44, opid) + r + data[fo:fo + fl])
        else:
            s.sendall(hdr(1, 4, opid) + struct.pack("<I", 0x1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--disk", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--mode", default="good")
    args = ap.parse_args()
    world = World(args)

    nfc = socket.socket()
    nfc.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    nfc.bind(("127.0.0.1", 0))
    nfc.listen(64)
    world.nfc_port = nfc.getsockname()[1]

    class Soap(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
    soap = Soap(("127.0.0.1", 0), soap_handler(world))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    soap.socket = ctx.wrap_socket(soap.socket, server_side=True)
    threading.Thread(target=soap.serve_forever, daemon=True).start()

    def nfc_one(c):
        try:
            serve_nfc(world, c)
        except Exception as e:  # a test server: log and drop the connection
            log(args.state, "nfc error %s: %s" % (e.__class__.__name__, e))
        finally:
            try:
                c.close()
            except OSError:
                pass

    with open(os.path.join(args.state, "ports.tmp"), "w") as f:
        f.write("%d %d\n" % (soap.server_address[1], world.nfc_port))
    os.rename(os.path.join(args.state, "ports.tmp"), os.path.join(args.state, "ports"))
    while True:
        c, _ = nfc.accept()
        threading.Thread(target=nfc_one, args=(c,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
