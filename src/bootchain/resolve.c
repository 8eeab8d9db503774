/* ferry: judging a boot-chain reference against what the disks hold.
 *
 * On the target the disks are virtio-blk devices in ferry's attach order:
 * /dev/vda is the first disk given.  A source kernel name (sdX, hdX, xvdX)
 * names nothing there; it is mapped through that order (the source's sda is
 * the first disk, sdb the second) to the filesystem now on /dev/vdX, and
 * only rewritten if that filesystem is of the kind the line expects (the
 * root, swap, the fstab type): otherwise the orders differ and guessing
 * would mount the wrong filesystem. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include "bootchain/internal.h"
#include "common/cleanup.h"
#include "common/util.h"

void
bc_disk_name (size_t i, const char *prefix, char *buf, size_t n)
{
  char letters[8];
  size_t k = sizeof letters;

  /* a..z, then aa..az, ba.. (as the kernel names them) */
  letters[--k] = '\0';
  i++;
  while (i > 0 && k > 0) {
    i--;
    letters[--k] = (char) ('a' + i % 26);
    i /= 26;
  }
  snprintf (buf, n, "%s%s", prefix, letters + k);
}

void
bc_world_reset (struct bc_world *w)
{
  for (size_t i = 0; i < w->devs.len; i++) {
    struct bc_dev *d = &w->devs.ptr[i];
    free (d->dev);
    free (d->target);
    free (d->type);
    free (d->uuid);
    free (d->label);
    free (d->partuuid);
    free (d->partlabel);
  }
  bc_dev_vector_reset (&w->devs);
  string_vector_free_all (&w->lvs);
  string_vector_free_all (&w->vgs);
  string_vector_free_all (&w->md_uuids);
  string_vector_free_all (&w->mapper_names);
  w->root_dev = NULL;
  w->n_disks = 0;
}

static bool
in_list (const string_vector *v, const char *s)
{
  for (size_t i = 0; i < v->len; i++)
    if (strcmp (v->ptr[i], s) == 0)
      return true;
  return false;
}

/* Compare identifiers ignoring case, '-' and ':' (UUIDs are written
 * several ways: mdadm's a:b:c:d, dashes, upper case). */
static bool
same_id (const char *a, const char *b)
{
  for (;;) {
    while (*a == '-' || *a == ':')
      a++;
    while (*b == '-' || *b == ':')
      b++;
    if (!*a || !*b)
      return !*a && !*b;
    if (tolower ((unsigned char) *a) != tolower ((unsigned char) *b))
      return false;
    a++, b++;
  }
}

static int
set (char **field, char *value)
{
  free (*field);
  *field = value;
  return value ? 0 : -1;
}

static int
resolved (struct bc_item *it, const char *target)
{
  it->ref.state = BOOTCHAIN_RESOLVED;
  return set (&it->ref.target, strdup (target));
}

/* Not resolvable and no safe rewrite: REFUSED with the reason and what to
 * do -- unless the line is optional (fstab nofail/noauto), which the boot
 * does not wait for. */
static int
refuse (struct bc_item *it, char *reason_and_action)
{
  if (reason_and_action == NULL)
    return -1;
  if (it->optional) {
    char *note = xasprintf ("%s (nofail/noauto: the boot does not wait for it)",
                            reason_and_action);
    free (reason_and_action);
    it->ref.state = BOOTCHAIN_UNCHECKED;
    return set (&it->ref.note, note);
  }
  it->ref.state = BOOTCHAIN_REFUSED;
  return set (&it->ref.note, reason_and_action);
}

static int
unchecked (struct bc_item *it, const char *why)
{
  it->ref.state = BOOTCHAIN_UNCHECKED;
  return set (&it->ref.note, strdup (why));
}

/* Strip quotes around a tag's value: LABEL="my root". */
static void
unquote (char *s)
{
  size_t n = strlen (s);
  if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
    memmove (s, s + 1, n - 2);
    s[n - 2] = '\0';
  }
}

