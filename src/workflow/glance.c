/* ferry: without a conversion host, local images through Glance -- each
 * disk not done yet copied to a local raw image in the VM's data dir,
 * converted (unless skip_conversion) and verified, uploaded to Glance with
 * the boot volume's properties, and a volume created from each image; the
 * image and the local file go once the volume is available. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "workflow/job.h"
#include "workflow/plan.h"
#include "conversion-host/convert.h"
#include "openstack/resources.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

/* 1. Local images: files[i] is disk i's image, or null when its volume
 * exists already (an earlier run). */
static int
copy_to_local_images (struct job *j, json_t *files)
{
  size_t i;
  json_t *d;

  json_array_foreach (j->disks, i, d) {
    long long key = disk_key (d);
    char k[DISK_KEY_LEN];
    CLEANUP_FREE char *file = state_disk_path (&j->st, key, ".raw");
    CLEANUP_JSON json_t *pass = json_object ();
    json_t *rec = state_disk (&j->st, key);
    int rc;

    if (json_string_value (json_object_get (rec, "id"))) {
      json_array_append_new (files, json_null ());
      continue;
    }
    if (rec == NULL) {
      rec = json_pack ("{s:b}", "copied", 0);
      state_disk_set (&j->st, key, rec);
    }
    if (!json_is_true (json_object_get (rec, "copied"))) {
      ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&j->c->lock);
      rc = copy_disk (j, d, json_object_get (j->snapdisks, disk_key_str (key, k)), file,
                      j->copy_s, pass);
      if (rc)
        return rc;
    }
    json_array_append_new (files, json_string (file));
  }
  return 0;
}

/* 2. Conversion, on the local images.  Refused: the next run starts again
 * from the source's disks. */
static int
convert_local_images (struct job *j, const json_t *files)
{
  CLEANUP_FREE char *clog = xasprintf ("%s/virt-v2v.log", j->st.dir);
  CLEANUP_JSON json_t *todo = json_array ();
  size_t i;
  json_t *f, *d;
  int rc;

  json_array_foreach (files, i, f)
    if (json_is_string (f))
      json_array_append (todo, f);
  if (json_array_size (todo) == 0)
    return 0;
  if ((rc = convert_guest (j->c->cfg, j->vm, todo, j->st.dir, clog)) != 0)
    return rc;
  if ((rc = job_verify_converted (j, todo, clog)) == 0)
    return 0;
  json_array_foreach (j->disks, i, d) {
    long long key = disk_key (d);
    CLEANUP_FREE char *file = state_disk_path (&j->st, key, ".raw");
    json_t *rec = state_disk (&j->st, key);
    if (rec && !json_string_value (json_object_get (rec, "id"))) {
      json_object_set_new (rec, "copied", json_false ());
      if (file)
        unlink (file);
    }
  }
  state_save (&j->st);
  return rc;
}

/* Upload file into a new Glance image named iname; its id (malloc'd), or
 * NULL with *rc (the image deleted again). */
static char *
upload_image (struct job *j, const char *k, const char *file, json_t *props, int *rc)
{
  CLEANUP_FREE char *iname = xasprintf ("ferry-%s-%s", j->name, k);
  CLEANUP_JSON json_t *img = os_image_create (j->c->os, iname, "raw", "bare", props);
  CLEANUP_JSON json_t *act = NULL;
  char *iid;
  struct stat sb;
  int fd, r;

  *rc = FERRY_EXIT_DEST;
  if (img == NULL || (iid = strdup (json_string_value (json_object_get (img, "id")) ?: "")) == NULL)
    return NULL;
  fd = open (file, O_RDONLY | O_CLOEXEC);
  if (fd == -1 || fstat (fd, &sb) == -1) {
    log_error ("VM %s: cannot read %s: %s", j->name, file, strerror (errno));
    if (fd != -1)
      close (fd);
    *rc = FERRY_EXIT_DATA;
    goto fail;
  }
  log_info ("VM %s: disk %s: uploading %s to Glance image %s", j->name, k, file, iid);
  r = os_image_upload (j->c->os, iid, fd, sb.st_size);
  close (fd);
  if (r == -1 || (act = os_image_wait_active (j->c->os, iid, 1800)) == NULL)
    goto fail;
  return iid;
 fail:
  os_image_delete (j->c->os, iid);
  free (iid);
  return NULL;
}

/* 3. Glance, then a volume from each image. */
static int
volumes_from_images (struct job *j, const json_t *files)
{
  CLEANUP_JSON json_t *props = plan_image_properties (j->vm, j->c->cfg);
  size_t i;
  json_t *d;

  json_array_foreach (j->disks, i, d) {
    long long key = disk_key (d);
    char k[DISK_KEY_LEN];
    const char *file = json_string_value (json_array_get (files, i));
    CLEANUP_JSON json_t *iprops = i == 0 ? json_deep_copy (props) : json_object ();
    CLEANUP_JSON json_t *vol = NULL;
    CLEANUP_JSON json_t *ready = NULL;
    CLEANUP_FREE char *iid = NULL;
    int rc;

    disk_key_str (key, k);
    if (file == NULL) {                 /* made by an earlier run */
      json_array_append_new (j->vol_ids, json_string (json_string_value (
        json_object_get (state_disk (&j->st, key), "id"))));
      continue;
    }
    json_object_set_new (iprops, "ferry_vm_uuid",
                         json_string (json_string_value (json_object_get (j->vm, "uuid")) ?: ""));
    if ((iid = upload_image (j, k, file, iprops, &rc)) == NULL)
      return rc;
    state_disk_del (&j->st, key);       /* made again with its id */
    vol = job_volume (j, d, i, false, false, iid);
    if (vol != NULL)
      ready = os_volume_wait (j->c->os, json_string_value (json_object_get (vol, "id")),
                              "available", 1800);
    os_image_delete (j->c->os, iid);    /* the volume has its own copy now */
    if (ready == NULL)
      return FERRY_EXIT_DEST;
    json_object_set_new (state_disk (&j->st, key), "copied", json_true ());
    json_object_set_new (state_disk (&j->st, key), "via", json_string ("glance"));
    state_save (&j->st);
    unlink (file);
    json_array_append_new (j->vol_ids, json_string (json_string_value (json_object_get (vol, "id"))));
  }
  return 0;
}

int
glance_path (struct job *j)
{
  CLEANUP_JSON json_t *files = json_array ();
  int rc;

  json_array_clear (j->vol_ids);
  if ((rc = copy_to_local_images (j, files)) != 0)
    return rc;
  if (!config_get_bool (j->c->cfg, "skip_conversion") && (rc = convert_local_images (j, files)) != 0)
    return rc;
  return volumes_from_images (j, files);
}
