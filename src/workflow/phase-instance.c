/* ferry: phases instance and finish -- the volumes detached from the
 * conversion host and marked (converted, bootable, the boot volume's
 * image properties), the snapshot removed, ports keeping the VMware MACs
 * (and IPs with use_fixed_ips), the server booted from the volumes and
 * ACTIVE; then the durations and "done".  Nothing is created in the cloud
 * after a signal. */
#include <stdlib.h>
#include <string.h>

#include "workflow/job.h"
#include "workflow/plan.h"
#include "conversion-host/attach.h"
#include "openstack/resources.h"
#include "vsphere/vmops.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

/* A port for NIC i that exists already: the state's, else one on the
 * network with the NIC's MAC and ferry's name for it.  0 (*p a new
 * reference or NULL), or an exit code (a port of someone else holds the
 * MAC, or an API error). */
static int
existing_port (struct job *j, size_t i, const json_t *n, const json_t *rec, const char *pname,
               json_t **p)
{
  const char *id = json_string_value (json_object_get (rec, "id"));
  const char *mac = json_string_value (json_object_get (n, "mac"));
  CLEANUP_FREE char *emac = NULL;
  CLEANUP_FREE char *q = NULL;
  CLEANUP_JSON json_t *l = NULL;
  json_t *cand;
  const char *cname;

  *p = NULL;
  if (id) {
    bool gone = false;
    *p = os_port_get (j->c->os, id, true, &gone);
    if (*p == NULL && !gone)
      return FERRY_EXIT_DEST;
    if (*p)
      return 0;
  }
  if (mac == NULL)
    return 0;
  emac = os_url_escape (mac);
  q = xasprintf ("mac_address=%s&network_id=%s", emac,
                 json_string_value (json_object_get (n, "network_id")));
  if ((l = os_port_list (j->c->os, q)) == NULL)
    return FERRY_EXIT_DEST;
  if ((cand = json_array_get (l, 0)) == NULL)
    return 0;
  cname = json_string_value (json_object_get (cand, "name"));
  if (cname && strcmp (cname, pname) == 0) {
    *p = json_incref (cand);
    return 0;
  }
  log_error ("VM %s: NIC %zu: MAC %s is already used by port %s ('%s') on that "
             "network: delete that port (an earlier migration? ferry teardown) so the "
             "VM keeps its MAC", j->name, i, mac,
             json_string_value (json_object_get (cand, "id")), cname ? cname : "");
  return FERRY_EXIT_DEST;
}

static json_t *
create_port (struct job *j, size_t i, const json_t *n, const char *pname)
{
  const char *uuid = json_string_value (json_object_get (j->vm, "uuid"));
  const char *mac = json_string_value (json_object_get (n, "mac"));
  struct os_port_spec spec = { 0 };
  CLEANUP_JSON json_t *fixed = NULL;
  CLEANUP_JSON json_t *tags = json_pack ("[s, s]", "ferry", "ferry-vm");
  CLEANUP_FREE char *desc = xasprintf ("ferry: NIC %zu of VMware VM %s (%s)", i, j->name,
                                       uuid ? uuid : "");
  json_t *p;

  if (config_get_bool (j->c->cfg, "use_fixed_ips")) {
    size_t k;
    json_t *ip;
    fixed = json_array ();
    json_array_foreach (json_object_get (n, "ips"), k, ip) {
      const char *s = json_string_value (ip);
      if (s && strchr (s, '.') && strncmp (s, "169.254.", 8) != 0)
        json_array_append_new (fixed, json_pack ("{s:O?, s:s}", "subnet_id",
                                                 json_object_get (n, "subnet_id"),
                                                 "ip_address", s));
    }
  }
  spec.network_id = json_string_value (json_object_get (n, "network_id"));
  spec.name = pname;
  spec.description = desc;
  spec.mac_address = mac;
  spec.fixed_ips = fixed && json_array_size (fixed) ? fixed : NULL;
  spec.security_groups = json_array_size (j->sgs) ? j->sgs : NULL;
  spec.tags = tags;
  p = os_port_create (j->c->os, &spec);
  if (p)
    log_info ("VM %s: NIC %zu: port %s with MAC %s on %s", j->name, i,
              json_string_value (json_object_get (p, "id")), mac,
              json_string_value (json_object_get (n, "network")));
  return p;
}

