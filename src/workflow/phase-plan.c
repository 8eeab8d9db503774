/* ferry: phase plan -- what the VM becomes on the destination: its NICs'
 * networks and subnets, its security groups, its flavor.  With --dry-run
 * the plan (with the volumes that would be made) is handed to the caller
 * and the job ends; otherwise the flavor is created when needed and the
 * plan is recorded in the state. */
#include <stdlib.h>
#include <string.h>

#include "workflow/job.h"
#include "workflow/plan.h"
#include "openstack/resources.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

/* The flavor for the VM: flavor_uuid, else the smallest that fits, else
 * one made for its shape.  New reference to {id, name, vcpus, ram,
 * created_by_ferry | to_create}.  Under the shared lock: two VMs of one
 * shape make one flavor. */
static json_t *
choose_flavor (struct job *j, bool create)
{
  struct ctx *c = j->c;
  long long cpu = json_integer_value (json_object_get (j->vm, "num_cpu"));
  long long ram = json_integer_value (json_object_get (j->vm, "memory_mb"));
  const char *forced = config_get_string (c->cfg, "flavor_uuid");
  CLEANUP_FREE char *fname = NULL;
  size_t i;
  json_t *e, *made;
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&c->sh->lock);

  if (forced && *forced) {
    json_t *fl = os_flavor_get (c->os, forced, false, NULL);
    if (fl == NULL)
      log_error ("VM %s: flavor_uuid %s not found: fix flavor_uuid", j->name, forced);
    return fl;
  }
  if (c->sh->flavors == NULL && (c->sh->flavors = os_flavor_list (c->os)) == NULL)
    return NULL;
  if (config_get_bool (c->cfg, "use_existing_flavor")) {
    const json_t *f = plan_pick_flavor (c->sh->flavors, cpu, ram);
    if (f == NULL) {
      log_error ("VM %s: no flavor has at least %lld vCPUs and %lld MiB: create one, set "
                 "flavor_uuid, or set use_existing_flavor: false to let ferry create it",
                 j->name, cpu, ram);
      return NULL;
    }
    return json_deep_copy (f);
  }
  fname = plan_flavor_name (cpu, ram);
  json_array_foreach (c->sh->flavors, i, e)
    if (strcmp (json_string_value (json_object_get (e, "name")) ?: "", fname) == 0)
      return json_deep_copy (e);
  if (!create)
    return json_pack ("{s:n, s:s, s:I, s:I, s:b}", "id", "name", fname, "vcpus",
                      (json_int_t) cpu, "ram", (json_int_t) ram, "to_create", 1);
  made = os_flavor_create (c->os, fname, (int) cpu, ram, 0, true);
  if (made == NULL) {
    log_error ("VM %s: cannot create flavor %s (creating flavors usually needs the admin "
               "role): ask an administrator for it, or set use_existing_flavor: true",
               j->name, fname);
    return NULL;
  }
  json_object_set_new (made, "created_by_ferry", json_true ());
  json_array_append (c->sh->flavors, made);
  return made;
}

/* What a name resolved to, for every VM of the run: each VM would ask
 * Neutron the same questions.  The lock is not held across the call. */
static json_t *
lookup_cached (struct ctx *c, const char *key)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&c->sh->lock);
  return c->sh->lookups ? json_incref (json_object_get (c->sh->lookups, key)) : NULL;
}

static void
lookup_remember (struct ctx *c, const char *key, json_t *v)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&c->sh->lock);
  if (c->sh->lookups == NULL)
    c->sh->lookups = json_object ();
  if (c->sh->lookups)
    json_object_set (c->sh->lookups, key, v);
}

/* A Neutron resource by reference, through the run's cache: 0 found (*out
 * a new reference), 1 not found or ambiguous (*why), -1 API error. */
typedef int (*find_fn) (struct os_client *os, const char *ref, json_t **out, char **why);

static int
lookup (struct ctx *c, const char *cache_key, find_fn find, const char *ref, json_t **out,
        char **why)
{
  int r;

  if ((*out = lookup_cached (c, cache_key)) != NULL)
    return 0;
  r = find (c->os, ref, out, why);
  if (r == 0)
    lookup_remember (c, cache_key, *out);
  return r;
}

/* The exit code of a failed lookup: 1 is the operator's to fix. */
static int
lookup_rc (int r)
{
  return r == 1 ? FERRY_EXIT_USAGE : FERRY_EXIT_DEST;
}

/* NIC i's subnet: the one its mapping names, else the network's first. */
static int
resolve_subnet (struct job *j, size_t i, json_t *n, const json_t *net)
{
  const char *net_id = json_string_value (json_object_get (net, "id"));
  const char *ref = json_string_value (json_object_get (n, "subnet"));
  CLEANUP_FREE char *key = NULL;
  CLEANUP_FREE char *why = NULL;
  json_t *sub = NULL;
  int r;

  if (ref == NULL) {
    json_t *subs = json_object_get (net, "subnets");
    if (json_array_size (subs))
      json_object_set_new (n, "subnet_id", json_incref (json_array_get (subs, 0)));
    return 0;
  }
  key = xasprintf ("subnet %s %s", net_id, ref);
  if ((sub = lookup_cached (j->c, key)) == NULL) {
    r = os_subnet_find (j->c->os, net_id, ref, &sub, &why);
    if (r != 0) {
      log_error ("VM %s: NIC %zu: subnet '%s': %s", j->name, i, ref, why ? why : "not found");
      return lookup_rc (r);
    }
    lookup_remember (j->c, key, sub);
  }
  json_object_set_new (n, "subnet_id", json_string (json_string_value (json_object_get (sub, "id"))));
  json_decref (sub);
  return 0;
}

