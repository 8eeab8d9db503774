#!/bin/sh
# A value outside what its key allows (a range, a set of words, a host name
# with a port, a URL, a CIDR, ...) stops ferry when the configuration is
# loaded: exit 2, the file (or -e) and the key named, what was given and what
# is allowed, nothing connected to.  Numeric command-line options are
# overflow-checked the same way.  Edge values that are allowed still load.
. "$FERRY_SRCDIR/tests/functions.sh"

# bad KEY=VALUE REGEX: `config show -e KEY=VALUE` exits 2 with REGEX in stderr.
bad () {
    run_ferry 2 config show -e "$1"
    expect_in "$TMP/err" "$2"
    expect_in "$TMP/err" "configuration errors: nothing was done"
}
# good KEY=VALUE...: `config show` loads them (exit 0).
good () {
    for a in "$@"; do run_ferry 0 config show --format json -e "$a"; done
}
INT="is not allowed: expected an integer from"

# The reviewer's: shutdown_timeout cast to int unchecked.
bad shutdown_timeout=-1 "-e: key 'shutdown_timeout': -1 $INT 0 to 86400 \(seconds\)"
bad shutdown_timeout=4294967296 "-e: key 'shutdown_timeout': 4294967296 $INT 0 to 86400"
bad shutdown_timeout=9223372036854775807 "key 'shutdown_timeout': 9223372036854775807 $INT 0 to 86400"
bad 'shutdown_timeout="86401"' "key 'shutdown_timeout': 86401 $INT 0 to 86400"
good shutdown_timeout=0 shutdown_timeout=86400 'shutdown_timeout="900"'

# The other integers: counts, timeouts, sizes (each key as the user wrote it).
bad ferry_parallel=0 "key 'ferry_parallel': 0 $INT 1 to 1000"
bad parallel=1001 "key 'parallel': 1001 $INT 1 to 1000"
bad max_disks=-5 "key 'max_disks': -5 $INT 1 to 1000"
bad ferry_max_disks_per_host=0 "key 'ferry_max_disks_per_host': 0 $INT 1 to 1000"
bad sync_interval=-1 "key 'sync_interval': -1 $INT 1 to 604800 \(seconds\)"
bad conversion_host_ssh_timeout=-1 "key 'conversion_host_ssh_timeout': -1 $INT 0 to 86400"
bad conversion_host_disk_gb=8 "key 'conversion_host_disk_gb': 8 $INT 16 to 65536 \(GB\)"
bad conversion_host_max_volumes=0 "key 'conversion_host_max_volumes': 0 $INT 1 to 1000"
bad networks_prefix_length=33 "key 'networks_prefix_length': 33 $INT 8 to 32"
good parallel=1 ferry_parallel=1000 max_disks=1 sync_interval=604800 conversion_host_disk_gb=16 \
     networks_prefix_length=8 networks_prefix_length=32 conversion_host_ssh_timeout=0

# Sets of words: disk_source floppy failed only after snapshot and volumes existed.
bad disk_source=floppy "key 'disk_source': \"floppy\" is not allowed: expected one of auto, vddk, nfc, https, export or local"
bad disk_source=HTTPS "key 'disk_source': \"HTTPS\" is not allowed"
for s in auto vddk https export local; do good disk_source=$s; done

