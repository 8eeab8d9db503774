/* ferry: `ferry status` and `ferry teardown` over the per-VM state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "workflow/migrate.h"
#include "workflow/state.h"
#include "conversion-host/convert.h"
#include "conversion-host/attach.h"
#include "config/clouds.h"
#include "openstack/resources.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

/* Names given, or every VM with a state file in the data dir. */
static json_t *
names_or_all (const struct config *cfg, const json_t *names)
{
  const char *dir = config_get_string (cfg, "os_migrate_vmw_data_dir");
  json_t *out;
  DIR *d;
  struct dirent *e;

  if (json_array_size (names))
    return json_incref ((json_t *) names);
  out = json_array ();
  d = opendir (dir);
  if (d == NULL)
    return out;
  while ((e = readdir (d)) != NULL) {
    CLEANUP_FREE char *p = xasprintf ("%s/%s/ferry-state.json", dir, e->d_name);
    if (e->d_name[0] != '.' && p && access (p, R_OK) == 0) {
      CLEANUP_JSON json_t *j = json_load_file (p, 0, NULL);
      const char *vm = json_string_value (json_object_get (j, "vm"));
      json_array_append_new (out, json_string (vm ? vm : e->d_name));
    }
  }
  closedir (d);
  return out;
}

json_t *
migrate_status (const struct config *cfg, const json_t *names)
{
  CLEANUP_JSON json_t *list = names_or_all (cfg, names);
  json_t *out = json_array ();
  size_t i;
  json_t *n;

  json_array_foreach (list, i, n) {
    CLEANUP_FREE char *safe = state_safe_name (json_string_value (n));
    CLEANUP_FREE char *p = xasprintf ("%s/%s/ferry-state.json",
                                      config_get_string (cfg, "os_migrate_vmw_data_dir"), safe);
    json_t *j = p && access (p, R_OK) == 0 ? json_load_file (p, 0, NULL) : NULL;
    json_t *o = json_object ();
    long long copied = 0, total = 0;
    const char *k;
    json_t *v;

    json_object_set_new (o, "name", json_incref (n));
    json_object_set_new (o, "phase", json_string (j ? json_string_value (json_object_get (j, "phase"))
                                                  : "not started"));
    json_object_foreach (json_object_get (j, "volumes"), k, v) {
      copied += json_integer_value (json_object_get (v, "bytes_copied"));
      total += json_integer_value (json_object_get (v, "bytes_total"));
    }
    json_object_set_new (o, "bytes_copied", json_integer (copied));
    json_object_set_new (o, "bytes_total", json_integer (total));
    if (j) {
      static const char *const keep[] = { "mode", "started", "finished", "updated", "error",
                                          "durations", "volumes", "ports", "server", "flavor",
                                          "snapshot", "syncs", "predicted_downtime_s",
                                          "downtime_s", "conversion", NULL };
      for (size_t x = 0; keep[x]; x++)
        if (json_object_get (j, keep[x]))
          json_object_set (o, keep[x], json_object_get (j, keep[x]));
    }
    json_decref (j);
    json_array_append_new (out, o);
  }
  return out;
}

