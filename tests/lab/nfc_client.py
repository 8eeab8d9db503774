"""An independent NFC client (Python 3 standard library only) for the lab's NFC tests.

It is written from the published captures of VDDK 8 traffic (github.com/cloudbase/
OpenVixDiskLib, docs/nfc_auth.md, docs/nfc_open.md, docs/nfc_read.md), not from ferry's
plugin nor from the lab's server, so the tests check the server against the documents.
Every step is exposed on its own so tests can also do the wrong thing on purpose.

    import labsoap, nfc_client as nc
    lab = labsoap.load(); c = labsoap.Client(lab); c.login(lab["user"], lab["password"])
    t = nc.ticket_disk(c, vm_moref, 2000)             # NfcRandomAccessOpenReadonly
    a = nc.Authd(t["host"], t["port"]); a.starttls(t["sslThumbprint"])
    a.session(t["sessionId"]); a.cmd("BANNER "); a.cmd("THUMBPRINT_SHA2 PlainText")
    n = nc.NFC(a.proxy("vpxa-nfc"))                   # raw TCP after "200 Connect ha-nfc"
    n.handshake(); n.open_session(); h = n.open_file(path)
    data, frags = n.read(h, 0, 1 << 20)
"""

import hashlib
import socket
import ssl
import struct
import labsoap

MAGIC = 0xA100DA7A
CLASSIC = 264
T_ERROR, T_OPEN_SESSION, T_CLOSE_SESSION, T_OPEN_FILE, T_CLOSE_FILE = 1, 2, 3, 4, 5
T_IO, T_SOCKOPTS, T_DDB_GET, T_RESPOOL = 7, 9, 11, 22


class Closed(Exception):
    """The peer closed the connection."""


class AioError(Exception):
    def __init__(self, code, op, payload):
        super().__init__("AIO error %d (opId %d)" % (code, op))
        self.code, self.op, self.payload = code, op, payload


def colon_sha(data, algo):
    return ":".join("%02X" % b for b in hashlib.new(algo, data).digest())


# --- tickets (nfc_auth.md "Stage 2") ---

def _ticket(res):
    r = res.find("v:returnval", labsoap.N)
    t = {k: r.findtext("v:" + k, namespaces=labsoap.N)
         for k in ("host", "port", "sslThumbprint", "service", "serviceVersion", "sessionId")}
    t["port"] = int(t["port"])
    return t


def vm_host(c, vm_moref):
    return c.prop("VirtualMachine", vm_moref, "runtime.host").text


def ticket_disk(c, vm_moref, key, host=None, method="NfcRandomAccessOpenReadonly"):
    host = host if host is not None else vm_host(c, vm_moref)
    body = labsoap.ref("vm", "VirtualMachine", vm_moref) + "<diskDeviceKey>%d</diskDeviceKey>" % key
    if host:
        body += labsoap.ref("hostForAccess", "HostSystem", host)
    return _ticket(c.call(method, "NfcService", "nfcService", body))


def ticket_vm(c, vm_moref, this="nfcService"):
    return _ticket(c.call("NfcGetVmFiles", "NfcService", this, labsoap.ref("vm", "VirtualMachine", vm_moref)))


# --- transport ---

class RawStream:
    def __init__(self, sock):
        self.sock = sock

    def send(self, b):
        self.sock.sendall(b)

    def recv(self, n):
        return self.sock.recv(n)


class TLSStream:
    """TLS over an existing socket through memory BIOs: the socket itself stays usable for
    raw bytes afterwards (NBD mode) or for a second TLS session (NBDSSL)."""

    def __init__(self, sock):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = sock
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_side=False)
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                data = sock.recv(65536)
                if not data:
                    raise Closed("closed during the TLS handshake")
                self.inc.write(data)
        self._flush()
        self.der = self.obj.getpeercert(binary_form=True)

    def _flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def send(self, b):
        self.obj.write(b)
        self._flush()

    def recv(self, n):
        while True:
            try:
                return self.obj.read(n)
            except ssl.SSLWantReadError:
                data = self.sock.recv(65536)
                if not data:
                    return b""
                self.inc.write(data)
            except ssl.SSLZeroReturnError:
                return b""


def recv_exact(stream, n):
    buf = bytearray()
    while len(buf) < n:
        d = stream.recv(n - len(buf))
        if not d:
            raise Closed("closed after %d of %d bytes" % (len(buf), n))
        buf += d
    return bytes(buf)


def recv_line(stream):
    buf = bytearray()
    while not buf.endswith(b"\n"):
        d = stream.recv(1)
        if not d:
            raise Closed("closed in a line: %r" % bytes(buf))
        buf += d
    return buf.decode().rstrip("\r\n")


# --- authd (nfc_auth.md "Stage 3") ---

