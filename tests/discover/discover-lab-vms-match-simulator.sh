#!/bin/sh
# ferry discover reports every field of the lab VMs as the simulator's own
# API (an independent client, tests/tools/vsphere-props.py) and the lab's
# inventory (lab.json) describe them; and writes vm.json plus os-migrate's
# files in the data dir.
. "$FERRY_SRCDIR/tests/functions.sh"
need_lab
V=$FERRY_LAB_DIR/vcsim/lab.json
run_ferry 0 discover -e @"$FERRY_LAB_SECRETS" -e @"$FERRY_LAB_VARS" \
    --vm lab-multi --vm lab-windows --vm lab-blocked --vm lab-linux-1disk \
    --format json --output-dir "$TMP/data"
cp "$TMP/out" "$TMP/d.json"
[ "$(jq length "$TMP/d.json")" = 4 ] || fail "expected 4 VMs"
q () { jq -r "$1" "$TMP/d.json"; }

for vm in lab-multi lab-windows lab-blocked lab-linux-1disk; do
    "$FERRY_SRCDIR/tests/tools/vsphere-props.py" "$vm" > "$TMP/sim.json" || fail "simulator query for $vm"
    s () { jq -r "$1" "$TMP/sim.json"; }
    f () { jq -r --arg vm "$vm" ".[] | select(.name == \$vm) | $1" "$TMP/d.json"; }
    [ "$(f .moref)" = "$(s .moref)" ] || fail "$vm: moref $(f .moref) != $(s .moref)"
    [ "$(f .num_cpu)" = "$(s .numCPU)" ] || fail "$vm: num_cpu"
    [ "$(f .memory_mb)" = "$(s .memoryMB)" ] || fail "$vm: memory_mb"
    [ "$(f .firmware)" = "$(s .firmware)" ] || fail "$vm: firmware"
    [ "$(f .guest_id)" = "$(s .guestId)" ] || fail "$vm: guest_id"
    [ "$(f .power_state)" = "$(s .powerState)" ] || fail "$vm: power_state"
    [ "$(f .cbt_enabled)" = "$(s .cbt)" ] || fail "$vm: cbt_enabled"
    [ "$(f '[.disks[] | [.key, .capacity_bytes, .file, .mode]]' | jq -c .)" = \
      "$(s '[.disks[] | [.key, .capacity, .file, .mode]]' | jq -c .)" ] || fail "$vm: disks differ"
    [ "$(f '[.nics[] | [.key, .mac]]' | jq -c .)" = "$(s '[.nics[] | [.key, .mac]]' | jq -c .)" ] ||
        fail "$vm: nics differ"
    # And the lab's own record of what it built.
    [ "$(f '[.disks[].capacity_bytes]' | jq -c .)" = \
      "$(jq -c --arg vm "$vm" '[.vms[] | select(.name == $vm) | .disks[].capacity]' "$V")" ] ||
        fail "$vm: disk sizes differ from lab.json"
    for file in vm.json guest_info.json disk_info.json nics.json; do
        [ -s "$TMP/data/$vm/$file" ] || fail "$vm: $file not written"
    done
done

# lab-multi: EFI, 2 controllers (SCSI + SATA), e1000 on a standard port
# group and vmxnet3 on a distributed one, guest IPs, CBT change ids.
f () { jq -r ".[] | select(.name == \"lab-multi\") | $1" "$TMP/d.json"; }
[ "$(f '[.disks[].bus_type] | unique | join(",")')" = "sata,scsi" ] || fail "lab-multi: buses"
[ "$(f '.nics[0].type')" = e1000 ] || fail "lab-multi: nic 0 type"
[ "$(f '.nics[0].network')" = "VM Network" ] || fail "lab-multi: nic 0 network"
[ "$(f '.nics[0].portgroup_key')" = null ] || fail "lab-multi: nic 0 is not on a DVS"
[ "$(f '.nics[1].type')" = vmxnet3 ] || fail "lab-multi: nic 1 type"
[ "$(f '.nics[1].portgroup_key')" = "$(jq -r '.portgroups[] | select(.key) | .key' "$V")" ] ||
    fail "lab-multi: nic 1 portgroup key"
[ "$(f '.nics[0].ips[0]')" = 192.168.100.11 ] || fail "lab-multi: guest IP"
[ "$(f '.disks | map(.change_id != null) | all')" = true ] || fail "lab-multi: change ids"
[ "$(f '.cores_per_socket')" = 2 ] || fail "lab-multi: cores per socket"
[ "$(f '.host.name')" != null ] || fail "lab-multi: host"
[ "$(f '.folder')" = "/DC0/vm" ] || fail "lab-multi: folder"
# lab-windows: a Windows guest id, EFI.
[ "$(jq -r '.[] | select(.name == "lab-windows") | .guest_id' "$TMP/d.json" | cut -c1-3)" = win ] ||
    fail "lab-windows: guest id"
# lab-blocked: an independent disk is a blocker, its snapshot a warning.
jq -r '.[] | select(.name == "lab-blocked") | .blockers[]' "$TMP/d.json" | grep -q "independent" ||
    fail "lab-blocked: no independent-disk blocker"
jq -r '.[] | select(.name == "lab-blocked") | .warnings[]' "$TMP/d.json" | grep -q "snapshot" ||
    fail "lab-blocked: no snapshot warning"
[ "$(jq -r '.[] | select(.name == "lab-multi") | .blockers | length' "$TMP/d.json")" = 0 ] ||
    fail "lab-multi: unexpected blockers"
# os-migrate's files: guest_info.json has the fields the reference reads.
G=$TMP/data/lab-multi/guest_info.json
[ "$(jq -r .hw_processor_count "$G")" = 4 ] || fail "guest_info: hw_processor_count"
[ "$(jq -r .hw_memtotal_mb "$G")" = 8192 ] || fail "guest_info: hw_memtotal_mb"
[ "$(jq -r .hw_eth1.portgroup_key "$G")" != null ] || fail "guest_info: hw_eth1.portgroup_key"
[ "$(jq -r '.disk_keys | length' "$TMP/data/lab-multi/disk_info.json")" = 3 ] || fail "disk_info: disk_keys"
# used_mapped_networks: nics.json maps both NICs through network_map.
[ "$(jq -r '[.[].vlan] | join(",")' "$TMP/data/lab-multi/nics.json")" = "lab-vm-network,lab-dvpg" ] ||
    fail "nics.json: $(cat "$TMP/data/lab-multi/nics.json")"
