/* ferry: one disk copied from its source (disk_source_plan: VDDK,
 * datastore HTTPS, export lease, local mount) into its volume's device or
 * a local file with the copy engine: the areas CBT says are allocated
 * (cold) or changed since the last sync (warm), checkpointed, and
 * recorded in the state only once the data is on the destination. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workflow/job.h"
#include "workflow/board.h"
#include "sources/disk-source.h"
#include "copy/copy.h"
#include "openstack/resources.h"
#include "vsphere/vmops.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

struct progress_ctx {
  struct ctx *c;
  const char *what;
  long long key;
  uint64_t cap;
  const char *file;           /* as the snapshot froze it */
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
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&pc->c->lock);
    disk_source_plan_progress (pc->plan, p->total ? (int) (p->bytes_done * 100 / p->total) : 0);
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

/* Cold: the allocated areas when the VM has CBT (else NULL: the whole
 * disk).  Warm: the areas changed since the change id the last sync
 * recorded; the first sync (or a disk whose change id is no longer valid:
 * CBT reset, disk resized) takes every allocated area (pass "full").
 * *rc an exit code when a warm pass cannot know what changed. */
static json_t *
areas_to_copy (struct job *j, long long key, uint64_t cap, const json_t *rec, const char *what,
               json_t *pass, int *rc)
{
  struct ctx *c = j->c;
  const char *prev = json_string_value (json_object_get (rec, "change_id"));
  CLEANUP_FREE char *fault = NULL;
  json_t *areas;

  *rc = 0;
  if (c->o->mode == MIGRATE_COLD) {
    if (!json_is_true (json_object_get (j->vm, "cbt_enabled")))
      return NULL;
    areas = vm_changed_areas (c->vs, j->moref, j->snap, (int) key, cap, "*", &fault);
    if (areas == NULL)
      log_warn ("%s: CBT gave no allocated areas (%s): copying the whole disk", what,
                fault ? fault : "no answer");
    return areas;
  }
  areas = vm_changed_areas (c->vs, j->moref, j->snap, (int) key, cap, prev ? prev : "*", &fault);
  json_object_set_new (pass, "full", json_boolean (prev == NULL));
  if (areas == NULL && prev) {
    log_warn ("%s: change id '%s' is no longer valid (%s: CBT was reset or the disk "
              "resized): syncing all its allocated areas again", what, prev,
              fault ? fault : "no answer");
    free (fault);
    fault = NULL;
    json_object_set_new (pass, "full", json_true ());
    areas = vm_changed_areas (c->vs, j->moref, j->snap, (int) key, cap, "*", &fault);
  }
  if (areas == NULL) {
    log_error ("%s: CBT answered no changed areas (%s): a warm migration can't know what "
               "changed; check that CBT is on (ferry check --warm)", what,
               fault ? fault : "no answer");
    *rc = FERRY_EXIT_SOURCE;
  }
  return areas;
}

/* The areas as the copy engine's ranges (calloc'd; NULL with *n 0 when
 * areas is NULL: the whole disk). */
static struct copy_range *
ranges_of (const json_t *areas, size_t *n, int *rc)
{
  struct copy_range *ranges;
  size_t i;
  json_t *a;

  *n = 0;
  *rc = 0;
  if (areas == NULL)
    return NULL;
  ranges = calloc (json_array_size (areas) + 1, sizeof *ranges);
  if (ranges == NULL) {
    *rc = FERRY_EXIT_FAILED;
    return NULL;
  }
  json_array_foreach (areas, i, a) {
    ranges[i].start = json_integer_value (json_object_get (a, "start"));
    ranges[i].length = json_integer_value (json_object_get (a, "length"));
  }
  *n = json_array_size (areas);
  return ranges;
}

/* What a copy needs besides its ranges. */
struct copy_job {
  const char *what;
  long long key;
  uint64_t cap;
  const char *file;           /* as the snapshot froze it */
  const json_t *rec;          /* the disk's record in the state */
  const char *device;
  const char *ckpt, *srclog;
  json_t *pass;
  struct disk_source_plan *plan;
  struct copy_range *ranges;
  size_t nranges;
  bool whole;                 /* no areas: the whole disk */
  bool started;               /* board_disk_start said */
  struct copy_stats stats;
};

/* Start the source (unless ferry reads it itself), run the copy engine,
 * stop the source.  Called without c->lock, holding a disk slot. */
