/* ferry: Cinder v3 -- volumes, metadata, types, quotas. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openstack/resources.h"
#include "openstack/internal.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

/* The member `key` of an answer, as a new reference. */
static json_t *
member (json_t *ans, const char *key)
{
  json_t *m = json_incref (json_object_get (ans, key));
  json_decref (ans);
  return m;
}

json_t *
os_volume_create (struct os_client *c, const struct os_volume_spec *spec)
{
  CLEANUP_JSON json_t *vol = json_pack ("{s:s, s:I}", "name", spec->name,
                                        "size", (json_int_t) spec->size_gb);
  CLEANUP_JSON json_t *body = NULL;
  CLEANUP_FREE char *what = xasprintf ("Cinder create volume '%s' (%lld GiB%s%s)", spec->name,
                                       spec->size_gb, spec->volume_type ? ", type " : "",
                                       spec->volume_type ? spec->volume_type : "");
  json_t *v;

  if (vol == NULL)
    return NULL;
  if (spec->volume_type)
    json_object_set_new (vol, "volume_type", json_string (spec->volume_type));
  if (spec->availability_zone)
    json_object_set_new (vol, "availability_zone", json_string (spec->availability_zone));
  if (spec->description)
    json_object_set_new (vol, "description", json_string (spec->description));
  if (spec->metadata)
    json_object_set_new (vol, "metadata", json_deep_copy (spec->metadata));
  if (spec->image_id)
    json_object_set_new (vol, "imageRef", json_string (spec->image_id));
  body = json_pack ("{s:O}", "volume", vol);
  {
    struct os_call call = { .service = OS_VOLUME, .method = "POST", .path = "/volumes",
                            .body = body, .what = what };
    v = member (os_call (c, &call, NULL), "volume");
  }
  if (v == NULL)
    return NULL;
  if (spec->bootable) {
    const char *id = json_string_value (json_object_get (v, "id"));
    /* The flag can be set only once the volume is available. */
    json_t *ready = os_volume_wait (c, id, "available", 600);
    if (ready == NULL || os_volume_set_bootable (c, id, true) == -1) {
      json_decref (ready);
      json_decref (v);
      return NULL;
    }
    json_decref (v);
    v = ready;
    json_object_set_new (v, "bootable", json_string ("true"));
  }
  return v;
}

json_t *
os_volume_get (struct os_client *c, const char *id, bool quiet_404, bool *gone)
{
  CLEANUP_FREE char *path = xasprintf ("/volumes/%s", id);
  CLEANUP_FREE char *what = xasprintf ("Cinder get volume %s", id);
  struct os_call call = { .service = OS_VOLUME, .method = "GET", .path = path, .what = what,
                          .quiet_404 = quiet_404 };
  long st = 0;
  json_t *v = member (os_call (c, &call, &st), "volume");

  if (gone)
    *gone = st == 404;
  return v;
}

json_t *
os_volume_list (struct os_client *c, const json_t *metadata, const char *name)
{
  CLEANUP_FREE char *path = NULL;
  CLEANUP_FREE char *meta = NULL;
  CLEANUP_FREE char *emeta = NULL;
  CLEANUP_FREE char *ename = NULL;
  CLEANUP_JSON json_t *all = NULL;
  json_t *out, *v;
  size_t i;

  if (metadata && json_object_size (metadata)) {
    meta = json_dumps (metadata, JSON_COMPACT | JSON_SORT_KEYS);
    emeta = meta ? os_url_escape (meta) : NULL;
  }
  if (name)
    ename = os_url_escape (name);
  path = xasprintf ("/volumes/detail?all_tenants=0%s%s%s%s", emeta ? "&metadata=" : "",
                    emeta ? emeta : "", ename ? "&name=" : "", ename ? ename : "");
  all = os_list (c, OS_VOLUME, path, "volumes", "Cinder list volumes");
  if (all == NULL)
    return NULL;
  /* Filter again here: older Cinder ignores filters it does not know. */
  out = json_array ();
  json_array_foreach (all, i, v) {
    const json_t *vm = json_object_get (v, "metadata");
    const char *k;
    json_t *want;
    bool ok = true;
    if (name && (!json_is_string (json_object_get (v, "name"))
                 || strcmp (json_string_value (json_object_get (v, "name")), name)))
      ok = false;
    json_object_foreach ((json_t *) metadata, k, want) {
      const char *have = json_string_value (json_object_get (vm, k));
      if (!ok || have == NULL || !json_is_string (want) || strcmp (have, json_string_value (want)))
        ok = false;
    }
    if (ok)
      json_array_append (out, v);
  }
  return out;
}

