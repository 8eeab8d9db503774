# Helpers for the disk source tests: start `ferry disk-server` in the
# background, wait for its NBD URI, stop it on exit.
start_disk_server () {
    "$FERRY" disk-server "$@" > "$TMP/uri" 2> "$TMP/server.err" &
    server_pid=$!
    for _ in $(seq 300); do
        [ -s "$TMP/uri" ] && break
        kill -0 $server_pid 2>/dev/null || { cat "$TMP/server.err"; fail "disk-server exited"; }
        sleep 0.1
    done
    [ -s "$TMP/uri" ] || fail "disk-server printed no URI"
    URI=$(cat "$TMP/uri")
}
stop_disk_server () {
    [ -n "${server_pid:-}" ] || return 0
    kill $server_pid 2>/dev/null || :
    wait $server_pid 2>/dev/null || :
    server_pid=
}
on_exit stop_disk_server
flat_of () { jq -r --arg vm "$1" --argjson i "$2" '.vms[] | select(.name == $vm) | .disks[$i].flat' "$FERRY_LAB_DIR/vcsim/lab.json"; }
