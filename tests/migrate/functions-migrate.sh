# Helpers for the migration tests (lab only).
E_LAB () { echo "-e @$FERRY_LAB_SECRETS -e @$FERRY_LAB_VARS"; }
OSAPI="$FERRY_SRCDIR/tests/tools/os-api.py"
# FERRY_STATE_DIR: the data dir when a test uses its own (default: the lab's).
state_of () { echo "${FERRY_STATE_DIR:-$FERRY_LAB_DIR/data}/$1/ferry-state.json"; }
# Tear a VM's migration down and check nothing of ferry's is left for it.
# clean_vm VM [FERRY-ARGS...] (e.g. -e os_migrate_vmw_data_dir=DIR)
clean_vm () {
    _vm=$1; shift
    # shellcheck disable=SC2046
    "$FERRY" teardown $(E_LAB) "$@" --vm "$_vm" > "$TMP/teardown.out" 2>&1 || {
        cat "$TMP/teardown.out"; fail "teardown of $_vm failed"; }
}
# Volumes carrying ferry's metadata for a VM uuid.
volumes_of_uuid () {
    "$OSAPI" GET volumev3 "/volumes/detail?all_tenants=0" |
        jq -r --arg u "$1" '[.volumes[] | select(.metadata.ferry_vm_uuid == $u)] | length'
}
# volumes_match_flat VM LABEL: each of the VM's volumes (from its state)
# equals its disk's flat file in the simulator's datastore, byte for byte.
volumes_match_flat () {
    _S=$(state_of "$1")
    _V=$FERRY_LAB_DIR/vcsim/lab.json
    _n=$(jq --arg vm "$1" '[.vms[] | select(.name == $vm) | .disks[]] | length' "$_V")
    _i=0
    while [ $_i -lt "$_n" ]; do
        _key=$(jq -r --arg vm "$1" --argjson i $_i '.vms[] | select(.name == $vm) | .disks[$i].key' "$_V")
        _flat=$(jq -r --arg vm "$1" --argjson i $_i '.vms[] | select(.name == $vm) | .disks[$i].flat' "$_V")
        _cap=$(jq -r --arg vm "$1" --argjson i $_i '.vms[] | select(.name == $vm) | .disks[$i].capacity' "$_V")
        _vid=$(jq -r --arg k "$_key" '.volumes[$k].id' "$_S")
        cmp -n "$_cap" "$_flat" "$FERRY_LAB_VOLUMES/volume-$_vid" ||
            fail "$2: $1 disk $_key: volume $_vid differs from $_flat"
        _i=$((_i + 1))
    done
    [ "$_i" -gt 0 ] || fail "$2: $1 has no disks in lab.json"
}
# ports_match_lab VM LABEL: the VM's server has a port with each NIC's
# VMware MAC on the network its port group maps to in the lab.
ports_match_lab () {
    _sid=$(jq -r .server.id "$(state_of "$1")")
    "$OSAPI" GET network "/ports?device_id=$_sid" > "$TMP/ports-$1.json"
    for _pair in $(jq -r --arg vm "$1" '.vms[] | select(.name == $vm) | .nics[] | "\(.mac)=\(.portgroup)"' \
                      "$FERRY_LAB_DIR/vcsim/lab.json" | tr ' ' '_'); do
        _mac=${_pair%%=*}
        case ${_pair#*=} in VM_Network) _net=lab-vm-network ;; *) _net=lab-dvpg ;; esac
        _netid=$(jq -r --arg n "$_net" '.networks[$n].id' "$FERRY_LAB_DIR/openstack/lab.json")
        [ "$(jq -r --arg m "$_mac" '.ports[] | select(.mac_address == $m) | .network_id' "$TMP/ports-$1.json")" = "$_netid" ] ||
            fail "$2: $1 has no port with MAC $_mac on $_net"
    done
}
# restore_points_gone VOLUME_ID LABEL: no restore point of the volume is
# left (gone, not merely being deleted: Cinder deletes on its own time)
# within a minute; else fail naming what is left.
restore_points_gone () {
    for _i in $(seq 120); do
        _n=$("$OSAPI" GET volumev3 "/snapshots/detail?volume_id=$1" | jq '.snapshots | length')
        [ "$_n" = 0 ] && return 0
        sleep 0.5
    done
    "$OSAPI" GET volumev3 "/snapshots/detail?volume_id=$1" | jq -c '.snapshots[] | {id, status}'
    fail "$2: a restore point of volume $1 was left behind"
}
