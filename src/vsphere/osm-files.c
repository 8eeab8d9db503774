/* ferry: discovery files in the data dir, ferry's own (vm.json) and the
 * ones os-migrate's vmware-migration-kit writes (guest_info.json,
 * disk_info.json, nics.json / macs.json), in its format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "vsphere/inventory.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

static int
write_json (const char *dir, const char *name, const json_t *j)
{
  CLEANUP_FREE char *path = xasprintf ("%s/%s", dir, name);
  CLEANUP_FREE char *tmp = xasprintf ("%s/.%s.tmp", dir, name);

  if (path == NULL || tmp == NULL)
    return -1;
  if (json_dump_file (j, tmp, JSON_INDENT (2) | JSON_PRESERVE_ORDER) == -1
      || rename (tmp, path) == -1) {
    log_error ("cannot write %s: %s; check the directory's permissions and free space",
               path, strerror (errno));
    unlink (tmp);
    return -1;
  }
  return 0;
}

static json_t *
guest_info (const json_t *vm)
{
  json_t *g = json_object ();
  json_t *nics = json_object_get (vm, "nics");
  json_t *n;
  size_t i;
  const json_t *host = json_object_get (vm, "host");

  json_object_set (g, "hw_name", json_object_get (vm, "name"));
  json_object_set (g, "moid", json_object_get (vm, "moref"));
  json_object_set (g, "hw_product_uuid", json_object_get (vm, "uuid"));
  json_object_set (g, "instance_uuid", json_object_get (vm, "instance_uuid"));
  json_object_set (g, "hw_guest_id", json_object_get (vm, "guest_id"));
  json_object_set (g, "hw_guest_full_name", json_object_get (vm, "guest_full_name"));
  json_object_set (g, "hw_power_status", json_object_get (vm, "power_state"));
  json_object_set (g, "hw_processor_count", json_object_get (vm, "num_cpu"));
  json_object_set (g, "hw_cores_per_socket", json_object_get (vm, "cores_per_socket"));
  json_object_set (g, "hw_memtotal_mb", json_object_get (vm, "memory_mb"));
  json_object_set (g, "hw_folder", json_object_get (vm, "folder"));
  json_object_set (g, "hw_version", json_object_get (vm, "hw_version"));
  json_object_set (g, "hw_datastores", json_object_get (vm, "datastores"));
  json_object_set (g, "hw_cluster", json_object_get (vm, "cluster"));
  json_object_set (g, "hw_esxi_host", json_object_get (host, "name"));
  json_object_set (g, "guest_tools_status", json_object_get (vm, "tools_status"));
  json_object_set (g, "snapshots", json_object_get (vm, "snapshots"));
  json_object_set_new (g, "hw_interfaces", json_array ());
  json_array_foreach (nics, i, n) {
    char key[32];
    const char *mac = json_string_value (json_object_get (n, "mac"));
    CLEANUP_FREE char *dash = mac ? strdup (mac) : NULL;
    for (char *p = dash; p && *p; p++)
      if (*p == ':') *p = '-';
    snprintf (key, sizeof key, "hw_eth%zu", i);
    json_object_set_new (g, key, json_pack ("{s:s, s:O?, s:O?, s:s?, s:O, s:O?, s:O?, s:O?}",
                                            "addresstype", "assigned",
                                            "label", json_object_get (n, "label"),
                                            "macaddress", json_object_get (n, "mac"),
                                            "macaddress_dash", dash,
                                            "ipaddresses", json_object_get (n, "ips"),
                                            "summary", json_object_get (n, "network"),
                                            "portgroup_key", json_object_get (n, "portgroup_key"),
                                            "device_type", json_object_get (n, "type")));
    json_array_append_new (json_object_get (g, "hw_interfaces"), json_string (key + 3));
  }
  return g;
}

static json_t *
disk_info (const json_t *vm)
{
  json_t *disks = json_array (), *keys = json_array ();
  json_t *d;
  size_t i;

  json_array_foreach (json_object_get (vm, "disks"), i, d) {
    const char *bus = json_string_value (json_object_get (d, "bus_type"));
    char busu[8] = "SCSI";
    json_t *e;
    if (bus) {
      snprintf (busu, sizeof busu, "%s", bus);
      for (char *p = busu; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p -= 32;
    }
    e = json_pack ("{s:O?, s:s, s:O, s:{s:s, s:O?}}",
                   "label", json_object_get (d, "label"),
                   "type", busu,
                   "capacity", json_object_get (d, "capacity_bytes"),
                   "backing", "type", "VMDK_FILE", "vmdk_file", json_object_get (d, "file"));
    if (bus)
      json_object_set_new (e, bus, json_pack ("{s:O, s:O}", "bus", json_object_get (d, "bus"),
                                              "unit", json_object_get (d, "unit")));
    json_array_append_new (disks, e);
    json_array_append_new (keys, json_sprintf ("%" JSON_INTEGER_FORMAT,
                                               json_integer_value (json_object_get (d, "key"))));
  }
  return json_pack ("{s:o, s:o}", "disks", disks, "disk_keys", keys);
}

int
inventory_write_files (const json_t *vm, const char *dir, bool mapped,
                       const json_t *network_map, const char *subnet)
{
  const char *name = json_string_value (json_object_get (vm, "name"));
  CLEANUP_FREE char *safe = strdup (name ? name : "unnamed");
  CLEANUP_FREE char *vmdir = NULL;
  CLEANUP_JSON json_t *gi = guest_info (vm);
  CLEANUP_JSON json_t *di = disk_info (vm);
  CLEANUP_JSON json_t *nets = json_array ();
  json_t *n;
  size_t i;

  for (char *p = safe; p && *p; p++)
    if (*p == '/')
      *p = '_';
  vmdir = xasprintf ("%s/%s", dir, safe);
  if (vmdir == NULL || mkdir_p (vmdir, 0700) == -1) {
    log_error ("%s: cannot create %s: %s; set os_migrate_vmw_data_dir or --output-dir "
               "to a writable directory", name, vmdir ? vmdir : dir, strerror (errno));
    return -1;
  }
  json_array_foreach (json_object_get (vm, "nics"), i, n) {
    const char *pg = json_string_value (json_object_get (n, "portgroup_key"));
    const char *net = json_string_value (json_object_get (n, "network"));
    if (mapped) {
      const char *to = NULL;
      if (pg)
        to = json_string_value (json_object_get (network_map, pg));
      if (!to && net)
        to = json_string_value (json_object_get (network_map, net));
      if (to == NULL)
        continue;            /* ferry migrate refuses these; files keep the reference's form */
      {
        CLEANUP_FREE char *vlan = strdup (to);
        char *comma = vlan ? strchr (vlan, ',') : NULL;
        if (comma)
          *comma++ = '\0';
        json_array_append_new (nets, json_pack ("{s:s, s:s?, s:O?, s:O}", "vlan", vlan,
                                                "subnet", comma, "mac", json_object_get (n, "mac"),
                                                "ipaddresses", json_object_get (n, "ips")));
      }
    }
    else
      json_array_append_new (nets, json_pack ("{s:O?, s:O, s:s}", "mac", json_object_get (n, "mac"),
                                              "ipaddresses", json_object_get (n, "ips"),
                                              "subnet", subnet ? subnet : ""));
  }
  if (write_json (vmdir, "vm.json", vm) == -1
      || write_json (vmdir, "guest_info.json", gi) == -1
      || write_json (vmdir, "disk_info.json", di) == -1
      || write_json (vmdir, mapped ? "nics.json" : "macs.json", nets) == -1)
    return -1;
  return 0;
}

