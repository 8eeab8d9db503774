/* ferry: the migration workflow (cold), per VM:
 *
 *   plan (flavor, networks, volume types) -> volumes (created or found) ->
 *   snapshot of all disks at once -> for each disk: attach to the conversion
 *   host, copy from the disk source with the copy engine (checkpointed) ->
 *   conversion (unless skip_conversion) -> detach -> snapshot removed ->
 *   boot volume properties -> ports with the VMware MACs -> server from the
 *   volumes -> ACTIVE.
 *
 * Idempotent: state in <data>/<vm>/ferry-state.json and in the resources'
 * metadata and tags; a finished VM is a no-op, an interrupted one resumes.
 * ferry's snapshot is removed on every exit path it controls (errors,
 * SIGINT/SIGTERM); after a kill -9 the next run reuses or removes it.  One
 * VM's failure does not stop the others. */
#ifndef FERRY_WORKFLOW_MIGRATE_H
#define FERRY_WORKFLOW_MIGRATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <jansson.h>
#include "config/config.h"

enum migrate_mode {
  MIGRATE_COLD,               /* ferry migrate: one pass, then the instance */
  MIGRATE_SYNC,               /* ferry sync: copy what changed (CBT), VM running */
  MIGRATE_CUTOVER,            /* ferry cutover: shut down, last delta, instance */
};

struct migrate_opts {
  enum migrate_mode mode;
  bool enable_cbt;            /* warm: turn CBT on where it is off */
  bool dry_run;               /* plan each VM (into plans), change nothing */
  bool no_conversion_host;    /* copy to local images uploaded to Glance */
  atomic_bool *cancel;        /* set by SIGINT/SIGTERM */
  /* Many VMs at once (0: from the configuration, ferry_parallel & co). */
  int parallel;               /* VMs migrated at once by worker threads */
  int max_disks;              /* disk copies at once overall (default 2 x parallel) */
  int max_disks_per_host;     /* disk copies at once per ESXi host (default 10) */
  const char *progress;       /* auto (NULL), tty, json or plain: see board.h */
  const char *events_path;    /* JSON events appended there too */
  const char *report_path;    /* the summary as JSON, written at the end */
  json_t *plans;              /* dry_run: each VM's plan appended (the caller's array) */
};

/* Migrate the VMs named in names (array of strings), o->parallel at once
 * (each worker thread with its own vSphere session and OpenStack token;
 * a VM's disks copied at once within the disk limits).  A VM's failure
 * never stops the others.  Prints a summary (each VM's outcome, exit code,
 * time and first error) and writes it to o->report_path.
 * Returns 0 if every VM is migrated; the VM's exit class if the only VM
 * failed; 130 if interrupted; 1 if some failed. */
int migrate_vms (const struct config *cfg, const json_t *names, const struct migrate_opts *o);

/* `ferry status`: the state of the named VMs (all with state in the data
 * dir if names is empty) as an array of objects. */
json_t *migrate_status (const struct config *cfg, const json_t *names);

/* `ferry teardown`: delete what ferry created on the destination for the
 * named VMs -- server, ports, volumes, flavor it created -- and nothing
 * else; reset their state.  Returns an exit code. */
int migrate_teardown (const struct config *cfg, const json_t *names);

#endif
