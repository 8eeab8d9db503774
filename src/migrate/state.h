/* ferry: what ferry knows of a VM's migration, kept durably in
 * <os_migrate_vmw_data_dir>/<vm>/ferry-state.json (written atomically:
 * temporary file, fsync, rename), so that a rerun after a failure or a
 * kill -9 resumes instead of duplicating, and `ferry status` and
 * `ferry teardown` know what exists.  Resources on the destination also
 * carry ferry's metadata (volumes) and tags (ports, servers), so they are
 * found again even without this file. */
#ifndef FERRY_MIGRATE_STATE_H
#define FERRY_MIGRATE_STATE_H

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

/* An ISO-8601 UTC timestamp of now, in buf (>= 32 bytes). */
const char *state_now (char *buf, size_t n);

/* A VM name made safe for file and resource names: [A-Za-z0-9_.-], at
 * most 64 characters (other characters become '_').  malloc'd. */
char *state_safe_name (const char *name);

#endif
