#!/bin/sh
# `ferry --help` lists every subcommand with one line and the exit codes;
# `ferry help CMD` and `ferry CMD --help` show the command's usage.
. "$FERRY_SRCDIR/tests/functions.sh"
run_ferry 0 --help
cp "$TMP/out" "$TMP/help"
for c in discover check copy migrate sync cutover status teardown conversion-host networks config; do
    expect_in "$TMP/help" "^  $c +[A-Z]"
    run_ferry 0 help "$c"
    expect_in "$TMP/out" "^Usage: ferry $c"
    run_ferry 0 "$c" --help
    expect_in "$TMP/out" "^Usage: ferry $c"
done
run_ferry 0 --help
expect_in "$TMP/out" "Exit codes"
expect_in "$TMP/out" "^  2 +usage or configuration error"
run_ferry 0 --version
expect_in "$TMP/out" "^ferry [0-9]+\.[0-9]+"
run_ferry 2
