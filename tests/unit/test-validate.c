/* Unit tests: the allowed values of configuration keys (validate.c), and
 * the strict numbers of command-line options. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <cmocka.h>

#include "config/config.h"
#include "config/validate.h"
#include "config/yaml.h"
#include "common/log.h"

/* The verdict on a value written as YAML (as -e key=value reads it). */
static char *
check_yaml (const char *key, const char *yaml)
{
  char *err = NULL;
  json_t *v = yaml_parse_string (yaml, strlen (yaml), "test", &err);
  char *msg;

  if (v == NULL) {
    fprintf (stderr, "bad test YAML %s: %s\n", yaml, err ? err : "?");
    free (err);
    fail ();
  }
  msg = config_check_value (key, key, v);
  json_decref (v);
  return msg;
}

static void
ok (const char *key, const char *yaml)
{
  char *msg = check_yaml (key, yaml);
  if (msg) {
    fprintf (stderr, "%s: %s refused: %s\n", key, yaml, msg);
    free (msg);
    fail ();
  }
}

/* Refused, and the message contains each of the NULL-terminated parts. */
static void
refused (const char *key, const char *yaml, ...)
{
  char *msg = check_yaml (key, yaml);
  va_list ap;
  const char *part;

  if (msg == NULL) {
    fprintf (stderr, "%s: %s accepted\n", key, yaml);
    fail ();
  }
  va_start (ap, yaml);
  while ((part = va_arg (ap, const char *))) {
    if (strstr (msg, part) == NULL) {
      fprintf (stderr, "'%s' not in: %s\n", part, msg);
      va_end (ap);
      free (msg);
      fail ();
    }
  }
  va_end (ap);
  free (msg);
}

/* Every restricted key is a known key, under its canonical name, and says
 * what it allows. */
static void
test_table_names_known_keys (void **state)
{
  const char *k;

  for (size_t i = 0; (k = config_restricted_key (i)); i++) {
    const struct cfg_key *d = config_lookup_key (k);
    char *a = config_allowed (k);
    if (d == NULL || strcmp (d->name, k) != 0)
      fprintf (stderr, "validate.c names '%s', not a canonical key of keys.c\n", k);
    assert_non_null (d);
    assert_string_equal (d->name, k);
    assert_non_null (a);
    free (a);
  }
  assert_null (config_allowed ("vcenter_password"));
  (void) state;
}

/* The defaults of keys.c are allowed values. */
static void
test_defaults_allowed (void **state)
{
  struct config *cfg = config_new ();
  char *err = NULL;
  json_t *eff = config_effective (cfg, false, &err);
  const char *key;
  json_t *v;

  assert_non_null (eff);
  json_object_foreach (eff, key, v) {
    char *msg = config_check_value (key, key, v);
    if (msg)
      fprintf (stderr, "default of %s refused: %s\n", key, msg);
    assert_null (msg);
  }
  json_decref (eff);
  config_free (cfg);
  (void) state;
}

static void
test_integers (void **state)
{
  ok ("shutdown_timeout", "0");
  ok ("shutdown_timeout", "86400");
  refused ("shutdown_timeout", "-1", "key 'shutdown_timeout': -1 is not allowed",
           "expected an integer from 0 to 86400 (seconds)", NULL);
  refused ("shutdown_timeout", "4294967296", "4294967296", NULL);
  refused ("shutdown_timeout", "9223372036854775807", "9223372036854775807", NULL);
  refused ("shutdown_timeout", "'60'", "\"60\"", "expected an integer", NULL);
  ok ("ferry_parallel", "1");
  ok ("ferry_parallel", "1000");
  refused ("ferry_parallel", "0", "from 1 to 1000", NULL);
  refused ("ferry_max_disks", "1001", "from 1 to 1000", NULL);
  refused ("ferry_max_disks_per_host", "-3", NULL);
  refused ("sync_interval", "0", "from 1 to 604800", NULL);
  refused ("conversion_host_disk_gb", "15", "from 16 to 65536 (GB)", NULL);
  refused ("networks_prefix_length", "7", "from 8 to 32", NULL);
  ok ("networks_prefix_length", "32");
  /* null is "not set", never refused */
  {
    json_t *null = json_null ();
    assert_null (config_check_value ("shutdown_timeout", "shutdown_timeout", null));
    json_decref (null);
  }
  (void) state;
}

