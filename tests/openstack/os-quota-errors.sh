#!/bin/sh
# Quota refusals are explained with the quota, its limit and the amount
# asked: Cinder gigabytes (413), Cinder volumes, Nova cores (403), Neutron
# ports (409).  The admin sets tiny quotas; they are restored at exit.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/openstack/os-functions.sh"

# (other work may hold volumes in the project: quotas are set above its usage)
usage=$(as_admin request GET volume "/os-quota-sets/$PROJECT_ID?usage=true" 2>/dev/null)
used=$(echo "$usage" | jq '.quota_set.gigabytes.in_use + .quota_set.gigabytes.reserved')
set_quota volume gigabytes $((used + 2))
os_tool 4 volume-create "ferry-test-quota-$$" 5
expect_in "$TMP/err" "Cinder create volume 'ferry-test-quota-$$' \(5 GiB\): POST .*/volumes: HTTP 413"
expect_in "$TMP/err" "over quota for gigabytes \(asked 5G, quota $((used + 2))G, in use ${used}G\)"
expect_in "$TMP/err" "openstack quota set --gigabytes"
restore_quotas; quota_restore=""

used=$(as_admin request GET volume "/os-quota-sets/$PROJECT_ID?usage=true" 2>/dev/null | jq .quota_set.volumes.in_use)
set_quota volume volumes "$used"
os_tool 4 volume-create "ferry-test-quota-$$" 1
expect_in "$TMP/err" "over quota for volumes \(quota $used\)"
restore_quotas; quota_restore=""

used=$(as_admin request GET compute "/os-quota-sets/$PROJECT_ID/detail" 2>/dev/null | jq .quota_set.cores.in_use)
set_quota compute cores $((used + 1))
os_tool 4 boot "ferry-test-quota-$$" "$(lj '.flavors["lab.large"]')" lab-vm-network fa:16:3e:00:00:99 \
    "$(lj .keypair.name)" "$(lj .security_group.name)"
expect_in "$TMP/err" "Nova create server 'ferry-test-quota-$$': POST .*/servers: HTTP 403"
expect_in "$TMP/err" "over quota for cores \(asked 4, quota $((used + 1)), in use $used\)"
restore_quotas; quota_restore=""

used=$(as_admin request GET network "/quotas/$PROJECT_ID/details" 2>/dev/null | jq .quota.port.used)
set_quota network port "$used"
os_tool 4 port-create lab-vm-network fa:16:3e:00:00:98 "ferry-test-quota-$$"
expect_in "$TMP/err" "HTTP 409: OverQuota: .*over quota for port"
exit 0
