/* ferry: phase source -- the source VM made ready to be read: shut down
 * when the cutover, the operator (shutdown: true) or a Windows guest asks
 * for it, then one snapshot of all its disks (the interrupted run's
 * reused after a kill -9).  The only changes ferry makes to a source VM
 * are these and CBT. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workflow/job.h"
#include "workflow/policy.h"
#include "conversion-host/attach.h"
#include "vsphere/inventory.h"
#include "vsphere/vmops.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

static bool
powered_off (struct job *j)
{
  CLEANUP_FREE char *ps = vm_power_state (j->c->vs, j->moref);
  return ps && strcmp (ps, "poweredOff") == 0;
}

static int
shut_down (struct job *j)
{
  const struct config *cfg = j->c->cfg;
  return vm_shutdown (j->c->vs, j->moref, j->name, (int) config_get_int (cfg, "shutdown_timeout"),
                      config_get_bool (cfg, "force_power_off"));
}

/* Cutover: the guest is stopped before the final snapshot, so no write
 * can come after it (the reference snapshots a running Linux guest and
 * loses what it writes until the shutdown). */
static enum step
stop_for_cutover (struct job *j)
{
  char ts[32];

  j->down_t0 = now_s ();
  if (shut_down (j) == -1)
    return job_fail (j, FERRY_EXIT_SOURCE);
  {
    CLEANUP_FREE char *ps = vm_power_state (j->c->vs, j->moref);
    if (ps == NULL || strcmp (ps, "poweredOff") != 0) {
      log_error ("VM %s: still %s: the final snapshot must be of a stopped VM", j->name,
                 ps ? ps : "in an unknown power state");
      return job_fail (j, FERRY_EXIT_SOURCE);
    }
  }
  json_object_set_new (j->st.j, "source_powered_off", json_string (state_now (ts, sizeof ts)));
  return STEP_NEXT;
}

/* Cold: shut down first when asked (a truly cold, consistent copy).
 * Windows is converted only from a cleanly stopped guest (NTFS and
 * virt-v2v need it), as the seeds do. */
static enum step
stop_for_cold_copy (struct job *j)
{
  const struct config *cfg = j->c->cfg;
  CLEANUP_FREE char *ps = vm_power_state (j->c->vs, j->moref);
  bool windows;

  if (ps == NULL || strcmp (ps, "poweredOff") == 0)
    return STEP_NEXT;
  windows = !config_get_bool (cfg, "skip_conversion")
    && strcmp (inventory_guest_family (json_string_value (json_object_get (j->vm, "guest_id")))
               ?: "", "windows") == 0;
  if (windows && !config_get_bool (cfg, "shutdown"))
    log_info ("VM %s: a Windows guest is shut down before its snapshot", j->name);
  if (config_get_bool (cfg, "shutdown") || windows) {
    if (shut_down (j) == -1)
      return job_fail (j, FERRY_EXIT_SOURCE);
  }
  else
    log_warn ("VM %s: running: the copy is crash-consistent (as after a power cut); set "
              "shutdown: true for a clean copy", j->name);
  return STEP_NEXT;
}

/* A new snapshot makes what earlier runs copied stale in some cases:
 * forget it (copied flags and checkpoints) so those disks are copied
 * again from the new snapshot. */