json_t *
ensure_ports (struct job *j, int *rc)
{
  CLEANUP_FREE char *safe = state_safe_name (j->name);
  json_t *ports = json_object_get (j->st.j, "ports");
  CLEANUP_JSON json_t *ids = json_array ();
  size_t i;
  json_t *n;

  if (!json_is_array (ports)) {
    ports = json_array ();
    json_object_set_new (j->st.j, "ports", ports);
  }
  json_array_foreach (j->nets, i, n) {
    CLEANUP_FREE char *pname = xasprintf ("%s-nic%zu", safe, i);
    json_t *rec = json_array_get (ports, i);
    CLEANUP_JSON json_t *p = NULL;

    if ((*rc = existing_port (j, i, n, rec, pname, &p)) != 0)
      return NULL;
    if (p == NULL && (p = create_port (j, i, n, pname)) == NULL) {
      *rc = FERRY_EXIT_DEST;
      return NULL;
    }
    json_array_append_new (ids, json_string (json_string_value (json_object_get (p, "id"))));
    if (rec == NULL)
      json_array_append_new (ports, json_pack ("{s:s, s:s?, s:O}", "id",
                                               json_string_value (json_object_get (p, "id")),
                                               "mac", json_string_value (json_object_get (n, "mac")),
                                               "nic_key", json_object_get (n, "key")));
    state_save (&j->st);
  }
  return json_incref (ids);
}

/* The server this VM had already: the state's, else one named as the VM
 * with ferry's metadata for its uuid.  0 (*srv new reference or NULL) or
 * -1 on an API error. */
static int
existing_server (struct job *j, const char *id, json_t **srv)
{
  const char *uuid = json_string_value (json_object_get (j->vm, "uuid"));
  CLEANUP_FREE char *en = NULL;
  CLEANUP_FREE char *q = NULL;
  CLEANUP_JSON json_t *l = NULL;
  size_t i;
  json_t *s;

  *srv = NULL;
  if (id) {
    bool gone = false;
    *srv = os_server_get (j->c->os, id, true, &gone);
    if (*srv == NULL && !gone)
      return -1;
    if (*srv)
      return 0;
  }
  en = os_url_escape (j->name);
  q = xasprintf ("name=%s", en);
  if ((l = os_server_list (j->c->os, q)) == NULL)
    return -1;
  json_array_foreach (l, i, s) {
    const char *mu = json_string_value (json_object_get (json_object_get (s, "metadata"),
                                                         "ferry_vm_uuid"));
    if (mu && uuid && strcmp (mu, uuid) == 0) {
      json_decref (*srv);
      *srv = json_incref (s);
    }
  }
  return 0;
}

static json_t *
create_server (struct job *j, const json_t *port_ids)
{
  const struct config *cfg = j->c->cfg;
  const char *uuid = json_string_value (json_object_get (j->vm, "uuid"));
  const char *az = config_get_string (cfg, "nova_az");
  struct os_server_spec spec = { 0 };
  CLEANUP_JSON json_t *bdm = json_array ();
  CLEANUP_JSON json_t *md = json_pack ("{s:s, s:s}", "ferry_vm_uuid", uuid ? uuid : "",
                                       "ferry_source", "vmware");
  CLEANUP_JSON json_t *tags = json_pack ("[s]", "ferry");
  size_t i;
  json_t *v, *srv;

  json_array_foreach (j->vol_ids, i, v)
    json_array_append_new (bdm, json_pack ("{s:O, s:s, s:s, s:I, s:b}", "uuid", v,
                                           "source_type", "volume",
                                           "destination_type", "volume",
                                           "boot_index", (json_int_t) i,
                                           "delete_on_termination", 0));
  spec.name = j->name;
  spec.flavor_id = json_string_value (json_object_get (j->flavor, "id"));
  spec.block_devices = bdm;
  spec.ports = port_ids;
  spec.key_name = config_get_string (cfg, "ssh_key_name");
  if (spec.key_name && *spec.key_name == '\0')
    spec.key_name = NULL;
  spec.security_groups = json_array_size (port_ids) ? NULL : j->sgs;
  spec.availability_zone = az ? az : config_get_string (cfg, "availability_zone");
  spec.user_data = config_get_string (cfg, "user_data");
  spec.metadata = md;
  spec.tags = tags;
  srv = os_server_create (j->c->os, &spec);
  if (srv)
    log_info ("VM %s: server %s created (flavor %s)", j->name,
              json_string_value (json_object_get (srv, "id")),
              json_string_value (json_object_get (j->flavor, "name")));
  return srv;
}

