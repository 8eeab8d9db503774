/* os-tool: drive ferry's OpenStack client from shell tests.
 *
 *   os-tool [-e ARG]... [--debug] COMMAND ARGS...
 *
 * The cloud is dst_cloud from the -e configuration, else OS_CLOUD /
 * clouds.yaml / OS_* (clouds_resolve).  Prints JSON on stdout; exits 0, or
 * 4 after the library logged why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
#include <sys/stat.h>

#include "openstack/openstack.h"
#include "openstack/resources.h"
#include "openstack/internal.h"
#include "config/config.h"
#include "config/clouds.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/http.h"
#include "common/log.h"
#include "common/util.h"
#include "workflow/plan.h"

#define FAIL 4

static void
print (const json_t *j)
{
  char *s = json_dumps (j, JSON_INDENT (2) | JSON_ENCODE_ANY | JSON_SORT_KEYS);
  if (s)
    puts (s);
  free (s);
}

static json_t *
arg_json (const char *s)
{
  json_error_t e;
  json_t *j = json_loads (s, JSON_DECODE_ANY, &e);
  if (j == NULL)
    fprintf (stderr, "os-tool: bad JSON '%s': %s\n", s, e.text);
  return j;
}

static struct os_client *
connect_cfg (struct config *cfg, int *rc)
{
  CLEANUP_FREE char *err = NULL;
  CLEANUP_JSON json_t *cloud = clouds_resolve (cfg, &err);

  if (cloud == NULL) {
    fprintf (stderr, "os-tool: %s\n", err ? err : "no cloud configured");
    *rc = FERRY_EXIT_USAGE;
    return NULL;
  }
  return os_connect (cloud, rc);
}

/* A client for a named cloud of clouds.yaml. */
static struct os_client *
connect_named (const char *name, int *rc)
{
  struct config *cfg = config_new ();
  CLEANUP_FREE char *arg = xasprintf ("dst_cloud=%s", name);
  struct os_client *c = NULL;

  if (config_add_arg (cfg, arg) == 0)
    c = connect_cfg (cfg, rc);
  config_free (cfg);
  return c;
}

static int
cmd_auth (struct os_client *c)
{
  CLEANUP_JSON json_t *out = json_pack ("{s:s, s:s, s:s, s:s?, s:I, s:i, s:{}}",
                                        "project_id", os_project_id (c),
                                        "project_name", os_project_name (c),
                                        "user_id", os_user_id (c), "region", os_region (c),
                                        "expires_in_s",
                                        (json_int_t) (os_token_expires (c) - time (NULL)),
                                        "auth_count", (int) os_auth_count (c), "endpoints");
  static const char *const s[] = { OS_IDENTITY, OS_COMPUTE, OS_VOLUME, OS_NETWORK, OS_IMAGE, NULL };
  for (size_t i = 0; s[i]; i++)
    if (os_endpoint (c, s[i]))
      json_object_set_new (json_object_get (out, "endpoints"), s[i],
                           json_string (os_endpoint (c, s[i])));
  print (out);
  return 0;
}

/* Revoke the client's token with the admin's, then call again. */
static int
cmd_revoke (struct os_client *c, const char *admin_cloud)
{
  int rc;
  struct os_client *adm = connect_named (admin_cloud, &rc);
  CLEANUP_FREE char *hdr = NULL;
  CLEANUP_JSON json_t *a = NULL;
  CLEANUP_JSON json_t *b = NULL;
  CLEANUP_JSON json_t *out = NULL;
  long st = 0, st2 = 0;
  unsigned before = os_auth_count (c);

  if (adm == NULL)
    return FAIL;
  hdr = xasprintf ("X-Subject-Token: %s", os_token (c));
  {
    const char *const hdrs[] = { hdr, NULL };
    struct os_call call = { .service = OS_IDENTITY, .method = "DELETE", .path = "/auth/tokens",
                            .headers = hdrs, .what = "revoke the token" };
    a = os_call (adm, &call, &st);
  }
  os_disconnect (adm);
  if (a == NULL)
    return FAIL;
  b = os_request (c, OS_VOLUME, "GET", "/types", NULL, &st2);
  out = json_pack ("{s:i, s:i, s:i, s:b}", "revoke_status", (int) st, "auth_count_before",
                   (int) before, "auth_count_after", (int) os_auth_count (c), "call_ok", b != NULL);
  print (out);
  return b ? 0 : FAIL;
}

