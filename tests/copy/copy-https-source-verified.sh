#!/bin/sh
# An https:// source is read by ferry itself, byte range by byte range, and
# verified like ferry's vCenter connection: with a CA file or a pinned
# thumbprint the copy is byte-identical; an untrusted certificate or a
# wrong pin is refused before any byte is read; the session cookie comes
# from a file, never shows on a command line and is masked in --debug
# output; a server that does not answer ranges is refused, not misread.
# (A stand-in server, tests/tools/range-https-server.py; the real datastore
# file access is exercised in the lab by the migration tests.)
. "$FERRY_SRCDIR/tests/functions.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
        -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null || fail "openssl"
tp=$(openssl x509 -in "$TMP/cert.pem" -noout -fingerprint -sha1 | sed 's/.*=//')
head -c 20M /dev/urandom > "$TMP/disk"
dd if=/dev/zero of="$TMP/disk" bs=1M seek=5 count=3 conv=notrunc status=none   # a zero area
COOKIE="vmware_soap_session=c00k1e-s3cr3t-value"
echo "$COOKIE" > "$TMP/cookie"

pids=""
stop_servers () { for p in $pids; do kill "$p" 2>/dev/null || :; done; }
on_exit stop_servers
# serve [--no-ranges]: a server on a free port; sets $url.
serve () {
    rm -f "$TMP/port"
    "$FERRY_SRCDIR/tests/tools/range-https-server.py" "$TMP/disk" "$TMP/cert.pem" "$TMP/key.pem" \
        "$TMP/port" "$COOKIE" "$@" 2>"$TMP/server.err" &
    pids="$pids $!"
    for _i in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
    [ -s "$TMP/port" ] || { cat "$TMP/server.err"; fail "the server did not start"; }
    url="https://127.0.0.1:$(cat "$TMP/port")/disk"
}
serve

# Verified by the CA (the certificate itself), then by the pin alone.
run_ferry 0 copy --cacert "$TMP/cert.pem" --cookie-file "$TMP/cookie" --verify "$url" "$TMP/out1"
cmp "$TMP/disk" "$TMP/out1" || fail "copy verified by CA differs"
expect_in "$TMP/err" "verify: OK"
run_ferry 0 copy --thumbprint "$tp" --cookie-file "$TMP/cookie" "$url" "$TMP/out2"
cmp "$TMP/disk" "$TMP/out2" || fail "copy verified by pin differs"

# Not trusted (no CA, no pin), a wrong pin: refused, nothing written.
run_ferry 5 copy --cookie-file "$TMP/cookie" "$url" "$TMP/out3"
expect_in "$TMP/err" "not trusted|certificate"
[ ! -s "$TMP/out3" ] || fail "data written from an untrusted server"
run_ferry 5 copy --thumbprint 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33 \
    --cookie-file "$TMP/cookie" "$url" "$TMP/out4"
expect_in "$TMP/err" "not the pinned 00:11:22"

# No cookie: the server says 401: a clear error.
run_ferry 5 copy --cacert "$TMP/cert.pem" "$url" "$TMP/out5"
expect_in "$TMP/err" "not authorized"

# The cookie: never in argv, masked in debug output.
run_ferry 0 copy --debug --cacert "$TMP/cert.pem" --cookie-file "$TMP/cookie" "$url" "$TMP/out6"
expect_not_in "$TMP/err" "c00k1e-s3cr3t-value"
expect_in "$TMP/err" "Cookie: \*\*\*"

# A server that ignores Range: refused, not read as if it were the range.
serve --no-ranges
run_ferry 5 copy --cacert "$TMP/cert.pem" --cookie-file "$TMP/cookie" "$url" "$TMP/out7"
expect_in "$TMP/err" "no byte range could be read"