json_t *
inventory_select (const json_t *all, const json_t *names, int *missing)
{
  json_t *out = json_array ();
  json_t *n, *vm;
  size_t i, j;

  *missing = 0;
  json_array_foreach (names, i, n) {
    const char *want = json_string_value (n);
    bool found = false;
    json_array_foreach (all, j, vm)
      if (want && strcmp (json_string_value (json_object_get (vm, "name")), want) == 0) {
        json_array_append (out, vm);
        found = true;
        break;
      }
    if (!found) {
      /* The three closest names, to catch typos and case. */
      const char *best[3] = { 0 };
      size_t bd[3] = { (size_t) -1, (size_t) -1, (size_t) -1 };
      json_array_foreach (all, j, vm) {
        const char *name = json_string_value (json_object_get (vm, "name"));
        size_t d = edit_distance (want ? want : "", name ? name : "");
        for (int k = 0; k < 3; k++)
          if (d < bd[k]) {
            for (int m = 2; m > k; m--) { bd[m] = bd[m-1]; best[m] = best[m-1]; }
            bd[k] = d;
            best[k] = name;
            break;
          }
      }
      log_error ("VM '%s' not found in vCenter%s%s%s%s%s%s%s; check vms_list (names are "
                 "case-sensitive)", want ? want : "?",
                 best[0] ? "; closest: " : "", best[0] ? best[0] : "",
                 best[1] ? ", " : "", best[1] ? best[1] : "",
                 best[2] ? ", " : "", best[2] ? best[2] : "", "");
      (*missing)++;
    }
  }
  return out;
}