class Authd:
    def __init__(self, host, port, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.raw = RawStream(self.sock)
        self.banner = recv_line(self.raw)  # plaintext, before TLS
        self.tls = None

    def starttls(self, sha1_thumbprint=None):
        self.tls = TLSStream(self.sock)
        got = colon_sha(self.tls.der, "sha1")
        if sha1_thumbprint is not None and got.upper() != sha1_thumbprint.upper():
            raise ssl.SSLError("authd certificate %s, ticket says %s" % (got, sha1_thumbprint))
        return got

    def send(self, line):
        self.tls.send((line + "\r\n").encode())

    def cmd(self, line):
        self.send(line)
        return recv_line(self.tls)

    def session(self, sid):
        self.send("SESSION " + sid)  # no reply of its own

    def proxy(self, service="vpxa-nfc"):
        """PROXY; returns the NFC stream, or raises with the refusal line."""
        line = self.cmd("PROXY " + service)
        if not line.startswith("200 "):
            raise PermissionError(line)
        self.proxy_reply = line
        if service.endswith("ssl"):
            return TLSStream(self.sock)
        return self.raw

    def close(self):
        self.sock.close()


def connect(t, service=None):
    """Ticket -> an NFC object after the classic handshake and OPEN_SESSION."""
    a = Authd(t["host"], t["port"])
    a.starttls(t["sslThumbprint"])
    a.session(t["sessionId"])
    a.cmd("BANNER ")
    a.cmd("THUMBPRINT_SHA2 PlainText")
    n = NFC(a.proxy(service or t["service"]), a)
    n.handshake()
    n.open_session()
    return n


# --- NFC (nfc_open.md, nfc_read.md) ---

class NFC:
    def __init__(self, stream, authd=None):
        self.s, self.authd, self.op = stream, authd, 0

    def classic(self, typ, fill=b"", at=4):
        m = bytearray(CLASSIC)
        struct.pack_into("<I", m, 0, typ)
        m[at:at + len(fill)] = fill
        self.s.send(bytes(m))

    def classic_recv(self):
        m = recv_exact(self.s, CLASSIC)
        return struct.unpack_from("<I", m)[0], m

    def handshake(self, name=b"ferry-test", opid=b"nfc-lab"):
        self.classic(43, b"PlainText")
        self.classic(33)
        t, m = self.classic_recv()
        assert t == 36 and struct.unpack_from("<I", m, 16)[0] == 1, ("session params reply", t)
        self.classic(51, struct.pack("<I", 11))
        t, m = self.classic_recv()
        assert t == 51, ("version reply", t)
        self.version = struct.unpack_from("<I", m, 4)[0]
        self.classic(54, struct.pack("<II", len(name), len(opid)))
        self.s.send(name + opid)
        self.classic(55, struct.pack("<I", 3))
        self.classic(52)
        t, _ = self.classic_recv()
        assert t == 52, ("AIO session open reply", t)

    def send(self, typ, payload, extra=b"", magic=MAGIC, size=None):
        op = self.op
        self.op += 1
        hdr = struct.pack("<IIII", magic, typ, len(payload) if size is None else size, op)
        self.s.send(hdr + payload + extra)
        return op

    def recv(self):
        magic, typ, size, op = struct.unpack("<IIII", recv_exact(self.s, 16))
        assert magic == MAGIC, "reply magic %#x" % magic
        return typ, op, recv_exact(self.s, size)

    def call(self, typ, payload, extra=b""):
        op = self.send(typ, payload, extra)
        rt, rop, p = self.recv()
        if rt == T_ERROR:
            raise AioError(struct.unpack_from("<I", p)[0], rop, p)
        assert (rt, rop) == (typ, op), ("reply", rt, rop, "to", typ, op)
        return p

    def open_session(self):
        assert self.call(T_OPEN_SESSION, bytes(16)) == bytes(16)
        self.sockopts = struct.unpack("<III", self.call(T_SOCKOPTS, bytes(12)))
        self.call(T_RESPOOL, struct.pack("<I", 1))

    def open_file(self, path, flags=0x1e, ftype=2):
        p = bytearray(60)
        struct.pack_into("<I", p, 0, len(path.encode()))
        struct.pack_into("<II", p, 16, ftype, flags)
        r = self.call(T_OPEN_FILE, bytes(p), path.encode())
        handle, rtype, rflags = struct.unpack_from("<QII", r, 8)
        self.sector = struct.unpack_from("<I", r, 36)[0]
        assert rtype == 2 and rflags == flags, (rtype, rflags)
        return handle

    def io_request(self, handle, off, length):
        m = length & 0xFFFFFFFF
        return self.send(T_IO, struct.pack("<QQQQIII", handle, 1, off, length, m, m, 0))

    def read_reply(self, want):
        """Collect the fragments of the requests in want {opId: (off, length)}.
        Returns {opId: (data, [(dest, n), ...])}; an AIO error raises."""
        bufs = {op: bytearray() for op in want}  # grown as fragments come (no trust in n)
        got = {op: 0 for op in want}
        frags = {op: [] for op in want}
        done = {}
        while len(done) < len(want):
            typ, op, p = self.recv()
            if typ == T_ERROR:
                raise AioError(struct.unpack_from("<I", p)[0], op, p)
            assert typ == T_IO and op in want and len(p) == 44, (typ, op, len(p))
            z, direction, roff, total, dest, n, n2, zero = struct.unpack("<QQQIIIII", p)
            off, length = want[op]
            assert (z, direction, roff, total, n2, zero) == (0, 1, off, length, n, 0), p
            assert n <= 65536, "fragment of %d bytes" % n
            assert dest + n <= length, "fragment %d+%d past the request's %d" % (dest, n, length)
            if len(bufs[op]) < dest + n:
                bufs[op] += bytes(dest + n - len(bufs[op]))
            bufs[op][dest:dest + n] = recv_exact(self.s, n)
            got[op] += n
            frags[op].append((dest, n))
            if got[op] == length:
                done[op] = (bytes(bufs[op]), frags[op])
        return done

    def read(self, handle, off, length):
        op = self.io_request(handle, off, length)
        return self.read_reply({op: (off, length)})[op]

    def close_file(self, handle):
        return self.call(T_CLOSE_FILE, struct.pack("<Q", handle))

    def close_session(self):
        self.call(T_CLOSE_SESSION, bytes(4))
        self.classic(4)  # NFC_SESSION_COMPLETE

    def closed(self, timeout=10):
        """True when the server closes the connection (no byte, EOF) within timeout."""
        sock = self.authd.sock if self.authd else None
        if sock:
            sock.settimeout(timeout)
        try:
            return self.s.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
