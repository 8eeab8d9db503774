#!/bin/sh
# Bad credentials, an unreachable host, a wrong pinned thumbprint and an
# untrusted certificate: each a clear message and exit 3 (vSphere side).
. "$FERRY_SRCDIR/tests/functions.sh"
need_lab
E="-e @$FERRY_LAB_SECRETS --vm lab-multi --no-write"
run_ferry 3 discover $E -e vcenter_password=wrong-password-1
expect_in "$TMP/err" "Login: user '.*' was refused \(InvalidLogin\): check vcenter_username and vcenter_password"
expect_not_in "$TMP/err" "wrong-password-1"
run_ferry 3 discover $E -e vcenter_hostname=127.0.0.1:1
expect_in "$TMP/err" "Couldn't connect to server|Connection refused"
expect_in "$TMP/err" "check the host name, the port"
run_ferry 3 discover $E -e vddk_thumbprint=00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33
expect_in "$TMP/err" "thumbprint is $FERRY_LAB_VCENTER_THUMBPRINT, not the pinned 00:11:22"
# The right pin works even without the CA.
run_ferry 0 discover $E -e vcenter_cacert= -e vddk_thumbprint="$(echo "$FERRY_LAB_VCENTER_THUMBPRINT" | tr -d : | tr A-F a-f)"
# No CA, no pin: the certificate is not trusted.
run_ferry 3 discover $E -e vcenter_cacert=
expect_in "$TMP/err" "certificate is not trusted"
# vmware_insecure works, with a warning.
run_ferry 0 discover $E -e vcenter_cacert= -e vmware_insecure=true
expect_in "$TMP/err" "NOT verified"
run_ferry 2 discover $E -e vddk_thumbprint=nonsense
expect_in "$TMP/err" "is not a SHA-1 fingerprint"
