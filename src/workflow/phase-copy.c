/* ferry: phase copy -- every disk not copied yet, from the snapshot into
 * its volume attached to the conversion host (all attachments asked for
 * at once, each waited for as its copy comes; a VM's disks copied at once
 * within the disk limits), or the Glance path without a conversion host.
 * A sync ends here: volumes detached, snapshot removed, the pass
 * recorded. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "workflow/job.h"
#include "workflow/board.h"
#include "conversion-host/attach.h"
#include "vsphere/vmops.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

/* Several disks of one VM at once: disks_per_vm threads take the disks
 * in turn (each copy also waits for a disk slot); the VM's thread waits
 * for them.  The first failure is the VM's; after it no new disk starts. */
struct disk_job {
  const json_t *disk;
  const json_t *snapdisk;
  const char *device;
  json_t *pass;
};

struct disk_pool {
  struct job *j;
  struct disk_job *jobs;
  size_t n, next;             /* under c->lock */
  int rc;
  double copy_s;
};

/* Copy disks until none is left; c->lock held on entry and exit. */
static void
disk_pool_run (struct disk_pool *p)
{
  struct ctx *c = p->j->c;

  while (p->next < p->n && !job_cancelled (c) && (p->rc == 0 || p->rc == FERRY_EXIT_INTERRUPTED)) {
    struct disk_job *dj = &p->jobs[p->next++];
    double s = 0;
    int r = copy_disk (p->j, dj->disk, dj->snapdisk, dj->device, &s, dj->pass);
    p->copy_s += s;
    if (r && (p->rc == 0 || p->rc == FERRY_EXIT_INTERRUPTED))
      p->rc = r;
  }
}

static void *
disk_pool_thread (void *arg)
{
  struct disk_pool *p = arg;
  struct ctx *c = p->j->c;

  log_set_context (c->vmname);
  log_set_errors (c->errors);
  if (c->logpath)
    log_open_file (c->logpath);
  {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&c->lock);
    disk_pool_run (p);
  }
  log_close_file ();
  log_set_errors (NULL);
  log_set_context (NULL);
  return NULL;
}

static int
copy_disks (struct job *j, struct disk_job *jobs, size_t n)
{
  struct ctx *c = j->c;
  struct disk_pool p = { .j = j, .jobs = jobs, .n = n };
  size_t width = c->sh->disks_per_vm > 1 ? (size_t) c->sh->disks_per_vm : 1;
  size_t started = 0;

  if (n == 0)
    return job_cancelled (c) ? FERRY_EXIT_INTERRUPTED : 0;
  if (width > n)
    width = n;
  pthread_t th[width];
  if (width > 1) {
    for (size_t i = 0; i < width; i++) {
      if (pthread_create (&th[started], NULL, disk_pool_thread, &p) == 0)
        started++;
      else
        log_warn ("VM %s: cannot start a disk copy thread: %s", c->vmname, strerror (errno));
    }
    for (size_t i = 0; i < started; i++)
      pthread_join (th[i], NULL);
  }
  {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&c->lock);
    disk_pool_run (&p);         /* one at a time, or what the threads left */
  }
  *j->copy_s += p.copy_s;
  if (p.rc == 0 && job_cancelled (c))
    p.rc = FERRY_EXIT_INTERRUPTED;
  return p.rc;
}

/* Ask for every attachment at once. */
static int
attach_all_start (struct job *j)
{
  double a0 = now_s ();
  size_t i;
  json_t *id;

  json_array_foreach (j->vol_ids, i, id) {
    if (attach_volume_start (j->c->os, j->c->conv_host, json_string_value (id)) == -1)
      return -1;
    json_array_append (j->attached, id);
  }
  *j->api_s += now_s () - a0;
  return 0;
}

/* This pass's record of the disk (created empty). */
static json_t *
pass_of (struct job *j, long long key)
{
  char k[DISK_KEY_LEN];
  json_t *pass = json_object_get (state_obj (&j->st, "pass"), disk_key_str (key, k));

  if (pass == NULL) {
    pass = json_object ();
    json_object_set_new (state_obj (&j->st, "pass"), k, pass);
  }
  return pass;
}

/* Wait for each disk's device, and copy the disks not copied yet. */
static int
attach_and_copy (struct job *j)
{
  CLEANUP_FREE struct disk_job *jobs = calloc (json_array_size (j->disks) + 1, sizeof *jobs);
  size_t njobs = 0, i;
  json_t *d;

  if (jobs == NULL)
    return FERRY_EXIT_FAILED;
  if (attach_all_start (j) == -1)
    return FERRY_EXIT_DEST;
  json_array_foreach (j->disks, i, d) {
    long long key = disk_key (d);
    CLEANUP_FREE char *what = xasprintf ("VM %s disk %lld", j->name, key);
    char k[DISK_KEY_LEN];
    char *dev;
    double a0 = now_s ();

    if (job_cancelled (j->c))
      return FERRY_EXIT_INTERRUPTED;
    dev = attach_volume_finish (j->c->os, json_string_value (json_array_get (j->vol_ids, i)), what);
    *j->api_s += now_s () - a0;
    if (dev == NULL)
      return FERRY_EXIT_DEST;
    json_array_append_new (j->devices, json_string (dev));
    free (dev);
    if (json_is_true (json_object_get (state_disk (&j->st, key), "copied"))) {
      log_info ("%s: already copied", what);
      continue;
    }
    jobs[njobs++] = (struct disk_job) {
      .disk = d, .snapdisk = json_object_get (j->snapdisks, disk_key_str (key, k)),
      .device = json_string_value (json_array_get (j->devices, i)), .pass = pass_of (j, key) };
  }
  return copy_disks (j, jobs, njobs);
}

/* A sync is done once its data is on the volumes: detach them (unless
 * kept), remove the snapshot, record the pass. */
static enum step
finish_sync (struct job *j)
{
  if (job_detach_all (j->c, j->name, j->vol_ids) == -1)
    return job_fail (j, FERRY_EXIT_DEST);
  json_array_clear (j->attached);
  if (vm_snapshot_remove (j->c->vs, j->snap, j->name) == 0) {
    free (j->snap);
    j->snap = NULL;
    json_object_del (j->st.j, "snapshot");
  }
  record_sync (j, now_s () - j->t0);
  state_phase (&j->st, "synced");
  return job_fail (j, 0);
}

enum step
phase_copy (struct job *j)
{
  int rc;

  if (j->glance) {
    /* Local images, converted, through Glance: the conversion is done too. */
    if ((rc = glance_path (j)) != 0)
      return job_fail (j, rc);
    json_object_set_new (j->st.j, "converted_or_skipped", json_true ());
    json_object_set_new (j->st.j, "conversion",
                         json_string (config_get_bool (j->c->cfg, "skip_conversion")
                                      ? "skipped" : "done"));
    state_phase (&j->st, "copied");
    return STEP_TO_INSTANCE;
  }
  if ((rc = attach_and_copy (j)) != 0)
    return job_fail (j, rc);
  if (j->c->o->mode == MIGRATE_SYNC)
    return finish_sync (j);
  return STEP_NEXT;
}
