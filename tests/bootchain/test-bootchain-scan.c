/* The boot-chain verifier's text side without an appliance: what each
 * scanner finds in a file, and how references are judged against a made-up
 * set of disks (two disks: vda1 the ext4 root, vdb1 swap, vdb2 an LVM PV
 * holding vg/root; crypttab opens luks-home). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "bootchain/internal.h"

#define ROOT_UUID "8d1c6a52-4f0e-4b7a-9c39-f3e7a0c1d2b4"
#define SWAP_UUID "0e5a7b1c-2d3e-4f50-8a6b-7c8d9e0f1a2b"

static bc_item_vector items = empty_vector;

static void
reset_items (void)
{
  for (size_t i = 0; i < items.len; i++)
    bc_item_free (&items.ptr[i]);
  bc_item_vector_reset (&items);
}

static void
scan (const char *path, const char *text)
{
  int kind = bc_file_kind_of (path);

  reset_items ();
  assert_true (kind >= 0);
  assert_int_equal (bc_scan (path, (enum bc_file_kind) kind, text, strlen (text), 0, &items), 0);
}

/* The i-th reference: its line, key and device text, which must sit at
 * ref.off in the line. */
static void
expect (size_t i, unsigned line, const char *key, const char *device)
{
  assert_true (i < items.len);
  assert_int_equal (items.ptr[i].ref.line, line);
  assert_string_equal (items.ptr[i].ref.key, key);
  assert_string_equal (items.ptr[i].ref.device, device);
  assert_memory_equal (items.ptr[i].ref.text + items.ptr[i].ref.off, device, strlen (device));
}

static void
test_grub_cfg (void **state)
{
  (void) state;
  scan ("/boot/grub/grub.cfg",
        "menuentry 'Debian' {\n"
        "\tsearch --no-floppy --fs-uuid --set=root " ROOT_UUID "\n"
        "\tlinux\t/boot/vmlinuz-6.1 root=/dev/sda1 ro resume=UUID=" SWAP_UUID " quiet\n"
        "\tinitrd\t/boot/initrd.img-6.1\n"
        "}\n"
        "set kernelopts=\"root=/dev/mapper/vg-root rd.lvm.lv=vg/root rd.md.uuid=a:b:c:d\"\n");
  assert_int_equal (items.len, 5);
  expect (0, 3, "root=", "/dev/sda1");
  expect (1, 3, "resume=", "UUID=" SWAP_UUID);
  assert_int_equal (items.ptr[1].expect, BC_EXPECT_SWAP);
  expect (2, 6, "root=", "/dev/mapper/vg-root");
  expect (3, 6, "rd.lvm.lv=", "vg/root");
  expect (4, 6, "rd.md.uuid=", "a:b:c:d");
}

static void
test_default_grub_bls_grubenv (void **state)
{
  (void) state;
  scan ("/etc/default/grub",
        "# GRUB_CMDLINE_LINUX=\"root=/dev/sdz9\"\n"
        "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
        "GRUB_CMDLINE_LINUX=\"root=/dev/sda1 console=ttyS0\"\n");
  assert_int_equal (items.len, 1);
  expect (0, 3, "root=", "/dev/sda1");
  scan ("/boot/loader/entries/abc-6.1.conf", "title x\noptions root=/dev/sda2 ro\n");
  assert_int_equal (items.len, 1);
  expect (0, 2, "root=", "/dev/sda2");
  scan ("/boot/grub2/grubenv", "# GRUB Environment Block\nkernelopts=root=/dev/sda3 ro\n####");
  assert_int_equal (items.len, 1);
  expect (0, 2, "root=", "/dev/sda3");
}

