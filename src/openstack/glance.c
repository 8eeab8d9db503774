/* ferry: Glance v2 -- images: create with properties, upload, status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openstack/resources.h"
#include "openstack/internal.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

json_t *
os_image_create (struct os_client *c, const char *name, const char *disk_format,
                 const char *container_format, const json_t *properties)
{
  CLEANUP_JSON json_t *body = json_pack ("{s:s, s:s, s:s, s:s}", "name", name,
                                         "disk_format", disk_format ? disk_format : "raw",
                                         "container_format",
                                         container_format ? container_format : "bare",
                                         "visibility", "private");
  CLEANUP_FREE char *what = xasprintf ("Glance create image '%s'", name);
  const char *k;
  json_t *v;

  if (body == NULL)
    return NULL;
  /* Properties are top-level members of the image, as strings. */
  json_object_foreach ((json_t *) properties, k, v) {
    if (json_is_string (v))
      json_object_set (body, k, v);
    else {
      char *s = json_dumps (v, JSON_ENCODE_ANY | JSON_COMPACT);
      if (s && json_is_true (v)) { free (s); s = strdup ("true"); }
      else if (s && json_is_false (v)) { free (s); s = strdup ("false"); }
      json_object_set_new (body, k, json_string (s ? s : ""));
      free (s);
    }
  }
  {
    struct os_call call = { .service = OS_IMAGE, .method = "POST", .path = "/images",
                            .body = body, .what = what };
    return os_call (c, &call, NULL);
  }
}

int
os_image_upload (struct os_client *c, const char *id, int fd, long long size)
{
  CLEANUP_FREE char *path = xasprintf ("/images/%s/file", id);
  CLEANUP_FREE char *what = xasprintf ("Glance upload image %s", id);
  struct http_upload up = { .fd = fd, .offset = 0, .size = size };
  struct os_call call = { .service = OS_IMAGE, .method = "PUT", .path = path, .what = what,
                          .upload = &up };
  CLEANUP_JSON json_t *ans = os_call (c, &call, NULL);

  return ans ? 0 : -1;
}

json_t *
os_image_get (struct os_client *c, const char *id, bool quiet_404, bool *gone)
{
  CLEANUP_FREE char *path = xasprintf ("/images/%s", id);
  CLEANUP_FREE char *what = xasprintf ("Glance get image %s", id);
  struct os_call call = { .service = OS_IMAGE, .method = "GET", .path = path, .what = what,
                          .quiet_404 = quiet_404 };
  long st = 0;
  json_t *r = os_call (c, &call, &st);

  if (gone)
    *gone = st == 404;
  return r;
}

static bool
image_failed (struct os_client *c, const char *id, const json_t *img, const char *st,
              const char *awaited)
{
  (void) c;
  (void) img;
  (void) awaited;
  if (strcmp (st, "killed") != 0 && strcmp (st, "deleted") != 0
      && strcmp (st, "deactivated") != 0)
    return false;
  log_error ("Glance image %s went to status %s while ferry waited for active; see the "
             "Glance logs", id, st);
  return true;
}

json_t *
os_image_wait_active (struct os_client *c, const char *id, int timeout_s)
{
  struct os_wait w = { .kind = "image active", .id = id, .status = "active",
                       .get = os_image_get, .failed = image_failed };
  int r = os_wait_status (c, &w, timeout_s);

  if (r == -2)
    log_error ("Glance image %s: still %s after %d s, waiting for active", id,
               json_string_value (json_object_get (w.res, "status")) ?: "in an unknown status", timeout_s);
  free (w.last);
  if (r != 0) {
    json_decref (w.res);
    return NULL;
  }
  return w.res;
}

int
os_image_delete (struct os_client *c, const char *id)
{
  CLEANUP_FREE char *path = xasprintf ("/images/%s", id);
  CLEANUP_FREE char *what = xasprintf ("Glance delete image %s", id);
  return os_delete (c, OS_IMAGE, path, what);
}

int
os_image_find (struct os_client *c, const char *ref, json_t **out, char **why)
{
  CLEANUP_FREE char *eref = os_url_escape (ref);
  CLEANUP_FREE char *path = xasprintf ("/images?name=%s", eref);
  CLEANUP_FREE char *what = xasprintf ("Glance find image '%s'", ref);
  CLEANUP_JSON json_t *list = NULL;

  *out = NULL;
  *why = NULL;
  if (os_is_uuid (ref)) {
    bool gone = false;
    *out = os_image_get (c, ref, true, &gone);
    if (*out)
      return 0;
    if (!gone)
      return -1;
  }
  list = os_list (c, OS_IMAGE, path, "images", what);
  if (list == NULL)
    return -1;
  if (json_array_size (list) == 1) {
    *out = json_incref (json_array_get (list, 0));
    return 0;
  }
  if (json_array_size (list) == 0)
    *why = xasprintf ("no image named or with id '%s' is visible to project %s", ref,
                      os_project_name (c));
  else
    *why = xasprintf ("%zu images are named '%s': give the id instead", json_array_size (list),
                      ref);
  return 1;
}
