# shellcheck shell=sh
# Helpers for the Ansible collection tests: a private copy of the
# collection whose modules are $FERRY, and Ansible kept inside $TMP.
command -v ansible-playbook >/dev/null || { echo "SKIP: ansible-playbook not installed (scripts/install-deps)"; exit 77; }
export ANSIBLE_COLLECTIONS_PATH="$TMP/ansible" ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 \
    ANSIBLE_LOCAL_TEMP="$TMP/.ansible-local" ANSIBLE_REMOTE_TEMP="$TMP/.ansible-remote" \
    ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_DEPRECATION_WARNINGS=0
COLL=$TMP/ansible/ansible_collections/ferry/vmware
# Copy the collection and point its modules at the ferry under test; the
# generated variable list must be the one committed.
setup_collection () {
    cp -a "$FERRY_SRCDIR/ansible" "$TMP/ansible"
    rm -f "$COLL/plugins/modules/ferry"
    "$TMP/ansible/build-collection.sh" "$FERRY" > "$TMP/build-collection.out" ||
        { cat "$TMP/build-collection.out"; fail "build-collection.sh failed"; }
    cmp -s "$COLL/playbooks/vars/ferry_keys.yml" \
        "$FERRY_SRCDIR/ansible/ansible_collections/ferry/vmware/playbooks/vars/ferry_keys.yml" ||
        fail "playbooks/vars/ferry_keys.yml is stale: run ansible/build-collection.sh and commit it"
}

# run_role OUT [ANSIBLE-PLAYBOOK ARGS...]: the conversion_host role on the
# hosts of $TMP/inventory.yml, output in $TMP/OUT; fails the test if the
# play fails.
run_role () {
    out=$1; shift
    [ -f "$TMP/install.yml" ] || cat > "$TMP/install.yml" <<'PLAY'
- hosts: conversion_host
  gather_facts: true
  roles:
    - ferry.vmware.conversion_host
PLAY
    ansible-playbook -i "$TMP/inventory.yml" "$TMP/install.yml" "$@" > "$TMP/$out" 2>&1 ||
        { cat "$TMP/$out"; fail "ansible-playbook ($out) failed"; }
}

# start_sshd: a private sshd on 127.0.0.1 (Debian's openssh-server, run
# from $TMP with its own host key and config, stopped at exit) that lets
# root in with a key made here; sets SSH_PORT and SSH_KEY.  Inventory
# hosts reach it with ssh_host_vars.  Skips the test when sshd is missing.
start_sshd () {
    [ -x /usr/sbin/sshd ] || { echo "SKIP: /usr/sbin/sshd not installed (scripts/install-deps)"; exit 77; }
    [ "$(id -u)" -eq 0 ] || { echo "SKIP: the private sshd lets root in: run as root"; exit 77; }
    mkdir -p "$TMP/ssh" /run/sshd
    chmod 700 "$TMP/ssh"
    ssh-keygen -q -t ed25519 -N "" -f "$TMP/ssh/host_key"
    ssh-keygen -q -t ed25519 -N "" -f "$TMP/ssh/id"
    cp "$TMP/ssh/id.pub" "$TMP/ssh/authorized_keys"
    SSH_KEY=$TMP/ssh/id
    SSH_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat > "$TMP/ssh/sshd_config" <<CONF
ListenAddress 127.0.0.1:$SSH_PORT
HostKey $TMP/ssh/host_key
PidFile $TMP/ssh/sshd.pid
AuthorizedKeysFile $TMP/ssh/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
CONF
    /usr/sbin/sshd -D -e -f "$TMP/ssh/sshd_config" 2> "$TMP/ssh/sshd.log" &
    echo $! > "$TMP/ssh/sshd.pid.bg"
    on_exit stop_sshd
    i=0
    until ssh -i "$SSH_KEY" -p "$SSH_PORT" -o BatchMode=yes -o StrictHostKeyChecking=no \
              -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@127.0.0.1 true 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 50 ] || { cat "$TMP/ssh/sshd.log"; fail "the private sshd did not let root in on port $SSH_PORT"; }
        sleep 0.2
    done
    export ANSIBLE_SSH_CONTROL_PATH_DIR="$TMP/ssh/cp"
}
# Ansible's persistent SSH connections (ControlPersist) would outlive the
# test by a minute: end them, then the listener.
stop_sshd () {
    pkill -f -- "$TMP/ssh/cp" 2>/dev/null
    kill "$(cat "$TMP/ssh/sshd.pid.bg")" 2>/dev/null
}
# The inventory variables of a host reached through that sshd (YAML, one
# mapping per line, indented by $1 spaces).
ssh_host_vars () {
    pad=$(printf "%${1}s" "")
    cat <<VARS
${pad}ansible_connection: ssh
${pad}ansible_host: 127.0.0.1
${pad}ansible_port: $SSH_PORT
${pad}ansible_user: root
${pad}ansible_ssh_private_key_file: $SSH_KEY
${pad}ansible_ssh_common_args: "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
${pad}ansible_python_interpreter: /usr/bin/python3
VARS
}

# watch_argv INTERVAL: sample every process's command line into $TMP/ps.all
# until stop_watch_argv (or exit), to show a secret is in none of them.
watch_argv () {
    ( while :; do ps -eo args > "$TMP/ps.now" 2>/dev/null; cat "$TMP/ps.now" >> "$TMP/ps.all"; sleep "$1"; done ) &
    argv_watcher=$!
    on_exit stop_watch_argv
}
stop_watch_argv () { kill "$argv_watcher" 2>/dev/null || :; }