static void
test_fstab_crypttab (void **state)
{
  (void) state;
  scan ("/etc/fstab",
        "# /dev/sda9 / ext4 defaults 0 1\n"
        "proc /proc proc defaults 0 0\n"
        "/dev/sda1 / ext4 errors=remount-ro 0 1\n"
        "/dev/sdb1 none swap sw 0 0\n"
        "LABEL=data /srv xfs defaults,nofail 0 2\n"
        "server:/export /mnt nfs defaults 0 0\n"
        "/srv/a /srv/b none bind 0 0\n");
  assert_int_equal (items.len, 3);
  expect (0, 3, "/", "/dev/sda1");
  assert_int_equal (items.ptr[0].expect, BC_EXPECT_ROOT);
  expect (1, 4, "swap", "/dev/sdb1");
  assert_int_equal (items.ptr[1].expect, BC_EXPECT_SWAP);
  expect (2, 5, "/srv", "LABEL=data");
  assert_int_equal (items.ptr[2].expect, BC_EXPECT_FSTYPE);
  assert_string_equal (items.ptr[2].fstype, "xfs");
  assert_true (items.ptr[2].optional);
  scan ("/etc/crypttab", "luks-home /dev/sdb2 none luks\n");
  assert_int_equal (items.len, 1);
  expect (0, 1, "luks-home", "/dev/sdb2");
}

static void
test_lvm_mdadm_dracut_resume_multipath (void **state)
{
  (void) state;
  scan ("/etc/lvm/lvm.conf",
        "devices {\n"
        "  # filter = [ \"a|/dev/sdq|\" ]\n"
        "  filter = [ \"a|^/dev/sda2$|\",\n"
        "             \"r|/dev/sd.*|\" ]\n"
        "  scan = [ \"/dev/sdx\" ]\n"
        "}\n");
  assert_int_equal (items.len, 2);
  expect (0, 3, "filter", "/dev/sda2");
  assert_int_equal (items.ptr[0].what, BC_FILTER_ACCEPT);
  expect (1, 4, "filter", "/dev/sd");
  assert_int_equal (items.ptr[1].what, BC_FILTER_REJECT);
  scan ("/etc/mdadm/mdadm.conf",
        "DEVICE /dev/sd[ab]1 partitions\n"
        "ARRAY /dev/md0 UUID=a:b:c:d devices=/dev/sda1,/dev/sdb1\n");
  assert_int_equal (items.len, 3);
  expect (0, 1, "DEVICE", "/dev/sd");
  expect (1, 2, "ARRAY devices=", "/dev/sda1");
  expect (2, 2, "ARRAY devices=", "/dev/sdb1");
  scan ("/etc/dracut.conf.d/10-swap.conf", "add_device+=\" /dev/sdb1 \"\n");
  assert_int_equal (items.len, 1);
  expect (0, 1, "add_device", "/dev/sdb1");
  scan ("/etc/initramfs-tools/conf.d/resume", "RESUME=\"/dev/sdb1\"\nRESUME=none\n");
  assert_int_equal (items.len, 1);
  expect (0, 1, "RESUME", "/dev/sdb1");
  scan ("/etc/multipath.conf",
        "blacklist {\n  devnode \"^sd[a-z]\"\n}\nmultipaths {\n  multipath {\n"
        "    wwid 3600\n  }\n}\n");
  assert_int_equal (items.len, 2);
  assert_int_equal (items.ptr[0].what, BC_MULTIPATH_BLACKLIST);
  assert_int_equal (items.ptr[1].what, BC_MULTIPATH_OTHER);
}

/* --- judging ------------------------------------------------------------ */

static struct bc_world world;

static void
add_dev (const char *dev, const char *target, const char *type, const char *uuid, int disk,
         int part)
{
  struct bc_dev d = {
    .dev = strdup (dev), .target = strdup (target), .type = strdup (type),
    .uuid = strdup (uuid), .label = strdup (""), .partuuid = strdup (""),
    .partlabel = strdup (""), .disk = disk, .part = part,
  };
  assert_int_equal (bc_dev_vector_append (&world.devs, d), 0);
}

static int
setup_world (void **state)
{
  (void) state;
  memset (&world, 0, sizeof world);
  world.n_disks = 2;
  add_dev ("/dev/sda", "/dev/vda", "", "", 0, 0);
  add_dev ("/dev/sda1", "/dev/vda1", "ext4", ROOT_UUID, 0, 1);
  add_dev ("/dev/sdb", "/dev/vdb", "", "", 1, 0);
  add_dev ("/dev/sdb1", "/dev/vdb1", "swap", SWAP_UUID, 1, 1);
  add_dev ("/dev/sdb2", "/dev/vdb2", "LVM2_member", "pv-uuid", 1, 2);
  add_dev ("/dev/vg/root", "/dev/vg/root", "xfs", "lv-uuid", -1, 0);
  string_vector_append (&world.lvs, strdup ("/dev/vg/root"));
  string_vector_append (&world.vgs, strdup ("vg"));
  string_vector_append (&world.mapper_names, strdup ("luks-home"));
  world.root_dev = "/dev/sda1";
  return 0;
}

