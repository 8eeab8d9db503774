/* The workflow's decisions (src/workflow/policy.c), without the lab:
 * where a rerun resumes, what a new snapshot means for earlier copies,
 * which snapshot of ferry's is reused, and what a warm pass does when
 * disks were added or removed since the last one. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "workflow/policy.h"

static void
test_resume_point (void **state)
{
  (void) state;
  /* Copied and converted by an earlier run: straight to the instance ... */
  assert_int_equal (policy_resume_point (MIGRATE_COLD, true, true), RESUME_AT_INSTANCE);
  assert_int_equal (policy_resume_point (MIGRATE_CUTOVER, true, true), RESUME_AT_INSTANCE);
  /* ... but a sync always looks for what changed. */
  assert_int_equal (policy_resume_point (MIGRATE_SYNC, true, true), RESUME_FROM_START);
  /* Not converted yet, or a disk not copied: from the start. */
  assert_int_equal (policy_resume_point (MIGRATE_COLD, true, false), RESUME_FROM_START);
  assert_int_equal (policy_resume_point (MIGRATE_COLD, false, true), RESUME_FROM_START);
}

static void
test_earlier_copies (void **state)
{
  (void) state;
  /* Nothing copied before, or a stopped VM (its disks do not change). */
  assert_int_equal (policy_earlier_copies (MIGRATE_COLD, false, false, false), EARLIER_NONE_OR_STILL);
  assert_int_equal (policy_earlier_copies (MIGRATE_COLD, true, true, false), EARLIER_NONE_OR_STILL);
  assert_int_equal (policy_earlier_copies (MIGRATE_COLD, true, true, true), EARLIER_NONE_OR_STILL);
  /* A running VM: a complete earlier set is consistent and kept; a partial
   * one would mix two snapshots: copied again. */
  assert_int_equal (policy_earlier_copies (MIGRATE_COLD, true, false, true), EARLIER_COMPLETE_KEPT);
  assert_int_equal (policy_earlier_copies (MIGRATE_COLD, true, false, false), EARLIER_RESTART);
  /* Warm: every new snapshot is a new pass (deltas since the change ids). */
  assert_int_equal (policy_earlier_copies (MIGRATE_SYNC, true, false, true), EARLIER_NEW_PASS);
  assert_int_equal (policy_earlier_copies (MIGRATE_CUTOVER, true, true, false), EARLIER_NEW_PASS);
  assert_int_equal (policy_earlier_copies (MIGRATE_SYNC, false, false, false), EARLIER_NEW_PASS);
}

static void
test_snapshot_to_reuse (void **state)
{
  const char *found[] = { "snapshot-7", "snapshot-9", "snapshot-9" };
  (void) state;
  /* The recorded one (after a kill -9), the first of that name. */
  assert_int_equal (policy_snapshot_to_reuse (found, 3, "snapshot-9"), 1);
  /* Not recorded, or gone: a new one (all found are removed). */
  assert_int_equal (policy_snapshot_to_reuse (found, 3, NULL), -1);
  assert_int_equal (policy_snapshot_to_reuse (found, 3, "snapshot-8"), -1);
  assert_int_equal (policy_snapshot_to_reuse (NULL, 0, "snapshot-9"), -1);
}

static void
test_disks_since_last_pass (void **state)
{
  json_t *vols = json_pack ("{s:{}, s:{}}", "2000", "2001");
  long long now_same[] = { 2000, 2001 };
  long long now_added[] = { 2000, 2001, 2002 };
  long long now_removed[] = { 2000 };
  bool is_new[3];
  long long removed;
  json_t *none = json_object ();
  (void) state;

  assert_int_equal (policy_disks_since_last_pass (vols, now_same, 2, &removed, is_new), 0);
  assert_int_equal (removed, -1);
  /* A disk added since: it alone gets a full sync. */
  assert_int_equal (policy_disks_since_last_pass (vols, now_added, 3, &removed, is_new), 1);
  assert_int_equal (removed, -1);
  assert_false (is_new[0]);
  assert_false (is_new[1]);
  assert_true (is_new[2]);
  /* A disk removed since: named, so the pass is refused. */
  policy_disks_since_last_pass (vols, now_removed, 1, &removed, is_new);
  assert_int_equal (removed, 2001);
  /* The first pass: nothing is new, nothing removed. */
  assert_int_equal (policy_disks_since_last_pass (none, now_added, 3, &removed, is_new), 0);
  assert_int_equal (removed, -1);
  assert_false (is_new[2]);
  json_decref (vols);
  json_decref (none);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_resume_point),
    cmocka_unit_test (test_earlier_copies),
    cmocka_unit_test (test_snapshot_to_reuse),
    cmocka_unit_test (test_disks_since_last_pass),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
