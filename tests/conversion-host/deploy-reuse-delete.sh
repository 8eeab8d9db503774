#!/bin/sh
# ferry conversion-host deploy makes an ACTIVE instance sized for
# --parallel 3 (the smallest existing flavor with 3 vCPU, 6 GiB, 16 GB:
# lab.large), on the configured network, with its own security group
# allowing SSH from this machine only, the key pair, cloud-init user data
# installing the tools and ferry and pointing ferry at the instance's own
# id, and a floating IP on lab-external; SSH not answering is reported, not
# a failure.  A second deploy reuses all of it; status shows it; delete
# removes exactly what deploy made and nothing that was there before.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
. "$FERRY_SRCDIR/tests/conversion-host/functions-ch.sh"
need_lab
NAME=t-deploy
SNAME=ferry-conversion-host-$NAME
ROUTER=1 fixture_network ferry-test-ch-net 10.98.7.0/24
ch_cleanup () { "$FERRY" conversion-host delete $(E_LAB) --name $NAME >/dev/null 2>&1; }
on_exit ch_cleanup
snapshot "$TMP/before"
IMG=$(lab_id .image.name)
E="-e conversion_host_image=$IMG -e conversion_host_network=ferry-test-ch-net
   -e conversion_host_floating_ip=true -e conversion_host_external_network=lab-external
   -e conversion_host_ssh_timeout=2 -e conversion_host_ferry_package_url=https://example.org/ferry_0.1_amd64.deb"
# shellcheck disable=SC2046,SC2086
run_ferry 0 conversion-host deploy $(E_LAB) $E --parallel 3 --name $NAME --format json
cp "$TMP/out" "$TMP/deploy.json"
sid=$(jq -r .server.id "$TMP/deploy.json")
[ "$(jq -r .reused "$TMP/deploy.json")" = false ] || fail "first deploy says reused"
# SSH cannot answer (the fake hypervisor runs no guest): reported, not fatal.
[ "$(jq -r .ssh "$TMP/deploy.json")" = timeout ] || fail "ssh: $(jq -r .ssh "$TMP/deploy.json")"
expect_in "$TMP/err" "no SSH answer from"
"$OSAPI" GET compute "/servers/$sid" > "$TMP/server.json"
S() { jq -r "$1" "$TMP/server.json"; }
[ "$(S .server.status)" = ACTIVE ] || fail "server $(S .server.status)"
[ "$(S .server.name)" = "$SNAME" ] || fail "server name $(S .server.name)"
[ "$(S .server.flavor.original_name)" = lab.large ] || fail "flavor $(S .server.flavor.original_name), expected lab.large"
[ "$(S '.server.addresses | keys[0]')" = ferry-test-ch-net ] || fail "network $(S '.server.addresses | keys')"
[ "$(S .server.key_name)" = "$(lab_id .keypair.name)" ] || fail "key $(S .server.key_name)"
[ "$(S '.server.security_groups[0].name')" = "$SNAME" ] || fail "security group $(S .server.security_groups)"
[ "$(S '.server.metadata["ferry-created"]')" = conversion-host ] || fail "server metadata"
[ "$(S '.server.image.id')" = "$(lab_id .image.id)" ] || fail "image"
# The security group: SSH from this machine (the lab's API is on 127.0.0.1), nothing else in.
"$OSAPI" GET network "/security-groups?name=$SNAME" > "$TMP/sg.json"
[ "$(jq '.security_groups | length' "$TMP/sg.json")" = 1 ] || fail "security groups named $SNAME"
jq -c '[.security_groups[0].security_group_rules[] | select(.direction == "ingress")]' "$TMP/sg.json" > "$TMP/in.json"
[ "$(jq -r 'length' "$TMP/in.json")" = 1 ] || fail "ingress rules: $(cat "$TMP/in.json")"
[ "$(jq -r '.[0] | "\(.protocol) \(.port_range_min) \(.port_range_max) \(.remote_ip_prefix)"' "$TMP/in.json")" = "tcp 22 22 127.0.0.1/32" ] ||
    fail "ingress rule: $(cat "$TMP/in.json")"