static int
teardown_world (void **state)
{
  (void) state;
  bc_world_reset (&world);
  reset_items ();
  return 0;
}

/* Scan one file and judge its first reference. */
static const struct bootchain_ref *
judge (const char *path, const char *text)
{
  scan (path, text);
  assert_true (items.len >= 1);
  assert_int_equal (bc_resolve (&world, &items.ptr[0]), 0);
  return &items.ptr[0].ref;
}

static void
expect_state (const struct bootchain_ref *r, enum bootchain_state st, const char *target,
              const char *replacement, const char *note_part)
{
  assert_string_equal (bootchain_state_name (r->state), bootchain_state_name (st));
  if (target)
    assert_string_equal (r->target, target);
  if (replacement)
    assert_string_equal (r->replacement, replacement);
  else
    assert_null (r->replacement);
  if (note_part) {
    assert_non_null (r->note);
    if (strstr (r->note, note_part) == NULL)
      print_error ("note '%s' lacks '%s'\n", r->note, note_part);
    assert_non_null (strstr (r->note, note_part));
  }
}

static void
test_resolve_kernel_names (void **state)
{
  (void) state;
  expect_state (judge ("/etc/fstab", "/dev/sda1 / ext4 defaults 0 1\n"),
                BOOTCHAIN_FIXABLE, "/dev/vda1", "UUID=" ROOT_UUID, NULL);
  expect_state (judge ("/etc/kernel/cmdline", "ro resume=/dev/sdb1\n"),
                BOOTCHAIN_FIXABLE, "/dev/vdb1", "UUID=" SWAP_UUID, NULL);
  expect_state (judge ("/etc/dracut.conf", "add_device=\"/dev/sdb1\"\n"),
                BOOTCHAIN_FIXABLE, "/dev/vdb1", "/dev/disk/by-uuid/" SWAP_UUID, NULL);
  expect_state (judge ("/etc/lvm/lvm.conf", "filter = [ \"a|^/dev/sdb2$|\", \"r|.*|\" ]\n"),
                BOOTCHAIN_FIXABLE, "/dev/vdb2", "/dev/vdb2", NULL);
  /* The wrong kind of filesystem: the orders differ, no guess. */
  expect_state (judge ("/etc/kernel/cmdline", "root=/dev/sdb1\n"),
                BOOTCHAIN_REFUSED, NULL, NULL, "not the guest's root filesystem");
  expect_state (judge ("/etc/fstab", "/dev/sda1 none swap sw 0 0\n"),
                BOOTCHAIN_REFUSED, NULL, NULL, "which is not swap");
  expect_state (judge ("/etc/fstab", "/dev/sda1 /srv xfs defaults 0 2\n"),
                BOOTCHAIN_REFUSED, NULL, NULL, "not the xfs the line mounts");
  expect_state (judge ("/etc/fstab", "/dev/sdc1 /srv ext4 defaults 0 2\n"),
                BOOTCHAIN_REFUSED, NULL, NULL, "names the third disk of the source; only 2 disks");
  expect_state (judge ("/etc/fstab", "/dev/sda7 /srv ext4 defaults 0 2\n"),
                BOOTCHAIN_REFUSED, NULL, NULL, "/dev/vda has no partition 7");
  /* An LVM PV: its UUID is no /dev/disk/by-uuid name. */
  expect_state (judge ("/etc/crypttab", "x /dev/sdb2 none\n"),
                BOOTCHAIN_REFUSED, NULL, NULL, "(LVM2_member), which has no filesystem UUID");
  expect_state (judge ("/etc/fstab", "UUID=pv-uuid /srv ext4 defaults 0 2\n"),
                BOOTCHAIN_REFUSED, NULL, NULL, "no filesystem or partition");
  /* nofail: reported, not refused. */
  expect_state (judge ("/etc/fstab", "/dev/sdc1 /srv ext4 nofail 0 2\n"),
                BOOTCHAIN_UNCHECKED, NULL, NULL, "the boot does not wait for it");
  expect_state (judge ("/etc/mdadm.conf", "DEVICE /dev/sd[ab]1\n"),
                BOOTCHAIN_REFUSED, NULL, NULL, "a pattern over the source's device names");
  expect_state (judge ("/etc/lvm/lvm.conf", "filter = [ \"r|/dev/sd.*|\" ]\n"),
                BOOTCHAIN_RESOLVED, NULL, NULL, NULL);
}

