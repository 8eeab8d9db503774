# shellcheck shell=sh
# Helpers for the nbdkit nfc plugin's shell tests (sourced after tests/functions.sh).

: "${NFC_PLUGIN:=$FERRY_SRCDIR/build/plugins/nfc/nbdkit-nfc-plugin.so}"
[ -f "$NFC_PLUGIN" ] || fail "no plugin at $NFC_PLUGIN (build it, or set NFC_PLUGIN)"
command -v nbdkit >/dev/null || fail "nbdkit is not installed (scripts/install-deps)"

# nbdkit loads the plugin with dlopen: a plugin built with
# -Db_sanitize=address needs the ASan runtime loaded first, in nbdkit.
# (Leak checks are off there: they would report nbdkit's and OpenSSL's
# own allocations at exit; the plugin's leaks are the unit tests' part.)
NFC_PRELOAD=""
if ldd "$NFC_PLUGIN" 2>/dev/null | grep -q libasan; then
    NFC_PRELOAD=$(${CC:-cc} -print-file-name=libasan.so)
fi

# nfc_nbdkit ARGS...: nbdkit with the plugin, on a private socket.
nfc_nbdkit () {
    if [ -n "$NFC_PRELOAD" ]; then
        env LD_PRELOAD="$NFC_PRELOAD" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
            nbdkit -U - "$NFC_PLUGIN" "$@"
    else
        nbdkit -U - "$NFC_PLUGIN" "$@"
    fi
}
