/* ferry: phase volumes -- one Cinder volume per disk, found again (the
 * state, then ferry's metadata on the volume) or created, and available
 * (or still in use by an interrupted run's attachment).  When an earlier
 * run copied and converted every disk already, the job goes on at the
 * instance. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workflow/job.h"
#include "workflow/plan.h"
#include "workflow/policy.h"
#include "openstack/resources.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

/* The volume ferry's metadata names for the disk, if exactly one does.
 * *v a new reference or NULL (none); -1 on an API error or several. */
static int
find_by_metadata (struct job *j, const char *k, json_t **v)
{
  const char *uuid = json_string_value (json_object_get (j->vm, "uuid"));
  CLEANUP_JSON json_t *md = json_pack ("{s:s, s:s}", "ferry_vm_uuid", uuid ? uuid : "",
                                       "ferry_disk_key", k);
  CLEANUP_JSON json_t *found = os_volume_list (j->c->os, md, NULL);

  *v = NULL;
  if (found == NULL)
    return -1;
  if (json_array_size (found) > 1) {
    log_error ("VM %s: %zu volumes carry disk %s's metadata (ferry_vm_uuid %s): delete "
               "the extra ones (ferry teardown removes them all)", j->name,
               json_array_size (found), k, uuid);
    return -1;
  }
  if (json_array_size (found) == 1) {
    *v = json_incref (json_array_get (found, 0));
    log_info ("VM %s: disk %s: reusing volume %s", j->name, k,
              json_string_value (json_object_get (*v, "id")));
  }
  return 0;
}

static json_t *
create_volume (struct job *j, const json_t *disk, size_t index, const char *k,
               const char *vname, const char *image_id)
{
  struct ctx *c = j->c;
  const char *uuid = json_string_value (json_object_get (j->vm, "uuid"));
  const char *az = config_get_string (c->cfg, "cinder_az");
  struct os_volume_spec spec = { 0 };
  CLEANUP_JSON json_t *meta = json_pack ("{s:s, s:s, s:s, s:s, s:s}",
                                         "osm", "true", "converted", "false",
                                         "ferry_vm_uuid", uuid ? uuid : "",
                                         "ferry_vm_name", j->name,
                                         "ferry_disk_key", k);
  json_t *v;

  json_object_set_new (meta, "ferry_disk_index", json_sprintf ("%zu", index));
  spec.name = vname;
  spec.image_id = image_id;
  spec.size_gb = plan_volume_gib (json_integer_value (json_object_get (disk, "capacity_bytes")));
  spec.volume_type = plan_volume_type (c->cfg, json_string_value (json_object_get (disk, "datastore")));
  spec.availability_zone = az ? az : config_get_string (c->cfg, "availability_zone");
  spec.description = "ferry: migrated from VMware";
  spec.metadata = meta;
  v = os_volume_create (c->os, &spec);
  if (v)
    log_info ("VM %s: disk %s: volume %s (%lld GiB) created", j->name, k,
              json_string_value (json_object_get (v, "id")), spec.size_gb);
  return v;
}

json_t *
job_volume (struct job *j, const json_t *disk, size_t index, bool dry_run, bool find_only,
            const char *image_id)
{
  long long key = disk_key (disk);
  char k[DISK_KEY_LEN];
  CLEANUP_FREE char *safe = state_safe_name (j->name);
  CLEANUP_FREE char *vname = xasprintf ("%s-%lld", safe, key);
  json_t *rec = state_disk (&j->st, key);
  const char *id = json_string_value (json_object_get (rec, "id"));
  json_t *v = NULL;

  disk_key_str (key, k);
  if (id) {
    bool gone = false;
    v = os_volume_get (j->c->os, id, true, &gone);
    if (v == NULL && !gone)
      return NULL;
    if (v == NULL) {
      log_warn ("VM %s: volume %s of disk %s is gone; making a new one", j->name, id, k);
      state_disk_del (&j->st, key);
      rec = NULL;
    }
  }
  if (v == NULL && find_by_metadata (j, k, &v) == -1)
    return NULL;
  if (v == NULL) {
    if (dry_run)
      return json_pack ("{s:n, s:s}", "id", "name", vname);
    if (find_only)
      return json_null ();
    if ((v = create_volume (j, disk, index, k, vname, image_id)) == NULL)
      return NULL;
  }
  if (rec == NULL) {
    /* A volume this state has no record of (new, or found by its metadata):
     * nothing copied into it is known, so no checkpoint applies to it. */
    CLEANUP_FREE char *ckpt = state_disk_path (&j->st, key, ".checkpoint");
    if (ckpt && unlink (ckpt) == 0)
      log_info ("VM %s: disk %s: the checkpoint of the earlier volume was dropped "
                "(volume %s is copied whole)", j->name, k,
                json_string_value (json_object_get (v, "id")));
    state_disk_set (&j->st, key,
                    json_pack ("{s:s, s:s, s:b}", "id", json_string_value (json_object_get (v, "id")),
                               "name", json_string_value (json_object_get (v, "name")) ?: vname,
                               "copied", 0));
    state_save (&j->st);
  }
  return v;
}

/* Wait for each volume to be usable: available, or in-use (still attached
 * to the conversion host by an interrupted run). */
static int
volumes_usable (struct job *j)
{
  size_t i;
  json_t *id;

  json_array_foreach (j->vol_ids, i, id) {
    const char *vid = json_string_value (id);
    CLEANUP_JSON json_t *v = os_volume_get (j->c->os, vid, false, NULL);
    const char *status = json_string_value (json_object_get (v, "status"));
    if (v == NULL || status == NULL)
      return -1;
    if (strcmp (status, "available") && strcmp (status, "in-use")) {
      CLEANUP_JSON json_t *w = os_volume_wait (j->c->os, vid, "available", 600);
      if (w == NULL)
        return -1;
    }
  }
  return 0;
}

enum step
phase_volumes (struct job *j)
{
  size_t i;
  json_t *d;

  /* On the Glance path the volumes are made from the images, later. */
  json_array_foreach (j->disks, i, d) {
    CLEANUP_JSON json_t *v = job_volume (j, d, i, false, j->glance, NULL);
    if (v == NULL)
      return job_fail (j, FERRY_EXIT_DEST);
    if (!json_is_null (v))
      json_array_append_new (j->vol_ids, json_string (json_string_value (json_object_get (v, "id"))));
  }
  if (volumes_usable (j) == -1)
    return job_fail (j, FERRY_EXIT_DEST);

  /* Anything left to copy?  (A sync always looks for changes.) */
  if (policy_resume_point (j->c->o->mode, job_every_disk_copied (j),
                           json_is_true (json_object_get (j->st.j, "converted_or_skipped")))
      == RESUME_AT_INSTANCE) {
    /* A run killed after its copy (kill -9, power cut) may have left its
     * snapshot: nothing of ferry's stays on the source. */
    if (job_remove_leftover_snapshots (j) == -1)
      return job_fail (j, FERRY_EXIT_SOURCE);
    return STEP_TO_INSTANCE;
  }
  return STEP_NEXT;
}
