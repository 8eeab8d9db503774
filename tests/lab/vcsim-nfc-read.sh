#!/bin/sh
# Reading lab disks over the lab's NFC, against the published captures (OpenVixDiskLib
# docs/nfc_open.md, docs/nfc_read.md, docs/host_switch.md), with an independent client
# (tests/lab/nfc_client.py):
#   - classic 264-byte handshake (version 11), OPEN_SESSION / SET_SOCK_OPTS / SET_RES_POOL,
#     OPEN_FILE flags 0x1e -> handle, type 2, sector size 512;
#   - reads equal the lab disk (the flat file) byte for byte: sector 0, 129 sectors (two
#     fragments), unaligned ranges, holes, the disk's last bytes, 3 MiB, 8 requests in flight,
#     and a whole 256 MiB disk; every fragment <= 64 KiB, multi-fragment replies out of order;
#   - AIO errors (type 1): flags 0x1a on a read-only ticket -> 0x0b; a read past the end,
#     a zero or absurd length, an unknown handle; the session goes on after each;
#   - a header with a bad magic closes the connection;
#   - a running VM's current disk does not open (VIX_E_FAIL); a snapshot's does, and reads
#     the point-in-time state after guest-write changed the disk (lab-multi), while the
#     disk-scoped ticket with `vcsim-lab nfc running-lock=0` reads the new data;
#   - lab-blocked: its snapshot (made at lab start) reads as the disk; its independent disk
#     is not part of the snapshot and stays locked;
#   - CLOSE_FILE, CLOSE_SESSION, SESSION_COMPLETE; nfc-access.log names ticket, file, bytes.
set -eu
eval "$(lab/vcsim/vcsim-lab env)"
trap 'lab/vcsim/vcsim-lab nfc off >/dev/null 2>&1 || :' EXIT
PYTHONPATH=lab/vcsim:tests/lab /usr/bin/python3 - <<'PY'
import hashlib, os, struct, subprocess, sys
import labsoap, nfc_client as nc

def fail(msg):
    print("FAIL vcsim-nfc-read: " + msg, file=sys.stderr)
    sys.exit(1)

def flat(disk, off, n):
    with open(disk["flat"], "rb") as f:
        f.seek(off)
        return f.read(n).ljust(n, b"\0")

def expect_error(code, f, *a):
    try:
        f(*a)
    except nc.AioError as e:
        if e.code != code:
            fail("%s: AIO error %d, expected %d" % (f.__name__, e.code, code))
        return e
    fail("%s: no AIO error, expected %d" % (f.__name__, code))

lab = labsoap.load()
c = labsoap.Client(lab)
c.login(lab["user"], lab["password"])
state = labsoap.state_dir()
out_of_order = False
checked = 0

def check(n, h, disk, off, length):
    global out_of_order, checked
    data, frags = n.read(h, off, length)
    if data != flat(disk, off, length):
        fail("%s: %d+%d differs from the flat file" % (disk["file"], off, length))
    if any(k > 65536 for _, k in frags) or sum(k for _, k in frags) != length:
        fail("fragments %r" % frags)
    dests = [d for d, _ in frags]
    out_of_order |= dests != sorted(dests)
    checked += length

# --- lab-blocked: snapshot at lab start; disk 0 reads through it, disk 1 is independent ---
vm = labsoap.vm(lab, "lab-blocked")
d0, d1 = vm["disks"]
t = nc.ticket_vm(c, vm["moref"])
n = nc.connect(t)
if n.version != 11:
    fail("server version %d" % n.version)
h = n.open_file(d0["file"])
if n.sector != 512:
    fail("sector size %d" % n.sector)
cap = d0["capacity"]
for off, length in [(0, 512), (512, 512), (0, 129 * 512), (12345, 100000), (4 << 20, 3 << 20),
                    ((1 << 20) - 7, 70000), (cap - 65536 - 512, 65536 + 512), (cap - 1, 1)]:
    check(n, h, d0, off, length)
if not out_of_order:
    fail("multi-fragment replies came in order")
# 8 requests in flight before any reply is read.
want = {}
for i in range(8):
    off = i * 3 * 1048576 + i * 4096
    want[n.io_request(h, off, 200000 + i * 512)] = (off, 200000 + i * 512)
for op, (data, frags) in n.read_reply(want).items():
    off, length = want[op]
    if data != flat(d0, off, length):
        fail("in-flight read %d+%d differs" % (off, length))
