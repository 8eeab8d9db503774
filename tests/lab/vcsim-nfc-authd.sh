#!/bin/sh
# The lab's NFC tickets and authd, against the published captures (OpenVixDiskLib
# docs/nfc_auth.md), with an independent client (tests/lab/nfc_client.py):
#   - NfcService "nfcService": NfcRandomAccessOpenReadonly / NfcGetVmFiles return a
#     HostServiceTicket (host 127.0.0.1, port = FERRY_LAB_NFC_PORT, SHA-1 colon thumbprint
#     of the certificate authd presents, service vpxa-nfc, a fresh session id each call);
#     no session -> NotAuthenticated; bad disk key / no hostForAccess -> InvalidArgument;
#     "ha-nfc" -> ManagedObjectNotFound; the writable NfcRandomAccessOpenDisk -> NotSupported.
#   - authd: plaintext banner on connect; a plaintext command instead of TLS closes; after
#     TLS: SESSION (no reply), "BANNER " -> 220 banner, "BANNER" without its space -> 500,
#     THUMBPRINT_SHA2 PlainText -> 200 SHA-256 of the certificate, another argument -> 501,
#     USER/PASS -> 530, PROXY without SESSION -> 530, PROXY vpxa-nfc -> "200 Connect ha-nfc",
#     PROXY vpxa-nfcssl -> "200 Connect ha-nfcssl" then a second TLS handshake carrying NFC;
#     an unknown, a used and an expired (vcsim-lab nfc expire-tickets=1) session id -> 5xx.
set -eu
eval "$(lab/vcsim/vcsim-lab env)"
trap 'lab/vcsim/vcsim-lab nfc off >/dev/null 2>&1 || :' EXIT
PYTHONPATH=lab/vcsim:tests/lab /usr/bin/python3 - <<'PY'
import os, socket, subprocess, sys
import labsoap, nfc_client as nc

def fail(msg):
    print("FAIL vcsim-nfc-authd: " + msg, file=sys.stderr)
    sys.exit(1)

def expect_fault(kind, f, *a):
    try:
        f(*a)
    except labsoap.Fault as e:
        if e.kind != kind:
            fail("%s: fault %s, expected %s" % (f.__name__, e.kind, kind))
        return
    fail("%s: no fault, expected %s" % (f.__name__, kind))

lab = labsoap.load()
port = int(os.environ["FERRY_LAB_NFC_PORT"])
vm = labsoap.vm(lab, "lab-small-01")
key = vm["disks"][0]["key"]

anon = labsoap.Client(lab)
expect_fault("NotAuthenticated", nc.ticket_disk, anon, vm["moref"], key, "host-1")

c = labsoap.Client(lab)
c.login(lab["user"], lab["password"])
t = nc.ticket_disk(c, vm["moref"], key)
t2 = nc.ticket_vm(c, vm["moref"])
if t["host"] != "127.0.0.1" or t["port"] != port or t["service"] != "vpxa-nfc" or not t["serviceVersion"]:
    fail("ticket %r (NFC port %d)" % (t, port))
if t["sessionId"] == t2["sessionId"] or len(t["sessionId"]) < 16:
    fail("session ids %r %r" % (t["sessionId"], t2["sessionId"]))
if t["sslThumbprint"] != os.environ.get("FERRY_LAB_NFC_THUMBPRINT", t["sslThumbprint"]):
    fail("ticket thumbprint %s != FERRY_LAB_NFC_THUMBPRINT" % t["sslThumbprint"])
expect_fault("InvalidArgument", nc.ticket_disk, c, vm["moref"], 4242)
expect_fault("InvalidArgument", nc.ticket_disk, c, vm["moref"], key, "")
expect_fault("ManagedObjectNotFound", nc.ticket_vm, c, "vm-424242")
expect_fault("ManagedObjectNotFound", nc.ticket_vm, c, vm["moref"], "ha-nfc")
expect_fault("NotSupported", nc.ticket_disk, c, vm["moref"], key, None, "NfcRandomAccessOpenDisk")

