/* ferry: phase convert -- virt-v2v-in-place on the attached volumes, a
 * restore point per volume taken first; the converted guest's boot chain
 * verified (and booted once when verify_boot asks).  A conversion that
 * fails, is refused or is interrupted puts the volumes back as they were
 * copied: no half-converted guest stays behind, and a rerun converts
 * again without copying. */
#include <stdlib.h>
#include <string.h>

#include "workflow/job.h"
#include "workflow/board.h"
#include "conversion-host/attach.h"
#include "conversion-host/convert.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

int
job_verify_converted (struct job *j, const json_t *devices, const char *clog)
{
  json_t *chain = NULL, *check = NULL;
  int rc = convert_verify (j->c->cfg, j->vm, devices, j->st.dir, clog, &chain, &check);

  if (chain) {
    json_object_set (j->st.j, "boot_chain", chain);
    board_vm_note (j->c->sh->board, j->name, "boot_chain", chain);
  }
  if (check) {
    json_object_set (j->st.j, "boot_check", check);
    board_vm_note (j->c->sh->board, j->name, "boot_check", check);
  }
  state_save (&j->st);
  return rc;
}

/* An earlier conversion was interrupted: the volumes go back to what was
 * copied (detached, restored, attached again) before converting again. */
static int
restore_before_converting (struct job *j, const json_t *points)
{
  size_t i;
  json_t *id;

  log_info ("VM %s: an earlier conversion was interrupted: restoring the volumes from "
            "their restore points before converting again", j->name);
  if (job_detach_all (j->c, j->name, j->vol_ids) == -1)
    return -1;
  json_array_clear (j->attached);
  if (convert_restore_points_restore (j->c->os, j->name, points) == -1)
    return -1;
  json_array_clear (j->devices);
  json_array_foreach (j->vol_ids, i, id) {
    CLEANUP_FREE char *what = xasprintf ("VM %s volume %s", j->name, json_string_value (id));
    char *dev;
    if (attach_volume_start (j->c->os, j->c->conv_host, json_string_value (id)) == -1)
      return -1;
    json_array_append (j->attached, id);
    if ((dev = attach_volume_finish (j->c->os, json_string_value (id), what)) == NULL)
      return -1;
    json_array_append_new (j->devices, json_string (dev));
    free (dev);
  }
  return 0;
}

/* The conversion failed, was refused or interrupted (rc): restore the
 * volumes and say what happened and what to do.  Ends the job. */
static enum step
conversion_failed (struct job *j, const json_t *points, int rc, bool refused, const char *clog)
{
  const char *how;

  json_object_set_new (j->st.j, "conversion", json_string ("failed"));
  if (json_object_size (points) && job_detach_all (j->c, j->name, j->vol_ids) == 0) {
    json_array_clear (j->attached);
    if (convert_restore_points_restore (j->c->os, j->name, points) == 0) {
      json_object_set_new (j->st.j, "conversion", json_string ("failed, volumes restored"));
      convert_restore_points_drop (j->c->os, j->name, points);
    }
  }
  how = json_string_value (json_object_get (j->st.j, "conversion")) ?: "";
  if (job_cancelled (j->c)) {
    j->interruption_said = true;
    log_error ("VM %s: interrupted during the conversion: virt-v2v was stopped and %s; "
               "run ferry migrate again to convert (the disks are not copied again)",
               j->name, strstr (how, "restored")
               ? "the volumes were restored from their restore points"
               : "the next run restores the volumes from their restore points first");
    return job_fail (j, FERRY_EXIT_INTERRUPTED);
  }
  if (refused)
    log_error ("VM %s: the converted guest was refused (above): no instance was created%s; "
               "fix the cause and run ferry migrate again (the disks are not copied again)",
               j->name, strstr (how, "restored") ? " and the volumes were restored as copied" : "");
  else
    log_error ("VM %s: conversion failed: no instance was created; the full log is %s; "
               "fix the cause and run ferry migrate again (the disks are not copied again)",
               j->name, clog);
  return job_fail (j, rc);
}

static enum step
convert (struct job *j)
{
  CLEANUP_FREE char *clog = xasprintf ("%s/virt-v2v.log", j->st.dir);
  CLEANUP_JSON json_t *points = NULL;
  bool reused = false;
  int rc;

  state_phase (&j->st, "converting");
  points = convert_restore_points_take (j->c->os, j->name, j->vol_ids, &reused);
  if (points == NULL)
    return job_fail (j, FERRY_EXIT_DEST);
  if (reused && restore_before_converting (j, points) == -1)
    return job_fail (j, FERRY_EXIT_DEST);
  json_object_set_new (j->st.j, "conversion", json_string ("running"));
  state_save (&j->st);
  rc = convert_guest (j->c->cfg, j->vm, j->devices, j->st.dir, clog);
  if (rc == 0 && (rc = job_verify_converted (j, j->devices, clog)) != 0)
    return conversion_failed (j, points, rc, rc == FERRY_EXIT_CONVERSION, clog);
  if (rc)
    return conversion_failed (j, points, rc, false, clog);
  convert_restore_points_drop (j->c->os, j->name, points);
  return STEP_NEXT;
}

enum step
phase_convert (struct job *j)
{
  bool skip = config_get_bool (j->c->cfg, "skip_conversion");
  enum step s;

  /* A signal during the copy: stop before the next phase. */
  if (job_cancelled (j->c))
    return job_fail (j, FERRY_EXIT_INTERRUPTED);
  if (job_state_behind (j, "the conversion"))
    return job_fail (j, FERRY_EXIT_FAILED);
  if (skip)
    log_info ("VM %s: conversion skipped (skip_conversion)", j->name);
  else if ((s = convert (j)) != STEP_NEXT)
    return s;
  json_object_set_new (j->st.j, "converted_or_skipped", json_true ());
  json_object_set_new (j->st.j, "conversion", json_string (skip ? "skipped" : "done"));
  state_phase (&j->st, "copied");
  return STEP_NEXT;
}
