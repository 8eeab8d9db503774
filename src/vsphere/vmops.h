/* ferry: the few operations ferry performs on a source VM -- and the only
 * ones: snapshot create and remove, CBT enable, power-off at cutover --
 * plus the reads that go with them (snapshot disks, changed areas). */
#ifndef FERRY_VSPHERE_VMOPS_H
#define FERRY_VSPHERE_VMOPS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "vsphere/vsphere.h"

/* Create a snapshot of every disk at once (memory off, not quiesced unless
 * asked), named name.  Returns the snapshot moref value (malloc'd) or NULL
 * after logging. */
char *vm_snapshot_create (struct vsphere *vs, const char *vm_moref, const char *vm_name,
                          const char *name, const char *description, bool quiesce);
/* Remove one snapshot (children kept, disks consolidated).  0 or -1. */
int vm_snapshot_remove (struct vsphere *vs, const char *snap_moref, const char *vm_name);
/* Snapshots of the VM whose name starts with prefix: array of morefs. */
json_t *vm_snapshots_named (struct vsphere *vs, const char *vm_moref, const char *prefix);
/* The disks as the snapshot froze them: {"<disk key>": {"file", "change_id",
 * "capacity_bytes"}}, or NULL after logging. */
json_t *vm_snapshot_disks (struct vsphere *vs, const char *snap_moref);

/* Power state ("poweredOn", ...), malloc'd, or NULL. */
char *vm_power_state (struct vsphere *vs, const char *vm_moref);
/* Graceful guest shutdown (needs VMware Tools), waiting up to timeout_s for
 * poweredOff; then, if force, a hard power-off.  0 or -1 after logging. */
int vm_shutdown (struct vsphere *vs, const char *vm_moref, const char *vm_name,
                 int timeout_s, bool force);
int vm_power_on (struct vsphere *vs, const char *vm_moref, const char *vm_name);

/* Turn CBT on (ReconfigVM changeTrackingEnabled=true, then a snapshot
 * create/remove so it takes effect).  0 or -1. */
int vm_enable_cbt (struct vsphere *vs, const char *vm_moref, const char *vm_name);

/* QueryChangedDiskAreas over the whole disk, following startOffset:
 * [{"start","length"}] merged; change_id "*" gives the allocated areas.
 * On a fault (unknown or reset change id, CBT off) returns NULL and, if
 * fault_type is not NULL, the fault type (malloc'd), logging only if
 * fault_type is NULL. */
json_t *vm_changed_areas (struct vsphere *vs, const char *vm_moref, const char *snap_moref,
                          int disk_key, uint64_t capacity, const char *change_id,
                          char **fault_type);

#endif