static void
test_resolve_stable_names (void **state)
{
  (void) state;
  expect_state (judge ("/etc/fstab", "UUID=" ROOT_UUID " / ext4 defaults 0 1\n"),
                BOOTCHAIN_RESOLVED, "/dev/vda1", NULL, NULL);
  expect_state (judge ("/etc/fstab", "/dev/disk/by-uuid/" SWAP_UUID " none swap sw 0 0\n"),
                BOOTCHAIN_RESOLVED, "/dev/vdb1", NULL, NULL);
  expect_state (judge ("/etc/fstab", "LABEL=\"nope\" /srv ext4 defaults 0 2\n"),
                BOOTCHAIN_REFUSED, NULL, NULL, "no filesystem or partition");
  expect_state (judge ("/etc/fstab", "/dev/vdb1 none swap sw 0 0\n"),
                BOOTCHAIN_RESOLVED, "/dev/vdb1", NULL, NULL);
  expect_state (judge ("/etc/fstab", "/dev/vdc1 /srv ext4 defaults 0 2\n"),
                BOOTCHAIN_REFUSED, NULL, NULL, "does not exist in the attach order");
  expect_state (judge ("/etc/fstab", "/dev/mapper/vg-root / xfs defaults 0 1\n"),
                BOOTCHAIN_RESOLVED, "/dev/mapper/vg-root", NULL, NULL);
  expect_state (judge ("/etc/fstab", "/dev/vg/root / xfs defaults 0 1\n"),
                BOOTCHAIN_RESOLVED, "/dev/vg/root", NULL, NULL);
  expect_state (judge ("/etc/fstab", "/dev/mapper/luks-home /home ext4 defaults 0 2\n"),
                BOOTCHAIN_RESOLVED, NULL, NULL, NULL);
  expect_state (judge ("/etc/fstab", "/dev/disk/by-id/scsi-36000c29a-part1 /srv ext4 d 0 2\n"),
                BOOTCHAIN_REFUSED, NULL, NULL, "the source's hardware");
  expect_state (judge ("/etc/kernel/cmdline", "rd.lvm.lv=vg/root\n"),
                BOOTCHAIN_RESOLVED, "/dev/vg/root", NULL, NULL);
  expect_state (judge ("/etc/kernel/cmdline", "rd.lvm.lv=vg/swap\n"),
                BOOTCHAIN_REFUSED, NULL, NULL, "no LV vg/swap");
  expect_state (judge ("/etc/kernel/cmdline", "root=ZFS=rpool/ROOT\n"),
                BOOTCHAIN_UNCHECKED, NULL, NULL, NULL);
  expect_state (judge ("/etc/fstab", "/dev/sr0 /media/cdrom udf,iso9660 user,noauto 0 0\n"),
                BOOTCHAIN_UNCHECKED, NULL, NULL, NULL);
  expect_state (judge ("/etc/fstab", "/dev/nvme0n1p1 / ext4 defaults 0 1\n"),
                BOOTCHAIN_REFUSED, NULL, NULL, "does not exist on KVM");
}

static void
test_disk_names (void **state)
{
  char b[16];
  (void) state;
  bc_disk_name (0, "vd", b, sizeof b);
  assert_string_equal (b, "vda");
  bc_disk_name (25, "vd", b, sizeof b);
  assert_string_equal (b, "vdz");
  bc_disk_name (26, "vd", b, sizeof b);
  assert_string_equal (b, "vdaa");
  /* and back: sdaa1 is the 27th disk */
  expect_state (judge ("/etc/fstab", "/dev/sdaa1 /srv ext4 defaults 0 2\n"),
                BOOTCHAIN_REFUSED, NULL, NULL, "names the n-th disk");
}

/* The default boot entry, for the boot test's direct kernel boot: the
 * first menuentry of a Debian grub.cfg (inside its braces, not the
 * submenu's), a grub.cfg with /boot on its own filesystem, GRUB legacy's
 * first title, a BLS entry; a grub.cfg that only reads BLS entries has none. */
