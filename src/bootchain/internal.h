/* ferry: boot-chain verifier internals, shared by scan.c (files to
 * references), resolve.c (references against what the disks hold) and
 * bootchain.c (libguestfs, fixes, results).  scan.c and resolve.c never
 * touch libguestfs, so they can be tested on plain text. */
#ifndef FERRY_BOOTCHAIN_INTERNAL_H
#define FERRY_BOOTCHAIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "bootchain/bootchain.h"
#include "common/vector.h"

/* The kinds of files that hold block-device references. */
enum bc_file_kind {
  BC_F_GRUBCFG,             /* grub.cfg, menu.lst, grub.conf: linux/kernel lines */
  BC_F_DEFAULT_GRUB,        /* /etc/default/grub: GRUB_CMDLINE_LINUX* */
  BC_F_GRUBENV,             /* grubenv: kernelopts= (a 1024-byte block) */
  BC_F_BLS,                 /* BLS entries under /boot/loader/entries: options */
  BC_F_KERNEL_CMDLINE,      /* /etc/kernel/cmdline */
  BC_F_FSTAB,
  BC_F_CRYPTTAB,
  BC_F_LVM,                 /* lvm.conf filter / global_filter */
  BC_F_MDADM,               /* DEVICE lines, ARRAY devices= */
  BC_F_MULTIPATH,
  BC_F_INITRAMFS_TOOLS,     /* initramfs.conf, conf.d/: RESUME= */
  BC_F_DRACUT,              /* dracut.conf(.d): add_device */
};

/* What a reference's text is. */
enum bc_what {
  BC_DEVSPEC,               /* /dev/..., UUID=, LABEL=, PARTUUID=, PARTLABEL= */
  BC_LV,                    /* VG/LV (rd.lvm.lv=) */
  BC_VG,                    /* VG (rd.lvm.vg=) */
  BC_MD_UUID,               /* rd.md.uuid= */
  BC_LUKS_UUID,             /* rd.luks.uuid= */
  BC_FILTER_ACCEPT,         /* a device path inside an lvm.conf accept pattern */
  BC_FILTER_REJECT,         /* ... inside a reject pattern */
  BC_MULTIPATH_BLACKLIST,   /* devnode/wwid inside a blacklist section */
  BC_MULTIPATH_OTHER,       /* devnode/wwid elsewhere */
};

/* The form a rewrite must take in its file. */
enum bc_form {
  BC_FORM_SPEC,             /* UUID=... is understood (fstab, root=, RESUME) */
  BC_FORM_PATH,             /* a path: /dev/disk/by-uuid/... (dracut add_device) */
  BC_FORM_KNAME,            /* a kernel name: /dev/vdb1 (lvm filter, mdadm DEVICE) */
};

/* What the reference must name, checked before a kernel name is mapped:
 * the disk order of the source may differ from ferry's. */
enum bc_expect {
  BC_EXPECT_ANY,
  BC_EXPECT_ROOT,           /* the guest's root filesystem */
  BC_EXPECT_SWAP,
  BC_EXPECT_FSTYPE,         /* a filesystem of type `fstype` */
};

struct bc_item {
  struct bootchain_ref ref; /* file, line, text, kind, key, device, off, len */
  enum bc_what what;
  enum bc_form form;
  enum bc_expect expect;
  char *fstype;             /* BC_EXPECT_FSTYPE */
  bool optional;            /* fstab nofail/noauto: the boot does not wait for it */
  size_t file_index;        /* into the caller's file table */
};
DEFINE_VECTOR_TYPE (bc_item_vector, struct bc_item)

/* Which kind a guest path is, or -1 if it holds no references ferry reads. */
int bc_file_kind_of (const char *path);

/* Append the references found in one file.  -1 on out of memory. */
int bc_scan (const char *path, enum bc_file_kind kind, const char *content, size_t len,
             size_t file_index, bc_item_vector *out);

void bc_item_free (struct bc_item *it);

/* The default (first) entry of a grub.cfg / menu.lst, or of one BLS entry
 * file: the kernel's and the initramfs's paths as written (relative to the
 * boot loader's root: "/vmlinuz-..." when /boot is its own filesystem) and
 * the kernel's arguments; malloc'd (*initrd may be NULL).  0, or -1 when
 * there is no kernel line (a grub.cfg that reads BLS entries). entry.c */
int bc_grub_default_entry (const char *cfg, size_t len, char **kernel, char **initrd,
                           char **args);
int bc_bls_entry (const char *conf, size_t len, char **kernel, char **initrd, char **args);

/* A block device on the disks: whole disk, partition, LV or md array. */
struct bc_dev {
  char *dev;                /* the appliance's name: /dev/sda1, /dev/vg/lv */
  char *target;             /* its name on the target: /dev/vda1, /dev/vg/lv */
  char *type, *uuid, *label, *partuuid, *partlabel;   /* "" when none */
  int disk;                 /* index in the disk order; -1: LV or md */
  int part;                 /* partition number; 0: the whole disk */
};
DEFINE_VECTOR_TYPE (bc_dev_vector, struct bc_dev)

/* What the disks hold, as the references are judged against it. */
struct bc_world {
  bc_dev_vector devs;
  size_t n_disks;
  string_vector lvs;        /* "/dev/VG/LV" */
  string_vector vgs;        /* "VG" */
  string_vector md_uuids;   /* 32 lower-case hex digits */
  string_vector mapper_names;  /* names crypttab opens as /dev/mapper/NAME */
  const char *root_dev;     /* the appliance's name of the root filesystem */
};

void bc_world_reset (struct bc_world *w);
/* The target's kernel name of disk i: "vda", "vdb", ..., "vdaa". */
void bc_disk_name (size_t i, const char *prefix, char *buf, size_t n);

/* Judge one reference: sets ref.state, target, replacement, note.  -1 on
 * out of memory. */
int bc_resolve (const struct bc_world *w, struct bc_item *it);

#endif
