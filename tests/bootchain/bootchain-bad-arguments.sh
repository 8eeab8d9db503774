#!/bin/sh
# verify-boot's usage errors exit 2 before any appliance starts; the command
# is listed in ferry --help.
. "$FERRY_SRCDIR/tests/functions.sh"

run_ferry 0 --help
expect_in "$TMP/out" "^  verify-boot "
run_ferry 0 verify-boot --help
expect_in "$TMP/out" "--fix"
run_ferry 2 verify-boot
expect_in "$TMP/err" "no disk given"
run_ferry 2 verify-boot --format yaml "$TMP/x"
expect_in "$TMP/err" "--format must be table or json, not 'yaml'"
run_ferry 2 verify-boot --disk-format vmdk "$TMP/x"
expect_in "$TMP/err" "--disk-format must be raw or qcow2"
run_ferry 2 verify-boot "$TMP/nosuch.raw"
expect_in "$TMP/err" "nosuch.raw: No such file or directory"
run_ferry 2 verify-boot --frobnicate "$TMP/x"
expect_in "$TMP/err" "option '--frobnicate' is not known"
