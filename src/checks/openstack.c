/* ferry: the OpenStack side of `ferry check`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/checks.h"
#include "workflow/plan.h"
#include "openstack/openstack.h"
#include "openstack/resources.h"
#include "config/clouds.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

#define GIB (1024LL * 1024 * 1024)

static const char *
jstr (const json_t *o, const char *k)
{
  return json_string_value (json_object_get (o, k));
}

static void
check_auth (struct os_client *c, const json_t *cloud, json_t *rows)
{
  static const struct { const char *svc; bool required; const char *why; } svcs[] = {
    { OS_COMPUTE, true, "servers, flavors, attachments" },
    { OS_VOLUME, true, "volumes" },
    { OS_NETWORK, true, "ports" },
    { OS_IMAGE, false, "the Glance path (no conversion host)" },
    { NULL, false, NULL }
  };

  check_row (rows, "os-auth", jstr (json_object_get (cloud, "auth"), "auth_url"), "pass",
             "project %s (%s)%s%s", os_project_name (c), os_project_id (c),
             os_region (c) ? ", region " : "", os_region (c) ? os_region (c) : "");
  for (size_t i = 0; svcs[i].svc; i++) {
    const char *url = os_endpoint (c, svcs[i].svc);
    if (url)
      check_row (rows, "os-endpoint", svcs[i].svc, "pass", "%s", url);
    else
      check_row (rows, "os-endpoint", svcs[i].svc, svcs[i].required ? "fail" : "warn",
                 "no %s endpoint in the catalog for this region and interface (needed for "
                 "%s): check region_name and interface", svcs[i].svc, svcs[i].why);
  }
}

static void
check_microversion (struct os_client *c, json_t *rows)
{
  CLEANUP_FREE char *max = os_nova_max_microversion (c);

  if (max == NULL)
    check_row (rows, "os-nova", "microversion", "fail",
               "cannot read Nova's version document (see above)");
  else if (os_microversion_cmp (max, OS_NOVA_MICROVERSION) < 0)
    check_row (rows, "os-nova", "microversion", "fail",
               "Nova supports up to %s; ferry needs %s (OpenStack Stein or later)", max,
               OS_NOVA_MICROVERSION);
  else
    check_row (rows, "os-nova", "microversion", "pass", "ferry uses %s, Nova supports up to %s",
               OS_NOVA_MICROVERSION, max);
}

/* The vCPUs and RAM the instance of vm will have. */
static void
vm_shape (const json_t *vm, const json_t *flavor, long long *cpu, long long *ram)
{
  if (flavor) {
    *cpu = json_integer_value (json_object_get (flavor, "vcpus"));
    *ram = json_integer_value (json_object_get (flavor, "ram"));
  }
  else {
    *cpu = json_integer_value (json_object_get (vm, "num_cpu"));
    *ram = json_integer_value (json_object_get (vm, "memory_mb"));
  }
}

/* Flavors: a given flavor exists, or one fits each VM.  Fills vm_flavor
 * (vm name -> flavor) for the quota check. */
