/* ferry: volumes on the conversion host, see attach.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "conversion-host/attach.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

#define BYID "/dev/disk/by-id"

char *
conversion_host_id (const char *configured)
{
  char *id;

  if (configured && *configured)
    return strdup (configured);
  id = os_metadata_instance_uuid (2);
  if (id == NULL)
    log_error ("no conversion host: this machine has no OpenStack metadata service; set "
               "import_workloads_instance_uuid (instance_uuid) to the conversion host's "
               "server id, or run ferry on the conversion host");
  return id;
}

/* The by-id entry for the volume, or NULL. */
static char *
find_device (const char *volume_id)
{
  char prefix[21];
  DIR *d;
  struct dirent *e;
  char *found = NULL;

  snprintf (prefix, sizeof prefix, "%s", volume_id);
  d = opendir (BYID);
  if (d == NULL)
    return NULL;
  while ((e = readdir (d)) != NULL) {
    bool virtio = strncmp (e->d_name, "virtio-", 7) == 0 && strcmp (e->d_name + 7, prefix) == 0;
    bool scsi = strncmp (e->d_name, "scsi-", 5) == 0 && strstr (e->d_name, prefix) != NULL
      && strstr (e->d_name, "-part") == NULL;
    if (virtio || (scsi && found == NULL)) {
      char *p = xasprintf (BYID "/%s", e->d_name);
      char real[PATH_MAX];
      if (p && realpath (p, real)) {
        free (found);
        found = strdup (real);
      }
      free (p);
      if (virtio)
        break;
    }
  }
  closedir (d);
  return found;
}

char *
attach_wait_device (const char *volume_id, const char *what, int timeout_s)
{
  struct timespec t0, t;

  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (;;) {
    char *dev = find_device (volume_id);
    if (dev) {
      struct stat sb;
      if (stat (dev, &sb) == 0 && S_ISBLK (sb.st_mode))
        return dev;
      free (dev);
    }
    clock_gettime (CLOCK_MONOTONIC, &t);
    if (t.tv_sec - t0.tv_sec >= timeout_s)
      break;
    struct timespec ts = { 0, 200 * 1000000L };
    nanosleep (&ts, NULL);
  }
  log_error ("%s: volume %s is attached but no device %s/virtio-%.20s appeared within %d s: "
             "is this machine the conversion host (instance_uuid), and does udev run?",
             what, volume_id, BYID, volume_id, timeout_s);
  return NULL;
}

static bool
attached_to (struct os_client *os, const char *server_id, const char *volume_id)
{
  CLEANUP_JSON json_t *a = os_server_attachments (os, server_id);
  size_t i;
  json_t *e;

  json_array_foreach (a, i, e) {
    const char *v = json_string_value (json_object_get (e, "volumeId"));
    if (v && strcmp (v, volume_id) == 0)
      return true;
  }
  return false;
}

int
attach_volume_start (struct os_client *os, const char *server_id, const char *volume_id)
{
  if (!attached_to (os, server_id, volume_id)) {
    CLEANUP_JSON json_t *r = os_server_attach_volume (os, server_id, volume_id);
    if (r == NULL)
      return -1;
  }
  return 0;
}

char *
attach_volume_finish (struct os_client *os, const char *volume_id, const char *what)
{
  CLEANUP_JSON json_t *v = os_volume_wait (os, volume_id, "in-use", 600);

  if (v == NULL)
    return NULL;
  return attach_wait_device (volume_id, what, 120);
}

char *
attach_volume (struct os_client *os, const char *server_id, const char *volume_id,
               const char *what)
{
  if (attach_volume_start (os, server_id, volume_id) == -1)
    return NULL;
  return attach_volume_finish (os, volume_id, what);
}

int
detach_volume_start (struct os_client *os, const char *server_id, const char *volume_id)
{
  if (attached_to (os, server_id, volume_id)
      && os_server_detach_volume (os, server_id, volume_id) == -1)
    return -1;
  return 0;
}

struct detached {
  struct os_client *os;
  const char *server_id, *volume_id;
};

/* Is the volume no longer attached to the server (and not detaching)? */
static int
detached_done (void *arg)
{
  struct detached *w = arg;
  CLEANUP_JSON json_t *v = os_volume_get (w->os, w->volume_id, false, NULL);
  const char *status = json_string_value (json_object_get (v, "status"));
  size_t i;
  json_t *a;

  if (v == NULL || status == NULL)
    return -1;
  if (strncmp (status, "error", 5) == 0)
    return -1;
  if (strcmp (status, "detaching") == 0)
    return 0;
  json_array_foreach (json_object_get (v, "attachments"), i, a) {
    const char *sid = json_string_value (json_object_get (a, "server_id"));
    if (sid && w->server_id && strcmp (sid, w->server_id) == 0)
      return 0;
  }
  return 1;
}

int
detach_volume_finish (struct os_client *os, const char *server_id, const char *volume_id,
                      const char *what)
{
  struct detached w = { .os = os, .server_id = server_id, .volume_id = volume_id };
  /* Detached from this server, whatever else holds it: after an
   * interrupted run the volume may already belong to the new instance. */
  int r = os_poll_kind ("volume detached", 600, 500, detached_done, &w);

  if (r != 0) {
    log_error ("%s: volume %s is %s from server %s%s", what, volume_id,
               r == -2 ? "still attached after 600 s" : "not detached", server_id,
               r == -2 ? ": look at the volume's attachments in Cinder" : "");
    return -1;
  }
  /* The device goes away with the detach; don't let a later attach of
   * another volume be confused with it. */
  for (int i = 0; i < 150; i++) {
    char *dev = find_device (volume_id);
    if (dev == NULL)
      return 0;
    free (dev);
    sleep_ms (200);
  }
  log_warn ("%s: the device of volume %s is still present after the detach", what, volume_id);
  return 0;
}

int
detach_volume (struct os_client *os, const char *server_id, const char *volume_id,
               const char *what)
{
  if (detach_volume_start (os, server_id, volume_id) == -1)
    return -1;
  return detach_volume_finish (os, server_id, volume_id, what);
}