# Host names: a port out of range, a newline, spaces, IPv6 without brackets.
HOST="expected HOST, HOST:PORT, \[IPv6\]:PORT or https://HOST\[:PORT\]\[/PATH\]"
bad vcenter_hostname=vc.example.com:99999 "key 'vcenter_hostname': \"vc.example.com:99999\" is not allowed: port 99999 is not from 1 to 65535; $HOST"
bad vcenter_hostname=vc.example.com:0 "port 0 is not from 1 to 65535"
bad esxi_hostname=esx1:https "key 'esxi_hostname': .*port 'https' is not a number"
bad 'vcenter_hostname=vc example' "key 'vcenter_hostname': .*has a space, a newline or another control character"
bad vcenter_hostname=fe80::1 "an IPv6 address is written in brackets"
bad vcenter_hostname=ftp://vc.example "only https:// \(or http:// with allow_insecure_http\)"
bad vcenter_hostname=admin@vc.example "has a user name in it"
bad vcenter_hostname=-oProxyCommand "is not a host name or address"
printf 'vcenter_hostname: "vc.example.com\\nevil.example.com"\n' > "$TMP/nl.yml"
run_ferry 2 config show -e @"$TMP/nl.yml"
expect_in "$TMP/err" "$TMP/nl.yml: key 'vcenter_hostname': \"vc.example.com\\\\nevil.example.com\" is not allowed: it has a space, a newline or another control character"
good vcenter_hostname=vc.example.com vcenter_hostname=vc.example.com:1 vcenter_hostname=10.0.0.7:65535 \
     "vcenter_hostname='[::1]:8443'" "vcenter_hostname='[fe80::1]'" vcenter_hostname=https://vc.example.com/sdk \
     vcenter_hostname=https://127.0.0.1:8989/sdk esxi_hostname=esx_1.lab.local. vcenter_hostname=

# Thumbprints, URLs, git, CIDRs, names ending up in scripts and server names.
bad vddk_thumbprint=nonsense "key 'vddk_thumbprint': \"nonsense\" is not allowed: it is not a SHA-1 fingerprint"
bad vddk_thumbprint=00:11:22 "6 hex digits, not 40"
good vddk_thumbprint=00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33 \
     vddk_thumbprint=00112233445566778899aabbccddeeff00112233
bad conversion_host_ferry_package_url=ftp://example.org/f.deb "key 'conversion_host_ferry_package_url': .*expected an https:// or http:// URL"
bad conversion_host_ferry_git_url=--upload-pack=touch "starts with '-' \(git would read an option\)"
bad conversion_host_ferry_git_ref=-x "key 'conversion_host_ferry_git_ref': \"-x\" is not allowed: expected a branch or tag name"
bad 'conversion_host_ferry_git_ref=main; reboot' "';' is not allowed in it"
good conversion_host_ferry_package_url=https://example.org/ferry_0.1_amd64.deb \
     conversion_host_ferry_git_url=https://github.com/example/ferry.git \
     conversion_host_ferry_git_url=git@github.com:example/ferry.git conversion_host_ferry_git_ref=v1.2/fix-3
bad 'conversion_host_name=a b' "key 'conversion_host_name': \"a b\" is not allowed: expected 1 to 63 letters, digits"
bad 'conversion_host_name=$(reboot)' "key 'conversion_host_name'"
bad conversion_host_ssh_cidr=10.0.0.0/33 "key 'conversion_host_ssh_cidr': .*the prefix '/33' is not from 0 to 32"
bad conversion_host_ssh_cidr=example.org "is not an IP address"
good conversion_host_ssh_cidr=192.0.2.7 conversion_host_ssh_cidr=192.0.2.0/24 conversion_host_ssh_cidr=2001:db8::/32 \
     conversion_host_name=t-auto conversion_host_ssh_user=cloud-user
bad 'extra_opts=--run $(reboot)' "key 'extra_opts': .*command substitution"
bad "extra_opts=--firstboot 'unbalanced" "key 'extra_opts': .*quotes are not balanced"
good "extra_opts=--root first --mac 'aa:bb:cc:dd:ee:ff:network:x'"

