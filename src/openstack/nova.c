/* ferry: Nova v2.1 -- flavors, servers, volume attachments, limits,
 * key pairs, the metadata service. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openstack/resources.h"
#include "openstack/internal.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

static json_t *
member (json_t *ans, const char *key)
{
  json_t *m = json_incref (json_object_get (ans, key));
  json_decref (ans);
  return m;
}

static json_t *
get_quiet (struct os_client *c, const char *path, const char *what, const char *key,
           bool quiet_404, bool *gone)
{
  struct os_call call = { .service = OS_COMPUTE, .method = "GET", .path = path, .what = what,
                          .quiet_404 = quiet_404 };
  long st = 0;
  json_t *r = member (os_call (c, &call, &st), key);

  if (gone)
    *gone = st == 404;
  return r;
}

json_t *
os_flavor_list (struct os_client *c)
{
  return os_list (c, OS_COMPUTE, "/flavors/detail", "flavors", "Nova list flavors");
}

json_t *
os_flavor_get (struct os_client *c, const char *id, bool quiet_404, bool *gone)
{
  CLEANUP_FREE char *path = xasprintf ("/flavors/%s", id);
  CLEANUP_FREE char *what = xasprintf ("Nova get flavor %s", id);
  return get_quiet (c, path, what, "flavor", quiet_404, gone);
}

json_t *
os_flavor_create (struct os_client *c, const char *name, int vcpus, long long ram_mb,
                  long long disk_gb, bool is_public)
{
  return os_flavor_create_described (c, name, vcpus, ram_mb, disk_gb, is_public, NULL);
}

json_t *
os_flavor_create_described (struct os_client *c, const char *name, int vcpus, long long ram_mb,
                            long long disk_gb, bool is_public, const char *description)
{
  CLEANUP_JSON json_t *body = json_pack ("{s:{s:s, s:i, s:I, s:I, s:b, s:s?}}", "flavor",
                                         "name", name, "vcpus", vcpus, "ram", (json_int_t) ram_mb,
                                         "disk", (json_int_t) disk_gb,
                                         "os-flavor-access:is_public", is_public,
                                         "description", description);
  CLEANUP_FREE char *what = xasprintf ("Nova create flavor '%s' (%d vCPU, %lld MiB)", name,
                                       vcpus, ram_mb);
  struct os_call call = { .service = OS_COMPUTE, .method = "POST", .path = "/flavors",
                          .body = body, .what = what };
  return member (os_call (c, &call, NULL), "flavor");
}

int
os_flavor_delete (struct os_client *c, const char *id)
{
  CLEANUP_FREE char *path = xasprintf ("/flavors/%s", id);
  CLEANUP_FREE char *what = xasprintf ("Nova delete flavor %s", id);
  return os_delete (c, OS_COMPUTE, path, what);
}

/* Standard base64, malloc'd. */
static char *
base64 (const char *s)
{
  static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = strlen (s), o = 0;
  char *out = malloc ((n + 2) / 3 * 4 + 1);
  const unsigned char *p = (const unsigned char *) s;

  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    out[o++] = tbl[v >> 18 & 63];
    out[o++] = tbl[v >> 12 & 63];
    out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? tbl[v & 63] : '=';
  }
  out[o] = '\0';
  return out;
}

json_t *
os_server_create (struct os_client *c, const struct os_server_spec *spec)
{
  CLEANUP_JSON json_t *srv = json_pack ("{s:s, s:s}", "name", spec->name,
                                        "flavorRef", spec->flavor_id);
  CLEANUP_JSON json_t *body = NULL;
  CLEANUP_FREE char *what = xasprintf ("Nova create server '%s'", spec->name);
  size_t i;
  json_t *v;

  if (srv == NULL)
    return NULL;
  if (spec->block_devices)
    json_object_set_new (srv, "block_device_mapping_v2", json_deep_copy (spec->block_devices));
  if (spec->image_ref)
    json_object_set_new (srv, "imageRef", json_string (spec->image_ref));
  if (spec->ports) {
    json_t *nets = json_array ();
    json_array_foreach (spec->ports, i, v)
      json_array_append_new (nets, json_pack ("{s:O}", "port", v));
    json_object_set_new (srv, "networks", nets);
  }
  else if (spec->networks) {
    json_t *nets = json_array ();
    json_array_foreach (spec->networks, i, v)
      json_array_append_new (nets, json_pack ("{s:O}", "uuid", v));
    json_object_set_new (srv, "networks", nets);
  }
  else
    json_object_set_new (srv, "networks", json_string ("none"));
  if (spec->key_name)
    json_object_set_new (srv, "key_name", json_string (spec->key_name));
  if (spec->security_groups && !spec->ports) {
    json_t *sgs = json_array ();
    json_array_foreach (spec->security_groups, i, v)
      json_array_append_new (sgs, json_pack ("{s:O}", "name", v));
    json_object_set_new (srv, "security_groups", sgs);
  }
  if (spec->availability_zone)
    json_object_set_new (srv, "availability_zone", json_string (spec->availability_zone));
  if (spec->user_data) {
    char *b = base64 (spec->user_data);
    if (b == NULL)
      return NULL;
    json_object_set_new (srv, "user_data", json_string (b));
    free (b);
  }
  if (spec->metadata)
    json_object_set_new (srv, "metadata", json_deep_copy (spec->metadata));
  if (spec->tags)
    json_object_set_new (srv, "tags", json_deep_copy (spec->tags));
  body = json_pack ("{s:O}", "server", srv);
  {
    struct os_call call = { .service = OS_COMPUTE, .method = "POST", .path = "/servers",
                            .body = body, .what = what };
    return member (os_call (c, &call, NULL), "server");
  }
}