int
ensure_server (struct job *j, const json_t *port_ids)
{
  json_t *srec = state_obj (&j->st, "server");
  CLEANUP_JSON json_t *srv = NULL;
  CLEANUP_JSON json_t *active = NULL;

  if (existing_server (j, json_string_value (json_object_get (srec, "id")), &srv) == -1)
    return FERRY_EXIT_DEST;
  if (srv == NULL && (srv = create_server (j, port_ids)) == NULL)
    return FERRY_EXIT_DEST;
  json_object_set_new (srec, "id", json_string (json_string_value (json_object_get (srv, "id"))));
  state_save (&j->st);
  active = os_server_wait_active (j->c->os, json_string_value (json_object_get (srv, "id")), 1800);
  if (active == NULL)
    return FERRY_EXIT_DEST;
  json_object_set_new (srec, "status", json_string ("ACTIVE"));
  return 0;
}

/* The volumes: converted or not (metadata), the first bootable with the
 * boot volume's image properties. */
static int
mark_volumes (struct job *j)
{
  bool skip = config_get_bool (j->c->cfg, "skip_conversion");
  const char *boot = json_string_value (json_array_get (j->vol_ids, 0));
  CLEANUP_JSON json_t *props = plan_image_properties (j->vm, j->c->cfg);
  size_t i;
  json_t *id;

  json_array_foreach (j->vol_ids, i, id) {
    CLEANUP_JSON json_t *md = json_pack ("{s:s, s:s}", "converted", skip ? "false" : "true",
                                         "ferry_conversion", skip ? "skipped" : "done");
    if (os_volume_merge_metadata (j->c->os, json_string_value (id), md) == -1)
      return -1;
  }
  if (boot && (os_volume_set_bootable (j->c->os, boot, true) == -1
               || os_volume_set_image_metadata (j->c->os, boot, props) == -1))
    return -1;
  return 0;
}

enum step
phase_instance (struct job *j)
{
  struct ctx *c = j->c;
  CLEANUP_JSON json_t *port_ids = NULL;
  double a0 = now_s ();
  int rc;

  if (job_cancelled (c))
    return job_fail (j, FERRY_EXIT_INTERRUPTED);
  if (job_state_behind (j, "creating the instance"))
    return job_fail (j, FERRY_EXIT_FAILED);
  /* Detach everything this VM has on the conversion host. */
  if (c->conv_host == NULL && !j->glance)
    c->conv_host = conversion_host_id (config_get_string (c->cfg, "instance_uuid"));
  if (c->conv_host && !j->glance && job_detach_all (c, j->name, j->vol_ids) == -1)
    return job_fail (j, FERRY_EXIT_DEST);
  json_array_clear (j->attached);
  if (j->snap) {
    vm_snapshot_remove (c->vs, j->snap, j->name);
    free (j->snap);
    j->snap = NULL;
    json_object_del (j->st.j, "snapshot");
  }
  if (mark_volumes (j) == -1)
    return job_fail (j, FERRY_EXIT_DEST);
  state_phase (&j->st, "instance");
  if (!config_get_bool (c->cfg, "os_migrate_create_network_port"))
    port_ids = json_array ();
  else if ((port_ids = ensure_ports (j, &rc)) == NULL)
    return job_fail (j, rc);
  if (config_get_bool (c->cfg, "os_migrate_create_os_instance")
      && (rc = ensure_server (j, port_ids)) != 0)
    return job_fail (j, rc);
  *j->api_s += now_s () - a0;
  return STEP_NEXT;
}

enum step
phase_finish (struct job *j)
{
  struct ctx *c = j->c;
  const char *sid;
  char ts[32];

  if (c->o->mode == MIGRATE_CUTOVER) {
    record_sync (j, now_s () - j->t0);
    json_object_set_new (j->st.j, "downtime_s", json_real (now_s () - j->down_t0));
    log_info ("VM %s: cutover downtime %.1f s (from shutdown to the server ACTIVE)", j->name,
              now_s () - j->down_t0);
  }
  json_object_set_new (j->st.j, "finished", json_string (state_now (ts, sizeof ts)));
  json_object_set_new (j->st.j, "durations", json_pack ("{s:f, s:f}", "total_s", now_s () - j->t0,
                                                        "copy_s", *j->copy_s - j->c0));
  json_object_del (j->st.j, "error");
  json_object_del (j->st.j, "pass");
  sid = json_string_value (json_object_get (state_obj (&j->st, "server"), "id"));
  if (state_phase (&j->st, "done") == -1) {
    log_error ("VM %s: migrated (server %s), but its state file could not record it: fix "
               "that and run ferry migrate again to record it", j->name, sid ?: "?");
    return job_fail (j, FERRY_EXIT_FAILED);
  }
  log_info ("VM %s: migrated in %.1f s (copy %.1f s): server %s", j->name, now_s () - j->t0,
            *j->copy_s - j->c0, sid ?: "(not created)");
  return job_fail (j, 0);
}
