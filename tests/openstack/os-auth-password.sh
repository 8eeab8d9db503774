#!/bin/sh
# Keystone password auth as the lab's ferry user: by names via clouds.yaml
# (OS_CLOUD), via a dst_cloud dict scoped by project id, with domain ids;
# the catalog gives every service; a wrong password is a clear error that
# never shows the password, even with --debug.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/openstack/os-functions.sh"

check_auth () {
    [ "$(jq -r .project_id "$TMP/out")" = "$PROJECT_ID" ] || fail "$1: wrong project"
    for s in identity compute volume network image; do
        jq -e --arg s "$s" '.endpoints[$s] | startswith("http://127.0.0.1:")' "$TMP/out" >/dev/null ||
            fail "$1: no $s endpoint"
    done
    jq -e '.endpoints.network | endswith("/v2.0")' "$TMP/out" >/dev/null || fail "$1: network URL"
    jq -e '.endpoints.image | endswith("/v2")' "$TMP/out" >/dev/null || fail "$1: image URL"
    jq -e --arg p "$PROJECT_ID" '.endpoints.volume | endswith($p)' "$TMP/out" >/dev/null ||
        fail "$1: volume URL lacks the project id"
    jq -e '.expires_in_s > 600' "$TMP/out" >/dev/null || fail "$1: token expiry not read"
}

# 1. clouds.yaml by OS_CLOUD (names, user and project domains by name)
os_tool 0 auth
check_auth "OS_CLOUD"

# 2. dst_cloud dict, project by id only, domains by id, region and interface given
url=$(lj .auth_url) user=$(lj .user.name) pw=$(lj .user.password)
jq -n --arg u "$url" --arg n "$user" --arg p "$pw" --arg pid "$PROJECT_ID" \
    '{dst_cloud: {auth: {auth_url: ($u | sub("/v3$"; "")), username: $n, password: $p,
      project_id: $pid, user_domain_id: "default"}, region_name: "RegionOne",
      interface: "public"}}' >"$TMP/by-id.json"
env -u OS_CLOUD "$OS_TOOL" -e @"$TMP/by-id.json" auth >"$TMP/out" 2>"$TMP/err" ||
    { cat "$TMP/err"; fail "auth by project id failed"; }
check_auth "project id"

# 3. the lab's secrets file (dst_cloud as os-migrate writes it)
os_tool 0 -e @"$FERRY_LAB_SECRETS" auth
check_auth "secrets.yml"

# 4. a region that does not exist: no endpoints -> warned
jq '.dst_cloud.region_name = "NoSuchRegion"' "$TMP/by-id.json" >"$TMP/region.json"
os_tool 0 -e @"$TMP/region.json" auth
expect_in "$TMP/err" "no Nova endpoint.*NoSuchRegion"
[ "$(jq '.endpoints | length' "$TMP/out")" = 0 ] || fail "region not honoured"

# 5. wrong password
jq '.dst_cloud.auth.password = "Wrong-Secret-4242"' "$TMP/by-id.json" >"$TMP/bad.json"
os_tool 4 -e @"$TMP/bad.json" --debug auth
expect_in "$TMP/err" "Keystone authentication: POST http://127.0.0.1:5000/v3/auth/tokens: HTTP 401"
expect_in "$TMP/err" "check username/user_id, password"
expect_not_in "$TMP/err" "Wrong-Secret-4242"

# 6. the real password and the token never appear in debug output
os_tool 0 -e @"$TMP/by-id.json" --debug request GET volume /types
expect_in "$TMP/err" "X-Auth-Token: \*\*\*"
expect_not_in "$TMP/err" "$pw"
expect_in "$TMP/err" "< HTTP/1.1 200"
exit 0
