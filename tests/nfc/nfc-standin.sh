#!/bin/sh
# The nbdkit nfc plugin against tests/nfc/nfc-standin.py, a small server that
# speaks NFC as the published captures describe it -- well, and then badly on
# purpose: every bad answer must be a clear error, never a crash or a hang,
# and no read may return partial data.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/nfc/nfc-functions.sh"
command -v nbdcopy >/dev/null || fail "nbdcopy is not installed"

S=$TMP/standin
mkdir -p "$S"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$S/key.pem" -out "$S/cert.pem" 2>/dev/null
TP=$(openssl x509 -in "$S/cert.pem" -noout -fingerprint -sha1 | sed 's/.*=//')
# 24 MiB and three sectors: not a whole number of 64 KiB fragments.
head -c $((24 * 1024 * 1024 + 1536)) /dev/urandom >"$S/disk.img"
printf 'Stand-in-%s\n' "$(openssl rand -hex 6)" >"$S/pw"
PW=$(head -n 1 "$S/pw")

python3 "$FERRY_SRCDIR/tests/nfc/nfc-standin.py" --cert "$S/cert.pem" --key "$S/key.pem" \
    --disk "$S/disk.img" --state "$S" >"$S/standin.out" 2>&1 &
STANDIN=$!
stop_standin () { kill "$STANDIN" 2>/dev/null || :; }
on_exit stop_standin
wait_for_file "$S/ports" "$STANDIN" "$S/standin.out" "the stand-in"
read -r SOAP_PORT NFC_PORT <"$S/ports"
: "$NFC_PORT"

mode () { echo "$1" >"$S/mode"; : >"$S/log"; }
# copy WHAT ARGS...: nbdcopy the disk through the plugin into $TMP/out.img.
copy () {
    rm -f "$TMP/out.img"
    nfc_nbdkit server="127.0.0.1:$SOAP_PORT" user=u password=+"$S/pw" thumbprint="$TP" \
        vm=moref=vm-1 timeout=5 "$@" --run "nbdcopy --connections=1 --requests=1 \$uri $TMP/out.img"
}
same () { cmp -s "$S/disk.img" "$TMP/out.img" || fail "$1: the copy differs from the disk"; }

# 1. A good server: byte for byte, over nbdssl and nbd, with fragments out of order.
mode good
run_cmd 0 copy disk=2000
same "nbdssl"
expect_in "$S/log" "authd PROXY vpxa-nfcssl"
expect_in "$S/log" "nfc OPEN_FILE \[ds1\] vm/vm.vmdk flags 0x1e"
expect_in "$S/log" "nfc CLOSE_SESSION"
mode good
run_cmd 0 copy disk=2000 transport=nbd connections=3 requests=8 \
    --run "nbdcopy --connections=4 --requests=32 \$uri $TMP/out.img"
same "nbd, 3 connections, 8 requests in flight each"
expect_in "$S/log" "authd PROXY vpxa-nfc$"
# Every ticket was presented once.
[ "$(grep -c '^ticket ' "$S/log")" = "$(grep -c '^authd SESSION' "$S/log")" ] ||
    fail "tickets issued and presented differ"

# 2. Unaligned reads are whole and correct (the plugin reads the sectors around them).
mode good
run_cmd 0 nfc_nbdkit server="127.0.0.1:$SOAP_PORT" user=u password=+"$S/pw" thumbprint="$TP" \
    vm=moref=vm-1 disk=2000 --run "nbdcopy \$uri - | cmp - $S/disk.img && echo whole"
expect_in "$TMP/out" "whole"

# 3. The password: refused on the command line, never in an argv.
run_cmd 1 nfc_nbdkit server="127.0.0.1:$SOAP_PORT" user=u password="$PW" thumbprint="$TP" \
    vm=moref=vm-1 disk=2000 --run true
expect_in "$TMP/err" "password=\+FILE"
mode good
# (password=- needs a terminal; -FD reads a descriptor, as a program passing it would.)
nfc_nbdkit server="127.0.0.1:$SOAP_PORT" user=u password=-3 thumbprint="$TP" vm=moref=vm-1 \
    disk=2000 --run "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' >$TMP/argv; nbdinfo --size \$uri" \
    3<"$S/pw" >"$TMP/size" 2>"$TMP/err" || { cat "$TMP/err"; fail "password=-3 failed"; }