# Structured values: what their readers look for.
bad 'network_map={VM Network: 5}' "key 'network_map\['VM Network'\]': 5 is not allowed: expected the Neutron network as text"
bad 'networks_subnets={pg1: 10.0.0.0}' "key 'networks_subnets\['pg1'\]': \"10.0.0.0\" is not allowed: it has no /PREFIX"
bad 'networks_subnets={pg1: [10.0.0.0/24, 2001:db8::/64]}' "key 'networks_subnets\['pg1'\]\[1\]'.*is not an IPv4 address"
bad 'networks_security_group_rules=[{protocol: tcp, ports: 22}]' "key 'networks_security_group_rules\[0\].ports': 22 is not allowed: this field is not known"
bad 'networks_security_group_rules=[{protocol: tcp, port: 70000}]' "key 'networks_security_group_rules\[0\].port': 70000 is not allowed: expected an integer from 1 to 65535"
bad 'networks_security_group_rules=[{port: 443, port_max: 80}]' "\[0\].port_max': 80 is not allowed: expected an integer from 443 to 65535"
bad 'networks_security_group_rules=[{protocol: 6}]' "\[0\].protocol': 6 is not allowed: expected tcp, udp, icmp"
good 'networks_security_group_rules=[{protocol: tcp, port: 1, port_max: 65535}, {protocol: icmp, port: 0}, {protocol: "17"}, {remote_ip_prefix: 10.1.0.0/16}]'
bad 'volume_type_mapping=[{vmware_datastore: ds1}]' "key 'volume_type_mapping\[0\]'.*openstack_type is missing"
bad 'vms_list=[a, ""]' "key 'vms_list\[1\]': \"\" is not allowed: it is empty"
bad 'dst_cloud={interface: publik}' "key 'dst_cloud.interface': \"publik\" is not allowed: expected one of public, internal, admin"
bad 'dst_cloud={auth: {auth_url: keystone.example}}' "key 'dst_cloud.auth.auth_url': \"keystone.example\" is not allowed"
bad 'dst_cloud={identity_api_version: 2}' "key 'dst_cloud.identity_api_version': 2 is not allowed: ferry speaks Keystone v3 only"
good 'dst_cloud={auth: {auth_url: "https://keystone.example:5000/v3"}, interface: internalURL, identity_api_version: 3}'

# A file is named, and the first bad value does not hide the others.
printf 'shutdown_timeout: -1\ndisk_source: floppy\nparallel: 8\n' > "$TMP/vars.yml"
run_ferry 2 config show -e @"$TMP/vars.yml"
expect_in "$TMP/err" "$TMP/vars.yml: key 'shutdown_timeout': -1 is not allowed"
expect_in "$TMP/err" "$TMP/vars.yml: key 'disk_source': \"floppy\" is not allowed"

# Checked before anything connects: vCenter and Keystone at 127.0.0.1:1
# would be refused (exit 3 or 4) if ferry got that far.
cat > "$TMP/conn.yml" <<EOF
vcenter_hostname: 127.0.0.1:1
vcenter_username: u
vcenter_password: not-a-real-password
os_migrate_vmw_data_dir: $TMP/data
dst_cloud:
  auth: {auth_url: "https://127.0.0.1:1/v3", username: u, password: not-a-real-password-2,
         project_name: p, user_domain_name: Default, project_domain_name: Default}
EOF
# The reviewer's case: a graceful-shutdown wait that ends at once, then a
# hard power-off.
run_ferry 2 migrate --dry-run -e @"$TMP/conn.yml" -e cbt_sync=true -e cutover=true \
    -e force_power_off=true -e shutdown_timeout=-1 --vm vm1
expect_in "$TMP/err" "-e: key 'shutdown_timeout': -1 is not allowed: expected an integer from 0 to 86400"
expect_not_in "$TMP/err" "connect|Keystone|vm1"
run_ferry 2 migrate --dry-run -e @"$TMP/conn.yml" -e disk_source=floppy --vm vm1
expect_in "$TMP/err" "-e: key 'disk_source': \"floppy\" is not allowed"
expect_not_in "$TMP/err" "connect|Keystone|vm1"
run_ferry 2 migrate --dry-run -e @"$TMP/conn.yml" -e 'vcenter_hostname=127.0.0.1:99999' --vm vm1
expect_in "$TMP/err" "key 'vcenter_hostname': \"127.0.0.1:99999\" is not allowed: port 99999"
expect_not_in "$TMP/err" "connect|Keystone|vm1"
printf 'shutdown_timeout: 9223372036854775807\n' > "$TMP/bad.yml"
run_ferry 2 migrate --dry-run -e @"$TMP/conn.yml" -e @"$TMP/bad.yml" --vm vm1
expect_in "$TMP/err" "$TMP/bad.yml: key 'shutdown_timeout': 9223372036854775807 is not allowed"
expect_not_in "$TMP/err" "connect|Keystone|vm1"
[ ! -e "$TMP/data" ] || fail "the data directory was created"