static void
test_default_entry (void **state)
{
  static const char debian[] =
    "set default=\"0\"\n"
    "menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-x' {\n"
    "\tload_video\n"
    "\tinsmod ext2\n"
    "\tif [ x$feature_platform_search_hint = xy ]; then\n"
    "\t  search --no-floppy --fs-uuid --set=root 8d1c\n"
    "\tfi\n"
    "\techo\t'Loading Linux 6.1.0-50-amd64 ...'\n"
    "\tlinux\t/boot/vmlinuz-6.1.0-50-amd64 root=UUID=8d1c ro  quiet\n"
    "\tinitrd\t/boot/initrd.img-6.1.0-50-amd64\n"
    "}\n"
    "submenu 'Advanced options' {\n"
    "\tmenuentry 'recovery' {\n\t\tlinux /boot/vmlinuz-old root=/dev/sda1 single\n\t}\n"
    "}\n";
  static const char separate_boot[] =
    "menuentry 'CentOS Linux (3.10.0)' {\n"
    "\tlinux16 /vmlinuz-3.10.0 root=/dev/mapper/centos-root ro rd.lvm.lv=centos/root\n"
    "\tinitrd16 /initramfs-3.10.0.img\n}\n";
  static const char legacy[] =
    "default 0\ntitle CentOS (2.6.32)\n\troot (hd0,0)\n"
    "\tkernel /vmlinuz-2.6.32 ro root=/dev/sda2\n\tinitrd /initramfs-2.6.32.img\n"
    "title CentOS (2.6.18)\n\tkernel /vmlinuz-2.6.18 ro root=/dev/hda2\n";
  static const char bls_only[] =
    "insmod blscfg\nblscfg\n";
  static const char bls[] =
    "title Rocky Linux (5.14.0)\nversion 5.14.0\nlinux /vmlinuz-5.14.0\n"
    "initrd /initramfs-5.14.0.img $tuned_initrd\noptions root=UUID=abcd ro crashkernel=auto\n";
  char *k, *i, *a;
  (void) state;

  assert_int_equal (bc_grub_default_entry (debian, sizeof debian - 1, &k, &i, &a), 0);
  assert_string_equal (k, "/boot/vmlinuz-6.1.0-50-amd64");
  assert_string_equal (i, "/boot/initrd.img-6.1.0-50-amd64");
  assert_string_equal (a, "root=UUID=8d1c ro  quiet");
  free (k); free (i); free (a);
  assert_int_equal (bc_grub_default_entry (separate_boot, sizeof separate_boot - 1, &k, &i, &a), 0);
  assert_string_equal (k, "/vmlinuz-3.10.0");
  assert_string_equal (i, "/initramfs-3.10.0.img");
  assert_string_equal (a, "root=/dev/mapper/centos-root ro rd.lvm.lv=centos/root");
  free (k); free (i); free (a);
  assert_int_equal (bc_grub_default_entry (legacy, sizeof legacy - 1, &k, &i, &a), 0);
  assert_string_equal (k, "/vmlinuz-2.6.32");
  assert_string_equal (i, "/initramfs-2.6.32.img");
  assert_string_equal (a, "ro root=/dev/sda2");
  free (k); free (i); free (a);
  assert_int_equal (bc_grub_default_entry (bls_only, sizeof bls_only - 1, &k, &i, &a), -1);
  assert_int_equal (bc_bls_entry (bls, sizeof bls - 1, &k, &i, &a), 0);
  assert_string_equal (k, "/vmlinuz-5.14.0");
  assert_string_equal (i, "/initramfs-5.14.0.img");
  assert_string_equal (a, "root=UUID=abcd ro crashkernel=auto");
  free (k); free (i); free (a);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_grub_cfg),
    cmocka_unit_test (test_default_entry),
    cmocka_unit_test (test_default_grub_bls_grubenv),
    cmocka_unit_test (test_fstab_crypttab),
    cmocka_unit_test (test_lvm_mdadm_dracut_resume_multipath),
    cmocka_unit_test (test_resolve_kernel_names),
    cmocka_unit_test (test_resolve_stable_names),
    cmocka_unit_test (test_disk_names),
  };
  int r = cmocka_run_group_tests (tests, setup_world, teardown_world);
  reset_items ();
  return r;
}
