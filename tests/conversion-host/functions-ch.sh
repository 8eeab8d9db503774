# Helpers for the conversion-host tests (lab only).  Source after
# tests/functions.sh and tests/migrate/functions-migrate.sh.
lab_id () { jq -r "$1" "$FERRY_LAB_DIR/openstack/lab.json"; }

# snapshot FILE [--admin]: ids of every server, security group, floating IP
# and flavor the user sees, one per line, to compare before and after.
snapshot () {
    _f=$1; shift
    {
        "$OSAPI" "$@" GET compute /servers | jq -r '.servers[].id'
        "$OSAPI" "$@" GET network /security-groups | jq -r '.security_groups[].id'
        "$OSAPI" "$@" GET network /floatingips | jq -r '.floatingips[].id'
        "$OSAPI" "$@" GET compute /flavors | jq -r '.flavors[].id'
    } | sort > "$_f"
}

# fixture_network NAME CIDR [--admin]: a network with a subnet and, when
# ROUTER=1, a router joining it to lab-external (for floating IPs).
# Everything is removed on exit.
fixture_network () {
    FX_NAME=$1; FX_CIDR=$2; shift 2; FX_ADMIN="$*"
    FX_NET=$("$OSAPI" $FX_ADMIN POST network /networks "{\"network\": {\"name\": \"$FX_NAME\"}}" | jq -r .network.id)
    on_exit fixture_network_cleanup
    FX_SUBNET=$("$OSAPI" $FX_ADMIN POST network /subnets "{\"subnet\": {\"network_id\": \"$FX_NET\", \"cidr\": \"$FX_CIDR\", \"ip_version\": 4, \"name\": \"$FX_NAME\"}}" | jq -r .subnet.id)
    FX_ROUTER=
    if [ "${ROUTER:-0}" = 1 ]; then
        FX_ROUTER=$("$OSAPI" $FX_ADMIN POST network /routers "{\"router\": {\"name\": \"$FX_NAME\", \"external_gateway_info\": {\"network_id\": \"$(lab_id .external_network.id)\"}}}" | jq -r .router.id)
        "$OSAPI" $FX_ADMIN PUT network "/routers/$FX_ROUTER/add_router_interface" "{\"subnet_id\": \"$FX_SUBNET\"}" >/dev/null
    fi
}
fixture_network_cleanup () {
    if [ -n "${FX_ROUTER:-}" ]; then
        "$OSAPI" $FX_ADMIN PUT network "/routers/$FX_ROUTER/remove_router_interface" "{\"subnet_id\": \"$FX_SUBNET\"}" >/dev/null 2>&1 || :
        "$OSAPI" $FX_ADMIN DELETE network "/routers/$FX_ROUTER" >/dev/null 2>&1 || :
    fi
    # Ports left by a failed run would keep the network: remove them first.
    for p in $("$OSAPI" $FX_ADMIN GET network "/ports?network_id=$FX_NET" 2>/dev/null | jq -r '.ports[].id'); do
        "$OSAPI" $FX_ADMIN DELETE network "/ports/$p" >/dev/null 2>&1 || :
    done
    "$OSAPI" $FX_ADMIN DELETE network "/networks/$FX_NET" >/dev/null 2>&1 || :
}

# The user data of a server, decoded (needs the admin's view).
user_data_of () {
    "$OSAPI" --admin GET compute "/servers/$1" | jq -r '.server["OS-EXT-SRV-ATTR:user_data"]' | base64 -d
}