static int
run_copy (struct job *j, struct copy_job *cj)
{
  struct ctx *c = j->c;
  struct disk_source src = { .pid = -1 };
  struct http_tls https_tls = { .insecure = config_get_bool (c->cfg, "vmware_insecure"),
                                .cacert = config_get_string (c->cfg, "vcenter_cacert"),
                                .thumbprint = config_get_string (c->cfg, "vddk_thumbprint") };
  CLEANUP_FREE char *https_cookie = NULL;
  CLEANUP_FREE char *dst_identity = NULL;
  CLEANUP_FREE char *dctx = NULL;
  struct progress_ctx pc = { .c = c, .what = cj->what, .key = cj->key, .last = now_s (),
                            .last_lease = now_s () };
  enum disk_source_kind kind = cj->plan->req.kind;
  struct copy_options co;
  int r;

  /* Datastore HTTPS is read by ferry itself, verified as its vCenter
   * connection is (CA, system store or pinned thumbprint); the other
   * sources are served over NBD by nbdkit or qemu-nbd. */
  if (kind != DISK_SOURCE_HTTPS && (r = disk_source_start (&cj->plan->req, &src)) != 0)
    return r;
  pc.plan = cj->plan->lease ? cj->plan : NULL;
  copy_options_init (&co);
  if (kind == DISK_SOURCE_HTTPS) {
    https_cookie = xasprintf ("vmware_soap_session=%s", cj->plan->req.cookie ?: "");
    co.src = cj->plan->req.url;
    co.src_tls = &https_tls;
    co.src_cookie = https_cookie;
  }
  else
    co.src = src.uri;
  co.dst = cj->device;
  co.ranges = cj->ranges;
  co.nranges = cj->nranges;
  co.checkpoint_file = cj->ckpt;
  /* The checkpoint belongs to this volume; one that does not match it (or
   * whose samples the volume does not hold) is dropped for a whole copy,
   * and a delta can't be applied on top of a volume in an unknown state. */
  dst_identity = xasprintf ("cinder-volume:%s", json_string_value (json_object_get (cj->rec, "id")));
  co.dst_identity = dst_identity;
  co.checkpoint_restart = cj->whole || c->o->mode == MIGRATE_COLD ||
    json_is_true (json_object_get (cj->pass, "full"));
  co.destination_is_zero = config_get_bool (c->cfg, "destination_assume_zeroed");
  co.verify = config_get_bool (c->cfg, "verify");
  co.progress = progress_cb;
  co.progress_opaque = &pc;
  co.progress_interval_ms = 1000;
  co.cancel = c->o->cancel;
  log_info ("%s: copying %s (%s) from %s to %s", cj->what, cj->file ?: "the disk",
            cj->whole ? "whole disk" : "allocated areas", disk_source_kind_title (kind), cj->device);
  board_disk_start (c->sh->board, j->name, cj->key, json_string_value (json_object_get (cj->rec, "id")),
                    cj->whole ? cj->cap : 0);
  cj->started = true;
  /* The copy engine's messages name endpoints: say which disk. */
  dctx = xasprintf ("%s disk %lld", j->name, cj->key);
  log_set_context (dctx);
  r = copy_run (&co, &cj->stats);
  log_set_context (j->name);
  if (cj->stats.checkpoint_mismatch && !co.checkpoint_restart)
    r = -2;                     /* said by the caller */
  else if (r == FERRY_EXIT_USAGE) {
    /* An endpoint that could not be opened: the data path failed. */
    log_file_tail (cj->srclog, 3, cj->what);
    log_error ("%s: cannot read the disk from its source or write its volume (see above and "
               "%s)", cj->what, cj->srclog);
    r = FERRY_EXIT_DATA;
  }
  disk_source_stop (&src);
  return r;
}

/* The new baseline of a warm pass: only now that the data is on the
 * volume. */
static int
record_change_id (struct job *j, json_t *rec, const json_t *snapdisk, json_t *pass,
                  const char *what)
{
  const char *cid = json_string_value (json_object_get (snapdisk, "change_id"));
  CLEANUP_JSON json_t *md = NULL;

  if (cid == NULL) {
    log_error ("%s: the snapshot gives the disk no change id: CBT is off for it", what);
    return FERRY_EXIT_SOURCE;
  }
  md = json_pack ("{s:s}", "changeID", cid);
  json_object_set_new (rec, "change_id", json_string (cid));
  json_object_set_new (pass, "change_id", json_string (cid));
  if (os_volume_merge_metadata (j->c->os, json_string_value (json_object_get (rec, "id")), md) == -1)
    return FERRY_EXIT_DEST;
  return 0;
}

/* The copy's outcome in the state: the disk's record and this pass. */
static void
record_copy (struct job *j, struct copy_job *cj, json_t *rec)
{
  json_object_set_new (rec, "copied", json_true ());
  json_object_set_new (rec, "bytes_copied", json_integer ((json_int_t) cj->stats.bytes_written));
  json_object_set_new (rec, "bytes_total", json_integer ((json_int_t) cj->stats.total));
  json_object_set_new (rec, "seconds", json_real (cj->stats.seconds));
  /* Requests retried after a transient error of the source or the volume. */
  json_object_set_new (rec, "retries", json_integer ((json_int_t) cj->stats.retries));
  json_object_set_new (rec, "source", json_string (disk_source_kind_name (cj->plan->req.kind)));
  /* The checkpoint goes only once the state says "copied". */
  if (state_save (&j->st) == 0) {
    unlink (cj->ckpt);
    unlink (cj->srclog);
  }
}

