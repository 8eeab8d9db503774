/* Unit tests: the script that pins a Linux guest's NIC names to the VMware
 * MACs (convert_nic_script), run with sh over guest configurations laid out
 * in a temporary directory (FERRY_NIC_ROOT): NetworkManager keyfiles paired
 * by MAC whatever their file order, ifcfg files, netplan with set-name,
 * ifupdown names placed by VMware's slot names, the single-NIC case, and
 * no guess when the configuration can't say which NIC is which. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "conversion-host/convert.h"
#include "common/cleanup.h"
#include "common/util.h"

static char root[64];

static void
put (const char *rel, const char *content)
{
  char path[512], cmd[600];
  FILE *fp;
  snprintf (path, sizeof path, "%s%s", root, rel);
  snprintf (cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
  assert_int_equal (system (cmd), 0);
  fp = fopen (path, "w");
  assert_non_null (fp);
  fputs (content, fp);
  fclose (fp);
}

static char *
get (const char *rel)
{
  char path[512];
  static char buf[4096];
  FILE *fp;
  size_t n;
  snprintf (path, sizeof path, "%s%s", root, rel);
  fp = fopen (path, "r");
  if (fp == NULL)
    return NULL;
  n = fread (buf, 1, sizeof buf - 1, fp);
  buf[n] = '\0';
  fclose (fp);
  return buf;
}

/* Run the script for a VM with these MACs over the root; returns its log. */
static char *
run (const char *mac1, const char *mac2)
{
  CLEANUP_JSON json_t *vm = json_pack ("{s:s, s:[{s:s}]}", "name", "vm 1", "nics", "mac", mac1);
  CLEANUP_FREE char *script = NULL;
  char path[128], cmd[512];
  FILE *fp;

  if (mac2)
    json_array_append_new (json_object_get (vm, "nics"), json_pack ("{s:s}", "mac", mac2));
  script = convert_nic_script (vm);
  assert_non_null (script);
  snprintf (path, sizeof path, "%s.sh", root);
  fp = fopen (path, "w");
  assert_non_null (fp);
  fputs (script, fp);
  fclose (fp);
  snprintf (cmd, sizeof cmd, "FERRY_NIC_ROOT='%s' sh '%s' > '%s.out' 2>&1", root, path, root);
  assert_int_equal (system (cmd), 0);
  unlink (path);
  return get ("/var/log/ferry-nic-names.log");
}

static int
setup (void **state)
{
  (void) state;
  snprintf (root, sizeof root, "/tmp/ferry-nic-XXXXXX");
  assert_non_null (mkdtemp (root));
  return 0;
}

static int
teardown (void **state)
{
  char cmd[256];
  (void) state;
  snprintf (cmd, sizeof cmd, "rm -rf '%s' '%s.out'", root, root);
  return system (cmd);
}

static const char *rules = "/etc/udev/rules.d/70-ferry-persistent-net.rules";

static void
ifupdown_single_nic (void **state)
{
  (void) state;
  put ("/etc/network/interfaces", "auto lo\niface lo inet loopback\n\nallow-hotplug ens192\n"
       "iface ens192 inet dhcp\n");
  run ("00:50:56:AA:00:01", NULL);
  assert_non_null (strstr (get (rules), "ATTR{address}==\"00:50:56:aa:00:01\", NAME=\"ens192\""));
  assert_non_null (strstr (get ("/etc/systemd/network/10-ferry-ens192.link"),
                           "MACAddress=00:50:56:aa:00:01\n\n[Link]\nName=ens192"));
}

static void
networkmanager_by_mac_not_file_order (void **state)
{
  (void) state;
  /* "a-" sorts first but is the second NIC. */
  put ("/etc/NetworkManager/system-connections/a-second.nmconnection",
       "[connection]\nid=b\ninterface-name=eth1\n[ethernet]\nmac-address=00:50:56:AA:01:02\n");
  put ("/etc/NetworkManager/system-connections/b-first.nmconnection",
       "[connection]\nid=a\ninterface-name=eth0\n[ethernet]\nmac-address=00:50:56:aa:01:01\n");
  run ("00:50:56:aa:01:01", "00:50:56:aa:01:02");
  assert_non_null (strstr (get (rules), "\"00:50:56:aa:01:01\", NAME=\"eth0\""));
  assert_non_null (strstr (get (rules), "\"00:50:56:aa:01:02\", NAME=\"eth1\""));
}

static void
ifcfg_device_hwaddr (void **state)
{
  (void) state;
  put ("/etc/sysconfig/network-scripts/ifcfg-ens224",
       "DEVICE=\"ens224\"\nHWADDR=\"00:50:56:AA:01:02\"\nBOOTPROTO=dhcp\n");
  put ("/etc/sysconfig/network-scripts/ifcfg-ens192", "DEVICE=ens192\nBOOTPROTO=dhcp\n");
  run ("00:50:56:aa:01:01", "00:50:56:aa:01:02");
  assert_non_null (strstr (get (rules), "\"00:50:56:aa:01:02\", NAME=\"ens224\""));
  /* ens192 has no HWADDR: VMware's name for the first NIC. */
  assert_non_null (strstr (get (rules), "\"00:50:56:aa:01:01\", NAME=\"ens192\""));
}

static void
netplan_set_name_and_slots (void **state)
{
  char *log;
  (void) state;
  put ("/etc/netplan/50-cloud-init.yaml",
       "network:\n  version: 2\n  ethernets:\n    lan:\n      match:\n"
       "        macaddress: \"00:50:56:aa:01:02\"\n      set-name: lan0\n      dhcp4: true\n"
       "    ens192:\n      dhcp4: true\n");
  log = run ("00:50:56:aa:01:01", "00:50:56:aa:01:02");
  assert_non_null (log);
  assert_non_null (strstr (get (rules), "\"00:50:56:aa:01:02\", NAME=\"lan0\""));
  assert_non_null (strstr (get (rules), "\"00:50:56:aa:01:01\", NAME=\"ens192\""));
}

static void
no_guess_without_macs (void **state)
{
  char *log;
  (void) state;
  put ("/etc/network/interfaces", "auto eth0\niface eth0 inet dhcp\nauto eth1\n"
       "iface eth1 inet static\n  address 10.0.0.2/24\n");
  log = run ("00:50:56:aa:01:01", "00:50:56:aa:01:02");
  assert_non_null (log);
  assert_non_null (strstr (log, "can't tell which NIC 'eth0' is"));
  assert_non_null (strstr (log, "can't tell which NIC 'eth1' is"));
  assert_null (get (rules));
}

static void
bad_mac_refused (void **state)
{
  CLEANUP_JSON json_t *vm = json_pack ("{s:s, s:[{s:s}]}", "name", "x", "nics", "mac",
                                       "00:50:56:aa:00:01'; rm -rf /; '");
  (void) state;
  assert_null (convert_nic_script (vm));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (ifupdown_single_nic, setup, teardown),
    cmocka_unit_test_setup_teardown (networkmanager_by_mac_not_file_order, setup, teardown),
    cmocka_unit_test_setup_teardown (ifcfg_device_hwaddr, setup, teardown),
    cmocka_unit_test_setup_teardown (netplan_set_name_and_slots, setup, teardown),
    cmocka_unit_test_setup_teardown (no_guess_without_macs, setup, teardown),
    cmocka_unit_test (bad_mac_refused),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
