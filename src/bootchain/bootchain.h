/* ferry: the boot chain of a converted Linux guest, verified and fixed.
 *
 * A guest installed on VMware may name its disks by kernel device name
 * (/dev/sda1, /dev/sdb2) in its boot chain.  On KVM with virtio-blk the
 * disks are /dev/vdX in ferry's attach order, so such a name points at
 * nothing (or at the wrong disk).  bootchain_verify() opens the disks with
 * libguestfs, inspects the guest and lists every block-device reference of
 * its boot chain -- kernel command lines (grub.cfg, /etc/default/grub,
 * menu.lst, BLS entries, grubenv, /etc/kernel/cmdline), fstab, crypttab,
 * lvm.conf filters, mdadm.conf, multipath.conf, initramfs-tools RESUME,
 * dracut add_device -- each with whether it resolves on the target.
 *
 * With fix, a kernel name that maps (through the disk order: the source's
 * sda is the first disk) to a filesystem or swap of the expected kind is
 * rewritten where it appears (UUID=..., or a path where the file needs one),
 * grub.cfg edited in place, and the initramfs rebuilt inside the guest when
 * a file it embeds changed.  Nothing is written if any reference cannot be
 * fixed: the result is then "refused", naming the file, line and what to do.
 */
#ifndef FERRY_BOOTCHAIN_H
#define FERRY_BOOTCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

enum bootchain_state {
  BOOTCHAIN_RESOLVED,       /* names something that exists on the target */
  BOOTCHAIN_FIXABLE,        /* does not, but has a safe rewrite (not applied) */
  BOOTCHAIN_FIXED,          /* did not; rewritten */
  BOOTCHAIN_REFUSED,        /* does not, and no safe rewrite exists */
  BOOTCHAIN_UNCHECKED,      /* not a block device name ferry judges (root=ZFS=..., nfs) */
};

struct bootchain_ref {
  char *file;               /* path in the guest: /etc/fstab */
  unsigned line;            /* 1-based */
  char *text;               /* the line, as found (trailing newline removed) */
  char *kind;               /* kernel-cmdline, default-grub, fstab, crypttab, lvm-filter,
                             * mdadm, multipath, initramfs-resume, dracut-add-device */
  char *key;                /* root=, resume=, rd.lvm.lv=, the fstab mount point, RESUME, ... */
  char *device;             /* the reference itself: /dev/sda1, UUID=..., ferryvg/root */
  enum bootchain_state state;
  char *target;             /* what it names on the target (/dev/vda1, /dev/vg/lv), or NULL */
  char *replacement;        /* FIXABLE/FIXED: the new text of `device` */
  char *note;               /* why it does not resolve, what to do (REFUSED), or NULL */
  size_t off, len;          /* where `device` sits in the line (for the rewrite) */
};

struct bootchain_change {
  char *file;
  unsigned line;
  char *old_text, *new_text;  /* the whole line before and after */
};

struct bootchain_refusal {
  char *file;
  unsigned line;
  char *device;
  char *reason;             /* "names the third disk; only 2 are attached" */
  char *action;             /* what the operator can do */
};

enum bootchain_status {
  BOOTCHAIN_STATUS_OK,             /* every reference resolves (after the fixes, with fix) */
  BOOTCHAIN_STATUS_NEEDS_FIX,      /* without fix: some don't resolve, all can be fixed */
  BOOTCHAIN_STATUS_REFUSED, /* some don't resolve and can't be fixed: nothing written */
  BOOTCHAIN_STATUS_SKIPPED,        /* not a Linux guest: not covered (see note) */
  BOOTCHAIN_STATUS_ERROR,          /* the disks could not be opened or inspected (see error) */
};

struct bootchain_result {
  enum bootchain_status status;
  char *error;              /* BOOTCHAIN_STATUS_ERROR / SKIPPED: why */
  bool fix;                 /* fixes were asked for */
  char *os_root;            /* the guest's root filesystem, target name (/dev/vda1) */
  char *os_product;         /* "Debian GNU/Linux 12 (bookworm)" */
  char *os_distro;          /* debian, rhel, ... */
  char *initramfs_tool;     /* initramfs-tools, dracut, or NULL */
  bool initramfs_rebuilt;
  char *initramfs_command;  /* what ran inside the guest (or would run), or NULL */
  char *initramfs_reason;   /* the changed file that called for it */
  struct bootchain_ref *refs; size_t n_refs;
  struct bootchain_change *changes; size_t n_changes;
  struct bootchain_refusal *refusals; size_t n_refusals;
  size_t n_disks;
  double seconds;           /* wall time, appliance included */
  /* With opts.boot_dir: the default entry, for a direct kernel boot (files
   * in boot_dir; boot_initrd may be NULL), or all NULL and boot_note why. */
  char *boot_kernel, *boot_initrd, *boot_cmdline, *boot_note;
};

struct bootchain_opts {
  bool fix;                 /* rewrite what is safe (drives writable, mounted
                             * read-only until the plan has no refusal) */
  const char *disk_format;  /* "raw" (NULL) or "qcow2"; never probed */
  const char *logpath;      /* libguestfs's messages and in-guest command output,
                             * appended; NULL: none */
  const char *boot_dir;     /* if set and the guest is OK: its default boot entry's
                             * kernel and initramfs are copied here (boot_kernel...) */
};

/* Verify (and with opts->fix, fix) the boot chain of the guest on disks,
 * a NULL-terminated list in ferry's attach order (the first is /dev/vda).
 * Returns NULL only when out of memory; otherwise a result whose status
 * says what happened.  Logs each change and refusal. */
struct bootchain_result *bootchain_verify (const char *const *disks,
                                           const struct bootchain_opts *opts);
void bootchain_result_free (struct bootchain_result *r);

/* For the state file and the report: {status, os, references, changes,
 * refusals, initramfs, ...}.  A new reference. */
json_t *bootchain_result_json (const struct bootchain_result *r);

const char *bootchain_state_name (enum bootchain_state s);
const char *bootchain_status_name (enum bootchain_status s);

#endif