int
migrate_teardown (const struct config *cfg, const json_t *names)
{
  CLEANUP_JSON json_t *list = names_or_all (cfg, names);
  CLEANUP_JSON json_t *cloud = NULL;
  CLEANUP_FREE char *err = NULL;
  CLEANUP_FREE char *conv = NULL;
  struct os_client *os;
  int rc = 0, x;
  size_t i;
  json_t *n;

  if (json_array_size (list) == 0) {
    log_error ("nothing to tear down: no VM selected and no state in %s",
               config_get_string (cfg, "os_migrate_vmw_data_dir"));
    return FERRY_EXIT_USAGE;
  }
  cloud = clouds_resolve (cfg, &err);
  if (cloud == NULL) {
    log_error ("%s", err ? err : "no OpenStack destination: set dst_cloud (or OS_CLOUD)");
    return FERRY_EXIT_USAGE;
  }
  os = os_connect (cloud, &x);
  if (os == NULL)
    return x;
  json_array_foreach (list, i, n) {
    const char *vm = json_string_value (n);
    struct vm_state st;
    const char *k;
    json_t *v;
    size_t p;
    json_t *port;
    const char *sid;
    bool ok = true;

    if (state_open (&st, config_get_string (cfg, "os_migrate_vmw_data_dir"), vm) == -1) {
      rc = FERRY_EXIT_FAILED;
      continue;
    }
    sid = json_string_value (json_object_get (json_object_get (st.j, "server"), "id"));
    if (sid && config_get_bool (cfg, "delete_os_instance")) {
      if (os_server_delete (os, sid) == 0 && os_server_wait_gone (os, sid, 600) == 0) {
        log_info ("VM %s: server %s deleted", vm, sid);
        json_object_del (st.j, "server");
      }
      else
        ok = false;
    }
    json_array_foreach (json_object_get (st.j, "ports"), p, port) {
      const char *pid = json_string_value (json_object_get (port, "id"));
      if (pid && config_get_bool (cfg, "delete_os_port")) {
        if (os_port_delete (os, pid) == 0)
          log_info ("VM %s: port %s deleted", vm, pid);
        else
          ok = false;
      }
    }
    if (ok && config_get_bool (cfg, "delete_os_port"))
      json_object_del (st.j, "ports");
    if (config_get_bool (cfg, "delete_os_volume")) {
      void *tmp;
      json_object_foreach_safe (json_object_get (st.j, "volumes"), tmp, k, v) {
        const char *vid = json_string_value (json_object_get (v, "id"));
        bool gone = false;
        CLEANUP_JSON json_t *vol = vid ? os_volume_get (os, vid, true, &gone) : NULL;
        const char *status = json_string_value (json_object_get (vol, "status"));
        if (vol && status && strcmp (status, "in-use") == 0) {
          /* Still on the conversion host after an interrupted run. */
          if (conv == NULL)
            conv = conversion_host_id (config_get_string (cfg, "instance_uuid"));
          if (conv)
            detach_volume (os, conv, vid, vm);
        }
        if (vid && !gone)
          convert_restore_points_purge (os, vm, vid);     /* an interrupted conversion's */
        if (vid && (gone || (os_volume_delete (os, vid) == 0
                             && os_volume_wait_gone (os, vid, 600) == 0))) {
          CLEANUP_FREE char *ck = xasprintf ("%s/disk-%s.checkpoint", st.dir, k);
          log_info ("VM %s: volume %s deleted", vm, vid);
          unlink (ck);
          json_object_del (json_object_get (st.j, "volumes"), k);   /* frees k */
        }
        else
          ok = false;
      }
    }
    {
      json_t *fl = json_object_get (st.j, "flavor");
      if (json_is_true (json_object_get (fl, "created")) && json_string_value (json_object_get (fl, "id"))) {
        CLEANUP_FREE char *path = xasprintf ("/flavors/%s",
                                             json_string_value (json_object_get (fl, "id")));
        if (os_delete (os, OS_COMPUTE, path, "Nova delete flavor") == 0)
          log_info ("VM %s: flavor %s deleted", vm, json_string_value (json_object_get (fl, "name")));
      }
    }
    if (ok) {
      /* Start over from nothing: a new migration of this VM is a new one. */
      char now[32];
      json_decref (st.j);
      st.j = json_pack ("{s:s, s:s, s:s}", "vm", vm, "phase", "torn down",
                        "torn_down", state_now (now, sizeof now));
    }
    else
      json_object_set_new (st.j, "phase", json_string ("teardown incomplete"));
    state_save (&st);
    state_close (&st);
    if (!ok)
      rc = FERRY_EXIT_DEST;
  }
  os_disconnect (os);
  return rc;
}
