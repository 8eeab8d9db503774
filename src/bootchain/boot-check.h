/* ferry: boot a converted guest once, on the conversion host, and watch it.
 *
 * The disks are booted under QEMU with -snapshot (every write goes to a
 * temporary overlay: the volumes are not changed), KVM when the host has
 * it and TCG otherwise, on the target's disk bus and NIC model, with a
 * user-mode network restricted to the guest (a copy of a production server
 * must never appear on a real network).  The serial console is watched for
 * the guest reaching user space (a login prompt, systemd reaching its
 * multi-user target) and for the markers of a boot that can no longer
 * succeed (the initramfs waiting for a root device that does not exist, a
 * kernel panic, emergency mode, GRUB's rescue prompt).
 *
 * A guest whose own boot loader does not write to the serial console is
 * booted from its default entry's kernel and initramfs with that entry's
 * command line plus console=ttyS0 (opts.kernel etc.): that checks the
 * initramfs and the root device, not the boot loader itself. */
#ifndef FERRY_BOOT_CHECK_H
#define FERRY_BOOT_CHECK_H

#include <stdbool.h>
#include <jansson.h>

struct boot_check_opts {
  const char *const *disks;   /* the converted disks, in the order attached on the target */
  const char *disk_format;    /* "raw" (NULL) or "qcow2" */
  const char *disk_bus;       /* "virtio" (virtio-blk, default) or "scsi" (virtio-scsi) */
  const char *nic_model;      /* QEMU device, default "virtio-net-pci" */
  const char *mac;            /* the first NIC's MAC, or NULL */
  bool uefi;                  /* boot with OVMF instead of SeaBIOS */
  const char *kernel;         /* direct boot: kernel, initrd and command line on this host, */
  const char *initrd;         /*   or NULL to boot through the guest's own boot loader */
  const char *append;
  int timeout_s;              /* the whole boot (default 600) */
  int root_wait_s;            /* give up this long after the initramfs starts waiting for
                               * its root device (default 20) */
  const char *console_log;    /* the serial console is written here (required) */
  const char *what;           /* "VM NAME": the subject of messages */
};

enum boot_check_verdict {
  BOOT_CHECK_BOOTED,          /* user space reached */
  BOOT_CHECK_FAILED,          /* a failure marker, or QEMU ended, or the time ran out */
  BOOT_CHECK_UNABLE,          /* the check could not run (no QEMU, no firmware...) */
  BOOT_CHECK_INTERRUPTED,     /* a run-ending signal */
};

struct boot_check_result {
  enum boot_check_verdict verdict;
  double seconds;
  char *reason;               /* what was seen: "login prompt", "the initramfs waited for
                               * its root device (ALERT! ... does not exist)", ... */
  bool kvm;                   /* KVM was used (else TCG) */
  bool direct;                /* the default entry's kernel was booted directly */
};

/* Boot the disks as described and wait for a verdict.  Returns the
 * verdict (also in *res; free res->reason with boot_check_result_clear). */
enum boot_check_verdict boot_check_run (const struct boot_check_opts *opts,
                                        struct boot_check_result *res);

struct bootchain_result;
/* The boot test of a guest whose boot chain was verified (chain: from
 * bootchain_verify with opts.boot_dir, or NULL): through its own boot
 * loader when its default entry's command line has console=ttyS0 (or the
 * entry is unknown), else that entry's kernel and initramfs directly with
 * console=ttyS0 added (opts->kernel, initrd and append are set so).
 * res->direct says which. */
enum boot_check_verdict boot_check_guest (struct boot_check_opts *opts,
                                          const struct bootchain_result *chain,
                                          struct boot_check_result *res);

void boot_check_result_clear (struct boot_check_result *res);

/* {"result": "booted"|"failed"|"unable"|"interrupted", "reason", "seconds",
 *  "accelerator": "kvm"|"tcg", "boot": "boot loader"|"default entry's kernel"}:
 *  for the state and the report. */
json_t *boot_check_result_json (const struct boot_check_result *res);

/* Which line of a serial console's text says how the boot went: 1 user
 * space reached, -1 a failure (*why: a static description), 2 the
 * initramfs started waiting for its root device, 0 nothing yet.  The text
 * is the console's last bytes; exposed for tests. */
int boot_check_scan (const char *text, size_t len, const char **why);

#endif
