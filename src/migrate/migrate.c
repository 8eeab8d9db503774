/* ferry: the cold migration workflow, see migrate.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#include "migrate/migrate.h"
#include "migrate/attach.h"
#include "migrate/conversion-host.h"
#include "migrate/board.h"
#include "migrate/convert.h"
#include "migrate/disk-source.h"
#include "migrate/plan.h"
#include "migrate/state.h"
#include "config/clouds.h"
#include "copy/copy.h"
#include "openstack/resources.h"
#include "vsphere/inventory.h"
#include "vsphere/vmops.h"
#include "vsphere/vsconfig.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#define SNAP_PREFIX "ferry-migration-"

/* What the workers of one migrate_vms share. */
struct shared {
  pthread_mutex_t lock;       /* flavors, next, results, totals */
  json_t *flavors;            /* cached Nova flavor list */
  json_t *lookups;            /* networks, subnets, security groups found, by reference */
  struct disk_slots *slots;   /* disk copies at once, overall and per ESXi host */
  struct board *board;        /* progress, events */
  bool quiet_progress;        /* the board shows progress: log it at debug level */
  int disks_per_vm;           /* a VM's disks copied at once (1: one after the other) */
  const json_t *vms;
  size_t next;                /* the next VM to start */
  int *rcs;                   /* per VM: exit code, -1 not run */
  double *seconds;
  double api_s, copy_s;
};

/* One worker: its own vSphere session and OpenStack client; the disk
 * threads of its VM share them under lock. */
struct ctx {
  const struct config *cfg;
  const struct migrate_opts *o;
  struct shared *sh;
  struct vsphere *vs;
  struct os_client *os;
  pthread_mutex_t lock;       /* vs, os and the VM's state, when disks copy at once */
  char *conv_host;
  const char *data_dir;
  const char *vmname;         /* the VM being migrated */
  const char *esxi_host;      /* its ESXi host (per-host disk limit) */
  const char *logpath;        /* its log file */
  struct log_errors *errors;  /* its errors */
};

static double
now_s (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static bool
cancelled (const struct ctx *c)
{
  return c->o->cancel && atomic_load (c->o->cancel);
}

/* ---- plan ---- */

/* The flavor for vm: flavor_uuid, else the smallest that fits, else one
 * made for its shape.  New reference to {id, name, vcpus, ram, created}.
 * Under the shared lock: two VMs of one shape make one flavor. */
static json_t *choose_flavor_locked (struct ctx *c, const json_t *vm, bool create);

static json_t *
choose_flavor (struct ctx *c, const json_t *vm, bool create)
{
  json_t *f;
  pthread_mutex_lock (&c->sh->lock);
  f = choose_flavor_locked (c, vm, create);
  pthread_mutex_unlock (&c->sh->lock);
  return f;
}

static json_t *
choose_flavor_locked (struct ctx *c, const json_t *vm, bool create)
{
  const char *name = json_string_value (json_object_get (vm, "name"));
  long long cpu = json_integer_value (json_object_get (vm, "num_cpu"));
  long long ram = json_integer_value (json_object_get (vm, "memory_mb"));
  const char *forced = config_get_string (c->cfg, "flavor_uuid");
  const json_t *f;

  if (forced && *forced) {
    json_t *fl = os_flavor_get (c->os, forced, false, NULL);
    if (fl == NULL)
      log_error ("VM %s: flavor_uuid %s not found: fix flavor_uuid", name, forced);
    return fl;
  }
  if (c->sh->flavors == NULL && (c->sh->flavors = os_flavor_list (c->os)) == NULL)
    return NULL;
  if (config_get_bool (c->cfg, "use_existing_flavor")) {
    f = plan_pick_flavor (c->sh->flavors, cpu, ram);
    if (f == NULL) {
      log_error ("VM %s: no flavor has at least %lld vCPUs and %lld MiB: create one, set "
                 "flavor_uuid, or set use_existing_flavor: false to let ferry create it",
                 name, cpu, ram);
      return NULL;
    }
    return json_deep_copy (f);
  }
  {
    CLEANUP_FREE char *fname = plan_flavor_name (cpu, ram);
    size_t i;
    json_t *e, *made;
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
                 name, fname);
      return NULL;
    }
    json_object_set_new (made, "created_by_ferry", json_true ());
    json_array_append (c->sh->flavors, made);
    return made;
  }
}

/* What a name resolved to, for every VM of the run: each VM would ask
 * Neutron the same questions.  The lock is not held across the call. */
static json_t *
lookup_cached (struct ctx *c, const char *key)
{
  pthread_mutex_lock (&c->sh->lock);
  json_t *v = c->sh->lookups ? json_incref (json_object_get (c->sh->lookups, key)) : NULL;
  pthread_mutex_unlock (&c->sh->lock);
  return v;
}

static void
lookup_remember (struct ctx *c, const char *key, json_t *v)
{
  pthread_mutex_lock (&c->sh->lock);
  if (c->sh->lookups == NULL)
    c->sh->lookups = json_object ();
  if (c->sh->lookups)
    json_object_set (c->sh->lookups, key, v);
  pthread_mutex_unlock (&c->sh->lock);
}

/* Networks (resolved to ids), subnets and security groups for the NICs. */
static json_t *
resolve_ports_plan (struct ctx *c, const json_t *vm, int *rc)
{
  const char *name = json_string_value (json_object_get (vm, "name"));
  int errors = 0;
  json_t *nets = plan_networks (vm, c->cfg, &errors);
  size_t i;
  json_t *n;

  if (errors) {
    json_decref (nets);
    *rc = FERRY_EXIT_USAGE;
    return NULL;
  }
  json_array_foreach (nets, i, n) {
    json_t *net = NULL;
    char *why = NULL;
    const char *ref = json_string_value (json_object_get (n, "network"));
    CLEANUP_FREE char *nkey = xasprintf ("network %s", ref);
    int r = (net = lookup_cached (c, nkey)) ? 0 : os_network_find (c->os, ref, &net, &why);
    if (r == 0)
      lookup_remember (c, nkey, net);
    if (r != 0) {
      if (r == 1)
        log_error ("VM %s: NIC %zu: Neutron network '%s' (%s): %s", name, i, ref,
                   json_string_value (json_object_get (n, "from")), why ? why : "not found");
      free (why);
      json_decref (nets);
      *rc = r == 1 ? FERRY_EXIT_USAGE : FERRY_EXIT_DEST;
      return NULL;
    }
    json_object_set_new (n, "network_id", json_string (json_string_value (json_object_get (net, "id"))));
    if (json_string_value (json_object_get (n, "subnet"))) {
      json_t *sub = NULL;
      CLEANUP_FREE char *skey = xasprintf ("subnet %s %s",
                                           json_string_value (json_object_get (net, "id")),
                                           json_string_value (json_object_get (n, "subnet")));
      r = (sub = lookup_cached (c, skey)) ? 0
        : os_subnet_find (c->os, json_string_value (json_object_get (net, "id")),
                          json_string_value (json_object_get (n, "subnet")), &sub, &why);
      if (r == 0)
        lookup_remember (c, skey, sub);
      if (r != 0) {
        log_error ("VM %s: NIC %zu: subnet '%s': %s", name, i,
                   json_string_value (json_object_get (n, "subnet")), why ? why : "not found");
        free (why);
        json_decref (net);
        json_decref (nets);
        *rc = r == 1 ? FERRY_EXIT_USAGE : FERRY_EXIT_DEST;
        return NULL;
      }
      json_object_set_new (n, "subnet_id", json_string (json_string_value (json_object_get (sub, "id"))));
      json_decref (sub);
    }
    else {
      json_t *subs = json_object_get (net, "subnets");
      if (json_array_size (subs))
        json_object_set_new (n, "subnet_id", json_incref (json_array_get (subs, 0)));
    }
    json_decref (net);
  }
  return nets;
}

static json_t *
resolve_security_groups (struct ctx *c, const char *vmname, int *rc)
{
  CLEANUP_JSON json_t *refs = config_get_strings (c->cfg, "security_groups");
  json_t *ids = json_array ();
  size_t i;
  json_t *r;

  json_array_foreach (refs, i, r) {
    json_t *sg = NULL;
    char *why = NULL;
    CLEANUP_FREE char *key = xasprintf ("security group %s", json_string_value (r));
    int x = (sg = lookup_cached (c, key)) ? 0
      : os_security_group_find (c->os, json_string_value (r), &sg, &why);
    if (x == 0)
      lookup_remember (c, key, sg);
    if (x != 0) {
      if (x == 1)
        log_error ("VM %s: security group '%s': %s", vmname, json_string_value (r),
                   why ? why : "not found");
      free (why);
      json_decref (ids);
      *rc = x == 1 ? FERRY_EXIT_USAGE : FERRY_EXIT_DEST;
      return NULL;
    }
    json_array_append_new (ids, json_string (json_string_value (json_object_get (sg, "id"))));
    json_decref (sg);
  }
  return ids;
}

/* ---- volumes ---- */

/* The volume of a disk: found (state, then metadata) or created.  With
 * dry_run nothing is created (a {"id": null, "name"} placeholder); with
 * image_id the volume is created from that Glance image.  find_only: json
 * null when there is none yet (the Glance path makes it later). */
static json_t *
find_or_create_volume_ex (struct ctx *c, struct vm_state *st, const json_t *vm,
                          const json_t *disk, size_t index, bool dry_run, bool find_only,
                          const char *image_id)
{
  const char *vmname = json_string_value (json_object_get (vm, "name"));
  const char *uuid = json_string_value (json_object_get (vm, "uuid"));
  long long key = json_integer_value (json_object_get (disk, "key"));
  CLEANUP_FREE char *k = xasprintf ("%lld", key);
  CLEANUP_FREE char *safe = state_safe_name (vmname);
  CLEANUP_FREE char *vname = xasprintf ("%s-%lld", safe, key);
  json_t *vols = state_obj (st, "volumes");
  json_t *rec = json_object_get (vols, k);
  const char *id = json_string_value (json_object_get (rec, "id"));
  CLEANUP_JSON json_t *md = json_pack ("{s:s, s:s}", "ferry_vm_uuid", uuid ? uuid : "",
                                       "ferry_disk_key", k);
  json_t *v = NULL;

  if (id) {
    bool gone = false;
    v = os_volume_get (c->os, id, true, &gone);
    if (v == NULL && !gone)
      return NULL;
    if (v == NULL) {
      log_warn ("VM %s: volume %s of disk %s is gone; making a new one", vmname, id, k);
      json_object_del (vols, k);
      rec = NULL;
    }
  }
  if (v == NULL) {
    CLEANUP_JSON json_t *found = os_volume_list (c->os, md, NULL);
    if (found == NULL)
      return NULL;
    if (json_array_size (found) > 1) {
      log_error ("VM %s: %zu volumes carry disk %s's metadata (ferry_vm_uuid %s): delete "
                 "the extra ones (ferry teardown removes them all)", vmname,
                 json_array_size (found), k, uuid);
      return NULL;
    }
    if (json_array_size (found) == 1) {
      v = json_incref (json_array_get (found, 0));
      log_info ("VM %s: disk %s: reusing volume %s", vmname, k,
                json_string_value (json_object_get (v, "id")));
    }
  }
  if (v == NULL) {
    struct os_volume_spec spec = { 0 };
    const char *az = config_get_string (c->cfg, "cinder_az");
    CLEANUP_JSON json_t *meta = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}",
                                           "osm", "true", "converted", "false",
                                           "ferry_vm_uuid", uuid ? uuid : "",
                                           "ferry_vm_name", vmname,
                                           "ferry_disk_key", k,
                                           "ferry_disk_index", "");
    json_object_set_new (meta, "ferry_disk_index", json_sprintf ("%zu", index));
    if (dry_run)
      return json_pack ("{s:n, s:s}", "id", "name", vname);
    if (find_only)
      return json_null ();
    spec.name = vname;
    spec.image_id = image_id;
    spec.size_gb = plan_volume_gib (json_integer_value (json_object_get (disk, "capacity_bytes")));
    spec.volume_type = plan_volume_type (c->cfg, json_string_value (json_object_get (disk, "datastore")));
    spec.availability_zone = az ? az : config_get_string (c->cfg, "availability_zone");
    spec.description = "ferry: migrated from VMware";
    spec.metadata = meta;
    v = os_volume_create (c->os, &spec);
    if (v == NULL)
      return NULL;
    log_info ("VM %s: disk %s: volume %s (%lld GiB) created", vmname, k,
              json_string_value (json_object_get (v, "id")), spec.size_gb);
  }
  if (rec == NULL) {
    /* A volume this state has no record of (new, or found by its metadata):
     * nothing copied into it is known, so no checkpoint applies to it. */
    CLEANUP_FREE char *ckpt = xasprintf ("%s/disk-%s.checkpoint", st->dir, k);
    if (unlink (ckpt) == 0)
      log_info ("VM %s: disk %s: the checkpoint of the earlier volume was dropped "
                "(volume %s is copied whole)", vmname, k,
                json_string_value (json_object_get (v, "id")));
    rec = json_pack ("{s:s, s:s, s:b}", "id", json_string_value (json_object_get (v, "id")),
                     "name", json_string_value (json_object_get (v, "name")) ?: vname,
                     "copied", 0);
    json_object_set_new (vols, k, rec);
    state_save (st);
  }
  return v;
}

