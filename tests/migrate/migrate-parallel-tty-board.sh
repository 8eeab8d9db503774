#!/bin/sh
# On a terminal, `ferry migrate --parallel 3` shows a board at the bottom
# of stderr: a header counting VMs, one line per active VM with its phase
# and time, one per disk copy with bytes, total, percent and rate.  Log
# lines scroll above it (each redraw erases the previous board), no JSON
# event reaches the terminal, and when the run ends the board is gone: the
# screen keeps the log lines and the summary with each VM's outcome and
# time.  A VM's log lines name it once.  With stderr not a terminal there
# is no board and no escape sequence.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
command -v script > /dev/null || fail "script (bsdutils) is needed to give ferry a terminal"
VMS="lab-small-06 lab-small-07 lab-small-08"
clean_all () { for v in $VMS; do clean_vm "$v"; done; }
clean_all
on_exit clean_all
SEL=""
for v in $VMS; do SEL="$SEL --vm $v"; done
# The command for script(1): the secrets stay in files, as always.
cat > "$TMP/run.sh" <<EOS
#!/bin/sh
stty cols 120 2>/dev/null
exec "$FERRY" migrate $(E_LAB) -e skip_conversion=true $SEL --parallel 3 --report "$TMP/report.json"
EOS
chmod +x "$TMP/run.sh"
rc=0
script -qec "$TMP/run.sh" "$TMP/typescript" > /dev/null 2>&1 || rc=$?
[ $rc = 0 ] || { cat "$TMP/typescript"; fail "ferry migrate --parallel 3 on a terminal exited $rc"; }
for v in $VMS; do volumes_match_flat "$v" "on a terminal"; done

# What the terminal got, and what it shows at the end (ESC[1A ESC[2K erase
# the line above: the board's redraws).
python3 - "$TMP/typescript" "$TMP/seen" "$TMP/screen" <<'EOP'
import re, sys
raw = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace').replace('\r', '')
lines = raw.split('\n')
if lines and lines[0].startswith('Script started'):
    lines = lines[1:]
seen, screen = [], []
for line in lines:
    while line.startswith('\x1b[1A\x1b[2K'):
        line = line[len('\x1b[1A\x1b[2K'):]
        if screen:
            screen.pop()
    if line.startswith('Script done'):
        break
    seen.append(line)
    screen.append(line)
open(sys.argv[2], 'w').write('\n'.join(seen) + '\n')
open(sys.argv[3], 'w').write('\n'.join(screen) + '\n')
EOP
S=$TMP/seen
grep -q "$(printf '\033\\[1A\033\\[2K')" "$TMP/typescript" || fail "the board is never redrawn in place"
expect_in "$S" "^-- 3 VMs started, 0 finished \\(0 failed\\) --$"
expect_in "$S" "^-- 3 VMs started, [12] finished \\(0 failed\\) --$"
for v in $VMS; do
    expect_in "$S" "^$v +(snapshot|volumes|attach|copying) +[0-9]+ s$"
done
# a disk copy's line: bytes / total, percent, rate
expect_in "$S" "^  disk 200[01] +copying +[0-9.]+ [KMG]?i?B / [0-9.]+ [KMG]iB +[0-9]+% +[0-9.]+ [KMG]?i?B/s$"
expect_not_in "$S" " 0 B / 0 B "
expect_not_in "$S" '^\{"event"'
# a VM's lines name it once
expect_not_in "$S" "ferry: (lab-small-0[678]): (warning: |error: )?VM \\1"
expect_in "$S" "^ferry: VM lab-small-07: migrated in"

# The end: no board left, each VM's log line and summary row.
E=$TMP/screen
expect_not_in "$E" "^-- [0-9]+ VMs? started"
expect_not_in "$E" "^  disk "
for v in $VMS; do
    expect_in "$E" "^ferry: VM $v: migrated in [0-9.]+ s"
    expect_in "$E" "^$v +ok +0 +[0-9]+\\.[0-9] *$"
done
expect_in "$E" "^3 VMs: 3 migrated, 0 failed, 0 not found \\([0-9.]+ s\\)$"
jq -e 'length == 3 and all(.[]; .result == "ok")' "$TMP/report.json" > /dev/null ||
    fail "report: $(cat "$TMP/report.json")"

# stderr to a file: plain lines, no board.
# shellcheck disable=SC2046,SC2086
run_ferry 0 migrate $(E_LAB) -e skip_conversion=true $SEL --parallel 3
! grep -q "$(printf '\033')" "$TMP/err" || fail "escape sequences on a stderr that is not a terminal"
expect_not_in "$TMP/err" "^-- [0-9]+ VMs? started"
exit 0
