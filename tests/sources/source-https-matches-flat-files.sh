#!/bin/sh
# The datastore HTTPS source (nbdkit curl on the flat extent named by the
# disk's descriptor, session cookie by file) serves exactly the bytes of
# each lab-multi disk; the cookie never appears on a command line; the
# socket's directory is private; stopping leaves nothing behind.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/sources/functions-source.sh"
need_lab
for i in 1 2; do
    start_disk_server -e @"$FERRY_LAB_SECRETS" --vm lab-multi --disk $i --source https \
        --workdir "$TMP/w$i"
    [ "$(stat -c %a "$TMP/w$i")" = 700 ] || fail "work dir not private"
    ps -eo args | grep -v grep | grep -q "vmware_soap_session" && fail "cookie on a command line"
    ps -eo args | grep -q "[n]bdkit.*curl.*cookie=+" || fail "nbdkit curl not started with cookie=+FILE"
    [ ! -e "$TMP/w$i/secret" ] || fail "cookie file left after nbdkit read it"
    nbdcopy "$URI" "$TMP/disk.raw"
    cmp "$TMP/disk.raw" "$(flat_of lab-multi $i)" || fail "disk $i differs from its flat file"
    stop_disk_server
    [ ! -e "$TMP/w$i" ] || fail "work dir left behind"
    rm -f "$TMP/disk.raw"
done
