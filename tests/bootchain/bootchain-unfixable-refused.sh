#!/bin/sh
# fstab mounts /dev/sdc1, the third disk of the source, and only one disk
# is attached: no safe rewrite exists.  verify-boot --fix refuses (exit 6),
# naming the file, the line and what to do, and writes nothing -- not even
# the fix it could make (fstab's /dev/sda1 root stays as it was).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/bootchain/bootchain-functions.sh"
overlay unfixable
before=$(sha256sum $DISKS | cut -d' ' -f1)

verify 6 --fix
expect_json '.status == "refused" and (.changes | length) == 0'
expect_json '.refusals | length == 1'
expect_json '.refusals[0] | .file == "/etc/fstab" and .line == 3 and .device == "/dev/sdc1"'
expect_json '.refusals[0].action | test("Attach the missing disk")'
expect_ref /etc/fstab 3 /srv/archive refused /dev/sdc1
expect_ref /etc/fstab 2 / fixable /dev/sda1 UUID=8d1c6a52-4f0e-4b7a-9c39-f3e7a0c1d2b4
expect_in "$TMP/err" "refused: /etc/fstab:3: /dev/sdc1 names the third disk of the source; only 1 disk is attached"
expect_in "$TMP/err" "nothing was changed"
# shellcheck disable=SC2086
[ "$(sha256sum $DISKS | cut -d' ' -f1)" = "$before" ] || fail "the disk was written to"