static int
cmd_renew (struct os_client *c)
{
  CLEANUP_JSON json_t *b = NULL;
  CLEANUP_JSON json_t *out = NULL;
  unsigned before = os_auth_count (c);

  c->expires = time (NULL) + 60;       /* "expires in a minute" */
  b = os_request (c, OS_VOLUME, "GET", "/types", NULL, NULL);
  out = json_pack ("{s:i, s:i, s:b, s:b}", "auth_count_before", (int) before,
                   "auth_count_after", (int) os_auth_count (c), "call_ok", b != NULL,
                   "expiry_moved", os_token_expires (c) > time (NULL) + 120);
  print (out);
  return b ? 0 : FAIL;
}

static json_t *
make_volume (struct os_client *c, const char *name, long long size, const char *type,
             const json_t *meta, bool bootable)
{
  struct os_volume_spec spec = { .name = name, .size_gb = size, .volume_type = type,
                                 .metadata = meta, .bootable = bootable };
  json_t *v = os_volume_create (c, &spec), *w;

  if (v == NULL)
    return NULL;
  w = os_volume_wait (c, json_string_value (json_object_get (v, "id")), "available", 120);
  if (w == NULL)
    os_volume_delete (c, json_string_value (json_object_get (v, "id")));
  json_decref (v);
  return w;
}

/* Volume + port with MAC + server booted from the volume; ACTIVE; all deleted. */
static int
cmd_boot (struct os_client *c, char **a)
{
  const char *name = a[0], *flavor = a[1], *net = a[2], *mac = a[3], *key = a[4], *sg = a[5];
  CLEANUP_JSON json_t *vol = make_volume (c, name, 1, NULL, NULL, true);
  CLEANUP_JSON json_t *port = NULL;
  CLEANUP_JSON json_t *srv = NULL;
  CLEANUP_JSON json_t *active = NULL;
  CLEANUP_JSON json_t *netobj = NULL;
  CLEANUP_JSON json_t *sgobj = NULL;
  CLEANUP_JSON json_t *bdm = NULL;
  CLEANUP_JSON json_t *ports = NULL;
  CLEANUP_JSON json_t *sgs = NULL;
  CLEANUP_JSON json_t *tags = json_pack ("[s]", "ferry-test");
  CLEANUP_JSON json_t *out = NULL;
  CLEANUP_FREE char *why = NULL;
  CLEANUP_FREE char *why2 = NULL;
  const char *vid, *pid = NULL, *sid = NULL;
  int rc = FAIL;

  if (vol == NULL)
    return FAIL;
  vid = json_string_value (json_object_get (vol, "id"));
  if (os_network_find (c, net, &netobj, &why) != 0
      || os_security_group_find (c, sg, &sgobj, &why2) != 0) {
    fprintf (stderr, "os-tool: %s\n", why ? why : why2 ? why2 : "lookup failed");
    goto out;
  }
  sgs = json_pack ("[O]", json_object_get (sgobj, "id"));
  {
    struct os_port_spec ps = { .network_id = json_string_value (json_object_get (netobj, "id")),
                               .name = name, .mac_address = mac, .security_groups = sgs,
                               .tags = tags, .description = "ferry test port" };
    port = os_port_create (c, &ps);
  }
  if (port == NULL)
    goto out;
  pid = json_string_value (json_object_get (port, "id"));
  bdm = json_pack ("[{s:i, s:s, s:s, s:s, s:b}]", "boot_index", 0, "uuid", vid,
                   "source_type", "volume", "destination_type", "volume",
                   "delete_on_termination", 0);
  ports = json_pack ("[s]", pid);
  {
    CLEANUP_JSON json_t *meta = json_pack ("{s:s}", "ferry", "test");
    struct os_server_spec ss = { .name = name, .flavor_id = flavor, .block_devices = bdm,
                                 .ports = ports, .key_name = key, .metadata = meta,
                                 .tags = tags, .user_data = "#cloud-config\n" };
    srv = os_server_create (c, &ss);
  }
  if (srv == NULL)
    goto out;
  sid = json_string_value (json_object_get (srv, "id"));
  active = os_server_wait_active (c, sid, 120);
  if (active == NULL)
    goto out;
  out = json_pack ("{s:O, s:O, s:O}", "server", active, "port", port, "volume", vol);
  print (out);
  rc = 0;
 out:
  if (sid && (os_server_delete (c, sid) == -1 || os_server_wait_gone (c, sid, 120) == -1))
    rc = FAIL;
  if (pid && os_port_delete (c, pid) == -1)
    rc = FAIL;
  {
    json_t *avail = os_volume_wait (c, vid, "available", 60);
    if (avail == NULL)
      rc = FAIL;
    json_decref (avail);
  }
  if (os_volume_delete (c, vid) == -1 || os_volume_wait_gone (c, vid, 60) == -1)
    rc = FAIL;
  return rc;
}

