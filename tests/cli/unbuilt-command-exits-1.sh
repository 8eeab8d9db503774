#!/bin/sh
# Subcommands not built yet say so and exit 1 (not 0, not a crash).
. "$FERRY_SRCDIR/tests/functions.sh"
run_ferry 0 --help
grep '(not built yet)' "$TMP/out" | awk '{print $1}' > "$TMP/unbuilt"
while read -r c; do
    run_ferry 1 "$c"
    expect_in "$TMP/err" "ferry $c: not built yet"
done < "$TMP/unbuilt"
