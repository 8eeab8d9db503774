/* ferry: the migration workflow's insides (not for other folders).
 *
 * A run (run.c) starts workers; each worker migrates VMs one after
 * another, each VM as a job: the phases below run in order over one
 * struct job (pipeline.c), and whatever ends the job -- success, an error,
 * a signal -- its cleanup runs once (job_cleanup): no snapshot of ferry's
 * stays on the source, nothing of this run stays attached to the
 * conversion host, the error is in the state file.
 *
 *   guard     already migrated? blockers, warm preconditions (CBT),
 *             what the conversion will need           phase-guard.c
 *   plan      networks, security groups, flavor; --dry-run ends here
 *                                                     phase-plan.c
 *   volumes   found or created; all copied already? -> instance
 *                                                     phase-volumes.c
 *   source    shutdown (cutover, shutdown: true, Windows), one
 *             snapshot of all disks (reused after a kill -9)
 *                                                     phase-source.c
 *   copy      attach and copy every disk (or the Glance path, which
 *             converts too); a sync ends here         phase-copy.c
 *   convert   virt-v2v with restore points, verified  phase-convert.c
 *   instance  detach, snapshot removed, volume metadata, ports, server
 *                                                     phase-instance.c
 *   finish    durations, downtime, "done"             phase-instance.c
 *
 * Warm migration is the same pipeline with another mode: a sync stops
 * after its copy (warm.c records it), a cutover shuts the VM down first. */
#ifndef FERRY_WORKFLOW_JOB_H
#define FERRY_WORKFLOW_JOB_H

#include <pthread.h>
#include <stdbool.h>
#include <jansson.h>

#include "workflow/migrate.h"
#include "workflow/state.h"
#include "common/lock.h"

#define SNAP_PREFIX "ferry-migration-"

/* What the workers of one run share. */
struct shared {
  pthread_mutex_t lock;       /* flavors, lookups, next, results, totals */
  json_t *flavors;            /* cached Nova flavor list */
  json_t *lookups;            /* networks, subnets, security groups found, by reference */
  struct disk_slots *slots;   /* disk copies at once, overall and per ESXi host */
  struct board *board;        /* progress, events */
  bool quiet_progress;        /* the board shows progress: log it at debug level */
  int disks_per_vm;           /* a VM's disks copied at once (1: one after the other) */
  const json_t *vms;
  size_t next;                /* the next VM to start */
  int *rcs;                   /* per VM: exit code, -1 not run */
  double *seconds;
  double api_s, copy_s;
};

/* One worker: its own vSphere session and OpenStack client; the disk
 * threads of its VM share them under lock. */
struct ctx {
  const struct config *cfg;
  const struct migrate_opts *o;
  struct shared *sh;
  struct vsphere *vs;
  struct os_client *os;
  pthread_mutex_t lock;       /* vs, os and the VM's state, when disks copy at once */
  char *conv_host;
  const char *data_dir;
  const char *vmname;         /* the VM being migrated */
  const char *esxi_host;      /* its ESXi host (per-host disk limit) */
  const char *logpath;        /* its log file */
  struct log_errors *errors;  /* its errors */
};

/* One VM's migration. */
struct job {
  struct ctx *c;
  const json_t *vm;           /* its discovery record */
  const char *name, *moref;
  const json_t *disks;
  struct vm_state st;
  json_t *nets;               /* plan: NICs with network (and subnet) ids */
  json_t *sgs;                /* plan: security group ids */
  json_t *flavor;             /* plan: {id, name, vcpus, ram} */
  json_t *vol_ids;            /* volume ids, in disk order */
  json_t *snapdisks;          /* the snapshot's disks, by key */
  json_t *attached;           /* volume ids this run attached to the conversion host */
  json_t *devices;            /* their devices there, in disk order */
  char *snap;                 /* ferry's snapshot (removed on every exit) */
  char *logpath;
  bool glance;                /* no conversion host: local images through Glance */
  bool interruption_said;
  double t0, c0, down_t0;
  double *api_s, *copy_s;     /* the worker's totals */
  char sync_started[32];
  int rc;                     /* the VM's exit code */
};

/* What a phase says: go on, jump to the instance (every disk was copied
 * and converted by an earlier run), or end the job (j->rc says how). */
enum step { STEP_NEXT, STEP_TO_INSTANCE, STEP_END };

enum step phase_guard (struct job *j);
enum step phase_plan (struct job *j);
enum step phase_volumes (struct job *j);
enum step phase_source (struct job *j);
enum step phase_copy (struct job *j);
enum step phase_convert (struct job *j);
enum step phase_instance (struct job *j);
enum step phase_finish (struct job *j);

/* End the job with exit code rc. */
static inline enum step
job_fail (struct job *j, int rc)
{
  j->rc = rc;
  return STEP_END;
}

/* ---- shared by the phases ---- */

double now_s (void);
bool job_cancelled (const struct ctx *c);
/* The state file could not be written: log it and say true (stop before
 * `before`: a rerun must be able to trust the file). */
bool job_state_behind (struct job *j, const char *before);
/* Detach vols from the conversion host, all at once.  0 or -1 (logged). */
int job_detach_all (struct ctx *c, const char *vmname, const json_t *vols);
/* Remove every snapshot of ferry's the VM has and forget the recorded
 * one.  0 or -1 (logged). */
int job_remove_leftover_snapshots (struct job *j);
/* Has every disk been copied into its volume? */
bool job_every_disk_copied (struct job *j);

/* The volume of a disk: found (state, then metadata) or created (with
 * dry_run a {"id": null, "name"} placeholder; find_only: json null when
 * there is none yet; image_id: created from that Glance image).  New
 * reference, or NULL (logged). */
json_t *job_volume (struct job *j, const json_t *disk, size_t index, bool dry_run,
                    bool find_only, const char *image_id);

/* Copy one disk (into device: a block device or a file); c->lock held,
 * let go while the data flows.  An exit code. */
int copy_disk (struct job *j, const json_t *disk, const json_t *snapdisk, const char *device,
               double *copy_s, json_t *pass);
/* The converted guest's boot chain verified, kept in the state and the
 * report.  An exit code (FERRY_EXIT_CONVERSION: refused). */
int job_verify_converted (struct job *j, const json_t *devices, const char *clog);
/* Without a conversion host: copy to local images, convert, upload to
 * Glance, volumes from the images (ids appended to j->vol_ids). */
int glance_path (struct job *j);
/* Warm: this pass appended to "syncs" and the cutover's downtime predicted. */
void record_sync (struct job *j, double duration);
/* Ports (with the VMware MACs) and the server from the volumes. */
json_t *ensure_ports (struct job *j, int *rc);
int ensure_server (struct job *j, const json_t *port_ids);

/* One VM, start to end: the phases, then the cleanup.  An exit code. */
int job_run (struct ctx *c, const json_t *vm, double *api_s, double *copy_s);

#endif