/* Attach a new volume to a server (the conversion host), list, detach. */
static int
cmd_attach (struct os_client *c, const char *server, const char *name)
{
  CLEANUP_JSON json_t *vol = make_volume (c, name, 1, NULL, NULL, false);
  CLEANUP_JSON json_t *att = NULL;
  CLEANUP_JSON json_t *list = NULL;
  CLEANUP_JSON json_t *inuse = NULL;
  CLEANUP_JSON json_t *out = NULL;
  CLEANUP_JSON json_t *back = NULL;
  const char *vid;
  int rc = FAIL;

  if (vol == NULL)
    return FAIL;
  vid = json_string_value (json_object_get (vol, "id"));
  att = os_server_attach_volume (c, server, vid);
  if (att == NULL)
    goto out;
  inuse = os_volume_wait (c, vid, "in-use", 120);
  list = os_server_attachments (c, server);
  if (inuse == NULL || list == NULL)
    goto out;
  if (os_server_detach_volume (c, server, vid) == -1)
    goto out;
  back = os_volume_wait (c, vid, "available", 120);
  if (back == NULL)
    goto out;
  out = json_pack ("{s:O, s:O, s:O}", "attachment", att, "attachments", list, "volume", inuse);
  print (out);
  rc = 0;
 out:
  if (os_volume_delete (c, vid) == -1)
    rc = FAIL;
  return rc;
}

static int
cmd_image (struct os_client *c, const char *name, const char *file, bool stream)
{
  CLEANUP_CLOSE int fd = strcmp (file, "-") == 0 ? dup (0) : open (file, O_RDONLY | O_CLOEXEC);
  CLEANUP_JSON json_t *props = json_pack ("{s:s, s:s, s:b}", "hw_firmware_type", "uefi",
                                          "os_type", "linux", "ferry_test", 1);
  CLEANUP_JSON json_t *img = NULL;
  CLEANUP_JSON json_t *act = NULL;
  CLEANUP_JSON json_t *out = NULL;
  struct stat sb;
  const char *id;
  int rc = FAIL;

  if (fd == -1 || fstat (fd, &sb) == -1) {
    perror (file);
    return FAIL;
  }
  img = os_image_create (c, name, "raw", "bare", props);
  if (img == NULL)
    return FAIL;
  id = json_string_value (json_object_get (img, "id"));
  if (os_image_upload (c, id, fd, stream ? -1 : (long long) sb.st_size) == 0
      && (act = os_image_wait_active (c, id, 120))) {
    out = json_pack ("{s:O}", "image", act);
    print (out);
    rc = 0;
  }
  if (os_image_delete (c, id) == -1)
    rc = FAIL;
  return rc;
}

