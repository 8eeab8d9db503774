/* Unit tests: os_poll_kind learns how long a kind of wait takes -- the
 * second wait of a kind looks first after most of the first one's
 * duration and makes fewer looks; a wait done at its first look teaches
 * nothing; kinds are separate; a failure and a timeout end the wait. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <time.h>
#include <cmocka.h>

#include "openstack/openstack.h"

static double
now_s (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* An operation that ends `takes` seconds after start. */
struct op {
  double start, takes, first_look;
  int looks;
  int result; /* what to answer once ended: 1 done, -1 failed */
};

static int
op_done (void *arg)
{
  struct op *o = arg;
  double t = now_s () - o->start;
  if (o->looks++ == 0)
    o->first_look = t;
  return t >= o->takes ? o->result : 0;
}

static struct op
wait_for (const char *kind, double takes, int result, int timeout_s)
{
  struct op o = { .start = now_s (), .takes = takes, .result = result };
  int r = os_poll_kind (kind, timeout_s, 500, op_done, &o);
  if (result == 1 && takes < timeout_s)
    assert_int_equal (r, 0);
  o.start = r;     /* hand the return code back */
  return o;
}

static void
test_second_wait_looks_later_and_less (void **state)
{
  (void) state;
  /* Unknown kind: looks at once, then 0.5, 0.75, 1.125 s ... */
  struct op a = wait_for ("unit volume available", 1.3, 1, 30);
  assert_true (a.first_look < 0.1);
  assert_int_equal (a.looks, 4);            /* 0, 0.5, 1.25, 2.375 */
  /* Learned: first look after 0.8 x 2.375 s, then every 250 ms and more. */
  struct op b = wait_for ("unit volume available", 1.3, 1, 30);
  assert_true (b.first_look > 1.0);
  assert_true (b.looks <= 2);
  assert_true (b.looks < a.looks);
}

static void
test_done_at_first_look_teaches_nothing (void **state)
{
  (void) state;
  struct op a = wait_for ("unit already there", 0, 1, 30);
  assert_int_equal (a.looks, 1);
  /* Nothing learned: the next wait of the kind still looks at once. */
  struct op b = wait_for ("unit already there", 0.6, 1, 30);
  assert_true (b.first_look < 0.1);
  assert_int_equal (b.looks, 3);            /* 0, 0.5, 1.25: learns 1.25 s */
  /* Done at the first look after the learned 1.0 s: not learned (else
   * the shortest would become 1.0 s and the next first look 0.8 s). */
  struct op c = wait_for ("unit already there", 0, 1, 30);
  assert_int_equal (c.looks, 1);
  assert_true (c.first_look > 0.95);
  struct op d = wait_for ("unit already there", 0, 1, 30);
  assert_true (d.first_look > 0.95);
}

static void
test_kinds_are_separate (void **state)
{
  (void) state;
  wait_for ("unit server ACTIVE", 0.6, 1, 30);
  struct op other = wait_for ("unit server deleted", 0.2, 1, 30);
  assert_true (other.first_look < 0.1);
}

static void
test_failure_and_timeout (void **state)
{
  (void) state;
  struct op f = wait_for ("unit fails", 0.3, -1, 30);
  assert_int_equal ((int) f.start, -1);
  struct op t = wait_for ("unit never", 100, 1, 1);
  assert_int_equal ((int) t.start, -2);
  assert_true (t.looks >= 2);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_second_wait_looks_later_and_less),
    cmocka_unit_test (test_done_at_first_look_teaches_nothing),
    cmocka_unit_test (test_kinds_are_separate),
    cmocka_unit_test (test_failure_and_timeout),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
