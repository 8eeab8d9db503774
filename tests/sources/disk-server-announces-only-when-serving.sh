#!/bin/sh
# ferry disk-server prints its NBD URI only once the server serves the disk
# (the NBD handshake completes), not as soon as something listens on the
# socket: qemu-nbd listens before it has opened the image, and exits
# (removing its socket) if that fails -- announcing then made the suite's
# nbdcopy fail now and then with "connect: No such file or directory".
# Here the image's extent is a FIFO, so qemu-nbd's open blocks while it
# already listens: no URI may appear until the open has finished.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/sources/functions-source.sh"
need_lab
command -v qemu-nbd >/dev/null || { echo "SKIP: qemu-nbd not installed"; exit 77; }
mkdir -p "$TMP/ds/lab-multi"
mkfifo "$TMP/ds/lab-multi/extent.fifo"
cat > "$TMP/ds/lab-multi/lab-multi_2.vmdk" <<'EOV'
# Disk DescriptorFile
version=1
CID=fffffffe
parentCID=ffffffff
createType="vmfs"

RW 2048 VMFS "extent.fifo"

ddb.adapterType = "lsilogic"
EOV
"$FERRY" disk-server -e @"$FERRY_LAB_SECRETS" -e local_disk_path="$TMP/ds" --vm lab-multi \
    --disk 2 --source local --workdir "$TMP/w" > "$TMP/uri" 2> "$TMP/server.err" &
server_pid=$!
# qemu-nbd is up and listening, its open blocked on the FIFO.
for _i in $(seq 100); do [ -S "$TMP/w/nbd.sock" ] && break; sleep 0.1; done
[ -S "$TMP/w/nbd.sock" ] || { cat "$TMP/server.err"; fail "qemu-nbd never listened"; }
sleep 2
[ ! -s "$TMP/uri" ] || fail "the URI was announced while the disk could not be served yet: $(cat "$TMP/uri")"
kill -0 $server_pid || { cat "$TMP/server.err"; fail "disk-server ended while qemu-nbd was opening the image"; }
stop_disk_server
[ ! -s "$TMP/uri" ] || fail "the URI was announced for a disk never served"
