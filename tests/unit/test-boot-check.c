/* Unit tests: reading a serial console for a boot's outcome.  Consoles of
 * real boots (Debian's initramfs-tools, dracut, systemd, GRUB): user space
 * reached is a boot; a root device that never appears, a panic, emergency
 * mode or GRUB's rescue prompt is a failure; an initramfs that is still
 * waiting is neither yet, and stops waiting once its root is mounted. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bootchain/boot-check.h"

static int
scan (const char *text, const char **why)
{
  return boot_check_scan (text, strlen (text), why);
}

static void
test_booted (void **state)
{
  const char *why;
  (void) state;
  assert_int_equal (scan ("[    2.1] EXT4-fs (vda1): mounted filesystem\r\n"
                          "Debian GNU/Linux 12 lab ttyS0\r\n\r\nlab login: ", &why), 1);
  assert_string_equal (why, "a login prompt");
  assert_int_equal (scan ("[  OK  ] Reached target \x1b[0;1;39mMulti-User System\x1b[0m.\r\n",
                          &why), 1);
  assert_int_equal (scan ("[  OK  ] Reached target Graphical Interface.\n", &why), 1);
}

static void
test_failed (void **state)
{
  const char *why;
  (void) state;
  assert_int_equal (scan ("Begin: Waiting for root file system ... done.\r\n"
                          "Gave up waiting for root file system device.  Common problems:\r\n"
                          "ALERT!  /dev/sda1 does not exist.  Dropping to a shell!\r\n"
                          "(initramfs) ", &why), -1);
  assert_non_null (why);
  assert_int_equal (scan ("[    1.9] Kernel panic - not syncing: VFS: Unable to mount root fs "
                          "on unknown-block(0,0)\n", &why), -1);
  assert_int_equal (scan ("You are in emergency mode. After logging in, type \"journalctl -xb\"",
                          &why), -1);
  /* dracut's timeout scripts may still assemble the root: not yet a verdict. */
  assert_int_equal (scan ("[  123.2] dracut-initqueue[312]: Warning: dracut-initqueue: timeout, "
                          "still waiting for following initqueue hooks:\n", &why), 0);
  assert_int_equal (scan ("[  183.2] dracut-initqueue[312]: Warning: Could not boot.\n", &why), -1);
  assert_int_equal (scan ("Warning: /dev/sda2 does not exist\n", &why), -1);
  assert_int_equal (scan ("error: no such device: 0c1e5b8c.\ngrub rescue> ", &why), -1);
}

static void
test_root_wait (void **state)
{
  const char *why;
  (void) state;
  assert_int_equal (scan ("Loading, please wait...\r\nBegin: Waiting for root file system ... ",
                          &why), 2);
  assert_non_null (why);
  /* The root turned up: not waiting any more. */
  assert_int_equal (scan ("Begin: Waiting for root file system ... Begin: Running "
                          "/scripts/local-block ... done.\r\ndone.\r\n[    3.0] EXT4-fs (vda1): "
                          "mounted filesystem with ordered data mode.\r\n", &why), 0);
  assert_null (why);
  assert_int_equal (scan ("", &why), 0);
  assert_int_equal (scan ("SeaBIOS (version 1.16.2-debian-1.16.2-1)\r\nBooting from Hard Disk...",
                          &why), 0);
}

static void
test_nul_bytes (void **state)
{
  const char *why;
  static const char text[] = "junk\0\0\0 lab login: ";
  (void) state;
  assert_int_equal (boot_check_scan (text, sizeof text - 1, &why), 1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_booted),
    cmocka_unit_test (test_failed),
    cmocka_unit_test (test_root_wait),
    cmocka_unit_test (test_nul_bytes),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
