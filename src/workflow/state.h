/* ferry: what ferry knows of a VM's migration, kept durably in
 * <os_migrate_vmw_data_dir>/<vm>/ferry-state.json (written atomically:
 * temporary file, fsync, rename), so that a rerun after a failure or a
 * kill -9 resumes instead of duplicating, and `ferry status` and
 * `ferry teardown` know what exists.  Resources on the destination also
 * carry ferry's metadata (volumes) and tags (ports, servers), so they are
 * found again even without this file. */
#ifndef FERRY_WORKFLOW_STATE_H
#define FERRY_WORKFLOW_STATE_H

#include <stdbool.h>
#include <jansson.h>

struct vm_state {
  int lock_fd;                /* flock on <dir>/.lock while open */
  char *dir;                  /* <data>/<vm> */
  char *path;                 /* <dir>/ferry-state.json */
  json_t *j;                  /* the document */
  /* Told of every state_phase (the progress board); set after state_open. */
  void (*on_phase) (void *opaque, const char *phase);
  void *on_phase_opaque;
  /* A write failed since state_open: what the file says may be behind
   * what was done.  The workflow stops at its next check (state_check). */
  bool write_failed;
};

/* Load (or start) the state of vm_name under data_dir, holding its lock:
 * two ferry processes never work on one VM at once (the second is refused
 * with a message).  0 or -1 (logged). */
int state_open (struct vm_state *st, const char *data_dir, const char *vm_name);
/* Write it now, durably (the file and its directory synced).  0 or -1
 * (logged, and write_failed set). */
int state_save (struct vm_state *st);
void state_close (struct vm_state *st);

/* Set "phase" and "updated" (and save). */
int state_phase (struct vm_state *st, const char *phase);
/* The object at key (created empty if absent).  Borrowed. */
json_t *state_obj (struct vm_state *st, const char *key);

/* ---- per disk ----
 * A disk is known by its vSphere device key (e.g. 2000); the state keeps
 * each disk's record under "volumes" with the key as a decimal string,
 * and the disk's files beside the state: disk-KEY.checkpoint (what the
 * copy has done), disk-KEY.src (the source's work dir),
 * disk-KEY-source.log, disk-KEY.raw (a local image on the Glance path). */

#define DISK_KEY_LEN 24
/* The device key of a disk in discovery's JSON (0 if absent). */
long long disk_key (const json_t *disk);
/* key as the state writes it, in buf.  Returns buf. */
const char *disk_key_str (long long key, char buf[DISK_KEY_LEN]);
/* The disk's record (borrowed; NULL if none). */
json_t *state_disk (struct vm_state *st, long long key);
/* Set (rec stolen) or delete the disk's record (not saved). */
void state_disk_set (struct vm_state *st, long long key, json_t *rec);
void state_disk_del (struct vm_state *st, long long key);
/* <dir>/disk-KEY<suffix> (suffix ".checkpoint", ".src", "-source.log",
 * ".raw").  malloc'd, NULL if out of memory. */
char *state_disk_path (const struct vm_state *st, long long key, const char *suffix);

/* An ISO-8601 UTC timestamp of now, in buf (>= 32 bytes). */
const char *state_now (char *buf, size_t n);

/* A VM name made safe for file and resource names: [A-Za-z0-9_.-], at
 * most 64 characters (other characters become '_').  malloc'd. */
char *state_safe_name (const char *name);

#endif