static json_t *
find_or_create_volume (struct ctx *c, struct vm_state *st, const json_t *vm, const json_t *disk,
                       size_t index, bool dry_run)
{
  return find_or_create_volume_ex (c, st, vm, disk, index, dry_run, false, NULL);
}

/* The state file could not be written: stop before the next phase (a rerun
 * must be able to trust the file; what ferry created it finds again by its
 * metadata). */
static bool
state_behind (struct vm_state *st, const char *vmname, const char *before)
{
  if (!st->write_failed)
    return false;
  log_error ("VM %s: its state file %s could not be written (see above): stopping before "
             "%s; fix that and run ferry migrate again (nothing is lost)", vmname, st->path,
             before);
  return true;
}

/* ---- copy ---- */

struct progress_ctx {
  struct ctx *c;
  const char *what;
  long long key;
  double last;
  struct disk_source_plan *plan;      /* an export lease to keep alive */
  double last_lease;
};

static void
progress_cb (void *opaque, const struct copy_progress *p)
{
  struct progress_ctx *pc = opaque;
  char a[16], b[16], r[16];
  double t = now_s ();

  /* An export lease times out without progress reports. */
  if (pc->plan && t - pc->last_lease >= 60) {
    pc->last_lease = t;
    pthread_mutex_lock (&pc->c->lock);
    disk_source_plan_progress (pc->plan, p->total ? (int) (p->bytes_done * 100 / p->total) : 0);
    pthread_mutex_unlock (&pc->c->lock);
  }
  board_disk_progress (pc->c->sh->board, pc->c->vmname, pc->key, p->bytes_done, p->total,
                       p->rate);

  if (!p->final && t - pc->last < 10)
    return;
  pc->last = t;
  log_msg (pc->c->sh->quiet_progress ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, "%s: %s of %s (%s/s)%s",
           pc->what, copy_human_size (p->bytes_done, a, sizeof a),
           copy_human_size (p->total, b, sizeof b), copy_human_size ((uint64_t) p->rate, r, sizeof r),
           p->final ? ", done" : "");
}

/* Called with c->lock held, which copy_disk lets go while the data flows. */

static int
copy_disk (struct ctx *c, struct vm_state *st, const json_t *vm, const json_t *disk,
           const char *snap, const json_t *snapdisk, const char *device, double *copy_s,
           json_t *pass)
{
  const char *vmname = json_string_value (json_object_get (vm, "name"));
  long long key = json_integer_value (json_object_get (disk, "key"));
  CLEANUP_FREE char *k = xasprintf ("%lld", key);
  CLEANUP_FREE char *what = xasprintf ("VM %s disk %lld", vmname, key);
  CLEANUP_FREE char *workdir = xasprintf ("%s/disk-%lld.src", st->dir, key);
  CLEANUP_FREE char *srclog = xasprintf ("%s/disk-%lld-source.log", st->dir, key);
  CLEANUP_FREE char *ckpt = xasprintf ("%s/disk-%lld.checkpoint", st->dir, key);
  CLEANUP_JSON json_t *d = json_deep_copy (disk);
  CLEANUP_JSON json_t *areas = NULL;
  struct copy_range *ranges = NULL;
  struct disk_source_plan plan;
  struct disk_source src;
  struct http_tls https_tls;
  CLEANUP_FREE char *https_cookie = NULL;
  CLEANUP_FREE char *dst_identity = NULL;   /* declared here: `goto copied` jumps over the copy */
  struct copy_options co;
  struct copy_stats cs = { 0 };
  struct progress_ctx pc = { c, what, key, now_s (), NULL, now_s () };
  json_t *rec = json_object_get (state_obj (st, "volumes"), k);
  int r;
  uint64_t cap = (uint64_t) json_integer_value (json_object_get (disk, "capacity_bytes"));

  /* Read the disk as the snapshot froze it. */
  if (json_string_value (json_object_get (snapdisk, "file")))
    json_object_set (d, "file", json_object_get (snapdisk, "file"));
  r = disk_source_plan (c->vs, c->cfg, vm, d, snap, workdir, srclog, &plan);
  if (r)
    return r;

  if (c->o->mode == MIGRATE_COLD) {
    /* With CBT, only the allocated areas need copying. */
    if (json_is_true (json_object_get (vm, "cbt_enabled"))) {
      char *fault = NULL;
      areas = vm_changed_areas (c->vs, json_string_value (json_object_get (vm, "moref")), snap,
                                (int) key, cap, "*", &fault);
      if (areas == NULL) {
        log_warn ("%s: CBT gave no allocated areas (%s): copying the whole disk", what,
                  fault ? fault : "no answer");
        free (fault);
      }
    }
  }
  else {
    /* Warm: the areas changed since the change id recorded by the last
     * sync; the first sync (or a disk whose change id is no longer valid:
     * CBT reset, disk resized) takes every allocated area. */
    const char *prev = json_string_value (json_object_get (rec, "change_id"));
    char *fault = NULL;
    bool full = prev == NULL;
    areas = vm_changed_areas (c->vs, json_string_value (json_object_get (vm, "moref")), snap,
                              (int) key, cap, prev ? prev : "*", &fault);
    if (areas == NULL && prev) {
      log_warn ("%s: change id '%s' is no longer valid (%s: CBT was reset or the disk "
                "resized): syncing all its allocated areas again", what, prev,
                fault ? fault : "no answer");
      free (fault);
      fault = NULL;
      full = true;
      areas = vm_changed_areas (c->vs, json_string_value (json_object_get (vm, "moref")), snap,
                                (int) key, cap, "*", &fault);
    }
    if (areas == NULL) {
      log_error ("%s: CBT answered no changed areas (%s): a warm migration can't know what "
                 "changed; check that CBT is on (ferry check --warm)", what,
                 fault ? fault : "no answer");
      free (fault);
      disk_source_plan_free (&plan);
      return FERRY_EXIT_SOURCE;
    }
    free (fault);
    json_object_set_new (pass, "full", json_boolean (full));
  }
  {
    uint64_t changed = 0;
    size_t i;
    json_t *a;
    json_array_foreach (areas, i, a)
      changed += json_integer_value (json_object_get (a, "length"));
    json_object_set_new (pass, "bytes_changed", json_integer ((json_int_t) (areas ? changed : cap)));
  }
  if (areas && json_array_size (areas) == 0) {
    log_info ("%s: nothing changed", what);
    disk_source_plan_free (&plan);
    goto copied;
  }
  if (areas) {
    size_t i;
    json_t *a;
    ranges = calloc (json_array_size (areas) + 1, sizeof *ranges);
    if (ranges == NULL) {
      disk_source_plan_free (&plan);
      return FERRY_EXIT_FAILED;
    }
    json_array_foreach (areas, i, a) {
      ranges[i].start = json_integer_value (json_object_get (a, "start"));
      ranges[i].length = json_integer_value (json_object_get (a, "length"));
    }
  }

  /* A slot (disks at once, overall and on this ESXi host), then the
   * source and the copy, without the lock. */
  pthread_mutex_unlock (&c->lock);
  if (slots_acquire (c->sh->slots, c->esxi_host, c->o->cancel) == -1) {
    pthread_mutex_lock (&c->lock);
    free (ranges);
    disk_source_plan_free (&plan);
    return FERRY_EXIT_INTERRUPTED;
  }
  /* Datastore HTTPS is read by ferry itself, verified as its vCenter
   * connection is (CA, system store or pinned thumbprint); the other
   * sources are served over NBD by nbdkit or qemu-nbd. */
  memset (&src, 0, sizeof src);
  src.pid = -1;
  https_tls = (struct http_tls) { .insecure = config_get_bool (c->cfg, "vmware_insecure"),
                                  .cacert = config_get_string (c->cfg, "vcenter_cacert"),
                                  .thumbprint = config_get_string (c->cfg, "vddk_thumbprint") };
  r = plan.req.kind == DISK_SOURCE_HTTPS ? 0 : disk_source_start (&plan.req, &src);
  if (r) {
    slots_release (c->sh->slots, c->esxi_host);
    pthread_mutex_lock (&c->lock);
    free (ranges);
    disk_source_plan_free (&plan);
    return r;
  }
  pc.plan = plan.lease ? &plan : NULL;
  copy_options_init (&co);
  if (plan.req.kind == DISK_SOURCE_HTTPS) {
    https_cookie = xasprintf ("vmware_soap_session=%s", plan.req.cookie ? plan.req.cookie : "");
    co.src = plan.req.url;
    co.src_tls = &https_tls;
    co.src_cookie = https_cookie;
  }
  else
    co.src = src.uri;
  co.dst = device;
  if (areas) {
    co.ranges = ranges;
    co.nranges = json_array_size (areas);
  }
  co.checkpoint_file = ckpt;
  /* The checkpoint belongs to this volume; one that does not match it (or
   * whose samples the volume does not hold) is dropped for a whole copy,
   * and a delta can't be applied on top of a volume in an unknown state. */
  dst_identity = xasprintf ("cinder-volume:%s", json_string_value (json_object_get (rec, "id")));
  co.dst_identity = dst_identity;
  co.checkpoint_restart = areas == NULL || c->o->mode == MIGRATE_COLD ||
    json_is_true (json_object_get (pass, "full"));
  co.destination_is_zero = config_get_bool (c->cfg, "destination_assume_zeroed");
  co.verify = config_get_bool (c->cfg, "verify");
  co.progress = progress_cb;
  co.progress_opaque = &pc;
  co.progress_interval_ms = 1000;
  co.cancel = c->o->cancel;
  log_info ("%s: copying %s (%s) from %s to %s", what,
            json_string_value (json_object_get (d, "file")),
            areas ? "allocated areas" : "whole disk",
            plan.req.kind == DISK_SOURCE_VDDK ? "VDDK" : plan.req.kind == DISK_SOURCE_HTTPS
            ? "datastore HTTPS" : "local mount", device);
  board_disk_start (c->sh->board, vmname, key, json_string_value (json_object_get (rec, "id")),
                    areas ? 0 : cap);
  {
    /* The copy engine's messages name endpoints: say which disk. */
    CLEANUP_FREE char *dctx = xasprintf ("%s disk %lld", vmname, key);
    log_set_context (dctx);
    r = copy_run (&co, &cs);
    log_set_context (vmname);
  }
  if (cs.checkpoint_mismatch && !co.checkpoint_restart) {
    /* A delta for a volume that does not hold what the last sync wrote:
     * the next sync takes the whole disk again. */
    json_object_del (rec, "change_id");
    unlink (ckpt);
    state_save (st);
    log_error ("%s: volume %s does not hold what the interrupted sync recorded: the next "
               "sync (ferry sync) copies the whole disk again", what,
               json_string_value (json_object_get (rec, "id")));
    r = FERRY_EXIT_DATA;
  }
  else if (r == FERRY_EXIT_USAGE) {
    /* An endpoint that could not be opened: the data path failed. */
    log_file_tail (srclog, 3, what);
    log_error ("%s: cannot read the disk from its source or write its volume (see above and "
               "%s)", what, srclog);
    r = FERRY_EXIT_DATA;
  }
  disk_source_stop (&src);
  /* disk-done before the slot is free: the events never show more copies
   * at once than the slots let run. */
  board_disk_done (c->sh->board, vmname, key, r == 0, cs.done_before + cs.processed, cs.total,
                   cs.seconds);
  slots_release (c->sh->slots, c->esxi_host);
  pthread_mutex_lock (&c->lock);
  rmdir (workdir);
  free (ranges);
  if (r == 0)
    disk_source_plan_complete (&plan);    /* an export lease: done (else aborted) */
  disk_source_plan_free (&plan);
  *copy_s += cs.seconds;
  json_object_set_new (pass, "bytes_copied", json_integer ((json_int_t) cs.bytes_written));
  json_object_set_new (pass, "seconds", json_real (cs.seconds));
  if (r == 0) {
    json_object_set_new (rec, "copied", json_true ());
    json_object_set_new (rec, "bytes_copied", json_integer ((json_int_t) cs.bytes_written));
    json_object_set_new (rec, "bytes_total", json_integer ((json_int_t) cs.total));
    json_object_set_new (rec, "seconds", json_real (cs.seconds));
    json_object_set_new (rec, "source", json_string (plan.req.kind == DISK_SOURCE_VDDK ? "vddk"
                                                     : plan.req.kind == DISK_SOURCE_HTTPS
                                                     ? "https" : "local"));
    /* The checkpoint goes only once the state says "copied". */
    if (state_save (st) == 0) {
      unlink (ckpt);
      unlink (srclog);
    }
  }
  if (r)
    return r;
 copied:
  json_object_set_new (rec, "copied", json_true ());
  if (c->o->mode != MIGRATE_COLD) {
    /* The new baseline: only now that the data is on the volume. */
    const char *cid = json_string_value (json_object_get (snapdisk, "change_id"));
    CLEANUP_JSON json_t *md = json_pack ("{s:s}", "changeID", cid ? cid : "");
    if (cid == NULL) {
      log_error ("%s: the snapshot gives the disk no change id: CBT is off for it", what);
      return FERRY_EXIT_SOURCE;
    }
    json_object_set_new (rec, "change_id", json_string (cid));
    json_object_set_new (pass, "change_id", json_string (cid));
    if (os_volume_merge_metadata (c->os, json_string_value (json_object_get (rec, "id")), md) == -1)
      return FERRY_EXIT_DEST;
  }
  state_save (st);
  return 0;
}

