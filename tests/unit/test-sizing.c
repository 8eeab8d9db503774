/* Unit tests: the arithmetic behind `ferry check`'s sizing rows -- the
 * seeds' rule of 1 vCPU and 2 GiB per migration at once, and how many
 * VMs at once fit in a conversion host's attachment limit when the VMs
 * with the most disks run together. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "checks/checks.h"

static void
test_machine_fit (void **state)
{
  (void) state;
  /* The smaller of vCPUs and RAM / 2 GiB. */
  assert_int_equal (sizing_fit_machine (6, 32768), 6);
  assert_int_equal (sizing_fit_machine (16, 8192), 4);
  assert_int_equal (sizing_fit_machine (2, 4095), 1);
  /* Not even one: the lab's 1 vCPU / 1 GiB conversion host flavor. */
  assert_int_equal (sizing_fit_machine (1, 1024), 0);
  assert_int_equal (sizing_fit_machine (0, 65536), 0);
  assert_int_equal (sizing_fit_machine (-1, -1), 0);
}

static void
test_attachments_largest_run_together (void **state)
{
  size_t disks[] = { 1, 8, 2, 8, 1, 3 }, peak;
  (void) state;

  /* Two at once: the two 8-disk VMs may run together. */
  assert_true (sizing_fit_attachments (disks, 6, 2, 0, 25, &peak) >= 2);
  assert_int_equal (peak, 16);
  /* Four at once: 8 + 8 + 3 + 2 = 21 of 25. */
  assert_true (sizing_fit_attachments (disks, 6, 4, 0, 25, &peak) >= 4);
  assert_int_equal (peak, 21);
  /* With 5 attached already only 3 of the largest fit (19 + 5 <= 25). */
  assert_int_equal (sizing_fit_attachments (disks, 6, 4, 5, 25, &peak), 3);
  assert_int_equal (peak, 21);
  /* The input is not reordered. */
  assert_int_equal (disks[0], 1);
  assert_int_equal (disks[5], 3);
}

static void
test_attachments_over_limit (void **state)
{
  size_t big[] = { 10, 10, 10 }, peak;
  (void) state;

  assert_int_equal (sizing_fit_attachments (big, 3, 3, 0, 25, &peak), 2);
  assert_int_equal (peak, 30);
  /* 20 attached already: not even the largest VM fits. */
  assert_int_equal (sizing_fit_attachments (big, 3, 1, 20, 25, &peak), 0);
  /* More at once than VMs: all of them, no more. */
  assert_true (sizing_fit_attachments (big, 2, 8, 0, 25, &peak) >= 8);
  assert_int_equal (peak, 20);
  /* No VMs. */
  assert_true (sizing_fit_attachments (NULL, 0, 4, 0, 25, &peak) >= 4);
  assert_int_equal (peak, 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_machine_fit),
    cmocka_unit_test (test_attachments_largest_run_together),
    cmocka_unit_test (test_attachments_over_limit),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
