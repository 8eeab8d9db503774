#!/bin/sh
# Cinder: a volume with a type and metadata; metadata updates merge keys
# (never replace); listing by metadata and name finds it and only it; the
# bootable flag and image metadata; deletion waits until it is gone.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/openstack/os-functions.sh"

name=ferry-test-vol-$$
tag=t$$
os_tool 0 volume-create "$name" 1 lab-localds0 "{\"osm\": \"true\", \"ferry_test\": \"$tag\", \"disk_key\": \"2000\"}" bootable
vid=$(jq -er .id "$TMP/out")
del () { "$OS_TOOL" volume-delete "$vid" >/dev/null 2>&1; }
on_exit del
[ "$(jq -r .status "$TMP/out")" = available ] || fail "volume not available"
[ "$(jq -r .volume_type "$TMP/out")" = lab-localds0 ] || fail "volume type not set"
[ "$(jq -r .size "$TMP/out")" = 1 ] || fail "size not 1 GiB"
[ "$(jq -r .bootable "$TMP/out")" = true ] || fail "not bootable"

# merge: converted added, disk_key changed, the others kept
os_tool 0 volume-merge "$vid" '{"converted": "true", "disk_key": "2001"}'
jq -e --arg t "$tag" '.metadata == {"osm": "true", "ferry_test": $t, "disk_key": "2001", "converted": "true"}' \
    "$TMP/out" >/dev/null || { cat "$TMP/out"; fail "metadata not merged"; }

# list by metadata (two keys) and by metadata + name
os_tool 0 volume-list "{\"ferry_test\": \"$tag\", \"converted\": \"true\"}"
[ "$(jq -r 'map(.id) | join(",")' "$TMP/out")" = "$vid" ] || { cat "$TMP/out"; fail "list by metadata"; }
os_tool 0 volume-list "{\"ferry_test\": \"$tag\"}" "$name"
[ "$(jq length "$TMP/out")" = 1 ] || fail "list by metadata and name"
os_tool 0 volume-list "{\"ferry_test\": \"$tag\", \"converted\": \"false\"}"
[ "$(jq length "$TMP/out")" = 0 ] || fail "list matched a wrong value"

# image metadata (properties Nova reads from a boot volume)
os_tool 0 volume-image-meta "$vid" '{"hw_firmware_type": "uefi", "hw_machine_type": "q35", "os_type": "linux"}'
jq -e '.volume_image_metadata.hw_firmware_type == "uefi" and .volume_image_metadata.os_type == "linux"' \
    "$TMP/out" >/dev/null || { cat "$TMP/out"; fail "image metadata not set"; }

# a missing volume: the error names the call and the id
os_tool 4 request GET volume /volumes/00000000-0000-0000-0000-000000000000
expect_in "$TMP/err" "Cinder GET /volumes/0000.*HTTP 404"

os_tool 0 volume-delete "$vid"
os_tool 0 volume-list "{\"ferry_test\": \"$tag\"}"
[ "$(jq length "$TMP/out")" = 0 ] || fail "volume still listed after deletion"
# deleting again is not an error
os_tool 0 volume-delete "$vid"
exit 0
