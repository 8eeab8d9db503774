/* ferry: the workflow's decisions, see policy.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workflow/policy.h"

enum resume_point
policy_resume_point (enum migrate_mode mode, bool every_disk_copied, bool converted_or_skipped)
{
  /* A sync always looks for what changed since the last pass. */
  if (mode != MIGRATE_SYNC && every_disk_copied && converted_or_skipped)
    return RESUME_AT_INSTANCE;
  return RESUME_FROM_START;
}

enum earlier_copies
policy_earlier_copies (enum migrate_mode mode, bool copied_before, bool powered_off,
                       bool every_disk_copied)
{
  if (mode != MIGRATE_COLD)
    return EARLIER_NEW_PASS;
  if (!copied_before || powered_off)
    return EARLIER_NONE_OR_STILL;
  return every_disk_copied ? EARLIER_COMPLETE_KEPT : EARLIER_RESTART;
}

int
policy_snapshot_to_reuse (const char *const *found, size_t n, const char *recorded)
{
  if (recorded == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (found[i] && strcmp (found[i], recorded) == 0)
      return (int) i;
  return -1;
}

size_t
policy_disks_since_last_pass (const json_t *volumes, const long long *keys, size_t n,
                              long long *removed, bool *is_new)
{
  const char *k;
  json_t *v;
  size_t added = 0;

  *removed = -1;
  json_object_foreach ((json_t *) volumes, k, v) {
    bool present = false;
    for (size_t i = 0; i < n; i++)
      if (keys[i] == atoll (k))
        present = true;
    if (!present && *removed == -1)
      *removed = atoll (k);
  }
  for (size_t i = 0; i < n; i++) {
    char buf[24];
    snprintf (buf, sizeof buf, "%lld", keys[i]);
    /* On the first pass nothing is "new". */
    is_new[i] = json_object_size (volumes) && json_object_get (volumes, buf) == NULL;
    added += is_new[i];
  }
  return added;
}