/* Several disks of one VM at once: disks_per_vm threads take the disks
 * in turn (each copy also waits for a disk slot); the VM's thread waits
 * for them.  The first failure is the VM's; after it no new disk starts. */
struct disk_job {
  struct ctx *c;
  struct vm_state *st;
  const json_t *vm, *disk;
  const char *snap;
  const json_t *snapdisk;
  const char *device;
  json_t *pass;
};

struct disk_pool {
  struct ctx *c;
  struct disk_job *jobs;
  size_t n, next;             /* under c->lock */
  int rc;
  double copy_s;
};

/* Copy disks until none is left; c->lock held on entry and exit. */
static void
disk_pool_run (struct disk_pool *p)
{
  struct ctx *c = p->c;

  while (p->next < p->n && !cancelled (c) && (p->rc == 0 || p->rc == FERRY_EXIT_INTERRUPTED)) {
    struct disk_job *j = &p->jobs[p->next++];
    double s = 0;
    int r = copy_disk (c, j->st, j->vm, j->disk, j->snap, j->snapdisk, j->device, &s, j->pass);
    p->copy_s += s;
    if (r && (p->rc == 0 || p->rc == FERRY_EXIT_INTERRUPTED))
      p->rc = r;
  }
}

static void *
disk_pool_thread (void *arg)
{
  struct disk_pool *p = arg;
  struct ctx *c = p->c;

  log_set_context (c->vmname);
  log_set_errors (c->errors);
  if (c->logpath)
    log_open_file (c->logpath);
  pthread_mutex_lock (&c->lock);
  disk_pool_run (p);
  pthread_mutex_unlock (&c->lock);
  log_close_file ();
  log_set_errors (NULL);
  log_set_context (NULL);
  return NULL;
}

static int
copy_disks (struct ctx *c, struct disk_job *jobs, size_t n, double *copy_s)
{
  struct disk_pool p = { .c = c, .jobs = jobs, .n = n };
  size_t width = c->sh->disks_per_vm > 1 ? (size_t) c->sh->disks_per_vm : 1;
  size_t started = 0;

  if (n == 0)
    return cancelled (c) ? FERRY_EXIT_INTERRUPTED : 0;
  if (width > n)
    width = n;
  pthread_t th[width];
  pthread_mutex_lock (&c->lock);
  if (width > 1) {
    pthread_mutex_unlock (&c->lock);
    for (size_t i = 0; i < width; i++) {
      if (pthread_create (&th[started], NULL, disk_pool_thread, &p) == 0)
        started++;
      else
        log_warn ("VM %s: cannot start a disk copy thread: %s", c->vmname, strerror (errno));
    }
    for (size_t i = 0; i < started; i++)
      pthread_join (th[i], NULL);
    pthread_mutex_lock (&c->lock);
  }
  disk_pool_run (&p);           /* one at a time, or what the threads left */
  pthread_mutex_unlock (&c->lock);
  *copy_s += p.copy_s;
  if (p.rc == 0 && cancelled (c))
    p.rc = FERRY_EXIT_INTERRUPTED;
  return p.rc;
}

/* The converted guest's boot verified (convert_verify), what was found
 * kept in the state and the report. */
static int
verify_converted (struct ctx *c, struct vm_state *st, const json_t *vm, const json_t *devices,
                  const char *clog)
{
  json_t *chain = NULL, *check = NULL;
  int rc = convert_verify (c->cfg, vm, devices, st->dir, clog, &chain, &check);

  if (chain) {
    json_object_set (st->j, "boot_chain", chain);
    board_vm_note (c->sh->board, c->vmname, "boot_chain", chain);
  }
  if (check) {
    json_object_set (st->j, "boot_check", check);
    board_vm_note (c->sh->board, c->vmname, "boot_check", check);
  }
  state_save (st);
  return rc;
}

/* ---- without a conversion host: local images through Glance ---- */

/* Copy each disk not done yet to a local raw image in the VM's data dir,
 * convert them (unless skip_conversion), upload each to Glance with the
 * boot volume's properties, and create its volume from the image; the
 * image and the local file go once the volume is available.  Appends the
 * volume ids, in disk order, to vol_ids. */
static int
glance_path (struct ctx *c, struct vm_state *st, const json_t *vm, const char *snap,
             const json_t *snapdisks, json_t *vol_ids, double *copy_s)
{
  const char *vmname = json_string_value (json_object_get (vm, "name"));
  const json_t *disks = json_object_get (vm, "disks");
  CLEANUP_JSON json_t *files = json_array ();
  CLEANUP_JSON json_t *props = plan_image_properties (vm, c->cfg);
  size_t i;
  json_t *d;
  int rc;

  json_array_clear (vol_ids);
  /* 1. Local images. */
  json_array_foreach (disks, i, d) {
    CLEANUP_FREE char *k = xasprintf ("%lld", (long long) json_integer_value (json_object_get (d, "key")));
    CLEANUP_FREE char *file = xasprintf ("%s/disk-%s.raw", st->dir, k);
    json_t *rec = json_object_get (state_obj (st, "volumes"), k);
    json_t *pass = json_object ();
    if (json_string_value (json_object_get (rec, "id"))) {
      json_array_append_new (files, json_null ());      /* its volume exists */
      json_decref (pass);
      continue;
    }
    if (rec == NULL) {
      rec = json_pack ("{s:b}", "copied", 0);
      json_object_set_new (state_obj (st, "volumes"), k, rec);
    }
    if (!json_is_true (json_object_get (rec, "copied"))) {
      pthread_mutex_lock (&c->lock);
      rc = copy_disk (c, st, vm, d, snap, json_object_get (snapdisks, k), file, copy_s, pass);
      pthread_mutex_unlock (&c->lock);
      if (rc) {
        json_decref (pass);
        return rc;
      }
    }
    json_decref (pass);
    json_array_append_new (files, json_string (file));
  }
  /* 2. Conversion, on the local images. */
  if (!config_get_bool (c->cfg, "skip_conversion")) {
    CLEANUP_FREE char *clog = xasprintf ("%s/virt-v2v.log", st->dir);
    CLEANUP_JSON json_t *todo = json_array ();
    json_array_foreach (files, i, d)
      if (json_is_string (d))
        json_array_append (todo, d);
    if (json_array_size (todo) && (rc = convert_guest (c->cfg, vm, todo, st->dir, clog)))
      return rc;
    if (json_array_size (todo) && (rc = verify_converted (c, st, vm, todo, clog))) {
      /* Refused: the next run starts again from the source's disks. */
      json_array_foreach (disks, i, d) {
        CLEANUP_FREE char *k = xasprintf ("%lld", (long long) json_integer_value (json_object_get (d, "key")));
        CLEANUP_FREE char *file = xasprintf ("%s/disk-%s.raw", st->dir, k);
        json_t *rec = json_object_get (state_obj (st, "volumes"), k);
        if (rec && !json_string_value (json_object_get (rec, "id"))) {
          json_object_set_new (rec, "copied", json_false ());
          if (file)
            unlink (file);
        }
      }
      state_save (st);
      return rc;
    }
  }
  /* 3. Glance, then a volume from each image. */
  json_array_foreach (disks, i, d) {
    CLEANUP_FREE char *k = xasprintf ("%lld", (long long) json_integer_value (json_object_get (d, "key")));
    CLEANUP_FREE char *iname = xasprintf ("ferry-%s-%s", vmname, k);
    const char *file = json_string_value (json_array_get (files, i));
    CLEANUP_JSON json_t *img = NULL;
    CLEANUP_JSON json_t *vol = NULL;
    CLEANUP_JSON json_t *iprops = json_deep_copy (i == 0 ? props : NULL);
    const char *iid;
    int fd;
    struct stat sb;

    if (file == NULL) {                 /* made by an earlier run */
      json_array_append_new (vol_ids, json_string (json_string_value (
        json_object_get (json_object_get (state_obj (st, "volumes"), k), "id"))));
      continue;
    }
    if (iprops == NULL)
      iprops = json_object ();
    json_object_set_new (iprops, "ferry_vm_uuid",
                         json_string (json_string_value (json_object_get (vm, "uuid")) ?: ""));
    img = os_image_create (c->os, iname, "raw", "bare", iprops);
    if (img == NULL)
      return FERRY_EXIT_DEST;
    iid = json_string_value (json_object_get (img, "id"));
    fd = open (file, O_RDONLY | O_CLOEXEC);
    if (fd == -1 || fstat (fd, &sb) == -1) {
      log_error ("VM %s: cannot read %s: %s", vmname, file, strerror (errno));
      if (fd != -1) close (fd);
      os_image_delete (c->os, iid);
      return FERRY_EXIT_DATA;
    }
    log_info ("VM %s: disk %s: uploading %s to Glance image %s", vmname, k, file, iid);
    rc = os_image_upload (c->os, iid, fd, sb.st_size);
    close (fd);
    if (rc == -1) {
      os_image_delete (c->os, iid);
      return FERRY_EXIT_DEST;
    }
    {
      CLEANUP_JSON json_t *act = os_image_wait_active (c->os, iid, 1800);
      if (act == NULL) {
        os_image_delete (c->os, iid);
        return FERRY_EXIT_DEST;
      }
    }
    json_object_del (state_obj (st, "volumes"), k);   /* made again with its id */
    vol = find_or_create_volume_ex (c, st, vm, d, i, false, false, iid);
    if (vol == NULL) {
      os_image_delete (c->os, iid);
      return FERRY_EXIT_DEST;
    }
    {
      CLEANUP_JSON json_t *ready = os_volume_wait (c->os, json_string_value (json_object_get (vol, "id")),
                                                   "available", 1800);
      os_image_delete (c->os, iid);     /* the volume has its own copy now */
      if (ready == NULL)
        return FERRY_EXIT_DEST;
    }
    json_object_set_new (json_object_get (state_obj (st, "volumes"), k), "copied", json_true ());
    json_object_set_new (json_object_get (state_obj (st, "volumes"), k), "via", json_string ("glance"));
    state_save (st);
    unlink (file);
    json_array_append_new (vol_ids, json_string (json_string_value (json_object_get (vol, "id"))));
  }
  return 0;
}