# Plaintext banner, then a plaintext command instead of a TLS ClientHello: closed.
a = nc.Authd("127.0.0.1", port)
if not a.banner.startswith("220 VMware Authentication Daemon") or "SSL Required" not in a.banner:
    fail("plaintext banner %r" % a.banner)
a.sock.sendall(b"SESSION " + t["sessionId"].encode() + b"\r\n")
a.sock.settimeout(10)
try:
    if a.sock.recv(100) != b"":
        fail("authd answered a plaintext command")
except ConnectionResetError:
    pass
a.close()

# TLS, commands, PROXY vpxa-nfc. The ticket's thumbprint is the certificate's.
a = nc.Authd("127.0.0.1", port)
sha1 = a.starttls(t["sslThumbprint"])
sha256 = nc.colon_sha(a.tls.der, "sha256")
if sha1 == lab["thumbprint"]:
    fail("authd presents vCenter's certificate")
if not a.cmd("BANNER ").startswith("220 VMware Authentication Daemon"):
    fail("BANNER")
if not a.cmd("BANNER").startswith("500"):
    fail("BANNER without its trailing space was accepted")
if a.cmd("PROXY vpxa-nfc")[:3] != "530":
    fail("PROXY without SESSION was not refused with 530")
a.session(t["sessionId"])
r = a.cmd("THUMBPRINT_SHA2 PlainText")
if r != "200 " + sha256:
    fail("THUMBPRINT_SHA2 PlainText: %r, certificate SHA-256 %s" % (r, sha256))
if not a.cmd("THUMBPRINT_SHA2 " + sha1).startswith("501"):
    fail("THUMBPRINT_SHA2 <thumbprint> was not refused with 501")
if not a.cmd("USER root").startswith("3") or not a.cmd("PASS x").startswith("530"):
    fail("USER/PASS")
s = a.proxy("vpxa-nfc")
if a.proxy_reply != "200 Connect ha-nfc":
    fail("PROXY vpxa-nfc: %r" % a.proxy_reply)
n = nc.NFC(s, a)
n.handshake()
n.open_session()
n.close_session()
if not n.closed():
    fail("the server did not close after SESSION_COMPLETE")
a.close()

def refused(ticket, what):
    a = nc.Authd("127.0.0.1", port)
    a.starttls(ticket["sslThumbprint"])
    a.session(ticket["sessionId"])
    a.cmd("BANNER ")
    try:
        a.proxy("vpxa-nfc")
    except PermissionError as e:
        if not str(e).startswith("5"):
            fail("%s: %s" % (what, e))
        a.close()
        return
    fail("%s: PROXY accepted" % what)

refused(t, "used session id")
refused(dict(t, sessionId="52000000-0000-0000-0000-000000000000"), "unknown session id")

# nbdssl: PROXY vpxa-nfcssl, a second TLS handshake on the same connection, NFC inside.
n = nc.connect(t2, "vpxa-nfcssl")
if n.authd.proxy_reply != "200 Connect ha-nfcssl" or not isinstance(n.s, nc.TLSStream):
    fail("PROXY vpxa-nfcssl: %r" % n.authd.proxy_reply)
if nc.colon_sha(n.s.der, "sha1") != t2["sslThumbprint"]:
    fail("second TLS session: another certificate")
n.close_session()
n.authd.close()

# Expired tickets (knob).
t3 = nc.ticket_disk(c, vm["moref"], key)
subprocess.run(["lab/vcsim/vcsim-lab", "nfc", "expire-tickets=1"], check=True, capture_output=True)
refused(t3, "expired ticket")
log = open(os.path.join(labsoap.state_dir(), "nfc.log")).read()
if t3["sessionId"] not in log or "expired" not in log:
    fail("nfc.log does not show the expired ticket: %r" % log)
subprocess.run(["lab/vcsim/vcsim-lab", "nfc", "off"], check=True, capture_output=True)
print("vcsim-nfc-authd: ok (port %d, thumbprint %s)" % (port, sha1))
PY
