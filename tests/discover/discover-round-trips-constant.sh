#!/bin/sh
# Discovery costs the same number of SOAP round trips for one VM as for
# every VM of the inventory: one view, one retrieval (plus login/logout).
. "$FERRY_SRCDIR/tests/functions.sh"
need_lab
FERRY_STATS=1 run_ferry 0 discover -e @"$FERRY_LAB_SECRETS" --vm lab-multi --no-write --format json
one=$(sed -n 's/.*round_trips=\([0-9]*\).*/\1/p' "$TMP/err")
FERRY_STATS=1 run_ferry 0 discover -e @"$FERRY_LAB_SECRETS" --all --no-write --format json
all=$(sed -n 's/.*round_trips=\([0-9]*\).*/\1/p' "$TMP/err")
n=$(jq length "$TMP/out")
[ "$n" -ge 8 ] || fail "--all found only $n VMs"
[ -n "$one" ] && [ "$one" = "$all" ] || fail "round trips: $one for 1 VM, $all for $n VMs"
[ "$all" -le 6 ] || fail "$all round trips: expected login, view, retrieve, destroy, logout"