/* ---- ports and server ---- */

static json_t *
ensure_ports (struct ctx *c, struct vm_state *st, const json_t *vm, const json_t *nets,
              const json_t *sgs, int *rc)
{
  const char *vmname = json_string_value (json_object_get (vm, "name"));
  const char *uuid = json_string_value (json_object_get (vm, "uuid"));
  CLEANUP_FREE char *safe = state_safe_name (vmname);
  json_t *ports = json_object_get (st->j, "ports");
  json_t *ids = json_array ();
  size_t i;
  json_t *n;

  if (!json_is_array (ports)) {
    ports = json_array ();
    json_object_set_new (st->j, "ports", ports);
  }
  json_array_foreach (nets, i, n) {
    const char *mac = json_string_value (json_object_get (n, "mac"));
    CLEANUP_FREE char *pname = xasprintf ("%s-nic%zu", safe, i);
    json_t *rec = json_array_get (ports, i);
    const char *id = json_string_value (json_object_get (rec, "id"));
    json_t *p = NULL;

    if (id) {
      bool gone = false;
      p = os_port_get (c->os, id, true, &gone);
      if (p == NULL && !gone)
        goto fail_dest;
    }
    if (p == NULL && mac) {
      CLEANUP_FREE char *emac = os_url_escape (mac);
      CLEANUP_FREE char *q = xasprintf ("mac_address=%s&network_id=%s", emac,
                                        json_string_value (json_object_get (n, "network_id")));
      CLEANUP_JSON json_t *l = os_port_list (c->os, q);
      json_t *cand = json_array_get (l, 0);
      if (l == NULL)
        goto fail_dest;
      if (cand) {
        const char *cname = json_string_value (json_object_get (cand, "name"));
        if (cname && strcmp (cname, pname) == 0)
          p = json_incref (cand);
        else {
          log_error ("VM %s: NIC %zu: MAC %s is already used by port %s ('%s') on that "
                     "network: delete that port (an earlier migration? ferry teardown) so the "
                     "VM keeps its MAC", vmname, i, mac,
                     json_string_value (json_object_get (cand, "id")), cname ? cname : "");
          json_decref (ids);
          *rc = FERRY_EXIT_DEST;
          return NULL;
        }
      }
    }
    if (p == NULL) {
      struct os_port_spec spec = { 0 };
      CLEANUP_JSON json_t *fixed = NULL;
      CLEANUP_JSON json_t *tags = json_pack ("[s, s]", "ferry", "ferry-vm");
      CLEANUP_FREE char *desc = xasprintf ("ferry: NIC %zu of VMware VM %s (%s)", i, vmname,
                                           uuid ? uuid : "");
      if (config_get_bool (c->cfg, "use_fixed_ips")) {
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
      spec.security_groups = json_array_size (sgs) ? sgs : NULL;
      spec.tags = tags;
      p = os_port_create (c->os, &spec);
      if (p == NULL)
        goto fail_dest;
      log_info ("VM %s: NIC %zu: port %s with MAC %s on %s", vmname, i,
                json_string_value (json_object_get (p, "id")), mac,
                json_string_value (json_object_get (n, "network")));
    }
    json_array_append_new (ids, json_string (json_string_value (json_object_get (p, "id"))));
    if (rec == NULL)
      json_array_append_new (ports, json_pack ("{s:s, s:s?, s:O}", "id",
                                               json_string_value (json_object_get (p, "id")),
                                               "mac", mac, "nic_key", json_object_get (n, "key")));
    state_save (st);
    json_decref (p);
    continue;
  fail_dest:
    json_decref (ids);
    *rc = FERRY_EXIT_DEST;
    return NULL;
  }
  return ids;
}

static int
ensure_server (struct ctx *c, struct vm_state *st, const json_t *vm, const json_t *flavor,
               const json_t *vol_ids, const json_t *port_ids, const json_t *sgs)
{
  const char *vmname = json_string_value (json_object_get (vm, "name"));
  const char *uuid = json_string_value (json_object_get (vm, "uuid"));
  json_t *srec = state_obj (st, "server");
  const char *id = json_string_value (json_object_get (srec, "id"));
  CLEANUP_JSON json_t *srv = NULL;
  CLEANUP_JSON json_t *active = NULL;

  if (id) {
    bool gone = false;
    srv = os_server_get (c->os, id, true, &gone);
    if (srv == NULL && !gone)
      return FERRY_EXIT_DEST;
  }
  if (srv == NULL) {
    CLEANUP_FREE char *q = NULL;
    CLEANUP_FREE char *en = os_url_escape (vmname);
    CLEANUP_JSON json_t *l = NULL;
    size_t i;
    json_t *s;
    q = xasprintf ("name=%s", en);
    l = os_server_list (c->os, q);
    if (l == NULL)
      return FERRY_EXIT_DEST;
    json_array_foreach (l, i, s) {
      const char *mu = json_string_value (json_object_get (json_object_get (s, "metadata"),
                                                           "ferry_vm_uuid"));
      if (mu && uuid && strcmp (mu, uuid) == 0)
        srv = json_incref (s);
    }
  }
  if (srv == NULL) {
    struct os_server_spec spec = { 0 };
    CLEANUP_JSON json_t *bdm = json_array ();
    CLEANUP_JSON json_t *md = json_pack ("{s:s, s:s}", "ferry_vm_uuid", uuid ? uuid : "",
                                         "ferry_source", "vmware");
    CLEANUP_JSON json_t *tags = json_pack ("[s]", "ferry");
    const char *az = config_get_string (c->cfg, "nova_az");
    size_t i;
    json_t *v;
    json_array_foreach (vol_ids, i, v)
      json_array_append_new (bdm, json_pack ("{s:O, s:s, s:s, s:I, s:b}", "uuid", v,
                                             "source_type", "volume",
                                             "destination_type", "volume",
                                             "boot_index", (json_int_t) (i == 0 ? 0 : (json_int_t) i),
                                             "delete_on_termination", 0));
    spec.name = vmname;
    spec.flavor_id = json_string_value (json_object_get (flavor, "id"));
    spec.block_devices = bdm;
    spec.ports = port_ids;
    spec.key_name = config_get_string (c->cfg, "ssh_key_name");
    if (spec.key_name && *spec.key_name == '\0')
      spec.key_name = NULL;
    spec.security_groups = json_array_size (port_ids) ? NULL : sgs;
    spec.availability_zone = az ? az : config_get_string (c->cfg, "availability_zone");
    spec.user_data = config_get_string (c->cfg, "user_data");
    spec.metadata = md;
    spec.tags = tags;
    srv = os_server_create (c->os, &spec);
    if (srv == NULL)
      return FERRY_EXIT_DEST;
    log_info ("VM %s: server %s created (flavor %s)", vmname,
              json_string_value (json_object_get (srv, "id")),
              json_string_value (json_object_get (flavor, "name")));
  }
  json_object_set_new (srec, "id", json_string (json_string_value (json_object_get (srv, "id"))));
  state_save (st);
  active = os_server_wait_active (c->os, json_string_value (json_object_get (srv, "id")), 1800);
  if (active == NULL)
    return FERRY_EXIT_DEST;
  json_object_set_new (srec, "status", json_string ("ACTIVE"));
  return 0;
}

/* Has every disk of the VM been copied into its volume? */
static bool
every_disk_copied (struct vm_state *st, const json_t *disks)
{
  size_t i;
  json_t *d;

  json_array_foreach (disks, i, d) {
    CLEANUP_FREE char *k = xasprintf ("%lld", (long long) json_integer_value (json_object_get (d, "key")));
    if (!json_is_true (json_object_get (json_object_get (state_obj (st, "volumes"), k), "copied")))
      return false;
  }
  return json_array_size (disks) > 0;
}

/* Detach volumes from the conversion host: all asked for at once, then
 * waited for.  0, or -1 if any failed (each logged). */
static int
detach_all (struct ctx *c, const char *vmname, const json_t *vols)
{
  CLEANUP_FREE char *what = xasprintf ("VM %s", vmname);
  size_t i;
  json_t *v;
  int r = 0;

  json_array_foreach (vols, i, v)
    if (detach_volume_start (c->os, c->conv_host, json_string_value (v)) == -1)
      r = -1;
  json_array_foreach (vols, i, v)
    if (detach_volume_finish (c->os, c->conv_host, json_string_value (v), what) == -1)
      r = -1;
  return r;
}

/* ---- warm: sync records and the downtime prediction ---- */

/* Append this pass to "syncs" (per disk: change id, bytes changed and
 * copied, seconds), and predict the cutover's downtime from the measured
 * change rate and copy throughput. */
static void
record_sync (struct ctx *c, struct vm_state *st, const char *vmname, const char *started,
             double duration)
{
  json_t *syncs = json_object_get (st->j, "syncs");
  json_t *pass = state_obj (st, "pass");
  json_t *rec, *prev;
  long long changed = 0, copied = 0, allocated = 0;
  double secs = 0, rate = 0, tput = 0, predicted, cold;
  const char *k;
  json_t *v;
  struct tm tm_now, tm_prev;

  if (!json_is_array (syncs)) {
    syncs = json_array ();
    json_object_set_new (st->j, "syncs", syncs);
  }
  json_object_foreach (pass, k, v) {
    changed += json_integer_value (json_object_get (v, "bytes_changed"));
    copied += json_integer_value (json_object_get (v, "bytes_copied"));
    secs += json_number_value (json_object_get (v, "seconds"));
  }
  json_object_foreach (state_obj (st, "volumes"), k, v)
    allocated += json_integer_value (json_object_get (v, "bytes_total"));
  prev = json_array_get (syncs, json_array_size (syncs) - 1);
  rec = json_pack ("{s:s, s:s, s:f, s:I, s:I, s:f, s:O}", "started", started,
                   "kind", c->o->mode == MIGRATE_CUTOVER ? "cutover" : "sync",
                   "duration_s", duration, "bytes_changed", (json_int_t) changed,
                   "bytes_copied", (json_int_t) copied, "copy_seconds", secs, "disks", pass);
  /* Change rate: what changed since the previous pass, over the time between them. */
  memset (&tm_now, 0, sizeof tm_now);
  memset (&tm_prev, 0, sizeof tm_prev);
  if (prev && strptime (started, "%Y-%m-%dT%H:%M:%SZ", &tm_now)
      && strptime (json_string_value (json_object_get (prev, "started")) ?: "",
                   "%Y-%m-%dT%H:%M:%SZ", &tm_prev)) {
    double interval = difftime (timegm (&tm_now), timegm (&tm_prev));
    if (interval > 0) {
      rate = changed / interval;
      json_object_set_new (rec, "change_rate_bps", json_real (rate));
      json_object_set_new (rec, "interval_s", json_real (interval));
    }
  }
  json_array_append_new (syncs, rec);
  json_object_del (st->j, "pass");
  /* Throughput: the best measured over the syncs that copied something. */
  {
    size_t i;
    json_t *s;
    json_array_foreach (syncs, i, s) {
      double cs = json_number_value (json_object_get (s, "copy_seconds"));
      double bc = json_integer_value (json_object_get (s, "bytes_copied"));
      if (cs > 0.5 && bc / cs > tput)
        tput = bc / cs;
    }
  }
  if (tput <= 0)
    tput = 50e6;
  {
    double overhead = duration - secs;        /* snapshot, attach, detach: measured */
    double interval = json_number_value (json_object_get (rec, "interval_s"));
    double conv = config_get_bool (c->cfg, "skip_conversion") ? 0 : 180;
    double shutdown = 30, instance = 30;
    if (interval <= 0)
      interval = 3600;
    predicted = shutdown + rate * interval / tput + overhead + conv + instance;
    cold = shutdown + allocated / tput + overhead + conv + instance;
  }
  json_object_set_new (st->j, "predicted_downtime_s", json_real (predicted));
  json_object_set_new (st->j, "cold_downtime_s", json_real (cold));
  log_info ("VM %s: %s copied %lld of %lld changed bytes in %.1f s; predicted cutover "
            "downtime %.0f s (cold: %.0f s)", vmname,
            c->o->mode == MIGRATE_CUTOVER ? "cutover" : "sync", copied, changed, duration,
            predicted, cold);
  if (json_array_size (syncs) > 1 && c->o->mode == MIGRATE_SYNC && predicted >= cold)
    log_warn ("VM %s: at this change rate a warm cutover will not beat a cold migration", vmname);
  state_save (st);
}

/* ---- one VM ---- */

static void
on_phase (void *opaque, const char *phase)
{
  struct ctx *c = opaque;
  board_vm_phase (c->sh->board, c->vmname, phase);
}

/* Remove every snapshot of ferry's on the VM (those an interrupted run
 * left) and forget the recorded one.  0, or -1 if one could not be removed
 * (logged: it names the snapshot). */
static int
remove_leftover_snapshots (struct ctx *c, struct vm_state *st, const char *moref,
                           const char *vmname)
{
  CLEANUP_JSON json_t *old = vm_snapshots_named (c->vs, moref, SNAP_PREFIX);
  json_t *s;
  size_t i;
  int r = old ? 0 : -1;

  json_array_foreach (old, i, s) {
    log_info ("VM %s: removing snapshot %s left by an interrupted run", vmname,
              json_string_value (s));
    if (vm_snapshot_remove (c->vs, json_string_value (s), vmname) == -1)
      r = -1;
  }
  if (r == 0 && json_object_get (st->j, "snapshot")) {
    json_object_del (st->j, "snapshot");
    state_save (st);
  }
  return r;
}

static int
migrate_one (struct ctx *c, const json_t *vm, double *api_s, double *copy_s)
{
  const char *vmname = json_string_value (json_object_get (vm, "name"));
  const char *moref = json_string_value (json_object_get (vm, "moref"));
  const json_t *disks = json_object_get (vm, "disks");
  struct vm_state st;
  CLEANUP_JSON json_t *nets = NULL;
  CLEANUP_JSON json_t *sgs = NULL;
  CLEANUP_JSON json_t *flavor = NULL;
  CLEANUP_JSON json_t *vol_ids = json_array ();
  CLEANUP_JSON json_t *snapdisks = NULL;
  CLEANUP_JSON json_t *attached = json_array ();   /* volume ids attached by this run */
  CLEANUP_JSON json_t *devices = json_array ();
  CLEANUP_JSON json_t *port_ids = NULL;
  CLEANUP_FREE char *snap = NULL;
  CLEANUP_FREE char *logpath = NULL;
  bool glance = !config_get_bool (c->cfg, "use_conversion_host") || c->o->no_conversion_host;
  double t0 = now_s (), c0 = *copy_s, down_t0 = 0;
  int rc = 0;
  bool interruption_said = false, refused = false;
  size_t i;
  json_t *d;
  char ts[32];
  char sync_started[32];

  state_now (sync_started, sizeof sync_started);

  if (state_open (&st, c->data_dir, vmname) == -1)
    return FERRY_EXIT_FAILED;
  st.on_phase = on_phase;
  st.on_phase_opaque = c;
  c->vmname = vmname;
  c->esxi_host = json_string_value (json_object_get (json_object_get (vm, "host"), "name"));
  logpath = xasprintf ("%s/migration.log", st.dir);
  c->logpath = logpath;
  if (logpath && log_open_file (logpath) == -1)
    log_warn ("VM %s: cannot write its log %s: %s", vmname, logpath, strerror (errno));

  if (strcmp (json_string_value (json_object_get (st.j, "phase")) ?: "", "done") == 0
      && !c->o->dry_run) {
    const char *sid = json_string_value (json_object_get (state_obj (&st, "server"), "id"));
    bool gone = false;
    CLEANUP_JSON json_t *srv = sid ? os_server_get (c->os, sid, true, &gone) : NULL;
    if (srv) {
      log_info ("VM %s: already migrated (server %s): nothing to do%s", vmname, sid,
                c->o->mode == MIGRATE_SYNC ? " (cut over already: no more syncs)" : "");
      goto out;
    }
    log_warn ("VM %s: was migrated, but its server is gone: migrating again", vmname);
    json_object_set_new (st.j, "phase", json_string ("new"));
  }

  if (json_array_size (json_object_get (vm, "blockers"))) {
    json_t *b;
    json_array_foreach (json_object_get (vm, "blockers"), i, b)
      log_error ("VM %s: blocker: %s", vmname, json_string_value (b));
    log_error ("VM %s: refused: resolve the blockers above first", vmname);
    rc = FERRY_EXIT_FAILED;
    goto out;
  }

  /* Warm migrations need CBT on the VM (hardware version 7 or later);
   * never a silent fallback to copying stale data. */
  if (c->o->mode != MIGRATE_COLD && !c->o->dry_run) {
    const char *hv = json_string_value (json_object_get (vm, "hw_version"));
    const json_t *k;
    if (hv && strncmp (hv, "vmx-", 4) == 0 && atoi (hv + 4) < 7) {
      log_error ("VM %s: hardware version %s has no CBT (needs vmx-07 or later): upgrade "
                 "the VM's hardware or migrate it cold", vmname, hv);
      rc = FERRY_EXIT_USAGE;
      goto out;
    }
    if (!json_is_true (json_object_get (vm, "cbt_enabled"))) {
      if (!c->o->enable_cbt && !config_get_bool (c->cfg, "enable_cbt")) {
        log_error ("VM %s: CBT (Changed Block Tracking) is off, so a warm migration can't "
                   "know what changed: run with --enable-cbt (enable_cbt: true) to turn it "
                   "on, or migrate cold with ferry migrate", vmname);
        rc = FERRY_EXIT_USAGE;
        goto out;
      }
      if (vm_enable_cbt (c->vs, moref, vmname) == -1) {
        rc = FERRY_EXIT_SOURCE;
        goto out;
      }
    }
    /* A disk removed from the VM since the last sync: refuse clearly. */
    {
      const char *key;
      json_t *v;
      json_object_foreach (state_obj (&st, "volumes"), key, v) {
        bool present = false;
        json_array_foreach (disks, i, k)
          if (json_integer_value (json_object_get (k, "key")) == atoll (key))
            present = true;
        if (!present) {
          log_error ("VM %s: disk %s was removed from the VM since the last sync (its volume "
                     "%s is kept): put the disk back, or start over with ferry teardown",
                     vmname, key, json_string_value (json_object_get (v, "id")));
          rc = FERRY_EXIT_USAGE;
          goto out;
        }
      }
      json_array_foreach (disks, i, k) {
        CLEANUP_FREE char *key2 = xasprintf ("%lld", (long long) json_integer_value (json_object_get (k, "key")));
        if (json_object_size (state_obj (&st, "volumes")) && !json_object_get (state_obj (&st, "volumes"), key2))
          log_warn ("VM %s: disk %s is new since the last sync: it gets a volume and a full "
                    "sync", vmname, key2);
      }
    }
  }

  /* What the conversion will need, before anything is copied. */
  if (!config_get_bool (c->cfg, "skip_conversion") && !c->o->dry_run
      && (rc = convert_precheck (c->cfg, vm)) != 0)
    goto out;

  /* Plan (no networks needed when no ports are made: args.json runs). */
  nets = config_get_bool (c->cfg, "os_migrate_create_network_port")
    ? resolve_ports_plan (c, vm, &rc) : json_array ();
  if (nets == NULL)
    goto out;
  sgs = resolve_security_groups (c, vmname, &rc);
  if (sgs == NULL)
    goto out;
  flavor = choose_flavor (c, vm, !c->o->dry_run);
  if (flavor == NULL) {
    rc = FERRY_EXIT_DEST;
    goto out;
  }
  if (c->o->dry_run) {
    CLEANUP_JSON json_t *plan = json_object ();
    CLEANUP_JSON json_t *vols = json_array ();
    CLEANUP_FREE char *s = NULL;
    json_array_foreach (disks, i, d) {
      CLEANUP_JSON json_t *v = find_or_create_volume (c, &st, vm, d, i, true);
      const char *vt = plan_volume_type (c->cfg, json_string_value (json_object_get (d, "datastore")));
      json_array_append_new (vols, json_pack ("{s:O, s:O?, s:I, s:s?, s:O?, s:s}",
                                              "disk_key", json_object_get (d, "key"),
                                              "file", json_object_get (d, "file"),
                                              "size_gb", (json_int_t) plan_volume_gib (
                                                json_integer_value (json_object_get (d, "capacity_bytes"))),
                                              "volume_type", vt,
                                              "existing_volume", json_object_get (v, "id"),
                                              "name", json_string_value (json_object_get (v, "name")) ?: ""));
    }
    json_object_set_new (plan, "vm", json_string (vmname));
    json_object_set_new (plan, "flavor", json_pack ("{s:O?, s:O, s:O, s:O}",
                                                    "id", json_object_get (flavor, "id"),
                                                    "name", json_object_get (flavor, "name"),
                                                    "vcpus", json_object_get (flavor, "vcpus"),
                                                    "ram", json_object_get (flavor, "ram")));
    json_object_set (plan, "volumes", vols);
    json_object_set (plan, "ports", nets);
    json_object_set_new (plan, "boot_volume_properties", plan_image_properties (vm, c->cfg));
    json_object_set_new (plan, "conversion", json_string (config_get_bool (c->cfg, "skip_conversion")
                                                          ? "skipped" : "virt-v2v-in-place"));
    s = json_dumps (plan, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    printf ("%s\n", s ? s : "{}");
    goto out;
  }
  json_object_set_new (st.j, "moref", json_string (moref));
  json_object_set_new (st.j, "uuid", json_incref (json_object_get (vm, "uuid")));
  if (c->o->mode == MIGRATE_COLD || !json_object_get (st.j, "mode"))
    json_object_set_new (st.j, "mode", json_string (c->o->mode == MIGRATE_COLD ? "cold" : "warm"));
  json_object_set_new (st.j, "flavor", json_pack ("{s:O, s:O}", "id", json_object_get (flavor, "id"),
                                                  "name", json_object_get (flavor, "name")));
  if (json_is_true (json_object_get (flavor, "created_by_ferry")))
    json_object_set_new (json_object_get (st.j, "flavor"), "created", json_true ());
  if (!json_object_get (st.j, "started"))
    json_object_set_new (st.j, "started", json_string (state_now (ts, sizeof ts)));
  state_phase (&st, "volumes");

  /* Volumes (on the Glance path they are made from images later). */
  json_array_foreach (disks, i, d) {
    CLEANUP_JSON json_t *v = find_or_create_volume_ex (c, &st, vm, d, i, false, glance, NULL);
    if (v == NULL) {
      rc = FERRY_EXIT_DEST;
      goto out;
    }
    if (json_is_null (v))
      continue;
    json_array_append_new (vol_ids, json_string (json_string_value (json_object_get (v, "id"))));
  }
  for (i = 0; i < json_array_size (vol_ids); i++) {
    const char *vid = json_string_value (json_array_get (vol_ids, i));
    CLEANUP_JSON json_t *v = os_volume_get (c->os, vid, false, NULL);
    const char *status = json_string_value (json_object_get (v, "status"));
    /* in-use: still attached to the conversion host by an interrupted run. */
    if (v == NULL || status == NULL) {
      rc = FERRY_EXIT_DEST;
      goto out;
    }
    if (strcmp (status, "available") && strcmp (status, "in-use")) {
      CLEANUP_JSON json_t *w = os_volume_wait (c->os, vid, "available", 600);
      if (w == NULL) {
        rc = FERRY_EXIT_DEST;
        goto out;
      }
    }
  }

  /* Anything left to copy? */
  {
    bool all_copied = true;
    json_array_foreach (disks, i, d) {
      CLEANUP_FREE char *k = xasprintf ("%lld", (long long) json_integer_value (json_object_get (d, "key")));
      if (!json_is_true (json_object_get (json_object_get (state_obj (&st, "volumes"), k), "copied")))
        all_copied = false;
    }
    if (all_copied && json_is_true (json_object_get (st.j, "converted_or_skipped"))
        && c->o->mode != MIGRATE_SYNC) {
      /* A run killed after its copy (kill -9, power cut) may have left its
       * snapshot: nothing of ferry's stays on the source. */
      if (remove_leftover_snapshots (c, &st, moref, vmname) == -1) {
        rc = FERRY_EXIT_SOURCE;
        goto out;
      }
      goto instance;
    }
  }

  if (glance && c->o->mode != MIGRATE_COLD) {
    log_error ("VM %s: warm migration needs a conversion host (use_conversion_host: true)",
               vmname);
    rc = FERRY_EXIT_USAGE;
    goto out;
  }
  c->conv_host = c->conv_host || glance ? c->conv_host
    : conversion_host_id (config_get_string (c->cfg, "instance_uuid"));
  if (c->conv_host == NULL && !glance) {
    rc = FERRY_EXIT_USAGE;
    goto out;
  }

  /* Cutover: the guest is stopped before the final snapshot, so no write
   * can come after it (the reference snapshots a running Linux guest and
   * loses what it writes until the shutdown). */
  if (c->o->mode == MIGRATE_CUTOVER) {
    down_t0 = now_s ();
    if (vm_shutdown (c->vs, moref, vmname, (int) config_get_int (c->cfg, "shutdown_timeout"),
                     config_get_bool (c->cfg, "force_power_off")) == -1) {
      rc = FERRY_EXIT_SOURCE;
      goto out;
    }
    {
      CLEANUP_FREE char *ps = vm_power_state (c->vs, moref);
      if (ps == NULL || strcmp (ps, "poweredOff") != 0) {
        log_error ("VM %s: still %s: the final snapshot must be of a stopped VM", vmname,
                   ps ? ps : "in an unknown power state");
        rc = FERRY_EXIT_SOURCE;
        goto out;
      }
    }
    json_object_set_new (st.j, "source_powered_off", json_string (state_now (ts, sizeof ts)));
  }
  /* Shut down first when asked (a truly cold, consistent copy). */
  if (c->o->mode == MIGRATE_COLD) {
    CLEANUP_FREE char *ps = vm_power_state (c->vs, moref);
    if (ps && strcmp (ps, "poweredOff") != 0) {
      /* Windows is converted only from a cleanly stopped guest (NTFS and
       * virt-v2v need it), as the seeds do. */
      bool windows = !config_get_bool (c->cfg, "skip_conversion")
        && strcmp (inventory_guest_family (json_string_value (json_object_get (vm, "guest_id")))
                   ?: "", "windows") == 0;
      if (windows && !config_get_bool (c->cfg, "shutdown"))
        log_info ("VM %s: a Windows guest is shut down before its snapshot", vmname);
      if (config_get_bool (c->cfg, "shutdown") || windows) {
        if (vm_shutdown (c->vs, moref, vmname, (int) config_get_int (c->cfg, "shutdown_timeout"),
                         config_get_bool (c->cfg, "force_power_off")) == -1) {
          rc = FERRY_EXIT_SOURCE;
          goto out;
        }
      }
      else
        log_warn ("VM %s: running: the copy is crash-consistent (as after a power cut); set "
                  "shutdown: true for a clean copy", vmname);
    }
  }

  /* A signal during the shutdown: no snapshot is taken. */
  if (cancelled (c)) {
    rc = FERRY_EXIT_INTERRUPTED;
    goto out;
  }

  /* One snapshot of all disks.  After a kill -9 the interrupted run's
   * snapshot is still there: reuse it, its checkpoints stay valid.  Any
   * other leftover of ferry's is removed; copies made from another
   * snapshot of a running VM would not be consistent with the new one, so
   * they start over. */
  {
    CLEANUP_JSON json_t *old = vm_snapshots_named (c->vs, moref, SNAP_PREFIX);
    CLEANUP_FREE char *ps = vm_power_state (c->vs, moref);
    const char *recorded = json_string_value (json_object_get (st.j, "snapshot"));
    bool off = ps && strcmp (ps, "poweredOff") == 0;
    bool earlier = json_object_size (state_obj (&st, "volumes")) > 0;
    json_t *s;

    json_array_foreach (old, i, s) {
      if (recorded && snap == NULL && strcmp (json_string_value (s), recorded) == 0) {
        snap = strdup (recorded);
        log_info ("VM %s: reusing snapshot %s of the interrupted run", vmname, snap);
      }
      else
        vm_snapshot_remove (c->vs, json_string_value (s), vmname);
    }
    if (snap == NULL) {
      CLEANUP_FREE char *sname = xasprintf (SNAP_PREFIX "%ld", (long) time (NULL));
      if (c->o->mode != MIGRATE_COLD) {
        /* A new warm pass: every disk gets the delta since its change id. */
        const char *k;
        json_t *v;
        json_object_foreach (state_obj (&st, "volumes"), k, v) {
          CLEANUP_FREE char *ck = xasprintf ("%s/disk-%s.checkpoint", st.dir, k);
          json_object_set_new (v, "copied", json_false ());
          unlink (ck);
        }
        json_object_del (st.j, "pass");
      }
      else if (earlier && !off && every_disk_copied (&st, disks)) {
        /* A complete set from one earlier snapshot (e.g. the conversion
         * failed after the copy): consistent, kept, and said. */
        log_warn ("VM %s: every disk was copied by an earlier run, from a snapshot of the "
                  "running VM taken then: that copy is reused (ferry teardown first to copy "
                  "the disks afresh)", vmname);
      }
      else if (earlier && !off) {
        const char *k;
        json_t *v;
        json_object_foreach (state_obj (&st, "volumes"), k, v) {
          CLEANUP_FREE char *ck = xasprintf ("%s/disk-%s.checkpoint", st.dir, k);
          if (json_is_true (json_object_get (v, "copied")) || access (ck, F_OK) == 0)
            log_info ("VM %s: disk %s was copied from an earlier snapshot of the running VM: "
                      "copying it again from the new one", vmname, k);
          json_object_set_new (v, "copied", json_false ());
          unlink (ck);
        }
      }
      snap = vm_snapshot_create (c->vs, moref, vmname, sname,
                                 "Created by ferry to copy the disks; removed when done. "
                                 "Safe to delete if ferry is not running.", false);
    }
    if (snap == NULL) {
      rc = FERRY_EXIT_SOURCE;
      goto out;
    }
    json_object_set_new (st.j, "snapshot", json_string (snap));
    state_phase (&st, "copying");
  }
  snapdisks = vm_snapshot_disks (c->vs, snap);
  if (snapdisks == NULL) {
    rc = FERRY_EXIT_SOURCE;
    goto out;
  }

  if (glance) {
    rc = glance_path (c, &st, vm, snap, snapdisks, vol_ids, copy_s);
    if (rc)
      goto out;
    json_object_set_new (st.j, "converted_or_skipped", json_true ());
    json_object_set_new (st.j, "conversion", json_string (config_get_bool (c->cfg, "skip_conversion")
                                                          ? "skipped" : "done"));
    state_phase (&st, "copied");
    goto instance;
  }

  /* Copy each disk into its volume on the conversion host: ask for every
   * attachment at once, then wait for each device as its copy comes. */
  {
    double a0 = now_s ();
    json_array_foreach (vol_ids, i, d) {
      if (attach_volume_start (c->os, c->conv_host, json_string_value (d)) == -1) {
        rc = FERRY_EXIT_DEST;
        goto out;
      }
      json_array_append (attached, d);
    }
    *api_s += now_s () - a0;
  }
  {
    CLEANUP_FREE struct disk_job *jobs = calloc (json_array_size (disks) + 1, sizeof *jobs);
    size_t njobs = 0;

    if (jobs == NULL) {
      rc = FERRY_EXIT_FAILED;
      goto out;
    }
    json_array_foreach (disks, i, d) {
      CLEANUP_FREE char *k = xasprintf ("%lld", (long long) json_integer_value (json_object_get (d, "key")));
      CLEANUP_FREE char *what = xasprintf ("VM %s disk %s", vmname, k);
      const char *vid = json_string_value (json_array_get (vol_ids, i));
      char *dev = NULL;
      double a0 = now_s ();

      if (cancelled (c)) {
        rc = FERRY_EXIT_INTERRUPTED;
        goto out;
      }
      dev = attach_volume_finish (c->os, vid, what);
      *api_s += now_s () - a0;
      if (dev == NULL) {
        rc = FERRY_EXIT_DEST;
        goto out;
      }
      json_array_append_new (devices, json_string (dev));
      free (dev);
      if (json_is_true (json_object_get (json_object_get (state_obj (&st, "volumes"), k), "copied"))) {
        log_info ("%s: already copied", what);
        continue;
      }
      {
        json_t *pass = json_object_get (state_obj (&st, "pass"), k);
        if (pass == NULL) {
          pass = json_object ();
          json_object_set_new (state_obj (&st, "pass"), k, pass);
        }
        jobs[njobs++] = (struct disk_job) { .st = &st, .vm = vm, .disk = d, .snap = snap,
                                            .snapdisk = json_object_get (snapdisks, k),
                                            .device = json_string_value (json_array_get (devices, i)),
                                            .pass = pass };
      }
    }
    rc = copy_disks (c, jobs, njobs, copy_s);
    if (rc)
      goto out;
  }

  if (c->o->mode == MIGRATE_SYNC) {
    if (detach_all (c, vmname, vol_ids) == -1) {
      rc = FERRY_EXIT_DEST;
      goto out;
    }
    json_array_clear (attached);
    if (vm_snapshot_remove (c->vs, snap, vmname) == 0) {
      free (snap);
      snap = NULL;
      json_object_del (st.j, "snapshot");
    }
    record_sync (c, &st, vmname, sync_started, now_s () - t0);
    state_phase (&st, "synced");
    goto out;
  }

  /* A signal during the copy: stop before the next phase. */
  if (cancelled (c)) {
    rc = FERRY_EXIT_INTERRUPTED;
    goto out;
  }
  if (state_behind (&st, vmname, "the conversion")) {
    rc = FERRY_EXIT_FAILED;
    goto out;
  }

  /* Conversion, on the attached volumes, with a restore point per volume. */
  if (config_get_bool (c->cfg, "skip_conversion"))
    log_info ("VM %s: conversion skipped (skip_conversion)", vmname);
  else {
    CLEANUP_FREE char *clog = xasprintf ("%s/virt-v2v.log", st.dir);
    CLEANUP_JSON json_t *points = NULL;
    bool reused = false;

    state_phase (&st, "converting");
    points = convert_restore_points_take (c->os, vmname, vol_ids, &reused);
    if (points == NULL) {
      rc = FERRY_EXIT_DEST;
      goto out;
    }
    /* An interrupted conversion left the volumes half converted: start
     * again from what was copied. */
    if (reused) {
      log_info ("VM %s: an earlier conversion was interrupted: restoring the volumes from "
                "their restore points before converting again", vmname);
      rc = FERRY_EXIT_DEST;
      if (detach_all (c, vmname, vol_ids) == -1)
        goto out;
      json_array_clear (attached);
      if (convert_restore_points_restore (c->os, vmname, points) == -1)
        goto out;
      json_array_clear (devices);
      json_array_foreach (vol_ids, i, d) {
        CLEANUP_FREE char *what = xasprintf ("VM %s volume %s", vmname, json_string_value (d));
        char *dev;
        if (attach_volume_start (c->os, c->conv_host, json_string_value (d)) == -1)
          goto out;
        json_array_append (attached, d);
        if ((dev = attach_volume_finish (c->os, json_string_value (d), what)) == NULL)
          goto out;
        json_array_append_new (devices, json_string (dev));
        free (dev);
      }
    }
    json_object_set_new (st.j, "conversion", json_string ("running"));
    state_save (&st);
    rc = convert_guest (c->cfg, vm, devices, st.dir, clog);
    if (rc == 0) {
      rc = verify_converted (c, &st, vm, devices, clog);
      refused = rc == FERRY_EXIT_CONVERSION;
    }
    if (rc) {
      /* The volumes go back to what was copied: no half-converted guest
       * stays behind, and a rerun converts again. */
      json_object_set_new (st.j, "conversion", json_string ("failed"));
      if (json_object_size (points) && detach_all (c, vmname, vol_ids) == 0) {
        json_array_clear (attached);
        if (convert_restore_points_restore (c->os, vmname, points) == 0) {
          json_object_set_new (st.j, "conversion", json_string ("failed, volumes restored"));
          convert_restore_points_drop (c->os, vmname, points);
        }
      }
      if (cancelled (c)) {
        const char *how = json_string_value (json_object_get (st.j, "conversion"));
        rc = FERRY_EXIT_INTERRUPTED;
        interruption_said = true;
        log_error ("VM %s: interrupted during the conversion: virt-v2v was stopped and %s; "
                   "run ferry migrate again to convert (the disks are not copied again)",
                   vmname, how && strstr (how, "restored")
                   ? "the volumes were restored from their restore points"
                   : "the next run restores the volumes from their restore points first");
        goto out;
      }
      if (refused)
        log_error ("VM %s: the converted guest was refused (above): no instance was created%s; "
                   "fix the cause and run ferry migrate again (the disks are not copied again)",
                   vmname, strstr (json_string_value (json_object_get (st.j, "conversion")) ?: "",
                                   "restored") ? " and the volumes were restored as copied" : "");
      else
        log_error ("VM %s: conversion failed: no instance was created; the full log is %s; "
                   "fix the cause and run ferry migrate again (the disks are not copied again)",
                   vmname, clog);
      goto out;
    }
    convert_restore_points_drop (c->os, vmname, points);
  }
  json_object_set_new (st.j, "converted_or_skipped", json_true ());
  json_object_set_new (st.j, "conversion", json_string (config_get_bool (c->cfg, "skip_conversion")
                                                        ? "skipped" : "done"));
  state_phase (&st, "copied");

 instance:
  /* Nothing is created in the cloud after a signal. */
  if (cancelled (c)) {
    rc = FERRY_EXIT_INTERRUPTED;
    goto out;
  }
  if (state_behind (&st, vmname, "creating the instance")) {
    rc = FERRY_EXIT_FAILED;
    goto out;
  }
  {
    double a0 = now_s ();
    /* Detach everything this VM has on the conversion host. */
    if (c->conv_host == NULL && !glance)
      c->conv_host = conversion_host_id (config_get_string (c->cfg, "instance_uuid"));
    if (c->conv_host && !glance && detach_all (c, vmname, vol_ids) == -1) {
      rc = FERRY_EXIT_DEST;
      goto out;
    }
    json_array_clear (attached);
    if (snap) {
      vm_snapshot_remove (c->vs, snap, vmname);
      free (snap);
      snap = NULL;
      json_object_del (st.j, "snapshot");
    }
    /* Volume metadata and the boot volume's properties. */
    json_array_foreach (vol_ids, i, d) {
      CLEANUP_JSON json_t *md = json_pack ("{s:s, s:s}", "converted",
                                           config_get_bool (c->cfg, "skip_conversion") ? "false" : "true",
                                           "ferry_conversion",
                                           config_get_bool (c->cfg, "skip_conversion") ? "skipped" : "done");
      if (os_volume_merge_metadata (c->os, json_string_value (d), md) == -1) {
        rc = FERRY_EXIT_DEST;
        goto out;
      }
    }
    {
      const char *boot = json_string_value (json_array_get (vol_ids, 0));
      CLEANUP_JSON json_t *props = plan_image_properties (vm, c->cfg);
      if (boot && (os_volume_set_bootable (c->os, boot, true) == -1
                   || os_volume_set_image_metadata (c->os, boot, props) == -1)) {
        rc = FERRY_EXIT_DEST;
        goto out;
      }
    }
    state_phase (&st, "instance");
    if (config_get_bool (c->cfg, "os_migrate_create_network_port")) {
      port_ids = ensure_ports (c, &st, vm, nets, sgs, &rc);
      if (port_ids == NULL)
        goto out;
    }
    else
      port_ids = json_array ();
    if (config_get_bool (c->cfg, "os_migrate_create_os_instance")) {
      rc = ensure_server (c, &st, vm, flavor, vol_ids, port_ids, sgs);
      if (rc)
        goto out;
    }
    *api_s += now_s () - a0;
  }
  if (c->o->mode == MIGRATE_CUTOVER) {
    record_sync (c, &st, vmname, sync_started, now_s () - t0);
    json_object_set_new (st.j, "downtime_s", json_real (now_s () - down_t0));
    log_info ("VM %s: cutover downtime %.1f s (from shutdown to the server ACTIVE)", vmname,
              now_s () - down_t0);
  }
  json_object_set_new (st.j, "finished", json_string (state_now (ts, sizeof ts)));
  json_object_set_new (st.j, "durations", json_pack ("{s:f, s:f}", "total_s", now_s () - t0,
                                                     "copy_s", *copy_s - c0));
  json_object_del (st.j, "error");
  json_object_del (st.j, "pass");
  if (state_phase (&st, "done") == -1) {
    log_error ("VM %s: migrated (server %s), but its state file could not record it: fix "
               "that and run ferry migrate again to record it", vmname,
               json_string_value (json_object_get (state_obj (&st, "server"), "id")) ?: "?");
    rc = FERRY_EXIT_FAILED;
    goto out;
  }
  log_info ("VM %s: migrated in %.1f s (copy %.1f s): server %s", vmname, now_s () - t0,
            *copy_s - c0, json_string_value (json_object_get (state_obj (&st, "server"), "id"))
            ?: "(not created)");

 out:
  if (rc == FERRY_EXIT_INTERRUPTED && !interruption_said)
    log_error ("VM %s: interrupted by a signal during phase %s: what was finished is "
               "recorded; run ferry %s again to go on from there", vmname,
               st.j ? json_string_value (json_object_get (st.j, "phase")) ?: "start" : "start",
               c->o->mode == MIGRATE_SYNC ? "sync" : c->o->mode == MIGRATE_CUTOVER ? "cutover"
               : "migrate");
  /* Every exit path: no snapshot of ferry's stays behind, and nothing of
   * this run stays attached to the conversion host. */
  if (snap) {
    if (vm_snapshot_remove (c->vs, snap, vmname) == 0)
      json_object_del (st.j, "snapshot");
  }
  if (json_array_size (attached) && c->conv_host)
    detach_all (c, vmname, attached);
  if (rc && st.j) {
    json_object_set_new (st.j, "error", json_sprintf ("exit %d at phase %s", rc,
                                                      json_string_value (json_object_get (st.j, "phase")) ?: "?"));
    state_save (&st);
  }
  log_close_file ();
  c->logpath = NULL;
  state_close (&st);
  return rc;
}

/* A worker: VMs one after another until none is left.  Worker 0 uses the
 * caller's connections; the others log in on their own (one vSphere
 * session and one OpenStack token each: a session is one HTTP connection
 * and one cookie, not shared between threads). */
struct worker {
  struct shared *sh;
  const struct config *cfg;
  const struct migrate_opts *o;
  const json_t *cloud;
  struct vsphere *vs;         /* worker 0: the caller's */
  struct os_client *os;
  unsigned index;
};

static void *
worker_main (void *arg)
{
  struct worker *w = arg;
  struct shared *sh = w->sh;
  struct ctx c = { .cfg = w->cfg, .o = w->o, .sh = sh, .vs = w->vs, .os = w->os,
                   .data_dir = config_get_string (w->cfg, "os_migrate_vmw_data_dir") };
  double api_s = 0, copy_s = 0;
  int rc;

  if (c.os == NULL && (c.os = os_connect (w->cloud, &rc)) == NULL) {
    log_error ("parallel worker %u: cannot connect to OpenStack (see above): its VMs go to "
               "the other workers", w->index);
    return NULL;
  }
  if (c.vs == NULL) {
    if (vs_connect_config (w->cfg, &c.vs)) {
      log_error ("parallel worker %u: cannot log in to vCenter (see above): its VMs go to "
                 "the other workers", w->index);
      os_disconnect (c.os);
      return NULL;
    }
    vs_keepalive_start (c.vs, 240);
  }
  pthread_mutex_init (&c.lock, NULL);
  for (;;) {
    struct log_errors errs = { .lock = PTHREAD_MUTEX_INITIALIZER };
    const json_t *vm;
    const char *name;
    size_t i;
    double v0;

    pthread_mutex_lock (&sh->lock);
    i = sh->next;
    if (i < json_array_size (sh->vms) && !cancelled (&c))
      sh->next++;
    pthread_mutex_unlock (&sh->lock);
    if (i >= json_array_size (sh->vms) || cancelled (&c))
      break;
    vm = json_array_get (sh->vms, i);
    name = json_string_value (json_object_get (vm, "name"));
    v0 = now_s ();
    log_set_context (name);
    log_set_errors (&errs);
    c.errors = &errs;
    board_vm_start (sh->board, name);
    rc = migrate_one (&c, vm, &api_s, &copy_s);
    log_set_errors (NULL);
    log_set_context (NULL);
    c.errors = NULL;
    board_vm_done (sh->board, name, rc == 0 ? "ok" : rc == FERRY_EXIT_INTERRUPTED
                   ? "interrupted" : "failed", rc, rc ? errs.first : NULL, now_s () - v0);
    pthread_mutex_lock (&sh->lock);
    sh->rcs[i] = rc;
    sh->seconds[i] = now_s () - v0;
    pthread_mutex_unlock (&sh->lock);
    free (errs.first);
    free (errs.last);
    pthread_mutex_destroy (&errs.lock);
  }
  pthread_mutex_lock (&sh->lock);
  sh->api_s += api_s;
  sh->copy_s += copy_s;
  pthread_mutex_unlock (&sh->lock);
  pthread_mutex_destroy (&c.lock);
  free (c.conv_host);
  if (w->vs == NULL)
    vs_disconnect (c.vs);
  if (w->os == NULL)
    os_disconnect (c.os);
  return NULL;
}

static enum board_mode
board_mode_of (const char *progress, int parallel)
{
  if (progress && strcmp (progress, "json") == 0)
    return BOARD_JSON;
  if (progress && strcmp (progress, "tty") == 0)
    return BOARD_TTY;
  if (progress && strcmp (progress, "plain") == 0)
    return BOARD_PLAIN;
  return parallel > 1 && isatty (STDERR_FILENO) ? BOARD_TTY : BOARD_PLAIN;
}

/* The report: one object per VM named, in order (not found ones too). */
static json_t *
make_report (struct shared *sh, const json_t *names, const json_t *vms)
{
  json_t *report = json_array ();
  size_t i, k;
  json_t *n, *vm;

  json_array_foreach (names, i, n) {
    json_t *r = NULL;
    bool found = false;
    json_array_foreach (vms, k, vm)
      if (strcmp (json_string_value (json_object_get (vm, "name")) ?: "",
                  json_string_value (n) ?: "") == 0) {
        found = true;
        r = board_vm_report (sh->board, json_string_value (n));
      }
    if (r == NULL)
      r = json_pack ("{s:O, s:s, s:i, s:s, s:f, s:[]}", "vm", n,
                     "result", found ? "not-started" : "not-found",
                     "exit_code", found ? FERRY_EXIT_INTERRUPTED : FERRY_EXIT_FAILED,
                     "error", found ? "not started: the run was interrupted"
                     : "no VM of that name on vCenter", "seconds", 0.0, "disks");
    /* The run's credentials crossed these in clear (plain-http.c). */
    {
      json_t *plain = os_plain_http_endpoints ();
      if (json_array_size (plain))
        json_object_set_new (r, "plain_http_endpoints", plain);
      else
        json_decref (plain);
    }
    json_array_append_new (report, r);
  }
  return report;
}

int
migrate_vms (const struct config *cfg, const json_t *names, const struct migrate_opts *o)
{
  struct shared sh = { .lock = PTHREAD_MUTEX_INITIALIZER };
  struct inventory_opts iopts = { .max_disks = 25 };
  struct vsphere *vs = NULL;
  struct os_client *os = NULL;
  CLEANUP_JSON json_t *all = NULL;
  CLEANUP_JSON json_t *vms = NULL;
  CLEANUP_JSON json_t *cloud = NULL;
  CLEANUP_FREE char *err = NULL;
  CLEANUP_FREE struct worker *workers = NULL;
  CLEANUP_FREE pthread_t *threads = NULL;
  FILE *events = NULL;
  int missing = 0, failed = 0, last_rc = 0, rc, ok = 0;
  bool interrupted = o->cancel && atomic_load (o->cancel);
  int parallel = o->parallel > 0 ? o->parallel : (int) config_get_int (cfg, "ferry_parallel");
  int max_disks = o->max_disks > 0 ? o->max_disks : (int) config_get_int (cfg, "ferry_max_disks");
  int per_host = o->max_disks_per_host > 0 ? o->max_disks_per_host
    : (int) config_get_int (cfg, "ferry_max_disks_per_host");
  double t0 = now_s ();
  size_t i, nworkers, started = 0;
  json_t *vm;

  if (parallel < 1)
    parallel = 1;
  if (o->dry_run)
    parallel = 1;               /* the plans are printed one after another */
  if (max_disks <= 0)
    max_disks = 2 * parallel;
  cloud = clouds_resolve (cfg, &err);
  if (cloud == NULL) {
    log_error ("%s", err ? err : "no OpenStack destination: set dst_cloud (or OS_CLOUD)");
    return FERRY_EXIT_USAGE;
  }
  if (o->events_path && (events = fopen (o->events_path, "ae")) == NULL) {
    log_error ("--events %s: %s", o->events_path, strerror (errno));
    return FERRY_EXIT_USAGE;
  }
  os = os_connect (cloud, &rc);
  if (os == NULL)
    goto done_files;
  /* already_deploy_conversion_host: false -- deploy or reuse it first. */
  if (!o->dry_run && (rc = conversion_host_auto (cfg, os)) != 0)
    goto done;
  rc = vs_connect_config (cfg, &vs);
  if (rc)
    goto done;
  /* Copies read disks with the session's cookie for a long time without a
   * SOAP call: keep the session from idling out. */
  vs_keepalive_start (vs, 240);
  iopts.datacenter = config_get_string (cfg, "vcenter_datacenter");
  all = inventory_discover (vs, &iopts);
  if (all == NULL) {
    rc = FERRY_EXIT_SOURCE;
    goto done;
  }
  vms = inventory_select (all, names, &missing);
  sh.api_s = now_s () - t0;
  sh.vms = vms;
  sh.rcs = calloc (json_array_size (vms) + 1, sizeof *sh.rcs);
  sh.seconds = calloc (json_array_size (vms) + 1, sizeof *sh.seconds);
  sh.slots = slots_new (max_disks, per_host);
  sh.board = board_new (board_mode_of (o->progress, parallel), events);
  nworkers = (size_t) parallel < json_array_size (vms) ? (size_t) parallel : json_array_size (vms);
  workers = calloc (nworkers + 1, sizeof *workers);
  threads = calloc (nworkers + 1, sizeof *threads);
  if (!sh.rcs || !sh.seconds || !sh.slots || !sh.board || !workers || !threads) {
    rc = FERRY_EXIT_FAILED;
    goto done;
  }
  for (i = 0; i < json_array_size (vms); i++)
    sh.rcs[i] = -1;
  sh.quiet_progress = board_mode_of (o->progress, parallel) != BOARD_PLAIN;
  /* A VM's disks at once: as many as the overall limit leaves it when
   * every worker copies (at least 1); export leases allow one at a time. */
  sh.disks_per_vm = max_disks / parallel > 1 ? max_disks / parallel : 1;
  if (strcmp (config_get_string (cfg, "disk_source") ?: "", "export") == 0)
    sh.disks_per_vm = 1;
  if (parallel > 1)
    log_info ("migrating %zu VMs, %d at once; at most %d disks copied at once (%d per ESXi "
              "host, %d per VM)", json_array_size (vms), parallel, max_disks, per_host,
              sh.disks_per_vm);
  for (i = 0; i < nworkers; i++)
    workers[i] = (struct worker) { .sh = &sh, .cfg = cfg, .o = o, .cloud = cloud,
                                   .vs = i == 0 ? vs : NULL, .os = i == 0 ? os : NULL,
                                   .index = (unsigned) i };
  if (nworkers == 0)
    ;                           /* no VM found: nothing to run (the report says so) */
  else if (nworkers == 1)
    worker_main (&workers[0]);  /* one at a time: in this thread */
  else {
    for (i = 0; i < nworkers; i++) {
      if (pthread_create (&threads[i], NULL, worker_main, &workers[i]) != 0) {
        log_warn ("cannot start parallel worker %zu: %s", i, strerror (errno));
        break;
      }
      started++;
    }
    if (started == 0)
      worker_main (&workers[0]);
    /* Wait, redrawing the progress lines. */
    for (;;) {
      bool all_done;
      pthread_mutex_lock (&sh.lock);
      all_done = sh.next >= json_array_size (vms) || (o->cancel && atomic_load (o->cancel));
      for (i = 0; all_done && i < sh.next; i++)
        if (sh.rcs[i] == -1)
          all_done = false;
      pthread_mutex_unlock (&sh.lock);
      if (all_done)
        break;
      board_draw (sh.board, false);
      sleep_ms (250);
    }
    for (i = 0; i < started; i++)
      pthread_join (threads[i], NULL);
    board_draw (sh.board, true);
  }

  json_array_foreach (vms, i, vm) {
    if (sh.rcs[i] == 0)
      ok++;
    else if (sh.rcs[i] > 0) {
      failed++;
      last_rc = sh.rcs[i];
    }
    /* A signal that came once every VM had finished interrupted nothing. */
    if (sh.rcs[i] == FERRY_EXIT_INTERRUPTED || sh.rcs[i] == -1)
      interrupted = true;
  }
  if (!interrupted && o->cancel && atomic_load (o->cancel))
    log_info ("a signal arrived after every VM had finished: nothing was interrupted");
  if (!o->dry_run) {
    fprintf (stderr, "\n%-28s %-11s %4s %8s  %s\n", "VM", "RESULT", "EXIT", "SECONDS", "ERROR");
    json_array_foreach (vms, i, vm) {
      CLEANUP_JSON json_t *r = board_vm_report (sh.board, json_string_value (json_object_get (vm, "name")));
      fprintf (stderr, "%-28s %-11s %4d %8.1f  %s\n", json_string_value (json_object_get (vm, "name")),
               sh.rcs[i] == -1 ? "not-started" : sh.rcs[i] == 0 ? "ok"
               : sh.rcs[i] == FERRY_EXIT_INTERRUPTED ? "interrupted" : "failed",
               sh.rcs[i] == -1 ? FERRY_EXIT_INTERRUPTED : sh.rcs[i], sh.seconds[i],
               json_string_value (json_object_get (r, "error")) ?: "");
    }
    fprintf (stderr, "%zu VMs: %d migrated, %d failed, %d not found (%.1f s)\n",
             json_array_size (vms) + missing, ok, failed, missing, now_s () - t0);
  }
  board_summary (sh.board, json_array_size (vms) + missing, (size_t) ok, (size_t) failed,
                 (size_t) missing, now_s () - t0);
  if (o->report_path) {
    CLEANUP_JSON json_t *report = make_report (&sh, names, vms);
    if (json_dump_file (report, o->report_path, JSON_INDENT (2) | JSON_PRESERVE_ORDER) == -1)
      log_error ("--report %s: cannot write it", o->report_path);
  }
  if (getenv ("FERRY_STATS"))
    fprintf (stderr, "ferry-stats: migrate seconds=%.3f copy_seconds=%.3f api_seconds=%.3f\n",
             now_s () - t0, sh.copy_s, now_s () - t0 - sh.copy_s);
  if (interrupted)
    rc = FERRY_EXIT_INTERRUPTED;
  else if (failed + missing == 0)
    rc = 0;
  else if (failed == 1 && missing == 0 && json_array_size (vms) == 1)
    rc = last_rc;
  else
    rc = FERRY_EXIT_FAILED;
 done:
  json_decref (sh.flavors);
  json_decref (sh.lookups);
  slots_free (sh.slots);
  board_free (sh.board);
  free (sh.rcs);
  free (sh.seconds);
  vs_disconnect (vs);
  os_disconnect (os);
 done_files:
  if (events)
    fclose (events);
  return rc;
}
