# Helpers for the disk source tests: start `ferry disk-server` in the
# background, wait for its NBD URI, stop it on exit.
start_disk_server () {
    "$FERRY" disk-server "$@" > "$TMP/uri" 2> "$TMP/server.err" &
    server_pid=$!
    wait_for_file "$TMP/uri" $server_pid "$TMP/server.err" "disk-server"
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