static void
check_flavors (const struct config *cfg, struct os_client *c, const json_t *vms,
               json_t *vm_flavor, json_t *rows)
{
  const char *fid = config_get_string (cfg, "flavor_uuid");
  CLEANUP_JSON json_t *flavors = NULL;
  size_t i;
  json_t *vm;

  if (fid && *fid) {
    bool gone = false;
    CLEANUP_JSON json_t *f = os_flavor_get (c, fid, true, &gone);
    if (f == NULL) {
      check_row (rows, "os-flavor", fid, "fail", gone ? "flavor_uuid %s does not exist (or "
                 "is not visible to the project): openstack flavor list" : "cannot read "
                 "flavor %s (see above)", fid);
      return;
    }
    check_row (rows, "os-flavor", fid, "pass", "%s: %lld vCPU, %lld MiB", jstr (f, "name"),
               (long long) json_integer_value (json_object_get (f, "vcpus")),
               (long long) json_integer_value (json_object_get (f, "ram")));
    json_array_foreach (vms, i, vm) {
      long long cpu = json_integer_value (json_object_get (vm, "num_cpu"));
      long long ram = json_integer_value (json_object_get (vm, "memory_mb"));
      if (json_integer_value (json_object_get (f, "vcpus")) < cpu
          || json_integer_value (json_object_get (f, "ram")) < ram)
        check_row (rows, "os-flavor", jstr (vm, "name"), "warn",
                   "flavor %s (%lld vCPU, %lld MiB) is smaller than the VM (%lld vCPU, "
                   "%lld MiB)", jstr (f, "name"),
                   (long long) json_integer_value (json_object_get (f, "vcpus")),
                   (long long) json_integer_value (json_object_get (f, "ram")), cpu, ram);
      json_object_set (vm_flavor, jstr (vm, "name"), f);
    }
    return;
  }
  if (!config_get_bool (cfg, "use_existing_flavor")) {
    check_row (rows, "os-flavor", "", "pass", "an exact flavor will be created per VM shape "
               "(needs the right to create flavors: an admin role or policy)");
    return;
  }
  flavors = os_flavor_list (c);
  if (flavors == NULL) {
    check_row (rows, "os-flavor", "", "fail", "cannot list flavors (see above)");
    return;
  }
  json_array_foreach (vms, i, vm) {
    long long cpu = json_integer_value (json_object_get (vm, "num_cpu"));
    long long ram = json_integer_value (json_object_get (vm, "memory_mb"));
    const json_t *f = plan_pick_flavor (flavors, cpu, ram);
    if (f == NULL)
      check_row (rows, "os-flavor", jstr (vm, "name"), "fail",
                 "no flavor has at least %lld vCPU and %lld MiB (of %zu visible): create one "
                 "or set flavor_uuid, or use_existing_flavor: false", cpu, ram,
                 json_array_size (flavors));
    else {
      check_row (rows, "os-flavor", jstr (vm, "name"), "pass",
                 "%s (%lld vCPU, %lld MiB) fits %lld vCPU, %lld MiB", jstr (f, "name"),
                 (long long) json_integer_value (json_object_get (f, "vcpus")),
                 (long long) json_integer_value (json_object_get (f, "ram")), cpu, ram);
      json_object_set (vm_flavor, jstr (vm, "name"), (json_t *) f);
    }
  }
}

static void
check_quotas (struct os_client *c, const json_t *vms, const json_t *vm_flavor, json_t *rows)
{
  CLEANUP_JSON json_t *q = os_quotas (c);
  long long need_vol = 0, need_gb = 0, need_inst = 0, need_cores = 0, need_ram = 0,
    need_ports = 0;
  size_t i, k;
  json_t *vm, *d;
  const struct { const char *name; long long *need; const char *unit, *flag; } want[] = {
    { "volumes", &need_vol, "", "volumes" },
    { "gigabytes", &need_gb, " GiB", "gigabytes" },
    { "instances", &need_inst, "", "instances" },
    { "cores", &need_cores, "", "cores" },
    { "ram", &need_ram, " MiB", "ram" },
    { "ports", &need_ports, "", "ports" },
    { NULL, NULL, NULL, NULL }
  };

  if (q == NULL) {
    check_row (rows, "os-quota", "", "warn", "cannot read the project's quotas (see above)");
    return;
  }
  json_array_foreach (vms, i, vm) {
    long long cpu, ram;
    vm_shape (vm, json_object_get (vm_flavor, jstr (vm, "name")), &cpu, &ram);
    need_inst++;
    need_cores += cpu;
    need_ram += ram;
    need_ports += json_array_size (json_object_get (vm, "nics"));
    json_array_foreach (json_object_get (vm, "disks"), k, d) {
      long long b = json_integer_value (json_object_get (d, "capacity_bytes"));
      need_vol++;
      need_gb += b <= 0 ? 1 : (b + GIB - 1) / GIB;
    }
  }
  for (size_t w = 0; want[w].name; w++) {
    const json_t *e = json_object_get (q, want[w].name);
    long long limit, used, avail;
    if (e == NULL) {
      check_row (rows, "os-quota", want[w].name, "warn", "not known (the service did not say)");
      continue;
    }
    limit = json_integer_value (json_object_get (e, "limit"));
    used = json_integer_value (json_object_get (e, "in_use"));
    avail = limit - used;
    if (limit < 0)
      check_row (rows, "os-quota", want[w].name, "pass", "need %lld%s: unlimited",
                 *want[w].need, want[w].unit);
    else if (*want[w].need > avail)
      check_row (rows, "os-quota", want[w].name, "fail",
                 "the plan needs %lld%s but only %lld%s are free (quota %lld, in use %lld): "
                 "ask for a larger quota (openstack quota set --%s %lld %s)",
                 *want[w].need, want[w].unit, avail < 0 ? 0 : avail, want[w].unit, limit,
                 used, want[w].flag, used + *want[w].need, os_project_name (c));
    else
      check_row (rows, "os-quota", want[w].name, "pass",
                 "need %lld%s, %lld%s free (quota %lld, in use %lld)", *want[w].need,
                 want[w].unit, avail, want[w].unit, limit, used);
  }
}

