/* ferry: phase guard -- may this VM be migrated now, and how far did an
 * earlier run get?  Nothing is created or changed on either side, except
 * CBT turned on for a warm migration when the operator asked for it. */
#include <stdlib.h>
#include <string.h>

#include "workflow/job.h"
#include "workflow/policy.h"
#include "conversion-host/convert.h"
#include "openstack/resources.h"
#include "vsphere/vmops.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"

/* Migrated already: nothing to do while its server exists. */
static enum step
guard_done_before (struct job *j)
{
  struct ctx *c = j->c;
  const char *sid;
  bool gone = false;
  CLEANUP_JSON json_t *srv = NULL;

  if (strcmp (json_string_value (json_object_get (j->st.j, "phase")) ?: "", "done") != 0
      || c->o->dry_run)
    return STEP_NEXT;
  sid = json_string_value (json_object_get (state_obj (&j->st, "server"), "id"));
  srv = sid ? os_server_get (c->os, sid, true, &gone) : NULL;
  if (srv) {
    log_info ("VM %s: already migrated (server %s): nothing to do%s", j->name, sid,
              c->o->mode == MIGRATE_SYNC ? " (cut over already: no more syncs)" : "");
    return job_fail (j, 0);
  }
  log_warn ("VM %s: was migrated, but its server is gone: migrating again", j->name);
  json_object_set_new (j->st.j, "phase", json_string ("new"));
  return STEP_NEXT;
}

static enum step
guard_blockers (struct job *j)
{
  const json_t *blockers = json_object_get (j->vm, "blockers");
  size_t i;
  json_t *b;

  if (json_array_size (blockers) == 0)
    return STEP_NEXT;
  json_array_foreach (blockers, i, b)
    log_error ("VM %s: blocker: %s", j->name, json_string_value (b));
  log_error ("VM %s: refused: resolve the blockers above first", j->name);
  return job_fail (j, FERRY_EXIT_FAILED);
}

/* A disk removed from the VM since the last sync is refused clearly; a
 * new one is said (it gets a volume and a full sync). */
static enum step
guard_disks_since_last_sync (struct job *j)
{
  json_t *vols = state_obj (&j->st, "volumes");
  size_t n = json_array_size (j->disks), i;
  CLEANUP_FREE long long *keys = calloc (n + 1, sizeof *keys);
  CLEANUP_FREE bool *is_new = calloc (n + 1, sizeof *is_new);
  long long removed;
  json_t *d;

  if (keys == NULL || is_new == NULL)
    return job_fail (j, FERRY_EXIT_FAILED);
  json_array_foreach (j->disks, i, d)
    keys[i] = disk_key (d);
  policy_disks_since_last_pass (vols, keys, n, &removed, is_new);
  if (removed != -1) {
    log_error ("VM %s: disk %lld was removed from the VM since the last sync (its volume "
               "%s is kept): put the disk back, or start over with ferry teardown",
               j->name, removed,
               json_string_value (json_object_get (state_disk (&j->st, removed), "id")));
    return job_fail (j, FERRY_EXIT_USAGE);
  }
  for (i = 0; i < n; i++)
    if (is_new[i])
      log_warn ("VM %s: disk %lld is new since the last sync: it gets a volume and a full "
                "sync", j->name, keys[i]);
  return STEP_NEXT;
}

/* Warm migrations need CBT on the VM (hardware version 7 or later);
 * never a silent fallback to copying stale data. */
static enum step
guard_warm (struct job *j)
{
  struct ctx *c = j->c;
  const char *hv = json_string_value (json_object_get (j->vm, "hw_version"));

  if (c->o->mode == MIGRATE_COLD || c->o->dry_run)
    return STEP_NEXT;
  if (hv && strncmp (hv, "vmx-", 4) == 0 && atoi (hv + 4) < 7) {
    log_error ("VM %s: hardware version %s has no CBT (needs vmx-07 or later): upgrade "
               "the VM's hardware or migrate it cold", j->name, hv);
    return job_fail (j, FERRY_EXIT_USAGE);
  }
  if (!json_is_true (json_object_get (j->vm, "cbt_enabled"))) {
    if (!c->o->enable_cbt && !config_get_bool (c->cfg, "enable_cbt")) {
      log_error ("VM %s: CBT (Changed Block Tracking) is off, so a warm migration can't "
                 "know what changed: run with --enable-cbt (enable_cbt: true) to turn it "
                 "on, or migrate cold with ferry migrate", j->name);
      return job_fail (j, FERRY_EXIT_USAGE);
    }
    if (vm_enable_cbt (c->vs, j->moref, j->name) == -1)
      return job_fail (j, FERRY_EXIT_SOURCE);
  }
  return guard_disks_since_last_sync (j);
}

enum step
phase_guard (struct job *j)
{
  enum step s;
  int rc;

  if ((s = guard_done_before (j)) != STEP_NEXT
      || (s = guard_blockers (j)) != STEP_NEXT
      || (s = guard_warm (j)) != STEP_NEXT)
    return s;
  /* What the conversion will need, before anything is copied. */
  if (!config_get_bool (j->c->cfg, "skip_conversion") && !j->c->o->dry_run
      && (rc = convert_precheck (j->c->cfg, j->vm)) != 0)
    return job_fail (j, rc);
  return STEP_NEXT;
}