# User data: the installation steps and ferry's configuration.
user_data_of "$sid" > "$TMP/ud"
for w in "^#!/bin/sh" "nbdkit" "libnbd-bin" "libnbd " "qemu-img" "qemu-utils" "virt-v2v" "virtio-win" \
         "/etc/os-release" "https://example.org/ferry_0.1_amd64.deb" \
         "169.254.169.254/openstack/latest/meta_data.json" \
         "^import_workloads_instance_uuid: \\\$UUID" "/etc/ferry/conversion-host.yml"; do
    expect_in "$TMP/ud" "$w"
done
sh -n "$TMP/ud" || fail "the user data is not a valid shell script"
# The floating IP, on lab-external, on the server's port.
fip=$(jq -r .floating_ip.address "$TMP/deploy.json")
"$OSAPI" GET network "/floatingips?floating_ip_address=$fip" > "$TMP/fip.json"
[ "$(jq -r '.floatingips[0].floating_network_id' "$TMP/fip.json")" = "$(lab_id .external_network.id)" ] ||
    fail "floating IP $fip not on lab-external"
port=$(jq -r '.floatingips[0].port_id' "$TMP/fip.json")
[ "$("$OSAPI" GET network "/ports/$port" | jq -r .port.device_id)" = "$sid" ] || fail "floating IP not on the server's port"
[ "$(jq -r .address "$TMP/deploy.json")" = "$fip" ] || fail "address is not the floating IP"
# The inventory snippet, in the seeds' format, for that address.
jq -r .inventory "$TMP/deploy.json" > "$TMP/inv.yml"
expect_in "$TMP/inv.yml" "^conversion_host:"
expect_in "$TMP/inv.yml" "^    $fip:"
expect_in "$TMP/inv.yml" "ansible_ssh_user: "
# A second deploy reuses everything (text output this time).
snapshot "$TMP/after1"
# shellcheck disable=SC2046,SC2086
run_ferry 0 conversion-host deploy $(E_LAB) $E --parallel 3 --name $NAME --no-wait-ssh
expect_in "$TMP/out" "$sid.*reused"
expect_in "$TMP/out" "address: $fip"
expect_in "$TMP/out" "^conversion_host:"
snapshot "$TMP/after2"
cmp -s "$TMP/after1" "$TMP/after2" || fail "the second deploy made or removed resources"
# Status.
# shellcheck disable=SC2046
run_ferry 0 conversion-host status $(E_LAB) --name $NAME --format json
[ "$(jq -r .status "$TMP/out")" = ACTIVE ] || fail "status"
[ "$(jq -r .volumes.limit "$TMP/out")" = 25 ] || fail "attach limit"
[ "$(jq -r .volumes.attached "$TMP/out")" = 0 ] || fail "attached volumes"
[ "$(jq -r .parallel_capacity "$TMP/out")" = 4 ] || fail "capacity of lab.large"
# Delete: what deploy made, and exactly the state from before is back.
# shellcheck disable=SC2046
run_ferry 0 conversion-host delete $(E_LAB) --name $NAME
expect_in "$TMP/out" "deleted server $SNAME"
expect_in "$TMP/out" "deleted security_group $SNAME"
expect_in "$TMP/out" "deleted floating_ip $fip"
snapshot "$TMP/after"
diff "$TMP/before" "$TMP/after" || fail "delete did not restore the resources from before"
"$OSAPI" GET network "/networks/$FX_NET" >/dev/null || fail "the fixture network is gone"
"$OSAPI" GET compute "/servers/$(lab_id .conversion_host.id)" >/dev/null || fail "the lab's conversion host is gone"
# shellcheck disable=SC2046
run_ferry 0 conversion-host delete $(E_LAB) --name $NAME
expect_in "$TMP/out" "nothing to delete"
