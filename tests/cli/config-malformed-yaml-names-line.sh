#!/bin/sh
# Malformed YAML: the error names the file, line and column; exit 2.
. "$FERRY_SRCDIR/tests/functions.sh"
printf 'vms_list:\n  - a\nvcenter_hostname: [x\nother: 1\n' > "$TMP/bad.yml"
run_ferry 2 config show -e @"$TMP/bad.yml"
expect_in "$TMP/err" "$TMP/bad.yml:[0-9]+:[0-9]+: "
expect_in "$TMP/err" "nothing was done"
[ ! -s "$TMP/out" ] || fail "output printed despite the error"
run_ferry 2 config show -e @"$TMP/does-not-exist.yml"
expect_in "$TMP/err" "does-not-exist.yml: cannot open"