enum tag { T_UUID, T_LABEL, T_PARTUUID, T_PARTLABEL };

/* Does udev link this device's UUID under /dev/disk/by-uuid (what UUID=
 * means at boot)?  Filesystems, swap and LUKS yes; RAID and LVM members
 * (their UUIDs are the PV's or the array's) no. */
static bool
uuid_usable (const struct bc_dev *d)
{
  static const char *const members[] = {
    "LVM2_member", "linux_raid_member", "ddf_raid_member", "isw_raid_member",
    "promise_fasttrack_raid_member", "VMFS_volume_member", NULL
  };

  if (!d->uuid || !*d->uuid || !d->type || !*d->type)
    return false;
  for (size_t i = 0; members[i]; i++)
    if (strcmp (d->type, members[i]) == 0)
      return false;
  return true;
}

static const struct bc_dev *
find_tag (const struct bc_world *w, enum tag t, const char *value)
{
  for (size_t i = 0; i < w->devs.len; i++) {
    const struct bc_dev *d = &w->devs.ptr[i];
    const char *v = t == T_UUID ? d->uuid : t == T_LABEL ? d->label
      : t == T_PARTUUID ? d->partuuid : d->partlabel;
    if (!v || !*v || (t == T_UUID && !uuid_usable (d)))
      continue;
    if (t == T_LABEL || t == T_PARTLABEL ? strcmp (v, value) == 0 : same_id (v, value))
      return d;
  }
  return NULL;
}

/* A kernel name such as sdb2: the prefix's length, the disk index and the
 * partition number, or false if it is not one. */
static bool
parse_kname (const char *name, const char **prefix, size_t *disk, int *part)
{
  static const char *const prefixes[] = { "xvd", "sd", "hd", "vd", NULL };
  const char *p = NULL, *s;
  size_t idx = 0, nl = 0;
  long pn = 0;

  for (size_t i = 0; prefixes[i]; i++)
    if (strncmp (name, prefixes[i], strlen (prefixes[i])) == 0) {
      p = prefixes[i];
      break;
    }
  if (p == NULL)
    return false;
  s = name + strlen (p);
  while (*s >= 'a' && *s <= 'z' && nl < 3) {
    idx = idx * 26 + (size_t) (*s - 'a' + 1);
    s++, nl++;
  }
  if (nl == 0)
    return false;
  while (*s >= '0' && *s <= '9' && pn < 1000)
    pn = pn * 10 + (*s++ - '0');
  if (*s)
    return false;
  *prefix = p;
  *disk = idx - 1;
  *part = (int) pn;
  return true;
}

static const struct bc_dev *
find_disk_part (const struct bc_world *w, size_t disk, int part)
{
  for (size_t i = 0; i < w->devs.len; i++)
    if (w->devs.ptr[i].disk == (int) disk && w->devs.ptr[i].part == part)
      return &w->devs.ptr[i];
  return NULL;
}

static const char *
ordinal (size_t i)
{
  static const char *const o[] = { "first", "second", "third", "fourth", "fifth",
                                   "sixth", "seventh", "eighth" };
  return i < 8 ? o[i] : "n-th";
}

/* Is the filesystem d what the line expects?  NULL if so, else why not. */
static char *
mismatch (const struct bc_world *w, const struct bc_item *it, const struct bc_dev *d)
{
  const char *type = d->type && *d->type ? d->type : "no filesystem";

  switch (it->expect) {
  case BC_EXPECT_ANY:
    return NULL;
  case BC_EXPECT_ROOT:
    if (w->root_dev && strcmp (d->dev, w->root_dev) == 0)
      return NULL;
    return xasprintf ("it maps to %s (%s), which is not the guest's root filesystem",
                      d->target, type);
  case BC_EXPECT_SWAP:
    if (strcmp (type, "swap") == 0)
      return NULL;
    return xasprintf ("it maps to %s (%s), which is not swap", d->target, type);
  case BC_EXPECT_FSTYPE:
    if (it->fstype && strcmp (type, it->fstype) == 0)
      return NULL;
    return xasprintf ("it maps to %s (%s), not the %s the line mounts", d->target, type,
                      it->fstype ? it->fstype : "?");
  }
  return NULL;
}

