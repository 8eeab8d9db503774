/* ferry: mapping VMs onto OpenStack, see plan.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workflow/plan.h"
#include "vsphere/inventory.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

const json_t *
plan_pick_flavor (const json_t *flavors, long long vcpus, long long ram_mb)
{
  const json_t *best = NULL;
  double best_waste = 0;
  size_t i;
  json_t *f;

  if (vcpus < 1) vcpus = 1;
  if (ram_mb < 1) ram_mb = 1;
  json_array_foreach (flavors, i, f) {
    long long fv = json_integer_value (json_object_get (f, "vcpus"));
    long long fr = json_integer_value (json_object_get (f, "ram"));
    double waste;
    if (json_is_true (json_object_get (f, "OS-FLV-DISABLED:disabled")))
      continue;
    if (fv < vcpus || fr < ram_mb)
      continue;                            /* never smaller than the VM */
    waste = (double) (fv - vcpus) / vcpus + (double) (fr - ram_mb) / ram_mb;
    if (best == NULL || waste < best_waste - 1e-9
        || (waste < best_waste + 1e-9
            && (json_integer_value (json_object_get (f, "disk"))
                < json_integer_value (json_object_get (best, "disk"))
                || (json_integer_value (json_object_get (f, "disk"))
                    == json_integer_value (json_object_get (best, "disk"))
                    && strcmp (json_string_value (json_object_get (f, "name")) ?: "",
                               json_string_value (json_object_get (best, "name")) ?: "") < 0)))) {
      best = f;
      best_waste = waste;
    }
  }
  return best;
}

char *
plan_flavor_name (long long vcpus, long long ram_mb)
{
  return xasprintf ("ferry-%lldcpu-%lldmb", vcpus, ram_mb);
}

json_t *
plan_networks (const json_t *vm, const struct config *cfg, int *errors)
{
  const char *vmname = json_string_value (json_object_get (vm, "name"));
  bool mapped = config_get_bool (cfg, "used_mapped_networks");
  const json_t *map = config_get (cfg, "network_map");
  const char *priv = config_get_string (cfg, "openstack_private_network");
  json_t *out = json_array ();
  size_t i;
  json_t *n;

  json_array_foreach (json_object_get (vm, "nics"), i, n) {
    const char *pg = json_string_value (json_object_get (n, "portgroup_key"));
    const char *net = json_string_value (json_object_get (n, "network"));
    const char *to = NULL;
    CLEANUP_FREE char *from = NULL;
    CLEANUP_FREE char *netname = NULL;
    char *subnet = NULL;

    if (mapped) {
      if (pg && json_is_string (json_object_get (map, pg))) {
        to = json_string_value (json_object_get (map, pg));
        from = xasprintf ("network_map[%s]", pg);
      }
      else if (net && json_is_string (json_object_get (map, net))) {
        to = json_string_value (json_object_get (map, net));
        from = xasprintf ("network_map[%s]", net);
      }
      if (to == NULL) {
        log_error ("VM %s: NIC %zu (%s, MAC %s) is on %s%s%s%s, which network_map does not "
                   "map: add '%s: <Neutron network>' to network_map", vmname, i,
                   json_string_value (json_object_get (n, "label")) ?: "?",
                   json_string_value (json_object_get (n, "mac")) ?: "?",
                   net ? "'" : "", net ? net : "an unknown network", net ? "'" : "",
                   pg ? " (distributed port group)" : "", pg ? pg : (net ? net : "?"));
        (*errors)++;
        continue;
      }
    }
    else {
      if (priv == NULL || *priv == '\0') {
        log_error ("VM %s: NIC %zu: used_mapped_networks is false and "
                   "openstack_private_network is not set: set one of them", vmname, i);
        (*errors)++;
        continue;
      }
      to = priv;
      from = strdup ("openstack_private_network");
    }
    netname = strdup (to);
    if (netname && (subnet = strchr (netname, ',')))
      *subnet++ = '\0';
    json_array_append_new (out, json_pack ("{s:O, s:O, s:s, s:s?, s:O, s:s}",
                                           "key", json_object_get (n, "key"),
                                           "mac", json_object_get (n, "mac"),
                                           "network", netname,
                                           "subnet", subnet && *subnet ? subnet : NULL,
                                           "ips", json_object_get (n, "ips") ?: json_array (),
                                           "from", from));
  }
  return out;
}

const char *
plan_volume_type (const struct config *cfg, const char *datastore)
{
  const json_t *m = config_get (cfg, "volume_type_mapping");
  size_t i;
  json_t *e;

  json_array_foreach (m, i, e) {
    const char *ds = json_string_value (json_object_get (e, "vmware_datastore"));
    if (ds && datastore && strcmp (ds, datastore) == 0)
      return json_string_value (json_object_get (e, "openstack_type"));
  }
  return config_get_string (cfg, "cinder_volume_type");
}

json_t *
plan_image_properties (const json_t *vm, const struct config *cfg)
{
  json_t *p = json_object ();
  const char *fw = json_string_value (json_object_get (vm, "firmware"));
  const char *fam = inventory_guest_family (json_string_value (json_object_get (vm, "guest_id")));
  const json_t *extra = config_get (cfg, "image_metadata");

  if (fw && strcmp (fw, "efi") == 0) {
    json_object_set_new (p, "hw_firmware_type", json_string ("uefi"));
    json_object_set_new (p, "hw_machine_type", json_string ("q35"));
    if (json_is_true (json_object_get (vm, "secure_boot")))
      json_object_set_new (p, "os_secure_boot", json_string ("required"));
  }
  json_object_set_new (p, "hw_disk_bus", json_string ("virtio"));
  json_object_set_new (p, "hw_vif_model", json_string ("virtio"));
  if (fam)
    json_object_set_new (p, "os_type", json_string (fam));
  if (config_get_string (cfg, "hw_machine_type"))
    json_object_set_new (p, "hw_machine_type",
                         json_string (config_get_string (cfg, "hw_machine_type")));
  /* image_metadata: a mapping, or the reference's list of "k=v" strings. */
  if (json_is_object (extra))
    json_object_update (p, (json_t *) extra);
  else if (json_is_array (extra)) {
    size_t i;
    json_t *e;
    json_array_foreach (extra, i, e) {
      const char *s = json_string_value (e);
      const char *eq = s ? strchr (s, '=') : NULL;
      if (eq) {
        CLEANUP_FREE char *k = strndup (s, eq - s);
        json_object_set_new (p, k, json_string (eq + 1));
      }
    }
  }
  return p;
}

long long
plan_volume_gib (long long capacity_bytes)
{
  long long g = (capacity_bytes + (1LL << 30) - 1) >> 30;
  return g < 1 ? 1 : g;
}