static void
forget_earlier_copies (struct job *j)
{
  enum migrate_mode mode = j->c->o->mode;
  bool earlier = json_object_size (state_obj (&j->st, "volumes")) > 0;
  /* Only a cold copy of a VM copied before asks whether it still runs. */
  bool off = mode == MIGRATE_COLD && earlier && powered_off (j);
  const char *k;
  json_t *v;

  switch (policy_earlier_copies (mode, earlier, off, job_every_disk_copied (j))) {
  case EARLIER_NONE_OR_STILL:
    return;
  case EARLIER_COMPLETE_KEPT:
    log_warn ("VM %s: every disk was copied by an earlier run, from a snapshot of the "
              "running VM taken then: that copy is reused (ferry teardown first to copy "
              "the disks afresh)", j->name);
    return;
  case EARLIER_NEW_PASS:
    /* Every disk gets the delta since its change id. */
    json_object_foreach (state_obj (&j->st, "volumes"), k, v) {
      CLEANUP_FREE char *ck = state_disk_path (&j->st, atoll (k), ".checkpoint");
      json_object_set_new (v, "copied", json_false ());
      if (ck)
        unlink (ck);
    }
    json_object_del (j->st.j, "pass");
    return;
  case EARLIER_RESTART:
    json_object_foreach (state_obj (&j->st, "volumes"), k, v) {
      CLEANUP_FREE char *ck = state_disk_path (&j->st, atoll (k), ".checkpoint");
      if (json_is_true (json_object_get (v, "copied")) || (ck && access (ck, F_OK) == 0))
        log_info ("VM %s: disk %s was copied from an earlier snapshot of the running VM: "
                  "copying it again from the new one", j->name, k);
      json_object_set_new (v, "copied", json_false ());
      if (ck)
        unlink (ck);
    }
    return;
  }
}

/* One snapshot of all disks.  After a kill -9 the interrupted run's
 * snapshot is still there: reuse it, its checkpoints stay valid.  Any
 * other leftover of ferry's is removed. */
static enum step
take_snapshot (struct job *j)
{
  struct ctx *c = j->c;
  CLEANUP_JSON json_t *old = vm_snapshots_named (c->vs, j->moref, SNAP_PREFIX);
  const char *recorded = json_string_value (json_object_get (j->st.j, "snapshot"));
  size_t i;
  json_t *s;

  size_t n = json_array_size (old);
  CLEANUP_FREE const char **names = calloc (n + 1, sizeof *names);
  int reuse;

  if (old && names == NULL)
    return job_fail (j, FERRY_EXIT_FAILED);
  json_array_foreach (old, i, s)
    names[i] = json_string_value (s);
  reuse = policy_snapshot_to_reuse (names, n, recorded);
  for (i = 0; i < n; i++) {
    if ((int) i == reuse) {
      j->snap = strdup (recorded);
      log_info ("VM %s: reusing snapshot %s of the interrupted run", j->name, j->snap);
    }
    else
      vm_snapshot_remove (c->vs, names[i], j->name);
  }
  if (j->snap == NULL) {
    CLEANUP_FREE char *sname = xasprintf (SNAP_PREFIX "%ld", (long) time (NULL));
    forget_earlier_copies (j);
    j->snap = vm_snapshot_create (c->vs, j->moref, j->name, sname,
                                  "Created by ferry to copy the disks; removed when done. "
                                  "Safe to delete if ferry is not running.", false);
  }
  if (j->snap == NULL)
    return job_fail (j, FERRY_EXIT_SOURCE);
  json_object_set_new (j->st.j, "snapshot", json_string (j->snap));
  state_phase (&j->st, "copying");
  j->snapdisks = vm_snapshot_disks (c->vs, j->snap);
  if (j->snapdisks == NULL)
    return job_fail (j, FERRY_EXIT_SOURCE);
  return STEP_NEXT;
}

enum step
phase_source (struct job *j)
{
  struct ctx *c = j->c;
  enum step s;

  if (j->glance && c->o->mode != MIGRATE_COLD) {
    log_error ("VM %s: warm migration needs a conversion host (use_conversion_host: true)",
               j->name);
    return job_fail (j, FERRY_EXIT_USAGE);
  }
  if (c->conv_host == NULL && !j->glance) {
    c->conv_host = conversion_host_id (config_get_string (c->cfg, "instance_uuid"));
    if (c->conv_host == NULL)
      return job_fail (j, FERRY_EXIT_USAGE);
  }
  if (c->o->mode == MIGRATE_CUTOVER && (s = stop_for_cutover (j)) != STEP_NEXT)
    return s;
  if (c->o->mode == MIGRATE_COLD && (s = stop_for_cold_copy (j)) != STEP_NEXT)
    return s;
  /* A signal during the shutdown: no snapshot is taken. */
  if (job_cancelled (c))
    return job_fail (j, FERRY_EXIT_INTERRUPTED);
  return take_snapshot (j);
}
