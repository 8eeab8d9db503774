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
