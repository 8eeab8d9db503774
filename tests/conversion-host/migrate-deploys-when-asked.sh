#!/bin/sh
# already_deploy_conversion_host: false makes ferry migrate deploy the
# conversion host first: without conversion_host_image it stops before
# touching anything (exit 2, naming the key); --dry-run deploys nothing.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
ch_cleanup () { "$FERRY" conversion-host delete $(E_LAB) --name t-auto >/dev/null 2>&1; }
on_exit ch_cleanup
servers () { "$OSAPI" GET compute "/servers?name=ferry-conversion-host-t-auto" | jq '.servers | length'; }
# shellcheck disable=SC2046
run_ferry 2 migrate $(E_LAB) -e already_deploy_conversion_host=false -e conversion_host_name=t-auto --vm lab-linux-1disk
expect_in "$TMP/err" "already_deploy_conversion_host is false"
expect_in "$TMP/err" "set conversion_host_image"
[ "$(servers)" = 0 ] || fail "a server was made"
# shellcheck disable=SC2046
run_ferry 0 migrate $(E_LAB) -e already_deploy_conversion_host=false -e conversion_host_name=t-auto \
    -e conversion_host_image=lab-conversion-host-image --vm lab-linux-1disk --dry-run
[ "$(servers)" = 0 ] || fail "--dry-run deployed a server"
