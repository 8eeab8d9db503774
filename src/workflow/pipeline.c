/* ferry: one VM's migration as a pipeline of phases over one job (job.h),
 * and the cleanup that runs whatever ends it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>

#include "workflow/job.h"
#include "workflow/board.h"
#include "conversion-host/attach.h"
#include "vsphere/vmops.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

static const struct phase {
  const char *name;
  enum step (*run) (struct job *j);
} phases[] = {
  { "guard", phase_guard },
  { "plan", phase_plan },
  { "volumes", phase_volumes },
  { "source", phase_source },
  { "copy", phase_copy },
  { "convert", phase_convert },
  { "instance", phase_instance },     /* STEP_TO_INSTANCE lands here */
  { "finish", phase_finish },
};
#define PHASE_INSTANCE 6

double
now_s (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

bool
job_cancelled (const struct ctx *c)
{
  return c->o->cancel && atomic_load (c->o->cancel);
}

bool
job_state_behind (struct job *j, const char *before)
{
  if (!j->st.write_failed)
    return false;
  log_error ("VM %s: its state file %s could not be written (see above): stopping before "
             "%s; fix that and run ferry migrate again (nothing is lost)", j->name, j->st.path,
             before);
  return true;
}

int
job_detach_all (struct ctx *c, const char *vmname, const json_t *vols)
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

int
job_remove_leftover_snapshots (struct job *j)
{
  CLEANUP_JSON json_t *old = vm_snapshots_named (j->c->vs, j->moref, SNAP_PREFIX);
  json_t *s;
  size_t i;
  int r = old ? 0 : -1;

  json_array_foreach (old, i, s) {
    log_info ("VM %s: removing snapshot %s left by an interrupted run", j->name,
              json_string_value (s));
    if (vm_snapshot_remove (j->c->vs, json_string_value (s), j->name) == -1)
      r = -1;
  }
  if (r == 0 && json_object_get (j->st.j, "snapshot")) {
    json_object_del (j->st.j, "snapshot");
    state_save (&j->st);
  }
  return r;
}

bool
job_every_disk_copied (struct job *j)
{
  size_t i;
  json_t *d;

  json_array_foreach (j->disks, i, d)
    if (!json_is_true (json_object_get (state_disk (&j->st, disk_key (d)), "copied")))
      return false;
  return json_array_size (j->disks) > 0;
}

static void
on_phase (void *opaque, const char *phase)
{
  struct ctx *c = opaque;
  board_vm_phase (c->sh->board, c->vmname, phase);
}

/* Whatever ended the job: say an interruption, remove ferry's snapshot,
 * detach what this run attached, record the error. */
static void
job_cleanup (struct job *j)
{
  struct ctx *c = j->c;

  if (j->rc == FERRY_EXIT_INTERRUPTED && !j->interruption_said)
    log_error ("VM %s: interrupted by a signal during phase %s: what was finished is "
               "recorded; run ferry %s again to go on from there", j->name,
               json_string_value (json_object_get (j->st.j, "phase")) ?: "start",
               c->o->mode == MIGRATE_SYNC ? "sync" : c->o->mode == MIGRATE_CUTOVER ? "cutover"
               : "migrate");
  if (j->snap && vm_snapshot_remove (c->vs, j->snap, j->name) == 0)
    json_object_del (j->st.j, "snapshot");
  if (json_array_size (j->attached) && c->conv_host)
    job_detach_all (c, j->name, j->attached);
  if (j->rc) {
    json_object_set_new (j->st.j, "error",
                         json_sprintf ("exit %d at phase %s", j->rc,
                                       json_string_value (json_object_get (j->st.j, "phase"))
                                       ?: "?"));
    state_save (&j->st);
  }
}

static void
job_free (struct job *j)
{
  json_decref (j->nets);
  json_decref (j->sgs);
  json_decref (j->flavor);
  json_decref (j->vol_ids);
  json_decref (j->snapdisks);
  json_decref (j->attached);
  json_decref (j->devices);
  free (j->snap);
  free (j->logpath);
}

int
job_run (struct ctx *c, const json_t *vm, double *api_s, double *copy_s)
{
  struct job j = {
    .c = c, .vm = vm,
    .name = json_string_value (json_object_get (vm, "name")),
    .moref = json_string_value (json_object_get (vm, "moref")),
    .disks = json_object_get (vm, "disks"),
    .vol_ids = json_array (), .attached = json_array (), .devices = json_array (),
    .glance = !config_get_bool (c->cfg, "use_conversion_host") || c->o->no_conversion_host,
    .t0 = now_s (), .c0 = *copy_s, .api_s = api_s, .copy_s = copy_s,
  };
  size_t p = 0;

  state_now (j.sync_started, sizeof j.sync_started);
  if (state_open (&j.st, c->data_dir, j.name) == -1) {
    job_free (&j);
    return FERRY_EXIT_FAILED;
  }
  j.st.on_phase = on_phase;
  j.st.on_phase_opaque = c;
  c->vmname = j.name;
  c->esxi_host = json_string_value (json_object_get (json_object_get (vm, "host"), "name"));
  j.logpath = xasprintf ("%s/migration.log", j.st.dir);
  c->logpath = j.logpath;
  if (j.logpath && log_open_file (j.logpath) == -1)
    log_warn ("VM %s: cannot write its log %s: %s", j.name, j.logpath, strerror (errno));

  while (p < sizeof phases / sizeof phases[0]) {
    enum step s = phases[p].run (&j);
    if (s == STEP_END)
      break;
    p = s == STEP_TO_INSTANCE ? PHASE_INSTANCE : p + 1;
  }

  job_cleanup (&j);
  log_close_file ();
  c->logpath = NULL;
  state_close (&j.st);
  job_free (&j);
  return j.rc;
}
