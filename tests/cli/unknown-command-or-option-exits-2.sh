#!/bin/sh
# A typo'd subcommand or option is a usage error (exit 2) with a clear message.
. "$FERRY_SRCDIR/tests/functions.sh"
run_ferry 2 migrat
expect_in "$TMP/err" "'migrat' is not a ferry command \(did you mean 'migrate'\?\)"
run_ferry 2 --frobnicate
expect_in "$TMP/err" "option '--frobnicate' is not known"
run_ferry 2 config show --frobnicate
expect_in "$TMP/err" "ferry config: option '--frobnicate' is not known"
run_ferry 2 config show --format xml
expect_in "$TMP/err" "--format must be yaml or json"
run_ferry 2 config
run_ferry 2 help nosuch