/* A source kernel name (sdX, hdX, xvdX): map it through the disk order. */
static int
resolve_kname (const struct bc_world *w, struct bc_item *it, size_t disk, int part)
{
  const struct bc_dev *d;
  char vd[16];
  char *why;

  bc_disk_name (disk, "vd", vd, sizeof vd);
  if (disk >= w->n_disks)
    return refuse (it, xasprintf ("%s names the %s disk of the source; only %zu disk%s %s "
                                  "attached. Attach the missing disk (in the source's order), "
                                  "or change the line to name the right filesystem by "
                                  "UUID=, or remove it%s",
                                  it->ref.device, ordinal (disk), w->n_disks,
                                  w->n_disks == 1 ? "" : "s", w->n_disks == 1 ? "is" : "are",
                                  strcmp (it->ref.kind, "fstab") == 0
                                  ? " (or mark it nofail)" : ""));
  d = find_disk_part (w, disk, part);
  if (d == NULL)
    return refuse (it, xasprintf ("%s: /dev/%s has no partition %d. Change the line to name "
                                  "the right filesystem by UUID=, or remove it",
                                  it->ref.device, vd, part));
  if ((why = mismatch (w, it, d)) != NULL) {
    char *msg = xasprintf ("%s: %s; the disk order may differ from the source's. Change the "
                           "line to UUID= of the filesystem it means (blkid on the source)",
                           it->ref.device, why);
    free (why);
    return refuse (it, msg);
  }
  if (set (&it->ref.target, strdup (d->target)) == -1)
    return -1;
  switch (it->form) {
  case BC_FORM_KNAME:
    it->ref.state = BOOTCHAIN_FIXABLE;
    return set (&it->ref.replacement, part ? xasprintf ("/dev/%s%d", vd, part)
                                           : xasprintf ("/dev/%s", vd));
  case BC_FORM_SPEC:
  case BC_FORM_PATH:
    if (!uuid_usable (d))
      return refuse (it, xasprintf ("%s maps to %s (%s), which has no filesystem UUID to name "
                                    "it by. Name it some stable way the file accepts",
                                    it->ref.device, d->target,
                                    d->type && *d->type ? d->type : "no filesystem"));
    it->ref.state = BOOTCHAIN_FIXABLE;
    return set (&it->ref.replacement,
                it->form == BC_FORM_SPEC ? xasprintf ("UUID=%s", d->uuid)
                : xasprintf ("/dev/disk/by-uuid/%s", d->uuid));
  }
  return 0;
}

/* /dev/mapper/NAME: a crypttab name, or an LV (VG-LV, '-' doubled). */
static bool
mapper_resolves (const struct bc_world *w, const char *name)
{
  if (in_list (&w->mapper_names, name))
    return true;
  for (size_t i = 0; i < w->lvs.len; i++) {
    const char *vg = w->lvs.ptr[i] + 5, *slash = strchr (vg, '/');
    char buf[512];
    size_t k = 0;
    if (slash == NULL)
      continue;
    for (const char *p = vg; *p && k + 3 < sizeof buf; p++) {
      if (p == slash) {
        buf[k++] = '-';
        continue;
      }
      if (*p == '-')
        buf[k++] = '-';
      buf[k++] = *p;
    }
    buf[k] = '\0';
    if (strcmp (buf, name) == 0)
      return true;
  }
  return false;
}