int
copy_disk (struct job *j, const json_t *disk, const json_t *snapdisk, const char *device,
           double *copy_s, json_t *pass)
{
  struct ctx *c = j->c;
  long long key = disk_key (disk);
  CLEANUP_FREE char *what = xasprintf ("VM %s disk %lld", j->name, key);
  CLEANUP_FREE char *workdir = state_disk_path (&j->st, key, ".src");
  CLEANUP_FREE char *srclog = state_disk_path (&j->st, key, "-source.log");
  CLEANUP_FREE char *ckpt = state_disk_path (&j->st, key, ".checkpoint");
  CLEANUP_JSON json_t *d = json_deep_copy (disk);
  CLEANUP_JSON json_t *areas = NULL;
  CLEANUP_FREE struct copy_range *ranges = NULL;
  json_t *rec = state_disk (&j->st, key);
  struct disk_source_plan plan;
  uint64_t cap = (uint64_t) json_integer_value (json_object_get (disk, "capacity_bytes"));
  struct copy_job cj = { .what = what, .key = key, .cap = cap, .rec = rec, .device = device,
                         .ckpt = ckpt, .srclog = srclog, .pass = pass, .plan = &plan };
  uint64_t changed = 0;
  size_t i;
  json_t *a;
  int r;

  if (what == NULL || workdir == NULL || srclog == NULL || ckpt == NULL || d == NULL)
    return FERRY_EXIT_FAILED;
  /* Read the disk as the snapshot froze it. */
  if (json_string_value (json_object_get (snapdisk, "file")))
    json_object_set (d, "file", json_object_get (snapdisk, "file"));
  cj.file = json_string_value (json_object_get (d, "file"));
  if ((r = disk_source_plan (c->vs, c->cfg, j->vm, d, j->snap, workdir, srclog, &plan)) != 0)
    return r;
  areas = areas_to_copy (j, key, cap, rec, what, pass, &r);
  if (r == 0)
    ranges = ranges_of (areas, &cj.nranges, &r);
  if (r) {
    disk_source_plan_free (&plan);
    return r;
  }
  cj.ranges = ranges;
  cj.whole = areas == NULL;
  json_array_foreach (areas, i, a)
    changed += json_integer_value (json_object_get (a, "length"));
  json_object_set_new (pass, "bytes_changed", json_integer ((json_int_t) (areas ? changed : cap)));

  if (areas && json_array_size (areas) == 0)
    log_info ("%s: nothing changed", what);
  else {
    /* A slot (disks at once, overall and on this ESXi host), then the
     * source and the copy, without the lock. */
    pthread_mutex_unlock (&c->lock);
    if (slots_acquire (c->sh->slots, c->esxi_host, c->o->cancel) == -1) {
      pthread_mutex_lock (&c->lock);
      disk_source_plan_free (&plan);
      return FERRY_EXIT_INTERRUPTED;
    }
    r = run_copy (j, &cj);
    /* disk-done before the slot is free: the events never show more copies
     * at once than the slots let run. */
    if (cj.started)
      board_disk_done (c->sh->board, j->name, key, r == 0,
                       cj.stats.done_before + cj.stats.processed, cj.stats.total, cj.stats.seconds);
    slots_release (c->sh->slots, c->esxi_host);
    pthread_mutex_lock (&c->lock);
    rmdir (workdir);
    if (r == 0)
      disk_source_plan_complete (&plan);    /* an export lease: done (else aborted) */
    *copy_s += cj.stats.seconds;
    if (cj.started) {
      json_object_set_new (pass, "bytes_copied", json_integer ((json_int_t) cj.stats.bytes_written));
      json_object_set_new (pass, "seconds", json_real (cj.stats.seconds));
    }
    if (r == -2) {
      /* A delta for a volume that does not hold what the last sync wrote:
       * the next sync takes the whole disk again. */
      json_object_del (rec, "change_id");
      unlink (ckpt);
      state_save (&j->st);
      log_error ("%s: volume %s does not hold what the interrupted sync recorded: the next "
                 "sync (ferry sync) copies the whole disk again", what,
                 json_string_value (json_object_get (rec, "id")));
      r = FERRY_EXIT_DATA;
    }
    else if (r == 0)
      record_copy (j, &cj, rec);
  }
  disk_source_plan_free (&plan);
  if (r)
    return r;
  json_object_set_new (rec, "copied", json_true ());
  if (c->o->mode != MIGRATE_COLD && (r = record_change_id (j, rec, snapdisk, pass, what)) != 0)
    return r;
  state_save (&j->st);
  return 0;
}