json_t *
os_server_get (struct os_client *c, const char *id, bool quiet_404, bool *gone)
{
  CLEANUP_FREE char *path = xasprintf ("/servers/%s", id);
  CLEANUP_FREE char *what = xasprintf ("Nova get server %s", id);
  return get_quiet (c, path, what, "server", quiet_404, gone);
}

int
os_server_set_metadata (struct os_client *c, const char *id, const json_t *metadata)
{
  CLEANUP_FREE char *path = xasprintf ("/servers/%s/metadata", id);
  CLEANUP_FREE char *what = xasprintf ("Nova set metadata on server %s", id);

  return os_post_metadata (c, OS_COMPUTE, path, metadata, what);
}

json_t *
os_server_list (struct os_client *c, const char *query)
{
  CLEANUP_FREE char *path = xasprintf ("/servers/detail%s%s", query && *query ? "?" : "",
                                       query ? query : "");
  return os_list (c, OS_COMPUTE, path, "servers", "Nova list servers");
}

static bool
server_failed (struct os_client *c, const char *id, const json_t *srv, const char *st,
               const char *awaited)
{
  const json_t *fault = json_object_get (srv, "fault");

  (void) c;
  (void) awaited;
  if (strcmp (st, "ERROR") != 0)
    return false;
  log_error ("Nova server %s (%s) went to ERROR: %s%s%s; see openstack server show %s "
             "and the nova-compute logs", id,
             json_string_value (json_object_get (srv, "name")) ?: "no name",
             json_string_value (json_object_get (fault, "message"))
             ? json_string_value (json_object_get (fault, "message")) : "no fault message",
             json_object_get (fault, "code") ? " (code " : "",
             json_object_get (fault, "code") ? "given)" : "", id);
  return true;
}

json_t *
os_server_wait_active (struct os_client *c, const char *id, int timeout_s)
{
  struct os_wait w = { .kind = "server ACTIVE", .id = id, .status = "ACTIVE",
                       .get = os_server_get, .failed = server_failed };
  int r = os_wait_status (c, &w, timeout_s);

  if (r == -2)
    log_error ("Nova server %s: still %s after %d s, waiting for ACTIVE", id,
               w.last ? w.last : "?", timeout_s);
  free (w.last);
  if (r != 0) {
    json_decref (w.res);
    return NULL;
  }
  return w.res;
}

int
os_server_delete (struct os_client *c, const char *id)
{
  CLEANUP_FREE char *path = xasprintf ("/servers/%s", id);
  CLEANUP_FREE char *what = xasprintf ("Nova delete server %s", id);
  return os_delete (c, OS_COMPUTE, path, what);
}

int
os_server_wait_gone (struct os_client *c, const char *id, int timeout_s)
{
  struct os_wait w = { .kind = "server deleted", .id = id, .get = os_server_get };
  int r = os_wait_status (c, &w, timeout_s);

  if (r == -2)
    log_error ("Nova server %s: still there %d s after its deletion (status %s)", id,
               timeout_s, json_string_value (json_object_get (w.res, "status")) ?: "unknown");
  json_decref (w.res);
  free (w.last);
  return r == 0 ? 0 : -1;
}

