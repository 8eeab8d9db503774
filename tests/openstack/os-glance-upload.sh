#!/bin/sh
# Glance: an image with properties, 1 MiB uploaded from a file (sized) and
# from a pipe (chunked), active with the right size and checksum; deleted.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/openstack/os-functions.sh"

head -c 1048576 /dev/urandom >"$TMP/disk.raw"
sum=$(md5sum "$TMP/disk.raw" | cut -d' ' -f1)
os_tool 0 image-upload "ferry-test-img-$$" "$TMP/disk.raw"
[ "$(jq -r .image.status "$TMP/out")" = active ] || fail "image not active"
[ "$(jq -r .image.size "$TMP/out")" = 1048576 ] || fail "size $(jq -r .image.size "$TMP/out")"
[ "$(jq -r .image.checksum "$TMP/out")" = "$sum" ] || fail "checksum differs"
[ "$(jq -r .image.hw_firmware_type "$TMP/out")" = uefi ] || fail "property not set"
[ "$(jq -r .image.ferry_test "$TMP/out")" = true ] || fail "boolean property not set as a string"
id=$(jq -r .image.id "$TMP/out")

cat "$TMP/disk.raw" | "$OS_TOOL" image-upload-stream "ferry-test-img2-$$" - >"$TMP/out" 2>"$TMP/err" ||
    { cat "$TMP/err"; fail "chunked upload failed"; }
[ "$(jq -r .image.checksum "$TMP/out")" = "$sum" ] || fail "chunked upload: checksum differs"

os_tool 4 request GET image "/images/$id"
expect_in "$TMP/err" "HTTP 404"
exit 0