static int
resolve_devspec (const struct bc_world *w, struct bc_item *it)
{
  static const struct { const char *prefix; enum tag tag; } tags[] = {
    { "UUID=", T_UUID }, { "LABEL=", T_LABEL }, { "PARTUUID=", T_PARTUUID },
    { "PARTLABEL=", T_PARTLABEL },
    { "/dev/disk/by-uuid/", T_UUID }, { "/dev/disk/by-label/", T_LABEL },
    { "/dev/disk/by-partuuid/", T_PARTUUID }, { "/dev/disk/by-partlabel/", T_PARTLABEL },
  };
  const char *dev = it->ref.device;
  const char *prefix;
  size_t disk;
  int part;

  for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
    size_t n = strlen (tags[i].prefix);
    if (strncmp (dev, tags[i].prefix, n) == 0) {
      CLEANUP_FREE char *v = strdup (dev + n);
      const struct bc_dev *d;
      if (v == NULL)
        return -1;
      unquote (v);
      if ((d = find_tag (w, tags[i].tag, v)) != NULL)
        return resolved (it, d->target);
      return refuse (it, xasprintf ("no filesystem or partition on these disks has %s. "
                                    "Attach the disk that holds it, or change the line",
                                    dev));
    }
  }
  if (strncmp (dev, "/dev/disk/by-id/dm-name-", 24) == 0) {
    if (mapper_resolves (w, dev + 24))
      return resolved (it, dev);
    return refuse (it, xasprintf ("%s: no such LV or crypttab name on these disks", dev));
  }
  if (strncmp (dev, "/dev/disk/by-id/", 16) == 0 || strncmp (dev, "/dev/disk/by-path/", 18) == 0)
    return refuse (it, xasprintf ("%s names the source's hardware (disk serial or bus path), "
                                  "which KVM does not reproduce. Change it to UUID= of the "
                                  "filesystem it means", dev));
  if (strncmp (dev, "/dev/mapper/", 12) == 0) {
    if (strcmp (dev + 12, "control") == 0 || mapper_resolves (w, dev + 12))
      return resolved (it, dev);
    return refuse (it, xasprintf ("%s is neither an LV on these disks nor a crypttab name. "
                                  "Attach the disks of its volume group, or change the line",
                                  dev));
  }
  if (strncmp (dev, "/dev/md", 7) == 0) {
    if (w->md_uuids.len > 0)
      return resolved (it, dev);
    return refuse (it, xasprintf ("%s: no md RAID array was found on these disks. Attach "
                                  "all of the array's member disks", dev));
  }
  if (strncmp (dev, "/dev/", 5) == 0 && parse_kname (dev + 5, &prefix, &disk, &part)) {
    if (strcmp (prefix, "vd") == 0) {
      const struct bc_dev *d = disk < w->n_disks ? find_disk_part (w, disk, part) : NULL;
      if (d)
        return resolved (it, d->target);
      return refuse (it, xasprintf ("%s does not exist in the attach order (%zu disk%s)",
                                    dev, w->n_disks, w->n_disks == 1 ? "" : "s"));
    }
    return resolve_kname (w, it, disk, part);
  }
  if (strncmp (dev, "/dev/", 5) == 0) {
    const char *n = dev + 5;
    /* An LV by its volume group's directory: /dev/VG/LV. */
    if (strchr (n, '/')) {
      if (in_list (&w->lvs, dev))
        return resolved (it, dev);
      const char *slash = strchr (n, '/');
      CLEANUP_FREE char *vg = strndup (n, (size_t) (slash - n));
      if (vg == NULL)
        return -1;
      if (in_list (&w->vgs, vg))
        return refuse (it, xasprintf ("%s: volume group %s has no such LV", dev, vg));
    }
    if (strncmp (n, "sr", 2) == 0 || strncmp (n, "fd", 2) == 0 || strncmp (n, "cdrom", 5) == 0)
      return unchecked (it, "removable media: not part of the boot");
    return refuse (it, xasprintf ("%s is a device name that does not exist on KVM with "
                                  "virtio-blk. Change it to UUID= of the filesystem it means",
                                  dev));
  }
  return unchecked (it, "not a block device name (network or special root)");
}