/* "net" or "net,subnet" -> row for that mapping target. */
static void
check_net_target (struct os_client *c, const char *nic_desc, const char *target,
                  json_t *cache, json_t *rows)
{
  CLEANUP_FREE char *net = strdup (target);
  char *subnet = net ? strchr (net, ',') : NULL;
  CLEANUP_JSON json_t *n = NULL;
  CLEANUP_FREE char *why = NULL;
  const json_t *cached = json_object_get (cache, target);
  int r;

  if (net == NULL)
    return;
  if (cached) {
    check_row (rows, "os-network", nic_desc, json_string_value (json_object_get (cached, "status")),
               "%s", json_string_value (json_object_get (cached, "detail")));
    return;
  }
  if (subnet)
    *subnet++ = '\0';
  r = os_network_find (c, net, &n, &why);
  if (r == 0 && subnet && *subnet) {
    CLEANUP_JSON json_t *s = NULL;
    CLEANUP_FREE char *why2 = NULL;
    r = os_subnet_find (c, jstr (n, "id"), subnet, &s, &why2);
    if (r == 1)
      why = TAKE_PTR (why2);
  }
  {
    CLEANUP_FREE char *detail =
      r == 0 ? xasprintf ("-> %s (%s)%s%s", jstr (n, "name"), jstr (n, "id"),
                          subnet ? ", subnet " : "", subnet ? subnet : "")
      : r == 1 ? xasprintf ("-> '%s': %s", target, why)
      : xasprintf ("-> '%s': cannot look it up (see above)", target);
    const char *st = r == 0 ? "pass" : "fail";
    check_row (rows, "os-network", nic_desc, st, "%s", detail);
    json_object_set_new (cache, target, json_pack ("{s:s, s:s}", "status", st, "detail",
                                                   detail ? detail : ""));
  }
}

static void
check_networks (const struct config *cfg, struct os_client *c, const json_t *vms, json_t *rows)
{
  const json_t *map = config_get (cfg, "network_map");
  const char *priv = config_get_string (cfg, "openstack_private_network");
  CLEANUP_JSON json_t *cache = json_object ();
  size_t i, k;
  json_t *vm, *nic;

  if (!config_get_bool (cfg, "used_mapped_networks")) {
    if (priv == NULL || *priv == '\0') {
      check_row (rows, "os-network", "openstack_private_network", "fail",
                 "used_mapped_networks is false, so every NIC goes to "
                 "openstack_private_network, which is not set");
      return;
    }
    check_net_target (c, "openstack_private_network", priv, cache, rows);
    return;
  }
  json_array_foreach (vms, i, vm)
    json_array_foreach (json_object_get (vm, "nics"), k, nic) {
      const char *pg = jstr (nic, "portgroup_key"), *net = jstr (nic, "network");
      const char *label = jstr (nic, "label");
      const char *to = NULL;
      CLEANUP_FREE char *desc = xasprintf ("%s/%s", jstr (vm, "name"),
                                           label ? label : jstr (nic, "mac"));
      if (pg && json_is_string (json_object_get (map, pg)))
        to = jstr (map, pg);
      else if (net && json_is_string (json_object_get (map, net)))
        to = jstr (map, net);
      if (to == NULL) {
        check_row (rows, "os-network", desc, "fail",
                   "NIC %s on '%s'%s%s%s maps to no Neutron network: add '%s' (or its port "
                   "group key) to network_map", jstr (nic, "mac") ? jstr (nic, "mac") : "",
                   net ? net : "?", pg ? " (port group " : "", pg ? pg : "", pg ? ")" : "",
                   net ? net : pg ? pg : "?");
        continue;
      }
      check_net_target (c, desc, to, cache, rows);
    }
}

