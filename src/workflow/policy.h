/* ferry: the workflow's decisions, as pure functions of what is known
 * (no vSphere, no OpenStack, no state file): the phases ask them, the
 * unit tests (tests/unit/test-policy.c) prove them without the lab. */
#ifndef FERRY_WORKFLOW_POLICY_H
#define FERRY_WORKFLOW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "workflow/migrate.h"

/* Where a rerun starts, from what earlier runs recorded. */
enum resume_point {
  RESUME_FROM_START,          /* snapshot and copy what is not copied yet */
  RESUME_AT_INSTANCE,         /* every disk copied and converted: the instance */
};
enum resume_point policy_resume_point (enum migrate_mode mode, bool every_disk_copied,
                                       bool converted_or_skipped);

/* What a new snapshot means for the copies earlier runs made. */
enum earlier_copies {
  EARLIER_NONE_OR_STILL,      /* nothing copied yet, or the VM is off: copies stay valid */
  EARLIER_COMPLETE_KEPT,      /* cold, running VM, every disk copied from one earlier
                               * snapshot: a consistent set, kept (and said) */
  EARLIER_RESTART,            /* cold, running VM, some copied: copy them again, they
                               * would not be consistent with the new snapshot */
  EARLIER_NEW_PASS,           /* warm: every disk gets the delta since its change id */
};
enum earlier_copies policy_earlier_copies (enum migrate_mode mode, bool copied_before,
                                           bool powered_off, bool every_disk_copied);

/* ferry's snapshots found on the VM (names, in order) and the one the
 * state recorded: the one to reuse (its index, or -1: take a new one); all
 * the others are removed. */
int policy_snapshot_to_reuse (const char *const *found, size_t n, const char *recorded);

/* A warm pass over disks that changed since the last one: keys recorded
 * in the state ("volumes", decimal strings) against the VM's disks now
 * (keys[n]).  *removed: the first recorded key whose disk is gone (the
 * pass is refused), or -1; is_new[i]: disk i was not there at the last
 * pass (it gets a volume and a full sync; never on the first pass).
 * Returns how many are new. */
size_t policy_disks_since_last_pass (const json_t *volumes, const long long *keys, size_t n,
                                     long long *removed, bool *is_new);

#endif
