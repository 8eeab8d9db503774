#!/bin/sh
# The vCenter session is terminated server-side in the middle of a
# discovery (the simulator ends it after its first call, as vCenter does on
# idle timeout or when an administrator ends it): ferry logs in again and
# the discovery still succeeds.
. "$FERRY_SRCDIR/tests/functions.sh"
need_lab
flag=$FERRY_LAB_DIR/vcsim/expire-sessions-after
stop_expiry () { rm -f "$flag"; }
on_exit stop_expiry
echo 1 > "$flag"
FERRY_STATS=1 run_ferry 0 discover -e @"$FERRY_LAB_SECRETS" --vm lab-multi --no-write --format json
expect_in "$TMP/err" "logging in again"
expect_in "$TMP/err" "retrieving again"
[ "$(jq -r '.[0].name' "$TMP/out")" = lab-multi ] || fail "discovery result lost"
[ "$(jq -r '.[0].disks | length' "$TMP/out")" = 3 ] || fail "discovery incomplete"
rm -f "$flag"
# Without the expiry, no re-login happens (the message above means something).
run_ferry 0 discover -e @"$FERRY_LAB_SECRETS" --vm lab-multi --no-write --format json
expect_not_in "$TMP/err" "logging in again"