static void
check_volume_types (const struct config *cfg, struct os_client *c, const json_t *vms,
                    json_t *rows)
{
  const char *deflt = config_get_string (cfg, "cinder_volume_type");
  const json_t *mapping = config_get (cfg, "volume_type_mapping");
  CLEANUP_JSON json_t *types = NULL;
  CLEANUP_JSON json_t *mapped = json_object ();
  size_t i, k;
  json_t *m, *vm, *d;

  if ((deflt == NULL || *deflt == '\0') && json_array_size (mapping) == 0)
    return;
  types = os_volume_types (c);
  if (types == NULL) {
    check_row (rows, "os-voltype", "", "fail", "cannot list volume types (see above)");
    return;
  }
#define TYPE_EXISTS(name) ({ bool f_ = false; size_t t_; json_t *vt_;                    \
      json_array_foreach (types, t_, vt_)                                                \
        if ((jstr (vt_, "name") && strcmp (jstr (vt_, "name"), name) == 0)               \
            || (jstr (vt_, "id") && strcmp (jstr (vt_, "id"), name) == 0)) f_ = true;    \
      f_; })
  if (deflt && *deflt) {
    if (TYPE_EXISTS (deflt))
      check_row (rows, "os-voltype", deflt, "pass", "cinder_volume_type exists");
    else
      check_row (rows, "os-voltype", deflt, "fail", "cinder_volume_type '%s' is not a "
                 "volume type of this cloud (openstack volume type list)", deflt);
  }
  json_array_foreach (mapping, i, m) {
    const char *ds = jstr (m, "vmware_datastore"), *ty = jstr (m, "openstack_type");
    if (ds == NULL || ty == NULL) {
      check_row (rows, "os-voltype", "volume_type_mapping", "fail", "item %zu needs "
                 "vmware_datastore and openstack_type", i + 1);
      continue;
    }
    json_object_set_new (mapped, ds, json_true ());
    if (TYPE_EXISTS (ty))
      check_row (rows, "os-voltype", ty, "pass", "datastore %s -> %s", ds, ty);
    else
      check_row (rows, "os-voltype", ty, "fail", "volume_type_mapping: datastore %s -> "
                 "'%s', which is not a volume type of this cloud", ds, ty);
  }
#undef TYPE_EXISTS
  if (json_array_size (mapping) && (deflt == NULL || *deflt == '\0'))
    json_array_foreach (vms, i, vm)
      json_array_foreach (json_object_get (vm, "disks"), k, d) {
        const char *ds = jstr (d, "datastore");
        if (ds && !json_object_get (mapped, ds)) {
          check_row (rows, "os-voltype", jstr (vm, "name"), "warn",
                     "datastore %s is not in volume_type_mapping: its disks get the "
                     "default volume type", ds);
          json_object_set_new (mapped, ds, json_true ());
        }
      }
}

static void
check_keypair_sgs (const struct config *cfg, struct os_client *c, json_t *rows)
{
  const char *key = config_get_string (cfg, "ssh_key_name");
  CLEANUP_JSON json_t *sgs = config_get_strings (cfg, "security_groups");
  size_t i;
  json_t *sg;

  if (key && *key) {
    bool gone = false;
    CLEANUP_JSON json_t *kp = os_keypair_get (c, key, true, &gone);
    if (kp)
      check_row (rows, "os-keypair", key, "pass", "key pair exists (%s)",
                 jstr (kp, "type") ? jstr (kp, "type") : "ssh");
    else
      check_row (rows, "os-keypair", key, "fail", gone ? "ssh_key_name: the user has no key "
                 "pair of this name (key pairs belong to users): openstack keypair create"
                 : "cannot read the key pair (see above)");
  }
  json_array_foreach (sgs, i, sg) {
    CLEANUP_JSON json_t *g = NULL;
    CLEANUP_FREE char *why = NULL;
    int r = os_security_group_find (c, json_string_value (sg), &g, &why);
    if (r == 0)
      check_row (rows, "os-secgroup", json_string_value (sg), "pass", "%s", jstr (g, "id"));
    else
      check_row (rows, "os-secgroup", json_string_value (sg), "fail", "%s",
                 r == 1 ? why : "cannot look it up (see above)");
  }
}

