#!/bin/sh
# ferry check --parallel N compares N migrations at once with the seeds'
# rule (1 vCPU + 2 GiB each) on the conversion host's flavor as Nova
# reports it and on this machine (nproc, MemAvailable), and the volumes the
# N VMs with the most disks attach at once with the conversion host's
# limit.  Too many at once is a warning naming what fits, never a failure;
# N is capped by the VMs selected; ferry_parallel is the default N.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/openstack/os-functions.sh"

CH=$(lj .conversion_host.id)
as_admin request GET compute "/servers/$CH" > "$TMP/srv" 2>/dev/null || fail "cannot read the conversion host"
FLAVOR=$(jq -er '.server.flavor.original_name' "$TMP/srv")
FVCPUS=$(jq -er '.server.flavor.vcpus' "$TMP/srv")
FRAM=$(jq -er '.server.flavor.ram' "$TMP/srv")
fit_of () { a=$1; b=$(($2 / 2048)); [ "$a" -lt "$b" ] && echo "$a" || echo "$b"; }
FFIT=$(fit_of "$FVCPUS" "$FRAM")
mem_mib () { echo $(($(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) / 1024)); }

# sizing ROWS TARGET: "status detail" of that sizing row
row () { jq -er --arg t "$2" '.[] | select(.check == "sizing" and .target == $t) | "\(.status) \(.detail)"' "$1"; }
HOST=$(hostname)

SMALL=""
for i in 01 02 03 04 05 06 07 08 09 10; do SMALL="$SMALL --vm lab-small-$i"; done
DISKS=$(jq '[.vms[] | select(.name | startswith("lab-small-")) | .disks | length] | add' \
        "$FERRY_LAB_DIR/vcsim/lab.json")

# Ten VMs, ten at once: more than this 2-core machine and the lab's flavor hold.
fit_lo=$(fit_of "$(nproc)" "$(mem_mib)")
# shellcheck disable=SC2086
run_ferry 0 check -e @"$FERRY_LAB_SECRETS" -e @"$FERRY_LAB_VARS" $SMALL --parallel 10 --format json
cp "$TMP/out" "$TMP/ten"
fit_hi=$(fit_of "$(nproc)" "$(mem_mib)")
r=$(row "$TMP/ten" "$CH") || fail "no sizing row for the conversion host"
case $r in
"warn 10 migrations at once need 10 vCPUs and 20 GiB of RAM"*"flavor $FLAVOR has $FVCPUS vCPU"*) ;;
*) fail "conversion host row: $r" ;;
esac
if [ "$FFIT" -lt 1 ]; then
    echo "$r" | grep -q "too little for even one" || fail "flavor $FLAVOR ($FVCPUS vCPU, $FRAM MiB) holds none: $r"
else
    echo "$r" | grep -q -- "--parallel $FFIT fits" || fail "flavor $FLAVOR holds $FFIT: $r"
fi
r=$(row "$TMP/ten" "$HOST") || fail "no sizing row for this machine ($HOST)"
k=$(echo "$r" | sed -n 's/.*--parallel \([0-9]*\) fits.*/\1/p')
{ [ "${r%% *}" = warn ] && [ -n "$k" ]; } || fail "this machine ($(nproc) CPUs): $r"
{ [ "$k" -ge "$fit_lo" ] && [ "$k" -le "$fit_hi" ]; } ||
    { [ "$k" -le "$fit_lo" ] && [ "$k" -ge "$fit_hi" ]; } ||
    fail "this machine holds $fit_lo..$fit_hi at once by nproc and MemAvailable, the check says $k: $r"
r=$(row "$TMP/ten" attachments) || fail "no attachments row"
[ "$r" = "pass 10 VMs at once attach at most $DISKS volumes (0 attached now; limit ~25)" ] ||
    fail "attachments for the ten lab-small VMs ($DISKS disks): $r"
# warnings, not failures: the check passes
jq -e 'all(.[]; .status != "fail")' "$TMP/ten" > /dev/null || fail "a row failed"

# The largest VMs are the ones counted: lab-multi (3 disks) + lab-linux-1disk (1).
SEL="--vm lab-linux-1disk --vm lab-multi"
# shellcheck disable=SC2086
run_ferry 0 check -e @"$FERRY_LAB_SECRETS" -e @"$FERRY_LAB_VARS" $SEL --parallel 1 --format json
r=$(row "$TMP/out" attachments)
[ "$r" = "pass 1 VM at once attaches at most 3 volumes (0 attached now; limit ~25)" ] || fail "one at once: $r"

# --parallel beyond the VMs selected: only as many as there are VMs run at once.
# shellcheck disable=SC2086
run_ferry 0 check -e @"$FERRY_LAB_SECRETS" -e @"$FERRY_LAB_VARS" $SEL --parallel 50 --format json
r=$(row "$TMP/out" "$CH")
case $r in *"2 migrations at once (--parallel 50, 2 VMs) need 2 vCPUs"*) ;; *) fail "--parallel 50 for 2 VMs: $r" ;; esac
r=$(row "$TMP/out" attachments)
[ "$r" = "pass 2 VMs at once attach at most 4 volumes (0 attached now; limit ~25)" ] || fail "--parallel 50: $r"

# ferry_parallel (vars.yaml) is the default, and the text table shows the warnings.
# shellcheck disable=SC2086
run_ferry 0 check -e @"$FERRY_LAB_SECRETS" -e @"$FERRY_LAB_VARS" -e ferry_parallel=3 $SMALL
expect_in "$TMP/out" "^warn +sizing +$HOST +3 migrations at once need 3 vCPUs and 6 GiB"
exit 0
