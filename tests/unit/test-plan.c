/* Unit tests: flavor choice (never smaller than the VM, least waste),
 * network mapping (port group key, name, private network, unmapped NICs
 * are errors), volume types, image properties. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "workflow/plan.h"
#include "config/config.h"
#include "common/log.h"

static json_t *
flavors (void)
{
  return json_pack ("[{s:s,s:s,s:i,s:i,s:i}, {s:s,s:s,s:i,s:i,s:i}, {s:s,s:s,s:i,s:i,s:i},"
                    " {s:s,s:s,s:i,s:i,s:i}, {s:s,s:s,s:i,s:i,s:i,s:b}, {s:s,s:s,s:i,s:i,s:i}]",
                    "id", "1", "name", "tiny", "vcpus", 1, "ram", 512, "disk", 1,
                    "id", "2", "name", "small", "vcpus", 1, "ram", 1024, "disk", 10,
                    "id", "3", "name", "medium", "vcpus", 2, "ram", 4096, "disk", 20,
                    "id", "4", "name", "large", "vcpus", 4, "ram", 8192, "disk", 40,
                    "id", "5", "name", "disabled-exact", "vcpus", 4, "ram", 6144, "disk", 1,
                    "OS-FLV-DISABLED:disabled", 1,
                    "id", "6", "name", "large-bigdisk", "vcpus", 4, "ram", 8192, "disk", 80);
}

static const char *
pick (long long cpu, long long ram)
{
  static char name[64];
  json_t *f = flavors ();
  const json_t *p = plan_pick_flavor (f, cpu, ram);
  snprintf (name, sizeof name, "%s", p ? json_string_value (json_object_get (p, "name")) : "NONE");
  json_decref (f);
  return name;
}

static void
test_flavor_never_smaller (void **state)
{
  /* The reference's distance picks "large" for 4 vCPU / 6 GiB only by luck
   * and could pick a smaller one; ferry never goes below the VM. */
  assert_string_equal (pick (1, 1024), "small");
  assert_string_equal (pick (1, 1025), "medium");
  assert_string_equal (pick (2, 2048), "medium");
  assert_string_equal (pick (3, 1024), "large");
  assert_string_equal (pick (4, 6144), "large");      /* not the disabled exact fit */
  assert_string_equal (pick (4, 8192), "large");      /* tie: the smaller disk */
  assert_string_equal (pick (8, 1024), "NONE");
  assert_string_equal (pick (1, 16384), "NONE");
  (void) state;
}

static void
test_flavor_name (void **state)
{
  char *n = plan_flavor_name (4, 8192);
  assert_string_equal (n, "ferry-4cpu-8192mb");
  free (n);
  (void) state;
}

static json_t *
vm_two_nics (void)
{
  return json_pack ("{s:s, s:[{s:i,s:s,s:s,s:n,s:s,s:[s]}, {s:i,s:s,s:s,s:s,s:s,s:[]}]}",
                    "name", "web-1", "nics",
                    "key", 4000, "mac", "00:50:56:aa:00:01", "network", "VM Network",
                    "portgroup_key", "label", "ethernet-0", "ips", "192.168.100.5",
                    "key", 4001, "mac", "00:50:56:aa:00:02", "network", "DVPG-A",
                    "portgroup_key", "dvportgroup-13", "label", "ethernet-1", "ips");
}

static void
test_networks_mapped (void **state)
{
  struct config *cfg = config_new ();
  json_t *vm = vm_two_nics (), *r;
  int errors = 0;

  assert_int_equal (config_add_arg (cfg, "used_mapped_networks=true"), 0);
  assert_int_equal (config_add_arg (cfg, "network_map={'VM Network': 'net-a', "
                                    "'dvportgroup-13': 'net-b,subnet-b', 'DVPG-A': 'wrong'}"), 0);
  r = plan_networks (vm, cfg, &errors);
  assert_int_equal (errors, 0);
  assert_int_equal (json_array_size (r), 2);
  assert_string_equal (json_string_value (json_object_get (json_array_get (r, 0), "network")), "net-a");
  assert_true (json_is_null (json_object_get (json_array_get (r, 0), "subnet"))
               || json_object_get (json_array_get (r, 0), "subnet") == NULL);
  /* The port group key wins over the name. */
  assert_string_equal (json_string_value (json_object_get (json_array_get (r, 1), "network")), "net-b");
  assert_string_equal (json_string_value (json_object_get (json_array_get (r, 1), "subnet")), "subnet-b");
  assert_string_equal (json_string_value (json_object_get (json_array_get (r, 1), "mac")),
                       "00:50:56:aa:00:02");
  json_decref (r);
  json_decref (vm);
  config_free (cfg);
  (void) state;
}

