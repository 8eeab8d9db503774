# Helpers for the migration tests (lab only).
E_LAB () { echo "-e @$FERRY_LAB_SECRETS -e @$FERRY_LAB_VARS"; }
OSAPI="$FERRY_SRCDIR/tests/tools/os-api.py"
state_of () { echo "$FERRY_LAB_DIR/data/$1/ferry-state.json"; }
# Tear a VM's migration down and check nothing of ferry's is left for it.
clean_vm () {
    # shellcheck disable=SC2046
    "$FERRY" teardown $(E_LAB) --vm "$1" > "$TMP/teardown.out" 2>&1 || {
        cat "$TMP/teardown.out"; fail "teardown of $1 failed"; }
}
# Volumes carrying ferry's metadata for a VM uuid.
volumes_of_uuid () {
    "$OSAPI" GET volumev3 "/volumes/detail?all_tenants=0" |
        jq -r --arg u "$1" '[.volumes[] | select(.metadata.ferry_vm_uuid == $u)] | length'
}
