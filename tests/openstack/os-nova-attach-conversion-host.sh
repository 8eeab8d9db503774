#!/bin/sh
# Nova os-volume_attachments on the lab's conversion host: attach a new
# volume (in-use, listed), detach it (available again), delete it.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/openstack/os-functions.sh"

ch=$(lj .conversion_host.id)
os_tool 0 attach "$ch" "ferry-test-att-$$"
vid=$(jq -r .volume.id "$TMP/out")
[ "$(jq -r .volume.status "$TMP/out")" = in-use ] || fail "volume not in-use while attached"
jq -e --arg v "$vid" '.attachments | map(.volumeId) | index($v)' "$TMP/out" >/dev/null ||
    fail "attachment not listed"
[ "$(jq -r .attachment.serverId "$TMP/out")" = "$ch" ] || fail "attached to the wrong server"
os_tool 0 volume-list '{}' "ferry-test-att-$$"
[ "$(jq length "$TMP/out")" = 0 ] || fail "volume left behind"
exit 0