/* Networks (resolved to ids) and subnets for the NICs: j->nets. */
static int
resolve_ports_plan (struct job *j)
{
  int errors = 0;
  size_t i;
  json_t *n;

  j->nets = plan_networks (j->vm, j->c->cfg, &errors);
  if (errors)
    return FERRY_EXIT_USAGE;
  json_array_foreach (j->nets, i, n) {
    const char *ref = json_string_value (json_object_get (n, "network"));
    CLEANUP_FREE char *key = xasprintf ("network %s", ref);
    CLEANUP_FREE char *why = NULL;
    CLEANUP_JSON json_t *net = NULL;
    int r = lookup (j->c, key, os_network_find, ref, &net, &why);

    if (r != 0) {
      if (r == 1)
        log_error ("VM %s: NIC %zu: Neutron network '%s' (%s): %s", j->name, i, ref,
                   json_string_value (json_object_get (n, "from")), why ? why : "not found");
      return lookup_rc (r);
    }
    json_object_set_new (n, "network_id", json_string (json_string_value (json_object_get (net, "id"))));
    if ((r = resolve_subnet (j, i, n, net)) != 0)
      return r;
  }
  return 0;
}

/* security_groups resolved to ids: j->sgs. */
static int
resolve_security_groups (struct job *j)
{
  CLEANUP_JSON json_t *refs = config_get_strings (j->c->cfg, "security_groups");
  size_t i;
  json_t *r;

  j->sgs = json_array ();
  json_array_foreach (refs, i, r) {
    const char *ref = json_string_value (r);
    CLEANUP_FREE char *key = xasprintf ("security group %s", ref);
    CLEANUP_FREE char *why = NULL;
    CLEANUP_JSON json_t *sg = NULL;
    int x = lookup (j->c, key, os_security_group_find, ref, &sg, &why);

    if (x != 0) {
      if (x == 1)
        log_error ("VM %s: security group '%s': %s", j->name, ref, why ? why : "not found");
      return lookup_rc (x);
    }
    json_array_append_new (j->sgs, json_string (json_string_value (json_object_get (sg, "id"))));
  }
  return 0;
}

/* --dry-run: the plan, with the volumes that would be made or reused. */
static json_t *
dry_run_plan (struct job *j)
{
  json_t *plan = json_object ();
  json_t *vols = json_array ();
  size_t i;
  json_t *d;

  json_array_foreach (j->disks, i, d) {
    CLEANUP_JSON json_t *v = job_volume (j, d, i, true, false, NULL);
    const char *vt = plan_volume_type (j->c->cfg, json_string_value (json_object_get (d, "datastore")));
    json_array_append_new (vols, json_pack ("{s:O, s:O?, s:I, s:s?, s:O?, s:s}",
                                            "disk_key", json_object_get (d, "key"),
                                            "file", json_object_get (d, "file"),
                                            "size_gb", (json_int_t) plan_volume_gib (
                                              json_integer_value (json_object_get (d, "capacity_bytes"))),
                                            "volume_type", vt,
                                            "existing_volume", json_object_get (v, "id"),
                                            "name", json_string_value (json_object_get (v, "name")) ?: ""));
  }
  json_object_set_new (plan, "vm", json_string (j->name));
  json_object_set_new (plan, "flavor", json_pack ("{s:O?, s:O, s:O, s:O}",
                                                  "id", json_object_get (j->flavor, "id"),
                                                  "name", json_object_get (j->flavor, "name"),
                                                  "vcpus", json_object_get (j->flavor, "vcpus"),
                                                  "ram", json_object_get (j->flavor, "ram")));
  json_object_set_new (plan, "volumes", vols);
  json_object_set (plan, "ports", j->nets);
  json_object_set_new (plan, "boot_volume_properties", plan_image_properties (j->vm, j->c->cfg));
  json_object_set_new (plan, "conversion", json_string (config_get_bool (j->c->cfg, "skip_conversion")
                                                        ? "skipped" : "virt-v2v-in-place"));
  return plan;
}

enum step
phase_plan (struct job *j)
{
  struct ctx *c = j->c;
  char ts[32];
  int rc;

  /* No networks are needed when no ports are made (args.json runs). */
  if (!config_get_bool (c->cfg, "os_migrate_create_network_port"))
    j->nets = json_array ();
  else if ((rc = resolve_ports_plan (j)) != 0)
    return job_fail (j, rc);
  if ((rc = resolve_security_groups (j)) != 0)
    return job_fail (j, rc);
  j->flavor = choose_flavor (j, !c->o->dry_run);
  if (j->flavor == NULL)
    return job_fail (j, FERRY_EXIT_DEST);
  if (c->o->dry_run) {
    if (c->o->plans)
      json_array_append_new (c->o->plans, dry_run_plan (j));
    return job_fail (j, 0);
  }

  json_object_set_new (j->st.j, "moref", json_string (j->moref));
  json_object_set_new (j->st.j, "uuid", json_incref (json_object_get (j->vm, "uuid")));
  if (c->o->mode == MIGRATE_COLD || !json_object_get (j->st.j, "mode"))
    json_object_set_new (j->st.j, "mode", json_string (c->o->mode == MIGRATE_COLD ? "cold" : "warm"));
  json_object_set_new (j->st.j, "flavor", json_pack ("{s:O, s:O}", "id", json_object_get (j->flavor, "id"),
                                                     "name", json_object_get (j->flavor, "name")));
  if (json_is_true (json_object_get (j->flavor, "created_by_ferry")))
    json_object_set_new (json_object_get (j->st.j, "flavor"), "created", json_true ());
  if (!json_object_get (j->st.j, "started"))
    json_object_set_new (j->st.j, "started", json_string (state_now (ts, sizeof ts)));
  state_phase (&j->st, "volumes");
  return STEP_NEXT;
}
