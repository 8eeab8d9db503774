#!/bin/sh
# ferry check when the project's cores quota can't hold lab-multi's 4 vCPUs
# (the admin sets it, and restores it at exit): a failing row naming the
# quota, what the plan needs and what is free.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/openstack/os-functions.sh"

used=$(as_admin request GET compute "/os-quota-sets/$PROJECT_ID/detail" 2>/dev/null | jq .quota_set.cores.in_use)
set_quota compute cores $((used + 2))
run_ferry 1 check -e @"$FERRY_LAB_SECRETS" -e @"$FERRY_LAB_VARS" --vm lab-multi
expect_in "$TMP/out" "^fail +os-quota +cores +the plan needs 4 but only 2 are free \(quota $((used + 2)), in use $used\)"
expect_in "$TMP/out" "openstack quota set --cores"
expect_in "$TMP/out" "^pass +os-quota +volumes"
exit 0