json_t *
os_server_attach_volume (struct os_client *c, const char *server_id, const char *volume_id)
{
  CLEANUP_FREE char *path = xasprintf ("/servers/%s/os-volume_attachments", server_id);
  CLEANUP_FREE char *what = xasprintf ("Nova attach volume %s to server %s", volume_id,
                                       server_id);
  CLEANUP_JSON json_t *body = json_pack ("{s:{s:s}}", "volumeAttachment", "volumeId",
                                         volume_id);
  struct os_call call = { .service = OS_COMPUTE, .method = "POST", .path = path, .body = body,
                          .what = what };
  return member (os_call (c, &call, NULL), "volumeAttachment");
}

json_t *
os_server_attachments (struct os_client *c, const char *server_id)
{
  CLEANUP_FREE char *path = xasprintf ("/servers/%s/os-volume_attachments", server_id);
  CLEANUP_FREE char *what = xasprintf ("Nova list volume attachments of server %s", server_id);
  return os_list (c, OS_COMPUTE, path, "volumeAttachments", what);
}

int
os_server_detach_volume (struct os_client *c, const char *server_id, const char *volume_id)
{
  CLEANUP_FREE char *path = xasprintf ("/servers/%s/os-volume_attachments/%s", server_id,
                                       volume_id);
  CLEANUP_FREE char *what = xasprintf ("Nova detach volume %s from server %s", volume_id,
                                       server_id);
  return os_delete (c, OS_COMPUTE, path, what);
}

json_t *
os_nova_limits (struct os_client *c)
{
  struct os_call call = { .service = OS_COMPUTE, .method = "GET", .path = "/limits",
                          .what = "Nova limits" };
  json_t *l = member (os_call (c, &call, NULL), "limits");
  return member (l, "absolute");
}

json_t *
os_keypair_get (struct os_client *c, const char *name, bool quiet_404, bool *gone)
{
  CLEANUP_FREE char *en = os_url_escape (name);
  CLEANUP_FREE char *path = xasprintf ("/os-keypairs/%s", en);
  CLEANUP_FREE char *what = xasprintf ("Nova get key pair '%s'", name);
  return get_quiet (c, path, what, "keypair", quiet_404, gone);
}

int
os_microversion_cmp (const char *a, const char *b)
{
  long amaj = 0, amin = 0, bmaj = 0, bmin = 0;

  sscanf (a, "%ld.%ld", &amaj, &amin);
  sscanf (b, "%ld.%ld", &bmaj, &bmin);
  if (amaj != bmaj)
    return amaj < bmaj ? -1 : 1;
  return amin < bmin ? -1 : amin > bmin;
}

char *
os_nova_max_microversion (struct os_client *c)
{
  /* The version document at the endpoint's root ("/"): {"version": {...}}. */
  struct os_call call = { .service = OS_COMPUTE, .method = "GET", .path = "/",
                          .what = "Nova version document" };
  CLEANUP_JSON json_t *ans = os_call (c, &call, NULL);
  const char *v = json_string_value (json_object_get (json_object_get (ans, "version"),
                                                      "version"));

  if (ans && v == NULL)
    log_error ("Nova version document: no version in the answer; is the compute "
               "endpoint %s Nova v2.1?", os_endpoint (c, OS_COMPUTE));
  return v ? strdup (v) : NULL;
}

char *
os_metadata_instance_uuid (int timeout_s)
{
  const char *url = getenv ("FERRY_METADATA_URL");
  struct http *h = http_new ("metadata service");
  struct http_response resp = { 0 };
  static const char *const hdrs[] = { "Accept: application/json", NULL };
  struct http_request req = { .method = "GET", .headers = hdrs, .idempotent = true,
                              .what = "metadata service" };
  CLEANUP_JSON json_t *j = NULL;
  const char *uuid;
  char *out = NULL;

  if (h == NULL)
    return NULL;
  req.url = url && *url ? url : "http://169.254.169.254/openstack/latest/meta_data.json";
  http_set_retries (h, 1, 0);
  http_set_timeouts (h, timeout_s, timeout_s);
  /* Not being on an OpenStack instance is normal: not an error. */
  req.quiet = true;
  {
    int r = http_request (h, &req, &resp);
    if (r == 0 && resp.status == 200) {
      j = json_loads (resp.body, 0, NULL);
      uuid = json_string_value (json_object_get (j, "uuid"));
      if (uuid)
        out = strdup (uuid);
    }
  }
  http_response_free (&resp);
  http_free (h);
  log_debug ("metadata service %s: instance uuid %s", req.url, out ? out : "(none)");
  return out;
}
