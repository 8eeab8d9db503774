#!/bin/sh
# `vcsim-lab nfc` knobs, the remote-ESXi model of the lab's NFC server, with the independent
# client (tests/lab/nfc_client.py), reading lab-blocked's disk 0 through its snapshot:
#   io-error=2        the 2nd read (counted from the setting) gets an AIO error, logged in
#                     nfc.log; the 1st and 3rd succeed
#   drop-after=BYTES  the connection is cut after that many data bytes; logged
#   latency-ms=N      each IO reply waits N ms
#   rate=MIB/S        one connection's reads take at least bytes/rate
#   host-rate=MIB/S   two connections together take at least their bytes/rate
#   off               none of it
# Also `vcsim-lab nfc` refuses malformed arguments.
set -eu
eval "$(lab/vcsim/vcsim-lab env)"
trap 'lab/vcsim/vcsim-lab nfc off >/dev/null 2>&1 || :' EXIT
PYTHONPATH=lab/vcsim:tests/lab /usr/bin/python3 - <<'PY'
import os, subprocess, sys, threading, time
import labsoap, nfc_client as nc

def fail(msg):
    print("FAIL vcsim-nfc-knobs: " + msg, file=sys.stderr)
    sys.exit(1)

def knobs(*a):
    subprocess.run(["lab/vcsim/vcsim-lab", "nfc"] + list(a), check=True, capture_output=True)

lab = labsoap.load()
c = labsoap.Client(lab)
c.login(lab["user"], lab["password"])
state = labsoap.state_dir()
vm = labsoap.vm(lab, "lab-blocked")
d = vm["disks"][0]
MiB = 1 << 20

def session():
    n = nc.connect(nc.ticket_vm(c, vm["moref"]))
    return n, n.open_file(d["file"])

if subprocess.run(["lab/vcsim/vcsim-lab", "nfc", "rate=fast"], capture_output=True).returncode == 0:
    fail("vcsim-lab nfc accepted rate=fast")
if subprocess.run(["lab/vcsim/vcsim-lab", "nfc", "bogus=1"], capture_output=True).returncode == 0:
    fail("vcsim-lab nfc accepted bogus=1")

# io-error
knobs("io-error=2")
n, h = session()
n.read(h, 0, 4096)
try:
    n.read(h, 4096, 4096)
    fail("io-error=2: the 2nd read succeeded")
except nc.AioError as e:
    if e.code != 7:
        fail("io-error=2: AIO error %d" % e.code)
n.read(h, 8192, 4096)
n.close_session()
if "io-error: IO #2" not in open(os.path.join(state, "nfc.log")).read():
    fail("nfc.log does not show the injected IO error")

# drop-after
knobs("drop-after=300000")
n, h = session()
got = 0
try:
    for i in range(10):
        got += len(n.read(h, i * MiB, 65536)[0])
    fail("drop-after=300000: %d bytes read without a cut" % got)
except (nc.Closed, ConnectionResetError):
    pass
if got > 300000:
    fail("drop-after=300000: %d bytes arrived" % got)
if "drop-after" not in open(os.path.join(state, "nfc.log")).read():
    fail("nfc.log does not show the cut")

# latency
knobs("latency-ms=200")
n, h = session()
t0 = time.time()
n.read(h, 0, 512)
n.read(h, 512, 512)
if time.time() - t0 < 0.4:
    fail("latency-ms=200: two reads in %.3f s" % (time.time() - t0))
n.close_session()

# rate per connection: 6 MiB at 8 MiB/s (the pacer banks 100 ms)
knobs("rate=8")
n, h = session()
t0 = time.time()
for i in range(6):
    n.read(h, i * MiB, MiB)
dt = time.time() - t0
if dt < 0.6:
    fail("rate=8: 6 MiB in %.3f s" % dt)
n.close_session()

# host rate: two connections of 3 MiB each at 8 MiB/s in all
knobs("host-rate=8")
times = []
def reader(k):
    n, h = session()
    for i in range(3):
        n.read(h, (k * 3 + i) * MiB, MiB)
    n.close_session()
t0 = time.time()
ths = [threading.Thread(target=reader, args=(k,)) for k in range(2)]
for t in ths:
    t.start()
for t in ths:
    t.join()
dt = time.time() - t0
if dt < 0.6:
    fail("host-rate=8: 6 MiB over two connections in %.3f s" % dt)

# off: fast again
knobs("off")
n, h = session()
t0 = time.time()
for i in range(6):
    n.read(h, i * MiB, MiB)
if time.time() - t0 > 0.6:
    fail("nfc off: 6 MiB took %.3f s" % (time.time() - t0))
n.close_session()
print("vcsim-nfc-knobs: ok")
PY