int
main (int argc, char **argv)
{
  struct config *cfg = config_new ();
  struct os_client *c = NULL;
  const char *cmd;
  int i = 1, rc = 0;
  json_t *r = NULL;

  http_global_init ();
  while (i < argc && argv[i][0] == '-') {
    if (strcmp (argv[i], "-e") == 0 && i + 1 < argc) {
      if (config_add_arg (cfg, argv[i + 1]) == -1)
        return 2;
      i += 2;
    }
    else if (strcmp (argv[i], "--debug") == 0) {
      log_set_level (LOG_LEVEL_DEBUG);
      i++;
    }
    else
      break;
  }
  if (i >= argc) {
    fprintf (stderr, "usage: os-tool [-e ARG]... COMMAND ARGS...\n");
    return 2;
  }
  cmd = argv[i++];
#define NEED(n) do { if (argc - i < (n)) { fprintf (stderr, "os-tool %s: needs %d arguments\n", cmd, (n)); rc = 2; goto out; } } while (0)

  if (strcmp (cmd, "metadata-uuid") == 0) {
    CLEANUP_FREE char *u = os_metadata_instance_uuid (2);
    CLEANUP_JSON json_t *o = u ? json_string (u) : json_null ();
    print (o);
    goto out;
  }
  c = connect_cfg (cfg, &rc);
  if (c == NULL)
    goto out;

  if (strcmp (cmd, "auth") == 0)
    rc = cmd_auth (c);
  else if (strcmp (cmd, "request") == 0) {
    CLEANUP_JSON json_t *body = NULL;
    long st = 0;
    NEED (3);
    if (argc - i > 3 && (body = arg_json (argv[i + 3])) == NULL) { rc = 2; goto out; }
    r = os_request (c, argv[i + 1], argv[i], argv[i + 2], body, &st);
    fprintf (stderr, "os-tool: HTTP %ld\n", st);
  }
  else if (strcmp (cmd, "revoke-then-call") == 0) {
    NEED (1);
    rc = cmd_revoke (c, argv[i]);
  }
  else if (strcmp (cmd, "renew-before-expiry") == 0)
    rc = cmd_renew (c);
  else if (strcmp (cmd, "volume-create") == 0) {
    CLEANUP_JSON json_t *meta = NULL;
    NEED (2);
    if (argc - i > 3 && (meta = arg_json (argv[i + 3])) == NULL) { rc = 2; goto out; }
    r = make_volume (c, argv[i], atoll (argv[i + 1]),
                     argc - i > 2 && *argv[i + 2] ? argv[i + 2] : NULL, meta,
                     argc - i > 4 && strcmp (argv[i + 4], "bootable") == 0);
  }
  else if (strcmp (cmd, "volume-merge") == 0) {
    CLEANUP_JSON json_t *meta = NULL;
    NEED (2);
    if ((meta = arg_json (argv[i + 1])) == NULL) { rc = 2; goto out; }
    if (os_volume_merge_metadata (c, argv[i], meta) == 0)
      r = os_volume_get (c, argv[i], false, NULL);
  }
  else if (strcmp (cmd, "volume-image-meta") == 0) {
    CLEANUP_JSON json_t *meta = NULL;
    NEED (2);
    if ((meta = arg_json (argv[i + 1])) == NULL) { rc = 2; goto out; }
    if (os_volume_set_image_metadata (c, argv[i], meta) == 0)
      r = os_volume_get (c, argv[i], false, NULL);
  }
  else if (strcmp (cmd, "volume-list") == 0) {
    CLEANUP_JSON json_t *meta = NULL;
    NEED (1);
    if ((meta = arg_json (argv[i])) == NULL) { rc = 2; goto out; }
    r = os_volume_list (c, json_is_object (meta) ? meta : NULL, argc - i > 1 ? argv[i + 1] : NULL);
  }
  else if (strcmp (cmd, "volume-delete") == 0) {
    NEED (1);
    if (os_volume_delete (c, argv[i]) == 0 && os_volume_wait_gone (c, argv[i], 60) == 0)
      r = json_true ();
  }
  else if (strcmp (cmd, "volume-types") == 0)
    r = os_volume_types (c);
  else if (strcmp (cmd, "flavors") == 0)
    r = os_flavor_list (c);
  else if (strcmp (cmd, "flavor-fit") == 0) {
    CLEANUP_JSON json_t *fl = os_flavor_list (c);
    NEED (2);
    if (fl) {
      const json_t *f = plan_pick_flavor (fl, atoll (argv[i]), atoll (argv[i + 1]));
      r = f ? json_incref ((json_t *) f) : json_null ();
    }
  }
  else if (strcmp (cmd, "boot") == 0) {
    NEED (6);
    rc = cmd_boot (c, argv + i);
  }
  else if (strcmp (cmd, "attach") == 0) {
    NEED (2);
    rc = cmd_attach (c, argv[i], argv[i + 1]);
  }
  else if (strcmp (cmd, "port-create") == 0) {
    CLEANUP_JSON json_t *net = NULL;
    CLEANUP_FREE char *why = NULL;
    CLEANUP_JSON json_t *tags = json_pack ("[s]", "ferry-test");
    NEED (3);
    if (os_network_find (c, argv[i], &net, &why) != 0) {
      fprintf (stderr, "os-tool: %s\n", why ? why : "network lookup failed");
      rc = FAIL;
      goto out;
    }
    {
      struct os_port_spec ps = { .network_id = json_string_value (json_object_get (net, "id")),
                                 .mac_address = argv[i + 1], .name = argv[i + 2],
                                 .tags = tags };
      r = os_port_create (c, &ps);
    }
  }
  else if (strcmp (cmd, "port-list") == 0) {
    NEED (1);
    r = os_port_list (c, argv[i]);
  }
  else if (strcmp (cmd, "port-delete") == 0) {
    NEED (1);
    if (os_port_delete (c, argv[i]) == 0)
      r = json_true ();
  }
  else if (strcmp (cmd, "network-find") == 0 || strcmp (cmd, "sg-find") == 0) {
    CLEANUP_FREE char *why = NULL;
    int f;
    NEED (1);
    f = cmd[0] == 'n' ? os_network_find (c, argv[i], &r, &why)
      : os_security_group_find (c, argv[i], &r, &why);
    if (f == 1) {
      fprintf (stderr, "os-tool: %s\n", why);
      rc = 1;
      goto out;
    }
  }
  else if (strcmp (cmd, "image-upload") == 0 || strcmp (cmd, "image-upload-stream") == 0) {
    NEED (2);
    rc = cmd_image (c, argv[i], argv[i + 1], strstr (cmd, "stream") != NULL);
  }
  else if (strcmp (cmd, "quotas") == 0)
    r = os_quotas (c);
  else if (strcmp (cmd, "nova-version") == 0) {
    char *v = os_nova_max_microversion (c);
    if (v)
      r = json_string (v);
    free (v);
  }
  else if (strcmp (cmd, "keypair") == 0) {
    NEED (1);
    r = os_keypair_get (c, argv[i], false, NULL);
  }
  else {
    fprintf (stderr, "os-tool: unknown command %s\n", cmd);
    rc = 2;
    goto out;
  }
  if (strcmp (cmd, "auth") && strcmp (cmd, "boot") && strcmp (cmd, "attach")
      && strncmp (cmd, "image-upload", 12) && strcmp (cmd, "revoke-then-call")
      && strcmp (cmd, "renew-before-expiry")) {
    if (r) {
      print (r);
      rc = 0;
    }
    else if (rc == 0)
      rc = FAIL;
  }
 out:
  json_decref (r);
  os_disconnect (c);
  config_free (cfg);
  http_global_cleanup ();
  return rc;
}