static int
volume_action (struct os_client *c, const char *id, json_t *body, const char *what)
{
  CLEANUP_FREE char *path = xasprintf ("/volumes/%s/action", id);
  CLEANUP_JSON json_t *b = body;
  struct os_call call = { .service = OS_VOLUME, .method = "POST", .path = path, .body = b,
                          .what = what };
  CLEANUP_JSON json_t *ans = os_call (c, &call, NULL);

  return ans ? 0 : -1;
}

int
os_volume_merge_metadata (struct os_client *c, const char *id, const json_t *metadata)
{
  CLEANUP_FREE char *path = xasprintf ("/volumes/%s/metadata", id);
  CLEANUP_FREE char *what = xasprintf ("Cinder update metadata of volume %s", id);

  return os_post_metadata (c, OS_VOLUME, path, metadata, what);
}

int
os_volume_set_bootable (struct os_client *c, const char *id, bool bootable)
{
  CLEANUP_FREE char *what = xasprintf ("Cinder set bootable on volume %s", id);
  return volume_action (c, id, json_pack ("{s:{s:b}}", "os-set_bootable", "bootable", bootable),
                        what);
}

int
os_volume_set_image_metadata (struct os_client *c, const char *id, const json_t *metadata)
{
  CLEANUP_FREE char *what = xasprintf ("Cinder set image metadata on volume %s", id);
  return volume_action (c, id, json_pack ("{s:{s:O}}", "os-set_image_metadata", "metadata",
                                          metadata), what);
}

int
os_volume_delete (struct os_client *c, const char *id)
{
  CLEANUP_FREE char *path = xasprintf ("/volumes/%s", id);
  CLEANUP_FREE char *what = xasprintf ("Cinder delete volume %s", id);
  return os_delete (c, OS_VOLUME, path, what);
}

/* Cinder's user message about a volume (API 3.3), e.g. "schedule allocate
 * volume: Could not find any available weighted backend.", or NULL. */
static char *
volume_message (struct os_client *c, const char *id)
{
  static const char *const hdrs[] = { "OpenStack-API-Version: volume 3.3", NULL };
  CLEANUP_FREE char *path = xasprintf ("/messages?resource_uuid=%s&sort=created_at:desc", id);
  struct os_call call = { .service = OS_VOLUME, .method = "GET", .path = path,
                          .headers = hdrs, .quiet_404 = true, .what = "Cinder messages" };
  CLEANUP_JSON json_t *ans = os_call (c, &call, NULL);
  const json_t *m = json_array_get (json_object_get (ans, "messages"), 0);
  const char *um = json_string_value (json_object_get (m, "user_message"));

  return um ? strdup (um) : NULL;
}

static bool
volume_failed (struct os_client *c, const char *id, const json_t *vol, const char *st,
               const char *awaited)
{
  CLEANUP_FREE char *why = NULL;

  if (strncmp (st, "error", 5) != 0)
    return false;
  why = volume_message (c, id);
  log_error ("Cinder volume %s (%s) went to status %s while ferry waited for %s%s%s; see "
             "the Cinder volume service's logs (openstack volume show %s)", id,
             json_string_value (json_object_get (vol, "name")) ?: "no name", st, awaited,
             why ? ": " : "", why ? why : "", id);
  return true;
}

json_t *
os_volume_wait (struct os_client *c, const char *id, const char *status, int timeout_s)
{
  CLEANUP_FREE char *kind = xasprintf ("volume %s", status);
  struct os_wait w = { .kind = kind, .id = id, .status = status, .get = os_volume_get,
                       .failed = volume_failed };
  int r = os_wait_status (c, &w, timeout_s);

  if (r == -2)
    log_error ("Cinder volume %s: still %s after %d s, waiting for %s", id,
               w.last ? w.last : "?", timeout_s, status);
  free (w.last);
  if (r != 0) {
    json_decref (w.res);
    return NULL;
  }
  return w.res;
}

int
os_volume_wait_gone (struct os_client *c, const char *id, int timeout_s)
{
  struct os_wait w = { .kind = "volume deleted", .id = id, .get = os_volume_get };
  int r = os_wait_status (c, &w, timeout_s);

  if (r == -2)
    log_error ("Cinder volume %s: still there %d s after its deletion (status %s)", id,
               timeout_s, json_string_value (json_object_get (w.res, "status")) ?: "unknown");
  json_decref (w.res);
  free (w.last);
  return r == 0 ? 0 : -1;
}