static void
check_conversion_host (const struct config *cfg, struct os_client *c, const json_t *vms,
                       json_t *rows)
{
  const char *id = config_get_string (cfg, "instance_uuid");
  CLEANUP_FREE char *md = NULL;
  CLEANUP_JSON json_t *srv = NULL;
  CLEANUP_JSON json_t *att = NULL;
  const char *from = "instance_uuid";
  bool gone = false;
  size_t maxd = 0, i, n;
  json_t *vm;

  if (!config_get_bool (cfg, "use_conversion_host")) {
    check_row (rows, "os-convhost", "", "pass", "not used (use_conversion_host: false): "
               "disks go through Glance");
    return;
  }
  if (id == NULL || *id == '\0') {
    md = os_metadata_instance_uuid (2);
    if (md == NULL) {
      check_row (rows, "os-convhost", "", "fail",
                 "no conversion host: set instance_uuid (import_workloads_instance_uuid) "
                 "or run ferry on the conversion host (its metadata service at "
                 "169.254.169.254 did not answer), or set use_conversion_host: false");
      return;
    }
    id = md;
    from = "metadata service";
  }
  srv = os_server_get (c, id, true, &gone);
  if (srv == NULL) {
    check_row (rows, "os-convhost", id, "fail", gone ? "conversion host %s (from %s) is not "
               "a server of project %s" : "cannot read conversion host %s (see above)", id,
               from, os_project_name (c));
    return;
  }
  check_row (rows, "os-convhost", id, strcmp (jstr (srv, "status"), "ACTIVE") ? "fail" : "pass",
             "%s (from %s): %s", jstr (srv, "name"), from, jstr (srv, "status"));
  att = os_server_attachments (c, id);
  if (att == NULL) {
    check_row (rows, "os-convhost", id, "warn", "cannot list its volume attachments");
    return;
  }
  n = json_array_size (att);
  json_array_foreach (vms, i, vm)
    if (json_array_size (json_object_get (vm, "disks")) > maxd)
      maxd = json_array_size (json_object_get (vm, "disks"));
  if (n + maxd > CONVERSION_HOST_MAX_VOLUMES)
    check_row (rows, "os-convhost", id, n >= CONVERSION_HOST_MAX_VOLUMES ? "fail" : "warn",
               "%zu volumes attached; a VM of %zu disks would bring it over %d: detach "
               "leftovers (ferry teardown) or lower parallel", n, maxd,
               CONVERSION_HOST_MAX_VOLUMES);
  else
    check_row (rows, "os-convhost", id, "pass", "%zu volume%s attached (room for %zu more "
               "of %d)", n, n == 1 ? "" : "s", CONVERSION_HOST_MAX_VOLUMES - n,
               CONVERSION_HOST_MAX_VOLUMES);
}

void
checks_openstack (const struct config *cfg, const json_t *plan_vms, json_t *rows)
{
  CLEANUP_FREE char *err = NULL;
  CLEANUP_JSON json_t *cloud = clouds_resolve (cfg, &err);
  CLEANUP_JSON json_t *vm_flavor = json_object ();
  CLEANUP_JSON json_t *empty = json_array ();
  struct os_client *c;
  int rc = 0;

  if (cloud == NULL) {
    check_row (rows, "os-auth", "dst_cloud", "fail", "%s", err ? err :
               "no destination cloud: set dst_cloud (a clouds.yaml name or the auth "
               "settings), OS_CLOUD, or OS_AUTH_URL and friends");
    return;
  }
  if (plan_vms == NULL)
    plan_vms = empty;
  c = os_connect (cloud, &rc);
  if (c == NULL) {
    check_row (rows, "os-auth", jstr (json_object_get (cloud, "auth"), "auth_url"), "fail",
               "cannot authenticate (see the error above): check dst_cloud (auth_url, "
               "username, password, domains, project)");
    return;
  }
  check_auth (c, cloud, rows);
  if (os_endpoint (c, OS_COMPUTE) && os_endpoint (c, OS_VOLUME) && os_endpoint (c, OS_NETWORK)) {
    check_microversion (c, rows);
    check_flavors (cfg, c, plan_vms, vm_flavor, rows);
    if (json_array_size (plan_vms))
      check_quotas (c, plan_vms, vm_flavor, rows);
    else
      check_row (rows, "os-quota", "", "warn", "no VM discovered: quotas not compared");
    check_networks (cfg, c, plan_vms, rows);
    check_volume_types (cfg, c, plan_vms, rows);
    check_keypair_sgs (cfg, c, rows);
    check_conversion_host (cfg, c, plan_vms, rows);
  }
  os_disconnect (c);
}
