#!/bin/sh
# dst_cloud may name a cloud in clouds.yaml; OS_CLOUD and OS_* work as for
# the openstack client.
. "$FERRY_SRCDIR/tests/functions.sh"
cat > "$TMP/clouds.yaml" <<'Y'
clouds:
  mycloud:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: ferry
      password: clouds-yaml-pw
      project_name: p1
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
Y
export OS_CLIENT_CONFIG_FILE="$TMP/clouds.yaml"
unset OS_CLOUD OS_AUTH_URL OS_PASSWORD OS_USERNAME 2>/dev/null || :
run_ferry 0 config show --format json -e dst_cloud=mycloud
[ "$(jq -r .dst_cloud.auth.project_name "$TMP/out")" = "p1" ] || fail "cloud not resolved"
[ "$(jq -r .dst_cloud.auth.password "$TMP/out")" = "***" ] || fail "password not masked"
expect_not_in "$TMP/out" "clouds-yaml-pw"
OS_CLOUD=mycloud run_ferry 0 config show --format json
[ "$(jq -r .dst_cloud.region_name "$TMP/out")" = "RegionOne" ] || fail "OS_CLOUD not used"
run_ferry 2 config show -e dst_cloud=mycluod
expect_in "$TMP/err" "no cloud named 'mycluod' \(did you mean 'mycloud'\?\)"
unset OS_CLIENT_CONFIG_FILE
OS_AUTH_URL=http://k/v3 OS_USERNAME=u OS_PASSWORD=env-pw-123 OS_PROJECT_NAME=p \
    run_ferry 0 config show --format json
[ "$(jq -r .dst_cloud.source "$TMP/out")" = "environment" ] || fail "OS_* not used"
expect_not_in "$TMP/out" "env-pw-123"