json_t *
os_volume_types (struct os_client *c)
{
  return os_list (c, OS_VOLUME, "/types", "volume_types", "Cinder list volume types");
}

json_t *
os_volume_quotas (struct os_client *c)
{
  CLEANUP_FREE char *path = xasprintf ("/os-quota-sets/%s?usage=true", os_project_id (c));
  struct os_call call = { .service = OS_VOLUME, .method = "GET", .path = path,
                          .what = "Cinder quotas" };
  return member (os_call (c, &call, NULL), "quota_set");
}

/* ---- snapshots (the restore point before a guest conversion) ---- */

json_t *
os_snapshot_create (struct os_client *c, const char *volume_id, const char *name,
                    const char *description, const json_t *metadata)
{
  CLEANUP_FREE char *what = xasprintf ("Cinder create snapshot '%s' of volume %s", name,
                                       volume_id);
  /* force: the volume is attached to the conversion host (in-use). */
  CLEANUP_JSON json_t *body = json_pack ("{s:{s:s, s:s, s:s, s:b, s:O?}}", "snapshot",
                                         "volume_id", volume_id, "name", name,
                                         "description", description ? description : "",
                                         "force", 1, "metadata", metadata);
  struct os_call call = { .service = OS_VOLUME, .method = "POST", .path = "/snapshots",
                          .body = body, .what = what };

  return body ? member (os_call (c, &call, NULL), "snapshot") : NULL;
}

json_t *
os_snapshot_list (struct os_client *c, const char *volume_id)
{
  CLEANUP_FREE char *path = xasprintf ("/snapshots/detail?volume_id=%s", volume_id);
  CLEANUP_FREE char *what = xasprintf ("Cinder list snapshots of volume %s", volume_id);
  struct os_call call = { .service = OS_VOLUME, .method = "GET", .path = path, .what = what };

  return member (os_call (c, &call, NULL), "snapshots");
}

/* A snapshot (quiet about a 404 whatever quiet_404 says: gone is an
 * answer when waiting for "deleted"). */
static json_t *
snapshot_get (struct os_client *c, const char *id, bool quiet_404, bool *gone)
{
  CLEANUP_FREE char *path = xasprintf ("/snapshots/%s", id);
  CLEANUP_FREE char *what = xasprintf ("Cinder show snapshot %s", id);
  struct os_call call = { .service = OS_VOLUME, .method = "GET", .path = path, .what = what,
                          .quiet_404 = true };
  long status = 0;
  json_t *s = member (os_call (c, &call, &status), "snapshot");

  (void) quiet_404;
  *gone = status == 404;
  return s;
}

/* Ends the wait without a message: the caller reports the last status. */
static bool
snapshot_failed (struct os_client *c, const char *id, const json_t *s, const char *st,
                 const char *awaited)
{
  (void) c;
  (void) id;
  (void) s;
  (void) awaited;
  return strncmp (st, "error", 5) == 0;
}

int
os_snapshot_wait (struct os_client *c, const char *id, const char *status, int timeout_s,
                  char **last_status)
{
  CLEANUP_FREE char *kind = xasprintf ("snapshot %s", status);
  struct os_wait w = { .kind = kind, .id = id, .status = status, .get = snapshot_get,
                       .failed = snapshot_failed };
  int r = os_wait_status (c, &w, timeout_s);

  json_decref (w.res);
  if (last_status)
    *last_status = w.last;
  else
    free (w.last);
  return r;
}

int
os_snapshot_delete (struct os_client *c, const char *id)
{
  CLEANUP_FREE char *path = xasprintf ("/snapshots/%s", id);
  CLEANUP_FREE char *what = xasprintf ("Cinder delete snapshot %s", id);
  return os_delete (c, OS_VOLUME, path, what);
}

int
os_volume_revert (struct os_client *c, const char *volume_id, const char *snapshot_id)
{
  static const char *const hdrs[] = { "OpenStack-API-Version: volume 3.40", NULL };
  CLEANUP_FREE char *path = xasprintf ("/volumes/%s/action", volume_id);
  CLEANUP_FREE char *what = xasprintf ("Cinder revert volume %s to snapshot %s", volume_id,
                                       snapshot_id);
  CLEANUP_JSON json_t *body = json_pack ("{s:{s:s}}", "revert", "snapshot_id", snapshot_id);
  struct os_call call = { .service = OS_VOLUME, .method = "POST", .path = path, .body = body,
                          .headers = hdrs, .what = what };
  CLEANUP_JSON json_t *ans = os_call (c, &call, NULL);

  return ans ? 0 : -1;
}