/* A device path inside an lvm.conf filter pattern, or an mdadm.conf
 * DEVICE glob: a literal kernel name maps as any other; a pattern over
 * source names (sd.*, sd[ab]) can't be rewritten safely. */
static int
resolve_pattern (const struct bc_world *w, struct bc_item *it)
{
  const char *dev = it->ref.device, *prefix;
  const char *after = it->ref.text + it->ref.off + it->ref.len;
  bool glob = *after && strchr ("*[?.+{(", *after);   /* the name goes on as a pattern */
  size_t disk;
  int part;

  if (it->what == BC_FILTER_REJECT)
    return resolved (it, "(a reject pattern: harmless on KVM)");
  if (!glob && strncmp (dev, "/dev/", 5) == 0 && parse_kname (dev + 5, &prefix, &disk, &part))
    return strcmp (prefix, "vd") == 0 ? resolve_devspec (w, it)
      : resolve_kname (w, it, disk, part);
  if (!glob && it->what == BC_DEVSPEC)      /* mdadm: a literal path */
    return resolve_devspec (w, it);
  if (strncmp (dev, "/dev/sd", 7) == 0 || strncmp (dev, "/dev/hd", 7) == 0
      || strncmp (dev, "/dev/xvd", 8) == 0)
    return refuse (it, xasprintf ("a pattern over the source's device names (%s...): on KVM "
                                  "the disks are /dev/vd*, which it would not accept. Change "
                                  "it to accept /dev/vd* (or remove the %s)", dev,
                                  it->what == BC_FILTER_ACCEPT ? "filter" : "line"));
  return resolved (it, "(a pattern that does not name the source's disks)");
}

int
bc_resolve (const struct bc_world *w, struct bc_item *it)
{
  const char *v = it->ref.device;

  switch (it->what) {
  case BC_DEVSPEC:
    /* mdadm.conf's device lists may be globs (/dev/sd[ab]1). */
    if (strcmp (it->ref.kind, "mdadm") == 0)
      return resolve_pattern (w, it);
    if (v[0] == '$')
      return unchecked (it, "a variable, expanded elsewhere");
    return resolve_devspec (w, it);
  case BC_LV: {
    CLEANUP_FREE char *p = xasprintf ("/dev/%s", v);
    if (p == NULL)
      return -1;
    if (in_list (&w->lvs, p))
      return resolved (it, p);
    return refuse (it, xasprintf ("no LV %s on these disks. Attach the disks of its volume "
                                  "group, or remove rd.lvm.lv=%s from the kernel command line",
                                  v, v));
  }
  case BC_VG:
    if (in_list (&w->vgs, v))
      return resolved (it, v);
    return refuse (it, xasprintf ("no volume group %s on these disks. Attach its disks, or "
                                  "remove rd.lvm.vg=%s", v, v));
  case BC_MD_UUID:
    for (size_t i = 0; i < w->md_uuids.len; i++)
      if (same_id (w->md_uuids.ptr[i], v))
        return resolved (it, v);
    return refuse (it, xasprintf ("no md RAID array %s on these disks. Attach all of its "
                                  "member disks", v));
  case BC_LUKS_UUID: {
    const char *u = strncmp (v, "luks-", 5) == 0 ? v + 5 : v;
    const struct bc_dev *d = find_tag (w, T_UUID, u);
    if (d && d->type && strcmp (d->type, "crypto_LUKS") == 0)
      return resolved (it, d->target);
    return refuse (it, xasprintf ("no LUKS container %s on these disks", u));
  }
  case BC_FILTER_ACCEPT:
  case BC_FILTER_REJECT:
    return resolve_pattern (w, it);
  case BC_MULTIPATH_BLACKLIST:
    return resolved (it, "(a blacklist entry: harmless on KVM)");
  case BC_MULTIPATH_OTHER:
    return unchecked (it, "multipath on virtio-blk: the disks have no SCSI WWID, so no map "
                          "forms; the /dev/mapper names that use it are checked where they "
                          "appear");
  }
  return 0;
}