static void
test_networks_unmapped_is_error (void **state)
{
  struct config *cfg = config_new ();
  json_t *vm = vm_two_nics (), *r;
  int errors = 0;

  assert_int_equal (config_add_arg (cfg, "used_mapped_networks=true"), 0);
  assert_int_equal (config_add_arg (cfg, "network_map={'VM Network': 'net-a'}"), 0);
  r = plan_networks (vm, cfg, &errors);
  assert_int_equal (errors, 1);              /* the DVS NIC maps nowhere */
  json_decref (r);
  json_decref (vm);
  config_free (cfg);
  (void) state;
}

static void
test_networks_private (void **state)
{
  struct config *cfg = config_new ();
  json_t *vm = vm_two_nics (), *r;
  int errors = 0;

  r = plan_networks (vm, cfg, &errors);      /* nothing configured */
  assert_int_equal (errors, 2);
  json_decref (r);
  errors = 0;
  assert_int_equal (config_add_arg (cfg, "openstack_private_network=priv"), 0);
  r = plan_networks (vm, cfg, &errors);
  assert_int_equal (errors, 0);
  assert_string_equal (json_string_value (json_object_get (json_array_get (r, 1), "network")), "priv");
  json_decref (r);
  json_decref (vm);
  config_free (cfg);
  (void) state;
}

static void
test_volume_types (void **state)
{
  struct config *cfg = config_new ();
  assert_null (plan_volume_type (cfg, "ds1"));          /* the cloud's default */
  assert_int_equal (config_add_arg (cfg, "cinder_volume_type=fast"), 0);
  assert_string_equal (plan_volume_type (cfg, "ds1"), "fast");
  assert_int_equal (config_add_arg (cfg, "volume_type_mapping=[{vmware_datastore: ds1, "
                                    "openstack_type: ceph}]"), 0);
  assert_string_equal (plan_volume_type (cfg, "ds1"), "ceph");
  assert_string_equal (plan_volume_type (cfg, "ds2"), "fast");
  config_free (cfg);
  (void) state;
}

static void
test_image_properties (void **state)
{
  struct config *cfg = config_new ();
  json_t *vm = json_pack ("{s:s, s:b, s:s}", "firmware", "efi", "secure_boot", 1,
                          "guest_id", "windows2019srv_64Guest");
  json_t *p = plan_image_properties (vm, cfg);
  assert_string_equal (json_string_value (json_object_get (p, "hw_firmware_type")), "uefi");
  assert_string_equal (json_string_value (json_object_get (p, "hw_machine_type")), "q35");
  assert_string_equal (json_string_value (json_object_get (p, "os_secure_boot")), "required");
  assert_string_equal (json_string_value (json_object_get (p, "os_type")), "windows");
  json_decref (p);
  json_decref (vm);
  vm = json_pack ("{s:s, s:s}", "firmware", "bios", "guest_id", "rhel8_64Guest");
  p = plan_image_properties (vm, cfg);
  assert_null (json_object_get (p, "hw_firmware_type"));
  assert_string_equal (json_string_value (json_object_get (p, "os_type")), "linux");
  json_decref (p);
  json_decref (vm);
  assert_int_equal (plan_volume_gib (1), 1);
  assert_int_equal (plan_volume_gib (1LL << 30), 1);
  assert_int_equal (plan_volume_gib ((1LL << 30) + 1), 2);
  config_free (cfg);
  (void) state;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_flavor_never_smaller),
    cmocka_unit_test (test_flavor_name),
    cmocka_unit_test (test_networks_mapped),
    cmocka_unit_test (test_networks_unmapped_is_error),
    cmocka_unit_test (test_networks_private),
    cmocka_unit_test (test_volume_types),
    cmocka_unit_test (test_image_properties),
  };
  log_set_level (LOG_LEVEL_ERROR);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
