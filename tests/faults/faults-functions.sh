# Helpers for the fault campaign (tests/faults/).  Source after
# tests/functions.sh.
#
# FERRY_FAULT_POINTS: interruption points per signal (default: a few for CI,
# FAULT_DEFAULT_POINTS if the test sets it; the full campaign:
# FERRY_FAULT_POINTS=25).  FERRY_FAULT_SIGNALS: which signals.  FERRY_FAULT_SEED: the seed
# (default: random); it is printed so that a failure can be replayed.

FAULT_POINTS=${FERRY_FAULT_POINTS:-${FAULT_DEFAULT_POINTS:-2}}
FAULT_SEED=${FERRY_FAULT_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
echo "fault campaign: seed $FAULT_SEED (FERRY_FAULT_SEED=$FAULT_SEED replays it), $FAULT_POINTS points per signal"

# fault_delay N MIN_MS MAX_MS: the N-th delay of the seed's sequence, in
# seconds ("0.123"), between MIN_MS and MAX_MS.
fault_delay () {
    awk -v s="$FAULT_SEED" -v n="$1" -v lo="$2" -v hi="$3" \
        'BEGIN { srand(s * 1000 + n); printf "%.3f\n", (lo + rand() * (hi - lo)) / 1000 }'
}

# fault_int N MAX: the N-th integer of the seed's sequence, 0 <= i < MAX.
fault_int () {
    awk -v s="$FAULT_SEED" -v n="$1" -v m="$2" \
        'BEGIN { srand(s * 1000 + n + 500); printf "%d\n", int(rand() * m) }'
}

# fault_table ROWS...: print the campaign's figures; each row is
# "what|points|recovered|mismatches|leftovers".
fault_table () {
    printf '%-34s %7s %10s %11s %10s\n' "interruption" points recovered mismatches leftovers
    for row in "$@"; do
        echo "$row" | awk -F'|' '{ printf "%-34s %7s %10s %11s %10s\n", $1, $2, $3, $4, $5 }'
    done
}

# stop_wait NAME: stop the nbdkit started by `serve NAME` and wait until it
# has exited (so that a new one can serve the same file and socket).
stop_wait () {
    _p=$(cat "$TMP/$1.pid" 2>/dev/null) || return 0
    kill "$_p" 2>/dev/null || :
    for _i in $(seq 100); do kill -0 "$_p" 2>/dev/null || break; sleep 0.05; done
    rm -f "$TMP/$1.pid"
}
