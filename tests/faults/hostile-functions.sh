# Helpers for the hostile-server tests (tests/faults/vcenter-*.sh,
# keystone-*.sh): stand-ins that answer badly on purpose
# (tests/tools/hostile-vcenter.py, hostile-keystone.py), and ferry run with
# small limits, its time and peak memory measured.  Source after
# tests/functions.sh.
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
[ -x /usr/bin/time ] || { echo "SKIP: /usr/bin/time not installed"; exit 77; }

# The limits the tests run with: small, so that the suite stays fast.
HTTP_TIMEOUT=3
HTTP_MAX_BODY_MIB=16
LIMITS="-e http_timeout=$HTTP_TIMEOUT -e http_max_body_mib=$HTTP_MAX_BODY_MIB"

server_pids=""
stop_servers () { for p in $server_pids; do kill "$p" 2>/dev/null || :; done; }
on_exit stop_servers

# wait_port PORTFILE LOG WHAT: wait until the stand-in wrote its port; sets $port.
wait_port () {
    for _i in $(seq 100); do [ -s "$1" ] && break; sleep 0.05; done
    [ -s "$1" ] || { cat "$2"; fail "$3 did not start"; }
    port=$(cat "$1")
}

# start_vcenter MODE: a stand-in vCenter (HTTPS); writes $TMP/secrets.yml.
start_vcenter () {
    [ -f "$TMP/cert.pem" ] ||
        openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
                -addext "subjectAltName=IP:127.0.0.1" \
                -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null || fail "openssl"
    rm -f "$TMP/port"
    "$FERRY_SRCDIR/tests/tools/hostile-vcenter.py" "$1" "$TMP/cert.pem" "$TMP/key.pem" \
        "$TMP/port" 2>"$TMP/server.err" &
    server_pids="$server_pids $!"
    wait_port "$TMP/port" "$TMP/server.err" "the stand-in vCenter"
    cat > "$TMP/secrets.yml" <<EOS
vcenter_hostname: 127.0.0.1:$port
vcenter_username: administrator@vsphere.local
vcenter_password: "hostile-test-password"
vcenter_datacenter: DC0
vcenter_cacert: $TMP/cert.pem
EOS
}

# start_keystone MODE: a stand-in Keystone (plain HTTP); writes $TMP/cloud.yml.
start_keystone () {
    rm -f "$TMP/port"
    "$FERRY_SRCDIR/tests/tools/hostile-keystone.py" "$1" "$TMP/port" 2>"$TMP/server.err" &
    server_pids="$server_pids $!"
    wait_port "$TMP/port" "$TMP/server.err" "the stand-in Keystone"
    cat > "$TMP/cloud.yml" <<EOS
dst_cloud:
  auth:
    auth_url: http://127.0.0.1:$port/v3
    username: ferry
    password: "hostile-test-password"
    project_name: migration
    user_domain_name: Default
    project_domain_name: Default
  region_name: RegionOne
EOS
}

# run_measured EXPECTED_EXIT ARGS...: run_ferry, killed after 60 s (so an
# unbounded wait fails rather than hangs); sets $elapsed (s) and $rss_mib
# (peak resident memory).
run_measured () {
    want=$1; shift
    run_cmd "$want" /usr/bin/time -f "%e %M" -o "$TMP/time" timeout -s KILL 60 "$FERRY" "$@"
    elapsed=$(awk 'END { print $1 }' "$TMP/time")
    rss_mib=$(awk 'END { print int($2 / 1024) }' "$TMP/time")
    echo "ferry $1: exit $want in $elapsed s, peak RSS $rss_mib MiB"
}

# expect_bounded MAX_S MAX_MIB: the last run_measured took less than that.
expect_bounded () {
    awk -v e="$elapsed" -v m="$1" 'BEGIN { exit !(e < m) }' ||
        { cat "$TMP/err"; fail "took $elapsed s, not under $1 s"; }
    [ "$rss_mib" -lt "$2" ] || { cat "$TMP/err"; fail "peak RSS $rss_mib MiB, not under $2 MiB"; }
}