# AIO errors; the session goes on after each.
expect_error(16007, n.read, h, cap - 512, 1024)          # past the end: VIX_E_DISK_OUTOFRANGE
expect_error(3, n.read, h, 0, 0)                          # zero length: VIX_E_INVALID_ARG
expect_error(3, n.read, h, 0, 1 << 40)                    # absurd length
expect_error(3, n.read, h + 99, 0, 512)                   # unknown handle
e = expect_error(11, n.open_file, d0["file"], 0x1a)       # writable open: VIX_E_FILE_READ_ONLY
if struct.unpack_from("<I", e.payload, 4)[0] != nc.T_OPEN_FILE:
    fail("AIO error payload %r" % e.payload)
expect_error(1, n.open_file, d1["file"])                  # independent disk of a running VM
expect_error(13, n.open_file, labsoap.vm(lab, "lab-windows")["disks"][0]["file"])  # not this VM's
check(n, h, d0, 65536, 65536)
n.close_file(h)
expect_error(3, n.read, h, 0, 512)
# The whole disk, 4 MiB requests with 4 in flight, against the flat file's SHA-256.
h = n.open_file(d0["file"])
sha, off = hashlib.sha256(), 0
while off < cap:
    pend = {}
    while off < cap and len(pend) < 4:
        ln = min(4 << 20, cap - off)
        pend[n.io_request(h, off, ln)] = (off, ln)
        off += ln
    r = n.read_reply(pend)
    for op in sorted(pend):
        sha.update(r[op][0])
fh = hashlib.sha256()
with open(d0["flat"], "rb") as f:
    for b in iter(lambda: f.read(1 << 20), b""):
        fh.update(b)
if sha.hexdigest() != fh.hexdigest():
    fail("whole-disk read of %s differs from the flat file" % d0["file"])
checked += cap
n.close_file(h)
n.close_session()
if not n.closed():
    fail("no close after SESSION_COMPLETE")
log = open(os.path.join(state, "nfc-access.log")).read().splitlines()
mine = [l for l in log if "ticket=" + t["sessionId"] in l and l.split(" ")[1] == "close"]
if not mine or not any("bytes=%d" % cap in l for l in mine) or d0["file"] not in mine[-1]:
    fail("nfc-access.log has no close line with the ticket, file and bytes: %r" % mine)

# --- bad magic closes ---
n = nc.connect(nc.ticket_vm(c, vm["moref"]))
n.send(nc.T_OPEN_FILE, bytes(60), magic=0xDEADBEEF)
if not n.closed():
    fail("a bad magic did not close the connection")

# --- running VM, snapshot point in time (lab-multi disk 0) ---
vm = labsoap.vm(lab, "lab-multi")
d = vm["disks"][0]
n = nc.connect(nc.ticket_disk(c, vm["moref"], d["key"]))
expect_error(1, n.open_file, d["file"])                   # running VM, current disk
n.authd.close()
OFF, LEN = 8 << 20, 300000
before = flat(d, OFF - 65536, LEN + 2 * 65536)
snap = c.create_snapshot(vm["moref"], "nfc-read-test")
try:
    subprocess.run(["lab/vcsim/vcsim-lab", "guest-write", "lab-multi", "0", str(OFF), str(LEN), "77"],
                   check=True, capture_output=True)
    after = flat(d, OFF - 65536, LEN + 2 * 65536)
    if after == before:
        fail("guest-write changed nothing")
    n = nc.connect(nc.ticket_vm(c, vm["moref"]))
    h = n.open_file(d["file"])
    data, _ = n.read(h, OFF - 65536, LEN + 2 * 65536)
    if data != before:
        fail("the snapshot read shows data written after the snapshot")
    n.close_session()
    subprocess.run(["lab/vcsim/vcsim-lab", "nfc", "running-lock=0"], check=True, capture_output=True)
    n = nc.connect(nc.ticket_disk(c, vm["moref"], d["key"]))
    h = n.open_file(d["file"])
    data, _ = n.read(h, OFF - 65536, LEN + 2 * 65536)
    if data != after:
        fail("the current disk does not show the guest's write")
    n.close_session()
finally:
    subprocess.run(["lab/vcsim/vcsim-lab", "nfc", "off"], capture_output=True)
    c.remove_snapshot(snap)
left = [s for k in os.listdir(os.path.join(state, "nfc-cow")) if k != "lock"
        for s in os.listdir(os.path.join(state, "nfc-cow", k)) if s == snap]
if left:
    fail("overlay of removed snapshot %s left" % snap)
print("vcsim-nfc-read: ok (%d bytes compared)" % checked)
PY
