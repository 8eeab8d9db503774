#!/bin/sh
# The source misbehaves during a migration over NFC: nbdkit's error filter
# fails 1 % of the reads from the nfc plugin (EIO) and its delay filter
# slows every read (as a busy ESXi host would), on all three disks of
# lab-multi.  ferry migrate retries what failed and finishes: every volume
# equals its flat file, and the state records the retries it needed.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
VM=lab-multi
S=$(state_of $VM)
clean_vm $VM
clean_up () { clean_vm $VM; }
on_exit clean_up

# nbdkit, as ferry starts it, with the two filters in front of the plugin.
mkdir "$TMP/bin"
cat > "$TMP/bin/nbdkit" <<EOS
#!/bin/sh
PATH=\$(echo ":\$PATH:" | sed "s#:$TMP/bin:#:#; s#^:##; s#:\\\$##"); export PATH
case "\$1" in --dump-config|--version) exec nbdkit "\$@" ;; esac
exec nbdkit --filter=delay --filter=error "\$@" error-pread=EIO error-pread-rate=1% delay-read=2ms
EOS
chmod +x "$TMP/bin/nbdkit"
# shellcheck disable=SC2046
PATH=$TMP/bin:$PATH run_ferry 0 migrate $(E_LAB) -e skip_conversion=true -e disk_source=nfc --vm $VM
volumes_match_flat $VM "with 1 % of the NFC reads failing"
[ "$(grep -c "copying .* from NFC to" "$TMP/err")" = 3 ] || fail "not 3 disks copied from NFC"
retries=$(jq '[.volumes[] | .retries] | add' "$S")
echo "reads retried after an injected error: $retries (3 disks, 1 % of reads failing)"
[ "$retries" -gt 0 ] || fail "no read was retried: the error filter did not act?"