# Command-line numbers: overflow-checked, exit 2 with a clear message.
run_ferry 2 sync --until-delta 99999999999999G --vm vm1
expect_in "$TMP/err" "ferry sync: --until-delta needs a size in bytes from 0 to 9223372036854775807 .*not '99999999999999G'"
run_ferry 2 sync --until-delta 8E --vm vm1
expect_in "$TMP/err" "--until-delta needs a size"
run_ferry 2 sync --until-delta -1 --vm vm1
expect_in "$TMP/err" "--until-delta needs a size"
# A valid size passes the option and stops at the configuration.
run_ferry 2 sync --until-delta 8388607T -e shutdown_timeout=-1 --vm vm1
expect_in "$TMP/err" "key 'shutdown_timeout'"
run_ferry 2 sync --every 0 --vm vm1
expect_in "$TMP/err" "--every needs a number of seconds from 1 to 604800, not '0'"
run_ferry 2 sync --every 99999999999999999999 --vm vm1
expect_in "$TMP/err" "--every needs a number of seconds"
run_ferry 2 migrate --parallel 5x --vm vm1
expect_in "$TMP/err" "--parallel needs a number from 1 to 1000, not '5x'"
run_ferry 2 migrate --max-disks 4294967297 --vm vm1
expect_in "$TMP/err" "--max-disks needs a number from 1 to 1000"
run_ferry 2 check --parallel 5x
expect_in "$TMP/err" "ferry check: --parallel needs a number from 1 to 1000, not '5x'"
run_ferry 2 check --parallel 4294967297
expect_in "$TMP/err" "ferry check: --parallel needs a number from 1 to 1000"
run_ferry 2 conversion-host --parallel 4294967297 status
expect_in "$TMP/err" "ferry conversion-host: --parallel needs a number from 1 to 1000"
# --name goes into server names: the same rule as conversion_host_name.
for n in 'a b' 'x/y' "$(printf 'x\ny')" -lead "$(printf '%064d' 0)"; do
    run_ferry 2 conversion-host deploy --name "$n"
    expect_in "$TMP/err" "ferry conversion-host: option --name: .* is not allowed: expected 1 to 63 letters"
done

# ferry copy: a request size that wraps around 2^64 to a valid one (1M, 256K)
# is refused, not used; nothing is copied.
head -c 1048576 /dev/zero > "$TMP/src.img"
for sz in 17592186044417M 18014398509482240K 18446744073709555712 1T 4097 0K; do
    run_ferry 2 copy --request-size "$sz" "$TMP/src.img" "$TMP/dst.img"
    expect_in "$TMP/err" "ferry copy: --request-size must be a multiple of 4096 from 4K to 32M \(e.g. 256K, 1M\), not '$sz'"
    [ ! -e "$TMP/dst.img" ] || fail "--request-size $sz: a destination was written"
done
for o in --connections --requests --retries --checkpoint-interval; do
    run_ferry 2 copy "$o" 18446744073709551617 "$TMP/src.img" "$TMP/dst.img"
    expect_in "$TMP/err" "ferry copy: $o must be a number from [0-9]+ to [0-9]+, not '18446744073709551617'"
    run_ferry 2 copy "$o" ' 8' "$TMP/src.img" "$TMP/dst.img"
    expect_in "$TMP/err" "ferry copy: $o must be a number"
done
[ ! -e "$TMP/dst.img" ] || fail "a destination was written"
for sz in 4K 4KiB 256K 1M 32M 32MiB 4096 8192B; do
    run_ferry 0 copy --request-size "$sz" "$TMP/src.img" "$TMP/dst.img"
    rm -f "$TMP/dst.img"
done
