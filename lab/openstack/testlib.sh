# Helpers for tests/lab/openstack-*.sh (bash). Source from the repo root:
#   . lab/openstack/testlib.sh
# Assumes the lab is up. Talks to the REST APIs with curl + jq.
set -Eeuo pipefail

eval "$(lab/openstack/os-lab env)"
LAB_JSON=$FERRY_LAB_OS_JSON
[ -r "$LAB_JSON" ] || { echo "FAIL: $(basename "$0"): no $LAB_JSON (is the lab up?)" >&2; exit 1; }
T_NAME=$(basename "$0" .sh)
T_TMP=$(mktemp -d)
T_CLEANUP=()

fail() { echo "FAIL: $T_NAME: $*" >&2; T_FAILED=1; exit 1; }
info() { echo "$T_NAME: $*" >&2; }
lj() { jq -er "$1" "$LAB_JSON"; }

# at_exit CMD...: run at exit (last registered first), failures ignored
at_exit() { T_CLEANUP+=("$(printf '%q ' "$@")"); }
_t_exit() {
    rc=$?
    set +e
    for ((i = ${#T_CLEANUP[@]} - 1; i >= 0; i--)); do
        [ -z "${T_DEBUG:-}" ] || echo "cleanup: ${T_CLEANUP[$i]}" >&2
        (eval "${T_CLEANUP[$i]}") >/dev/null 2>&1
    done
    rm -rf "$T_TMP"
    if [ $rc -eq 0 ]; then
        echo "PASS: $T_NAME" >&2
    elif [ -z "${T_FAILED:-}" ]; then
        echo "FAIL: $T_NAME: command failed (exit $rc) at line ${T_LINE:-?}: ${T_CMD:-?}" >&2
    fi
    exit $rc
}
trap _t_exit EXIT
trap 'T_LINE=$LINENO T_CMD=$BASH_COMMAND' ERR

# os_login USER PASSWORD PROJECT: sets TOKEN, CATALOG (file); returns HTTP code in AUTH_CODE
os_login() {
    local body
    body=$(jq -n --arg u "$1" --arg p "$2" --arg pr "$3" '{auth: {identity: {methods: ["password"],
        password: {user: {name: $u, domain: {name: "Default"}, password: $p}}},
        scope: {project: {name: $pr, domain: {name: "Default"}}}}}')
    AUTH_CODE=$(curl -s -o "$T_TMP/auth.json" -D "$T_TMP/auth.hdr" -w '%{http_code}' \
        -H 'Content-Type: application/json' -d "$body" "$FERRY_LAB_OS_AUTH_URL/auth/tokens")
    TOKEN=$(awk 'tolower($1) == "x-subject-token:" {print $2}' "$T_TMP/auth.hdr" | tr -d '\r')
    CATALOG=$T_TMP/auth.json
}

login_ferry() {
    os_login "$(lj .user.name)" "$(lj .user.password)" "$(lj .project.name)"
    [ "$AUTH_CODE" = 201 ] || fail "password auth as $(lj .user.name) gave HTTP $AUTH_CODE"
}

# endpoint TYPE: public URL of a service type in the token's catalog
endpoint() {
    jq -er --arg t "$1" --arg r "$(lj .region)" '.token.catalog[] | select(.type == $t) |
        .endpoints[] | select(.interface == "public" and .region_id == $r) | .url' "$CATALOG" |
        head -n 1
}

# api METHOD URL [JSON]: body to stdout, HTTP code in $T_TMP/code; extra headers in API_HEADERS
api() {
    local m=$1 u=$2 args=()
    [ $# -ge 3 ] && args=(-H 'Content-Type: application/json' -d "$3")
    curl -s -X "$m" -o "$T_TMP/body" -w '%{http_code}' -H "X-Auth-Token: $TOKEN" \
        -H 'Accept: application/json' ${API_HEADERS[@]+"${API_HEADERS[@]}"} \
        ${args[@]+"${args[@]}"} "$u" >"$T_TMP/code" || echo 000 >"$T_TMP/code"
    cat "$T_TMP/body"
}
code() { cat "$T_TMP/code"; }
# expect CODES...: fail unless the last api call returned one of CODES
expect() {
    local c
    c=$(code)
    for want in "$@"; do [ "$c" = "$want" ] && return 0; done
    fail "${WHAT:-request} returned HTTP $c (want $*): $(head -c 600 "$T_TMP/body")"
}

# wait_until SECONDS DESCRIPTION COMMAND...: poll every 0.2 s
wait_until() {
    local t=$1 what=$2 end
    shift 2
    end=$(($(date +%s%N) / 1000000 + t * 1000))
    until "$@"; do
        [ $(($(date +%s%N) / 1000000)) -lt $end ] || fail "timed out after ${t}s: $what"
        sleep 0.2
    done
}

volume_status() { api GET "$VOLUME_URL/volumes/$1" | jq -r '.volume.status // empty'; }
volume_is() { [ "$(volume_status "$1")" = "$2" ]; }
volume_gone() { api GET "$VOLUME_URL/volumes/$1" >/dev/null; [ "$(code)" = 404 ]; }
server_status() { api GET "$COMPUTE_URL/servers/$1" | jq -r '.server.status // empty'; }
server_gone() { api GET "$COMPUTE_URL/servers/$1" >/dev/null; [ "$(code)" = 404 ]; }

# create_volume NAME SIZE_GB: sets VOL_ID once the volume is available
# (not in a command substitution: it registers the cleanup)
create_volume() {
    WHAT="create volume $1" api POST "$VOLUME_URL/volumes" \
        "$(jq -n --arg n "$1" --argjson s "$2" '{volume: {name: $n, size: $s}}')" >"$T_TMP/vol.json"
    WHAT="create volume $1" expect 202
    VOL_ID=$(jq -er .volume.id "$T_TMP/vol.json")
    at_exit delete_volume_quiet "$VOL_ID"
    wait_until 120 "volume $1 ($VOL_ID) available" volume_is "$VOL_ID" available
}
# volume_settled ID: gone, or in a state that allows deleting it
volume_settled() {
    case $(volume_status "$1") in
    "" | available | error | error_deleting | deleting) return 0 ;;
    *) return 1 ;;
    esac
}
delete_volume_quiet() {
    local i=0
    until volume_settled "$1" || [ $i -ge 150 ]; do sleep 0.2; i=$((i + 1)); done
    api DELETE "$VOLUME_URL/volumes/$1" >/dev/null
}