static void
test_enums (void **state)
{
  static const char *const sources[] = { "auto", "vddk", "nfc", "https", "export", "local" };
  for (size_t i = 0; i < 5; i++)
    ok ("disk_source", sources[i]);
  refused ("disk_source", "floppy", "key 'disk_source': \"floppy\" is not allowed",
           "expected one of auto, vddk, nfc, https, export or local", NULL);
  refused ("disk_source", "Auto", NULL);
  refused ("disk_source", "''", NULL);
  (void) state;
}

static void
test_hosts (void **state)
{
  static const char *const good[] = {
    "vc.example.com", "vc.example.com:443", "vc:1", "vc:65535", "10.0.0.7", "'[::1]'",
    "'[2001:db8::7]:8443'", "https://vc.example.com/sdk", "https://10.0.0.7:8989/sdk",
    "http://127.0.0.1:8080/sdk", "esx_1.lab.local.", "''", "12345",
  };
  static const char *const bad[] = {
    "vc:0", "vc:65536", "vc:99999", "'vc:'", "vc:https", "'vc example'", "\"vc\\nx\"",
    "\"vc\\tx\"", "fe80::1", "'[fe80::1'", "'[nothex]:1'", "'[::1]x'", "ftp://vc",
    "admin@vc", "https://u:p@vc/sdk", "-vc", "vc-", "a..b", "vc/sdk", "https://",
    "https://vc:0/sdk", "vc.exa!mple",
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    ok ("vcenter_hostname", good[i]);
    ok ("esxi_hostname", good[i]);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    refused ("vcenter_hostname", bad[i], "key 'vcenter_hostname'",
             "expected HOST, HOST:PORT, [IPv6]:PORT or https://HOST[:PORT][/PATH]", NULL);
  refused ("vcenter_hostname", "vc:99999", "port 99999 is not from 1 to 65535", NULL);
  refused ("esxi_hostname", "\"esx\\n\"", "a newline", NULL);
  (void) state;
}

static void
test_strings (void **state)
{
  ok ("vddk_thumbprint", "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33");
  ok ("vddk_thumbprint", "00112233445566778899aabbccddeeff00112233");
  ok ("vddk_thumbprint", "''");
  refused ("vddk_thumbprint", "nonsense", "is not a SHA-1 fingerprint", NULL);
  refused ("vddk_thumbprint", "'00:11'", "4 hex digits, not 40", NULL);

  ok ("conversion_host_ferry_package_url", "https://example.org/ferry_0.1_amd64.deb");
  refused ("conversion_host_ferry_package_url", "example.org/ferry.deb", "https://", NULL);
  refused ("conversion_host_ferry_package_url", "'https://ex ample.org/f.deb'", "space", NULL);
  ok ("conversion_host_ferry_git_url", "https://github.com/example/ferry.git");
  ok ("conversion_host_ferry_git_url", "ssh://git@github.com/example/ferry.git");
  ok ("conversion_host_ferry_git_url", "git@github.com:example/ferry.git");
  refused ("conversion_host_ferry_git_url", "--upload-pack=touch", "starts with '-'", NULL);
  refused ("conversion_host_ferry_git_url", "https://u:pw@github.com/x.git", NULL);
  refused ("conversion_host_ferry_git_url", "github.com", "expected a git URL", NULL);
  ok ("conversion_host_ferry_git_ref", "main");
  ok ("conversion_host_ferry_git_ref", "v1.2.3");
  ok ("conversion_host_ferry_git_ref", "release/2.x");
  refused ("conversion_host_ferry_git_ref", "-b", NULL);
  refused ("conversion_host_ferry_git_ref", "a..b", NULL);
  refused ("conversion_host_ferry_git_ref", "'a b'", NULL);
  refused ("conversion_host_ferry_git_ref", "x.lock", NULL);

  ok ("conversion_host_name", "default");
  ok ("conversion_host_name", "t-auto.2");
  refused ("conversion_host_name", "'a b'", "1 to 63 letters", NULL);
  refused ("conversion_host_name", "-x", NULL);
  refused ("conversion_host_name", "''", NULL);
  refused ("conversion_host_name", "'$(reboot)'", NULL);
  ok ("conversion_host_ssh_user", "cloud-user");
  ok ("conversion_host_ssh_user", "''");
  refused ("conversion_host_ssh_user", "'root; x'", NULL);

  ok ("conversion_host_ssh_cidr", "192.0.2.0/24");
  ok ("conversion_host_ssh_cidr", "192.0.2.7");
  ok ("conversion_host_ssh_cidr", "2001:db8::/48");
  refused ("conversion_host_ssh_cidr", "192.0.2.0/33", "'/33' is not from 0 to 32", NULL);
  refused ("conversion_host_ssh_cidr", "192.0.2.0/", NULL);
  refused ("conversion_host_ssh_cidr", "host.example", NULL);

  ok ("os_migrate_vmw_data_dir", "/opt/os-migrate");
  refused ("os_migrate_vmw_data_dir", "\"/opt\\nx\"", "a newline", NULL);
  ok ("extra_opts", "\"--root first -v\"");
  refused ("extra_opts", "'$(reboot)'", "command substitution", NULL);
  refused ("extra_opts", "\"'x\"", "quotes are not balanced", NULL);
  refused ("extra_opts", "'a | b'", NULL);
  (void) state;
}

static void
test_structures (void **state)
{
  ok ("vms_list", "[a, 'b c']");
  refused ("vms_list", "[a, '']", "key 'vms_list[1]'", NULL);
  ok ("security_groups", "'a, b'");
  ok ("security_groups", "[a, b]");
  refused ("security_groups", "[a, \"b\\n\"]", "key 'security_groups[1]'", NULL);

  ok ("network_map", "{VM Network: private, dvportgroup-1: 'net,subnet'}");
  refused ("network_map", "{VM Network: 5}", "key 'network_map['VM Network']': 5", NULL);
  refused ("network_map", "{a: ''}", NULL);
  refused ("network_map", "{a: ',sub'}", NULL);

  ok ("networks_subnets", "{pg: 10.0.0.0/24, pg2: [10.1.0.0/16, 10.2.0.0/16]}");
  refused ("networks_subnets", "{pg: 10.0.0.0}", "no /PREFIX", NULL);
  refused ("networks_subnets", "{pg: 10.0.0.0/4}", NULL);
  refused ("networks_subnets", "{pg: '2001:db8::/64'}", "not an IPv4 address", NULL);
  refused ("networks_subnets", "{pg: []}", NULL);

  ok ("networks_security_group_rules",
      "[{protocol: tcp, port: 22}, {protocol: udp, port: 1, port_max: 65535}, "
      "{protocol: icmp, port: 8, port_max: 0}, {protocol: '47'}, {protocol: gre}, "
      "{remote_ip_prefix: '2001:db8::/32', port: 443}]");
  refused ("networks_security_group_rules", "[{protocol: tcp, ports: 22}]",
           "key 'networks_security_group_rules[0].ports'", "not known", NULL);
  refused ("networks_security_group_rules", "[{port: 0}]", "from 1 to 65535", NULL);
  refused ("networks_security_group_rules", "[{port: 80, port_max: 79}]", "from 80 to 65535",
           NULL);
  refused ("networks_security_group_rules", "[{port_max: 80}]", "needs port", NULL);
  refused ("networks_security_group_rules", "[{protocol: gre, port: 1}]", "has no ports", NULL);
  refused ("networks_security_group_rules", "[{protocol: '47', port: 1}]", "has no ports", NULL);
  ok ("networks_security_group_rules", "[{protocol: '17', port: 53}, {protocol: '1', port: 0}]");
  refused ("networks_security_group_rules", "[{protocol: 6}]", NULL);
  refused ("networks_security_group_rules", "[{protocol: '256'}]", NULL);
  refused ("networks_security_group_rules", "[{remote_ip_prefix: anywhere}]", NULL);
  refused ("networks_security_group_rules", "[tcp]", NULL);

  ok ("volume_type_mapping", "[{vmware_datastore: ds1, openstack_type: fast}]");
  refused ("volume_type_mapping", "[{vmware_datastore: ds1}]", "openstack_type is missing",
           NULL);
  refused ("volume_type_mapping", "[{vmware_datastore: ds1, openstack_types: x}]", NULL);
  ok ("image_metadata", "{hw_qemu_guest_agent: 'yes', hw_vif_multiqueue_enabled: true}");
  ok ("image_metadata", "['hw_qemu_guest_agent=yes']");
  refused ("image_metadata", "['hw_qemu_guest_agent']", NULL);
  refused ("image_metadata", "{a: [1]}", NULL);

  ok ("dst_cloud", "mycloud");
  ok ("dst_cloud", "{auth: {auth_url: 'https://ks.example:5000/v3', username: u}, "
      "interface: public, identity_api_version: 3, region_name: RegionOne}");
  ok ("dst_cloud", "{auth_url: 'http://ks.example/identity'}");
  refused ("dst_cloud", "{interface: publik}", "key 'dst_cloud.interface'", "public, internal",
           NULL);
  refused ("dst_cloud", "{auth_type: oidc}", "key 'dst_cloud.auth_type'", NULL);
  refused ("dst_cloud", "{identity_api_version: 2}", "Keystone v3 only", NULL);
  refused ("dst_cloud", "{auth: {auth_url: ks.example}}", "key 'dst_cloud.auth.auth_url'", NULL);
  refused ("dst_cloud", "{insecure: 'yes'}", "key 'dst_cloud.insecure'", NULL);
  (void) state;
}

/* Through config_add_arg: refused values are errors, the previous value
 * stays, and the message names the key as written. */
static void
test_loading (void **state)
{
  struct config *cfg = config_new ();

  assert_int_equal (config_add_arg (cfg, "shutdown_timeout=30"), 0);
  assert_int_equal (config_add_arg (cfg, "shutdown_timeout=-1"), -1);
  assert_int_equal (cfg->errors, 1);
  assert_int_equal (config_get_int (cfg, "shutdown_timeout"), 30);
  assert_int_equal (config_add_arg (cfg, "parallel=0"), -1);
  assert_int_equal (config_add_arg (cfg, "parallel=4"), 0);
  assert_int_equal (config_get_int (cfg, "ferry_parallel"), 4);
  assert_int_equal (cfg->errors, 2);
  config_free (cfg);
  (void) state;
}

static void
test_parse_int (void **state)
{
  long long v = 0;

  assert_int_equal (parse_int_range ("0", 0, 10, &v), 0);
  assert_int_equal (v, 0);
  assert_int_equal (parse_int_range ("1000", 1, 1000, &v), 0);
  assert_int_equal (v, 1000);
  assert_int_equal (parse_int_range ("-5", -10, 10, &v), 0);
  assert_int_equal (v, -5);
  static const char *const bad[] = { "", "-", "-1", "1001", "5x", " 5", "5 ", "+5", "0x10",
                                     "99999999999999999999", "4294967297", "1e3" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (parse_int_range (bad[i], 0, 1000, &v) == 0)
      fprintf (stderr, "'%s' accepted\n", bad[i]);
    assert_int_equal (parse_int_range (bad[i], 0, 1000, &v), -1);
  }
  assert_int_equal (parse_int_range (NULL, 0, 1, &v), -1);
  assert_int_equal (parse_int_range ("9223372036854775807", 0, LLONG_MAX, &v), 0);
  assert_int_equal (parse_int_range ("9223372036854775808", 0, LLONG_MAX, &v), -1);
  (void) state;
}

static void
test_parse_size (void **state)
{
  unsigned long long v = 0;
  static const struct { const char *s; unsigned long long v; } good[] = {
    { "0", 0 }, { "4096", 4096 }, { "4096B", 4096 }, { "4K", 4096 }, { "4k", 4096 },
    { "4KiB", 4096 }, { "4KB", 4096 }, { "1M", 1 << 20 }, { "1MiB", 1 << 20 },
    { "2G", 2ULL << 30 }, { "3T", 3ULL << 40 }, { "8388607T", 8388607ULL << 40 },
  };
  static const char *const bad[] = {
    "", "K", "-1", " 1", "1 K", "1X", "1Ki B", "1iB", "1KK", "1.5M",
    "17592186044417M",          /* (2^44 + 1) MiB wraps to 1 MiB */
    "18014398509482240K",       /* 2^54 + 256 KiB wraps to 256 KiB */
    "99999999999999G",          /* the shift that tripped UBSan */
    "18446744073709551616",     /* 2^64 */
    "16777216T",                /* 2^24 TiB = 2^64 */
  };

  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    assert_int_equal (parse_size_range (good[i].s, 0, ULLONG_MAX, &v), 0);
    assert_true (v == good[i].v);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (parse_size_range (bad[i], 0, ULLONG_MAX, &v) == 0)
      fprintf (stderr, "'%s' accepted as %llu\n", bad[i], v);
    assert_int_equal (parse_size_range (bad[i], 0, ULLONG_MAX, &v), -1);
  }
  assert_int_equal (parse_size_range ("8388608T", 0, LLONG_MAX, &v), -1);   /* 2^63 */
  assert_int_equal (parse_size_range ("4K", 8192, 1 << 20, &v), -1);
  assert_int_equal (parse_size_range ("2M", 8192, 1 << 20, &v), -1);
  (void) state;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_table_names_known_keys),
    cmocka_unit_test (test_defaults_allowed),
    cmocka_unit_test (test_integers),
    cmocka_unit_test (test_enums),
    cmocka_unit_test (test_hosts),
    cmocka_unit_test (test_strings),
    cmocka_unit_test (test_structures),
    cmocka_unit_test (test_loading),
    cmocka_unit_test (test_parse_int),
    cmocka_unit_test (test_parse_size),
  };
  log_set_level (LOG_LEVEL_ERROR);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
