/* ferry: per-VM migration state, see state.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>

#include "workflow/state.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

const char *
state_now (char *buf, size_t n)
{
  time_t t = time (NULL);
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

char *
state_safe_name (const char *name)
{
  size_t n = strlen (name);
  char *s = strndup (name, n > 64 ? 64 : n);
  for (char *p = s; p && *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
          || *p == '_' || *p == '-' || *p == '.'))
      *p = '_';
  return s;
}

int
state_open (struct vm_state *st, const char *data_dir, const char *vm_name)
{
  CLEANUP_FREE char *safe = state_safe_name (vm_name);
  json_error_t e;

  memset (st, 0, sizeof *st);
  st->lock_fd = -1;
  st->dir = xasprintf ("%s/%s", data_dir, safe);
  st->path = xasprintf ("%s/ferry-state.json", st->dir);
  if (st->dir == NULL || st->path == NULL || mkdir_p (st->dir, 0700) == -1) {
    log_error ("VM %s: cannot create %s: %s; set os_migrate_vmw_data_dir to a writable "
               "directory", vm_name, st->dir ? st->dir : data_dir, strerror (errno));
    return -1;
  }
  {
    CLEANUP_FREE char *lock = xasprintf ("%s/.lock", st->dir);
    st->lock_fd = lock ? open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (st->lock_fd == -1 || flock (st->lock_fd, LOCK_EX | LOCK_NB) == -1) {
      log_error ("VM %s: another ferry is working on this VM (%s is locked): wait for it to "
                 "finish, or stop it", vm_name, lock ? lock : st->dir);
      if (st->lock_fd != -1)
        close (st->lock_fd);
      st->lock_fd = -1;
      return -1;
    }
  }
  if (access (st->path, F_OK) == 0) {
    st->j = json_load_file (st->path, 0, &e);
    if (st->j == NULL || !json_is_object (st->j)) {
      log_error ("VM %s: %s is damaged (%s, line %d): move it aside to start over "
                 "(resources ferry created are still found by their metadata)",
                 vm_name, st->path, e.text, e.line);
      json_decref (st->j);
      st->j = NULL;
      close (st->lock_fd);
      st->lock_fd = -1;
      return -1;
    }
  }
  else {
    char now[32];
    st->j = json_pack ("{s:s, s:s, s:s}", "vm", vm_name, "phase", "new",
                       "created", state_now (now, sizeof now));
  }
  return 0;
}

static int
fsync_dir (const char *dir)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

  if (fd == -1)
    return -1;
  r = fsync (fd);
  close (fd);
  return r;
}

int
state_save (struct vm_state *st)
{
  CLEANUP_FREE char *tmp = xasprintf ("%s.tmp", st->path);
  CLEANUP_FREE char *text = NULL;
  char now[32];
  int fd, e;
  bool ok;
  size_t len;

  json_object_set_new (st->j, "updated", json_string (state_now (now, sizeof now)));
  text = json_dumps (st->j, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  if (tmp == NULL || text == NULL) {
    log_error ("cannot write %s: out of memory", st->path);
    st->write_failed = true;
    return -1;
  }
  len = strlen (text);
  errno = 0;
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ok = fd != -1 && write (fd, text, len) == (ssize_t) len && write (fd, "\n", 1) == 1
    && fsync (fd) == 0;
  e = errno;
  if (fd != -1 && close (fd) == -1 && ok) {      /* closed once, whatever happened */
    ok = false;
    e = errno;
  }
  if (!ok) {
    unlink (tmp);
    log_error ("cannot write %s: %s: free space there (or set os_migrate_vmw_data_dir to a "
               "writable directory) and run ferry again", tmp, strerror (e ? e : EIO));
    st->write_failed = true;
    return -1;
  }
  /* The new file replaces the old one atomically; the directory's sync
   * makes the rename itself survive a power cut. */
  if (rename (tmp, st->path) == -1 || fsync_dir (st->dir) == -1) {
    log_error ("cannot replace %s: %s: free space there (or set os_migrate_vmw_data_dir to a "
               "writable directory) and run ferry again", st->path, strerror (errno));
    unlink (tmp);
    st->write_failed = true;
    return -1;
  }
  return 0;
}

void
state_close (struct vm_state *st)
{
  if (st->lock_fd >= 0)
    close (st->lock_fd);            /* releases the lock */
  json_decref (st->j);
  free (st->dir);
  free (st->path);
  memset (st, 0, sizeof *st);
}

int
state_phase (struct vm_state *st, const char *phase)
{
  json_object_set_new (st->j, "phase", json_string (phase));
  if (st->on_phase)
    st->on_phase (st->on_phase_opaque, phase);
  return state_save (st);
}

json_t *
state_obj (struct vm_state *st, const char *key)
{
  json_t *o = json_object_get (st->j, key);
  if (!json_is_object (o)) {
    o = json_object ();
    json_object_set_new (st->j, key, o);
  }
  return o;
}

long long
disk_key (const json_t *disk)
{
  return json_integer_value (json_object_get (disk, "key"));
}

const char *
disk_key_str (long long key, char buf[DISK_KEY_LEN])
{
  snprintf (buf, DISK_KEY_LEN, "%lld", key);
  return buf;
}

json_t *
state_disk (struct vm_state *st, long long key)
{
  char k[DISK_KEY_LEN];
  return json_object_get (json_object_get (st->j, "volumes"), disk_key_str (key, k));
}

void
state_disk_set (struct vm_state *st, long long key, json_t *rec)
{
  char k[DISK_KEY_LEN];
  json_object_set_new (state_obj (st, "volumes"), disk_key_str (key, k), rec);
}

void
state_disk_del (struct vm_state *st, long long key)
{
  char k[DISK_KEY_LEN];
  json_object_del (state_obj (st, "volumes"), disk_key_str (key, k));
}

char *
state_disk_path (const struct vm_state *st, long long key, const char *suffix)
{
  char *p;
  return asprintf (&p, "%s/disk-%lld%s", st->dir, key, suffix) == -1 ? NULL : p;
}
