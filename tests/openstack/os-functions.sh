# Helpers for the OpenStack client tests (source after tests/functions.sh).
need_lab
: "${OS_TOOL:=$FERRY_BUILDDIR/tests/openstack/os-tool}"
LAB_OS=$FERRY_LAB_DIR/openstack/lab.json
lj () { jq -er "$1" "$LAB_OS"; }
PROJECT_ID=$(lj .project.id)

# os_tool EXPECTED_EXIT ARGS...: stdout in $TMP/out, stderr in $TMP/err
os_tool () { want=$1; shift; run_cmd "$want" "$OS_TOOL" "$@"; }
# as_admin ARGS...: os-tool as the lab's admin (prints the answer)
as_admin () { OS_CLOUD=$(lj .admin_cloud) "$OS_TOOL" "$@"; }

# set_quota SERVICE KEY VALUE (volume: gigabytes/volumes; compute: cores/ram/instances;
# network: port) on the lab project; remember the old value and restore at exit.
quota_restore=""
set_quota () {
    svc=$1 key=$2 val=$3
    case $svc in
    volume | compute) path=/os-quota-sets/$PROJECT_ID; wrap=quota_set ;;
    network) path=/quotas/$PROJECT_ID; wrap=quota ;;
    esac
    old=$(as_admin request GET "$svc" "$path" 2>/dev/null | jq -er ".$wrap.\"$key\"")
    quota_restore="$quota_restore $svc:$key:$old"
    as_admin request PUT "$svc" "$path" "{\"$wrap\": {\"$key\": $val}}" >/dev/null 2>"$TMP/quota.err" || { cat "$TMP/quota.err" >&2;
        fail "cannot set the $svc quota $key to $val"; }
}
restore_quotas () {
    for q in $quota_restore; do
        svc=${q%%:*} rest=${q#*:}; key=${rest%%:*} val=${rest#*:}
        case $svc in
        volume | compute) path=/os-quota-sets/$PROJECT_ID; wrap=quota_set ;;
        network) path=/quotas/$PROJECT_ID; wrap=quota ;;
        esac
        as_admin request PUT "$svc" "$path" "{\"$wrap\": {\"$key\": $val}}" >/dev/null 2>&1 ||
            echo "WARNING: could not restore the $svc quota $key to $val" >&2
    done
}
on_exit restore_quotas