[ "$(cat "$TMP/size")" = "$(stat -c %s "$S/disk.img")" ] || fail "size $(cat "$TMP/size")"
grep -q "nbdkit" "$TMP/argv" || fail "no process list seen"
! grep -qF -- "$PW" "$TMP/argv" || fail "the password is in a process's argv"

# 4. A certificate that is not the ticket's: refused before SESSION is sent.
mode wrong-tp
run_cmd 1 copy disk=2000
expect_in "$TMP/err" "is not the NFC ticket's thumbprint AB:AB"
expect_in "$S/log" "authd tls-ok"
expect_not_in "$S/log" "authd SESSION"
# The same with the user's own pin of the host.
mode good
run_cmd 1 copy disk=2000 host-thumbprint=00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33
expect_in "$TMP/err" "is not the pinned thumbprint 00:11"
expect_not_in "$S/log" "authd SESSION"

# 5. Tickets are single use: a stale one is refused and a fresh one asked.
mode stale-ticket
run_cmd 0 copy disk=2000
same "after a stale ticket"
expect_in "$S/log" "authd refused-used-ticket"
# A dropped connection: the reads in flight are asked again on a new one.
mode drop-once
run_cmd 0 copy disk=2000 --run "nbdcopy --connections=2 --requests=16 \$uri $TMP/out.img"
same "after a dropped connection"
expect_in "$S/log" "nfc dropping"

# 6. Bad servers: a clear error naming what was wrong; nbdkit exits cleanly.
mode bad-banner
run_cmd 1 copy disk=2000
expect_in "$TMP/err" "this is no authd: its banner is 'SSH-2.0"
mode refuse
run_cmd 1 copy disk=2000 retries=1
expect_in "$TMP/err" "authd at 127.0.0.1:[0-9]+ refused .*'530 Login incorrect'"
mode no-ticket-tp
run_cmd 1 copy disk=2000
expect_in "$TMP/err" "the ticket has no sslThumbprint"
for m in bad-magic big-frame frag-past-end frag-overlap aio-error; do
    mode "$m"
    run_cmd 1 copy disk=2000
    case $m in
    bad-magic) expect_in "$TMP/err" "magic 0xdeadbeef, not 0xa100da7a" ;;
    big-frame) expect_in "$TMP/err" "1073741824 payload bytes" ;;
    frag-past-end) expect_in "$TMP/err" "past the end of the [0-9]+ bytes asked" ;;
    frag-overlap) expect_in "$TMP/err" "overlapping data already received" ;;
    aio-error) expect_in "$TMP/err" "VM standin-vm disk 2000 .* at offset 1048576 .* AIO error code 0xb \(VIX_E_FILE_READ_ONLY\)" ;;
    esac
    expect_not_in "$TMP/err" "Assertion|AddressSanitizer|runtime error|Segmentation"
done
mode silent
run_cmd 1 copy disk=2000 timeout=2 retries=1
expect_in "$TMP/err" "failed 2 times on a broken NFC connection"

# 7. Block status from CBT: changed areas are data, the rest a hole (zero for "*").
mode good
run_cmd 0 nfc_nbdkit server="127.0.0.1:$SOAP_PORT" user=u password=+"$S/pw" thumbprint="$TP" \
    vm=moref=vm-1 disk=2000 snapshot=snapshot-1 changeid='*' --run "nbdinfo --map \$uri"
expect_in "$TMP/out" "^ +0 +1048576 +0 +data"
expect_in "$TMP/out" "^ +1048576 +3145728 +3 +hole,zero"
expect_in "$TMP/out" "^ +4194304 +2097152 +0 +data"
expect_in "$S/log" "soap NfcGetVmFiles"
run_cmd 0 nfc_nbdkit server="127.0.0.1:$SOAP_PORT" user=u password=+"$S/pw" thumbprint="$TP" \
    vm=moref=vm-1 disk=2000 snapshot=snapshot-1 changeid='52 1' --run "nbdinfo --map \$uri"
expect_in "$TMP/out" "^ +1048576 +3145728 +1 +hole"

echo "nfc-standin: all passed"
