/* ferry: the boot-chain verifier's libguestfs side: open the disks,
 * inspect, read the boot-chain files, judge every reference (scan.c,
 * resolve.c), and with fix rewrite what is safe, rebuild the initramfs when
 * a file it embeds changed, and read the files back to confirm.
 *
 * With fix the drives are attached writable (one appliance launch instead
 * of two: a launch costs half a minute without KVM), but every filesystem is
 * mounted read-only until the whole plan is known to have no refusal; only
 * then are the guest's system filesystems remounted read-write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <guestfs.h>

#include "bootchain/internal.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

/* The boot-chain files, read from each Linux root. */
static const char *const boot_files[] = {
  "/boot/grub/grub.cfg", "/boot/grub2/grub.cfg", "/boot/efi/EFI/*/grub.cfg",
  "/boot/grub/menu.lst", "/boot/grub/grub.conf",
  "/etc/default/grub",
  "/boot/grub/grubenv", "/boot/grub2/grubenv", "/boot/efi/EFI/*/grubenv",
  "/boot/loader/entries/*.conf", "/boot/efi/loader/entries/*.conf",
  "/etc/kernel/cmdline",
  "/etc/fstab", "/etc/crypttab",
  "/etc/lvm/lvm.conf",
  "/etc/mdadm/mdadm.conf", "/etc/mdadm.conf",
  "/etc/multipath.conf", "/etc/multipath/conf.d/*.conf",
  "/etc/initramfs-tools/initramfs.conf", "/etc/initramfs-tools/conf.d/*",
  "/etc/dracut.conf", "/etc/dracut.conf.d/*.conf",
  NULL
};

/* The guest's filesystems mounted to read those files and to rebuild the
 * initramfs (mkinitramfs works in /var/tmp); others (data) stay unmounted. */
static const char *const system_mounts[] = { "/", "/boot", "/boot/efi", "/usr", "/var", "/etc",
                                             NULL };

struct bc_file {
  char *path;
  enum bc_file_kind kind;
  char *content;
  size_t len;
  size_t root;              /* index into session.roots */
};
DEFINE_VECTOR_TYPE (bc_file_vector, struct bc_file)

struct session {
  guestfs_h *g;
  FILE *log;
  struct bc_world world;
  bc_file_vector files;
  bc_item_vector items;
  string_vector roots;      /* the Linux roots (appliance names) */
  char *initramfs_tool;     /* of the first root */
  struct bootchain_result *r;
};

static void
free_strings (char **v)
{
  if (v == NULL)
    return;
  for (size_t i = 0; v[i]; i++)
    free (v[i]);
  free (v);
}

static const char *
gerr (guestfs_h *g)
{
  const char *e = guestfs_last_error (g);
  return e ? e : "unknown libguestfs error";
}

static void
on_event (guestfs_h *g, void *opaque, uint64_t event, int handle, int flags,
          const char *buf, size_t len, const uint64_t *array, size_t alen)
{
  FILE *fp = opaque;

  (void) g, (void) handle, (void) flags, (void) array, (void) alen;
  if (event == GUESTFS_EVENT_APPLIANCE)
    fwrite (buf, 1, len, fp);
  else
    fprintf (fp, "libguestfs: %.*s\n", (int) len, buf);
  fflush (fp);
}

/* The name a device has on the target: the appliance's /dev/sdb2 is the
 * second disk's second partition, /dev/vdb2; LVs and arrays keep theirs. */
static char *
target_name (const string_vector *disks, const char *dev, int *disk, int *part)
{
  *disk = -1;
  *part = 0;
  for (size_t i = 0; i < disks->len; i++) {
    size_t n = strlen (disks->ptr[i]);
    if (strncmp (dev, disks->ptr[i], n) == 0
        && (dev[n] == '\0' || (dev[n] >= '0' && dev[n] <= '9'))) {
      char vd[16];
      *disk = (int) i;
      *part = atoi (dev + n);
      bc_disk_name (i, "vd", vd, sizeof vd);
      return xasprintf ("/dev/%s%s", vd, dev + n);
    }
  }
  return strdup (dev);
}

static int
add_dev (struct session *s, const string_vector *disks, const char *dev)
{
  guestfs_h *g = s->g;
  struct bc_dev d = { 0 };
  char **kv;

  d.dev = strdup (dev);
  d.target = target_name (disks, dev, &d.disk, &d.part);
  kv = guestfs_blkid (g, dev);          /* fails on a disk with nothing on it */
  if (kv) {
    for (size_t i = 0; kv[i] && kv[i + 1]; i += 2) {
      char **f = strcmp (kv[i], "TYPE") == 0 ? &d.type
        : strcmp (kv[i], "UUID") == 0 ? &d.uuid
        : strcmp (kv[i], "LABEL") == 0 ? &d.label
        : strcmp (kv[i], "PART_ENTRY_UUID") == 0 ? &d.partuuid
        : strcmp (kv[i], "PART_ENTRY_NAME") == 0 ? &d.partlabel : NULL;
      if (f && *f == NULL)
        *f = strdup (kv[i + 1]);
    }
    free_strings (kv);
  }
  if (!d.dev || !d.target || bc_dev_vector_append (&s->world.devs, d) == -1) {
    free (d.dev); free (d.target); free (d.type); free (d.uuid); free (d.label);
    free (d.partuuid); free (d.partlabel);
    return -1;
  }
  return 0;
}

/* What the disks hold: every disk, partition, LV and array, with its
 * filesystem type, UUID, label, PARTUUID. */
static int
build_world (struct session *s)
{
  guestfs_h *g = s->g;
  string_vector disks = empty_vector;
  char **v;
  int r = -1;

  if ((v = guestfs_list_devices (g)) == NULL)
    goto out;
  for (size_t i = 0; v[i]; i++)
    if (string_vector_append (&disks, v[i]) == -1)
      goto out_v;
  s->world.n_disks = disks.len;
  for (size_t i = 0; i < disks.len; i++)
    if (add_dev (s, &disks, disks.ptr[i]) == -1)
      goto out_v;
  {
    char **parts = guestfs_list_partitions (g);
    if (parts == NULL)
      goto out_v;
    for (size_t i = 0; parts[i]; i++)
      if (add_dev (s, &disks, parts[i]) == -1) {
        free_strings (parts);
        goto out_v;
      }
    free_strings (parts);
  }
  {
    char **lvs = guestfs_lvs (g), **vgs = guestfs_vgs (g), **mds = guestfs_list_md_devices (g);
    int bad = !lvs || !vgs || !mds;
    for (size_t i = 0; !bad && lvs[i]; i++)
      bad = add_dev (s, &disks, lvs[i]) == -1
        || string_vector_append (&s->world.lvs, strdup (lvs[i])) == -1;
    for (size_t i = 0; !bad && vgs[i]; i++)
      bad = string_vector_append (&s->world.vgs, strdup (vgs[i])) == -1;
    for (size_t i = 0; !bad && mds[i]; i++) {
      char **kv = guestfs_md_detail (g, mds[i]);
      bad = add_dev (s, &disks, mds[i]) == -1;
      for (size_t k = 0; !bad && kv && kv[k] && kv[k + 1]; k += 2)
        if (strcmp (kv[k], "uuid") == 0)
          bad = string_vector_append (&s->world.md_uuids, strdup (kv[k + 1])) == -1;
      free_strings (kv);
    }
    free_strings (lvs);
    free_strings (vgs);
    free_strings (mds);
    if (bad)
      goto out_v;
  }
  r = 0;
 out_v:
  /* disks' elements belong to v */
  string_vector_reset (&disks);
  free_strings (v);
 out:
  return r;
}

static int
cmp_len (const void *a, const void *b)
{
  size_t la = strlen (*(char *const *) a), lb = strlen (*(char *const *) b);
  return la < lb ? -1 : la > lb;
}

/* Mount the root's system filesystems (by its fstab, as inspection read
 * it), shortest mount point first.  -1 if the root itself fails. */
static int
mount_root (struct session *s, const char *root, bool rw)
{
  guestfs_h *g = s->g;
  char **mp = guestfs_inspect_get_mountpoints (g, root);
  char *order[64];
  size_t n = 0;
  int r = 0;

  if (mp == NULL) {
    log_error ("bootchain: the mount points of %s: %s", root, gerr (g));
    return -1;
  }
  for (size_t i = 0; mp[i] && mp[i + 1] && n < 64; i += 2)
    for (size_t k = 0; system_mounts[k]; k++)
      if (strcmp (mp[i], system_mounts[k]) == 0)
        order[n++] = mp[i];
  qsort (order, n, sizeof order[0], cmp_len);
  for (size_t i = 0; i < n; i++) {
    const char *dev = NULL;
    for (size_t k = 0; mp[k] && mp[k + 1]; k += 2)
      if (mp[k] == order[i])
        dev = mp[k + 1];
    if ((rw ? guestfs_mount (g, dev, order[i]) : guestfs_mount_ro (g, dev, order[i])) == -1) {
      if (strcmp (order[i], "/") == 0) {
        log_error ("bootchain: mounting the guest's root %s: %s", dev, gerr (g));
        r = -1;
        break;
      }
      log_warn ("bootchain: %s (%s) could not be mounted: files on it are not checked: %s",
                order[i], dev, gerr (g));
    }
  }
  free_strings (mp);
  return r;
}

static bool
guest_has (guestfs_h *g, const char *path)
{
  return guestfs_is_file_opts (g, path, GUESTFS_IS_FILE_OPTS_FOLLOWSYMLINKS, 1, -1) > 0;
}

static const char *
detect_initramfs_tool (guestfs_h *g)
{
  if (guest_has (g, "/usr/sbin/update-initramfs") || guest_has (g, "/sbin/update-initramfs"))
    return "initramfs-tools";
  if (guest_has (g, "/usr/bin/dracut") || guest_has (g, "/usr/sbin/dracut")
      || guest_has (g, "/sbin/dracut"))
    return "dracut";
  return NULL;
}

/* Read one file into the table and scan it.  0, or -1 out of memory. */
static int
read_and_scan (struct session *s, size_t root, const char *path)
{
  guestfs_h *g = s->g;
  struct bc_file f = { 0 };
  int kind = bc_file_kind_of (path);
  size_t size = 0;

  if (kind < 0 || guestfs_is_file (g, path) <= 0)   /* symlinks: read where they point */
    return 0;
  f.content = guestfs_read_file (g, path, &size);
  if (f.content == NULL) {
    log_warn ("bootchain: %s could not be read: %s", path, gerr (g));
    return 0;
  }
  f.path = strdup (path);
  f.kind = (enum bc_file_kind) kind;
  f.len = size;
  f.root = root;
  if (f.path == NULL || bc_file_vector_append (&s->files, f) == -1) {
    free (f.path);
    free (f.content);
    return -1;
  }
  return bc_scan (path, f.kind, f.content, f.len, s->files.len - 1, &s->items);
}

static int
scan_root (struct session *s, size_t ri)
{
  guestfs_h *g = s->g;

  if (mount_root (s, s->roots.ptr[ri], false) == -1)
    return -1;
  if (ri == 0) {
    const char *t = detect_initramfs_tool (g);
    s->initramfs_tool = t ? strdup (t) : NULL;
  }
  for (size_t i = 0; boot_files[i]; i++) {
    if (strchr (boot_files[i], '*')) {
      char **paths = guestfs_glob_expand (g, boot_files[i]);
      for (size_t k = 0; paths && paths[k]; k++)
        if (read_and_scan (s, ri, paths[k]) == -1) {
          free_strings (paths);
          return -1;
        }
      free_strings (paths);
    }
    else if (read_and_scan (s, ri, boot_files[i]) == -1)
      return -1;
  }
  if (guestfs_umount_all (g) == -1)
    return -1;
  return 0;
}

/* The file's content with every FIXABLE reference replaced; the changed
 * lines are added to r->changes.  grubenv keeps its 1024-byte size by
 * taking or giving '#' padding.  NULL with errno on failure. */
static char *
rewrite (struct session *s, size_t fi, size_t *newlen)
{
  const struct bc_file *f = &s->files.ptr[fi];
  struct bootchain_result *r = s->r;
  char *out = NULL;
  size_t olen = 0, pos = 0;
  unsigned lineno = 0;
  FILE *mem = open_memstream (&out, &olen);

  if (mem == NULL)
    return NULL;
  while (pos < f->len) {
    const char *line = f->content + pos, *nl = memchr (line, '\n', f->len - pos);
    size_t ll = nl ? (size_t) (nl - line) : f->len - pos;
    size_t at = 0;
    bool changed = false;
    char *nline = NULL;
    size_t nlen = 0;
    FILE *lm = open_memstream (&nline, &nlen);

    if (lm == NULL)
      goto fail;
    lineno++;
    /* Replacements left to right (scan order within a line). */
    for (size_t i = 0; i < s->items.len; i++) {
      struct bc_item *it = &s->items.ptr[i];
      if (it->file_index != fi || it->ref.line != lineno || it->ref.state != BOOTCHAIN_FIXABLE
          || it->ref.off < at)
        continue;
      fwrite (line + at, 1, it->ref.off - at, lm);
      fputs (it->ref.replacement, lm);
      at = it->ref.off + it->ref.len;
      changed = true;
    }
    fwrite (line + at, 1, ll - at, lm);
    fclose (lm);
    if (changed) {
      struct bootchain_change *c;
      void *p = realloc (r->changes, (r->n_changes + 1) * sizeof *r->changes);
      if (p == NULL) {
        free (nline);
        goto fail;
      }
      r->changes = p;
      c = &r->changes[r->n_changes++];
      c->file = strdup (f->path);
      c->line = lineno;
      c->old_text = strndup (line, ll);
      c->new_text = strdup (nline);
      log_info ("bootchain: %s:%u: '%s' -> '%s'", f->path, lineno, c->old_text, c->new_text);
    }
    fwrite (nline, 1, nlen, mem);
    free (nline);
    if (nl)
      fputc ('\n', mem);
    pos += ll + (nl ? 1 : 0);
  }
  if (fclose (mem) != 0) {
    mem = NULL;
    goto fail;
  }
  mem = NULL;
  if (f->kind == BC_F_GRUBENV && olen != f->len) {
    size_t pad = 0;
    while (pad < olen && out[olen - 1 - pad] == '#')
      pad++;
    if (olen > f->len) {
      if (olen - f->len > pad) {
        log_error ("bootchain: %s: the new kernelopts do not fit in the 1024-byte block", f->path);
        free (out);
        errno = ENOSPC;
        return NULL;
      }
      olen = f->len;
    }
    else {
      char *p = realloc (out, f->len);
      if (p == NULL)
        goto fail;
      out = p;
      memset (out + olen, '#', f->len - olen);
      olen = f->len;
    }
  }
  *newlen = olen;
  return out;
 fail:
  if (mem)
    fclose (mem);
  free (out);
  errno = ENOMEM;
  return NULL;
}

/* Does a change of this file call for a new initramfs?  initramfs-tools
 * embeds its own configuration, and crypttab, lvm.conf, mdadm.conf,
 * multipath.conf when the matching hook is installed; dracut embeds those
 * and fstab (host-only images). */
static bool
initramfs_embeds (guestfs_h *g, const char *tool, const char *path)
{
  static const struct { const char *file, *hook; } hooked[] = {
    { "/etc/crypttab", "cryptroot" }, { "/etc/lvm/lvm.conf", "lvm2" },
    { "/etc/mdadm/mdadm.conf", "mdadm" }, { "/etc/multipath.conf", "multipath" },
  };

  if (tool == NULL)
    return false;
  if (strcmp (tool, "initramfs-tools") == 0) {
    if (strncmp (path, "/etc/initramfs-tools/", 21) == 0)
      return true;
    for (size_t i = 0; i < sizeof hooked / sizeof hooked[0]; i++)
      if (strcmp (path, hooked[i].file) == 0) {
        CLEANUP_FREE char *h = xasprintf ("/usr/share/initramfs-tools/hooks/%s", hooked[i].hook);
        return h && guest_has (g, h);
      }
    return false;
  }
  return strcmp (path, "/etc/fstab") == 0 || strcmp (path, "/etc/crypttab") == 0
    || strncmp (path, "/etc/lvm/", 9) == 0 || strncmp (path, "/etc/mdadm", 10) == 0
    || strncmp (path, "/etc/multipath", 14) == 0 || strncmp (path, "/etc/dracut.conf", 16) == 0;
}

static const char *
initramfs_command (const char *tool)
{
  if (tool == NULL)
    return NULL;
  return strcmp (tool, "initramfs-tools") == 0 ? "update-initramfs -u -k all"
    : "dracut -f --regenerate-all";
}

/* Apply the fixes of one root, rebuild its initramfs if needed, read the
 * changed files back and judge them again.  -1 after logging. */
static int
fix_root (struct session *s, size_t ri)
{
  guestfs_h *g = s->g;
  struct bootchain_result *r = s->r;
  bc_item_vector again = empty_vector;
  const char *tool = ri == 0 ? s->initramfs_tool : NULL;
  const char *why = NULL;
  int ret = -1;

  if (mount_root (s, s->roots.ptr[ri], true) == -1)
    return -1;
  if (ri != 0)
    tool = detect_initramfs_tool (g);
  for (size_t fi = 0; fi < s->files.len; fi++) {
    const struct bc_file *f = &s->files.ptr[fi];
    bool any = false;
    CLEANUP_FREE char *content = NULL;
    size_t len = 0;

    if (f->root != ri)
      continue;
    for (size_t i = 0; i < s->items.len && !any; i++)
      any = s->items.ptr[i].file_index == fi
        && s->items.ptr[i].ref.state == BOOTCHAIN_FIXABLE;
    if (!any)
      continue;
    if ((content = rewrite (s, fi, &len)) == NULL) {
      log_error ("bootchain: rewriting %s: %s", f->path, strerror (errno));
      goto out;
    }
    if (guestfs_write (g, f->path, content, len) == -1) {
      log_error ("bootchain: writing %s: %s", f->path, gerr (g));
      goto out;
    }
    if (why == NULL && initramfs_embeds (g, tool, f->path))
      why = f->path;
    /* Judge the file again as written. */
    {
      char *back;
      size_t blen;
      if ((back = guestfs_read_file (g, f->path, &blen)) == NULL) {
        log_error ("bootchain: reading %s back: %s", f->path, gerr (g));
        goto out;
      }
      if (bc_scan (f->path, f->kind, back, blen, fi, &again) == -1) {
        free (back);
        goto out;
      }
      free (back);
    }
    for (size_t i = 0; i < s->items.len; i++)
      if (s->items.ptr[i].file_index == fi && s->items.ptr[i].ref.state == BOOTCHAIN_FIXABLE)
        s->items.ptr[i].ref.state = BOOTCHAIN_FIXED;
  }
  for (size_t i = 0; i < again.len; i++) {
    struct bc_item *it = &again.ptr[i];
    if (bc_resolve (&s->world, it) == -1)
      goto out;
    if (it->ref.state == BOOTCHAIN_FIXABLE || it->ref.state == BOOTCHAIN_REFUSED) {
      log_error ("bootchain: %s:%u: '%s' still does not resolve after the fix",
                 it->ref.file, it->ref.line, it->ref.device);
      goto out;
    }
  }
  if (why) {
    const char *cmd = initramfs_command (tool);
    CLEANUP_FREE char *sh = xasprintf ("%s 2>&1", cmd);
    char *outp;
    time_t t0 = time (NULL);

    free (r->initramfs_command);
    free (r->initramfs_reason);
    r->initramfs_command = strdup (cmd);
    r->initramfs_reason = strdup (why);
    log_info ("bootchain: %s changed: rebuilding the initramfs inside the guest (%s)", why, cmd);
    outp = guestfs_sh (g, sh);
    if (outp == NULL) {
      log_error ("bootchain: %s failed inside the guest: %s", cmd, gerr (g));
      goto out;
    }
    if (s->log)
      fprintf (s->log, "bootchain: %s:\n%s\n", cmd, outp);
    free (outp);
    r->initramfs_rebuilt = true;
    log_info ("bootchain: initramfs rebuilt in %ld s", (long) (time (NULL) - t0));
  }
  if (guestfs_sync (g) == -1 || guestfs_umount_all (g) == -1) {
    log_error ("bootchain: flushing the guest's filesystems: %s", gerr (g));
    goto out;
  }
  ret = 0;
 out:
  for (size_t i = 0; i < again.len; i++)
    bc_item_free (&again.ptr[i]);
  bc_item_vector_reset (&again);
  return ret;
}

static int
open_disks (struct session *s, const char *const *disks, const struct bootchain_opts *o)
{
  guestfs_h *g;
  const char *fmt = o->disk_format ? o->disk_format : "raw";

  s->g = g = guestfs_create ();
  if (g == NULL) {
    s->r->error = xasprintf ("libguestfs: cannot create a handle: %s", strerror (errno));
    return -1;
  }
  guestfs_set_error_handler (g, NULL, NULL);
  /* As virt-v2v is run (convert.c): the direct backend unless told. */
  if (getenv ("LIBGUESTFS_BACKEND") == NULL)
    guestfs_set_backend (g, "direct");
  if (s->log) {
    guestfs_set_verbose (g, 1);
    guestfs_set_trace (g, 1);
    guestfs_set_event_callback (g, on_event,
                                GUESTFS_EVENT_APPLIANCE | GUESTFS_EVENT_LIBRARY
                                | GUESTFS_EVENT_WARNING | GUESTFS_EVENT_TRACE, 0, s->log);
  }
  for (size_t i = 0; disks[i]; i++)
    if (guestfs_add_drive_opts (g, disks[i],
                                GUESTFS_ADD_DRIVE_OPTS_FORMAT, fmt,
                                GUESTFS_ADD_DRIVE_OPTS_READONLY, o->fix ? 0 : 1,
                                -1) == -1) {
      s->r->error = xasprintf ("%s: %s", disks[i], gerr (g));
      return -1;
    }
  if (guestfs_launch (g) == -1) {
    s->r->error = xasprintf ("starting the libguestfs appliance: %s%s", gerr (g),
                             s->log ? "" : " (run with a log for details)");
    return -1;
  }
  return 0;
}

static int
inspect (struct session *s)
{
  guestfs_h *g = s->g;
  struct bootchain_result *r = s->r;
  char **roots = guestfs_inspect_os (g);
  CLEANUP_FREE char *other = NULL;

  if (roots == NULL) {
    r->error = xasprintf ("inspection failed: %s", gerr (g));
    return -1;
  }
  for (size_t i = 0; roots[i]; i++) {
    CLEANUP_FREE char *type = guestfs_inspect_get_type (g, roots[i]);
    if (type && strcmp (type, "linux") == 0) {
      char *copy = strdup (roots[i]);
      if (copy == NULL || string_vector_append (&s->roots, copy) == -1) {
        free (copy);
        free_strings (roots);
        return -1;
      }
    }
    else if (other == NULL && type)
      other = strdup (type);
  }
  free_strings (roots);
  if (s->roots.len == 0) {
    r->status = other ? BOOTCHAIN_STATUS_SKIPPED : BOOTCHAIN_STATUS_ERROR;
    r->error = other ? xasprintf ("a %s guest: its boot chain is not covered (virt-v2v's own "
                                  "handling applies)", other)
      : strdup ("no operating system was found on the disks");
    return -1;
  }
  /* The first Linux root is the one reported (its target name is set once
   * the disks are listed). */
  s->world.root_dev = s->roots.ptr[0];
  r->os_product = guestfs_inspect_get_product_name (g, s->roots.ptr[0]);
  r->os_distro = guestfs_inspect_get_distro (g, s->roots.ptr[0]);
  return 0;
}

static void
log_refusals (const struct bootchain_result *r)
{
  for (size_t i = 0; i < r->n_refusals; i++)
    log_error ("bootchain: refused: %s:%u: %s", r->refusals[i].file, r->refusals[i].line,
               r->refusals[i].reason);
}

/* Move the references into the result, and list the refusals. */
static int
collect (struct session *s)
{
  struct bootchain_result *r = s->r;

  r->refs = calloc (s->items.len ? s->items.len : 1, sizeof *r->refs);
  r->refusals = calloc (s->items.len ? s->items.len : 1, sizeof *r->refusals);
  if (!r->refs || !r->refusals)
    return -1;
  for (size_t i = 0; i < s->items.len; i++) {
    struct bc_item *it = &s->items.ptr[i];
    if (it->ref.state == BOOTCHAIN_REFUSED) {
      struct bootchain_refusal *f = &r->refusals[r->n_refusals++];
      const char *dot = it->ref.note ? strstr (it->ref.note, ". ") : NULL;
      f->file = strdup (it->ref.file);
      f->line = it->ref.line;
      f->device = strdup (it->ref.device);
      f->reason = strdup (it->ref.note ? it->ref.note : "does not resolve");
      f->action = strdup (dot ? dot + 2 : "change the line to name the filesystem by UUID=");
    }
    r->refs[r->n_refs++] = it->ref;
    memset (&it->ref, 0, sizeof it->ref);
  }
  return 0;
}

static int
cmp_version (const void *a, const void *b)
{
  return strverscmp (*(char *const *) a, *(char *const *) b);
}

/* A path of the boot loader's (relative to its root) as a path in the
 * guest: as written, or under /boot when /boot is its own filesystem. */
static char *
boot_path (guestfs_h *g, const char *p)
{
  char *b;

  if (p == NULL)
    return NULL;
  if (guest_has (g, p))
    return strdup (p);
  b = xasprintf ("/boot%s%s", *p == '/' ? "" : "/", p);
  if (b && guest_has (g, b))
    return b;
  free (b);
  return NULL;
}

/* The default entry of the first root's boot loader: grub.cfg's first
 * menuentry, else (a grub.cfg that reads BLS entries) the last BLS entry in
 * version order with grubenv's $kernelopts expanded.  Copies the kernel
 * and initramfs to dir; sets r->boot_* or r->boot_note. */
static void
extract_default_entry (struct session *s, const char *dir)
{
  static const char *const cfgs[] = { "/boot/grub/grub.cfg", "/boot/grub2/grub.cfg",
                                      "/boot/grub/menu.lst", "/boot/grub/grub.conf", NULL };
  guestfs_h *g = s->g;
  struct bootchain_result *r = s->r;
  char *kernel = NULL, *initrd = NULL, *args = NULL;
  CLEANUP_FREE char *gk = NULL, *gi = NULL, *hk = NULL, *hi = NULL;
  const char *from = NULL;

  if (mount_root (s, s->roots.ptr[0], false) == -1) {
    r->boot_note = strdup ("the guest's root could not be mounted");
    return;
  }
  for (size_t i = 0; cfgs[i] && kernel == NULL; i++) {
    size_t n;
    CLEANUP_FREE char *c = guest_has (g, cfgs[i]) ? guestfs_read_file (g, cfgs[i], &n) : NULL;
    if (c && bc_grub_default_entry (c, n, &kernel, &initrd, &args) == 0)
      from = cfgs[i];
  }
  if (kernel == NULL) {
    char **entries = guestfs_glob_expand (g, "/boot/loader/entries/*.conf");
    size_t n = 0, len;
    while (entries && entries[n])
      n++;
    /* Entries are named after their kernel's version: in version order
     * (5.14.0-10 after 5.14.0-9) the newest comes last. */
    if (n) {
      qsort (entries, n, sizeof entries[0], cmp_version);
      CLEANUP_FREE char *c = guestfs_read_file (g, entries[n - 1], &len);
      if (c && bc_bls_entry (c, len, &kernel, &initrd, &args) == 0)
        from = "/boot/loader/entries";
    }
    free_strings (entries);
    if (kernel && strstr (args, "$kernelopts")) {
      size_t n2;
      CLEANUP_FREE char *env = guest_has (g, "/boot/grub2/grubenv")
        ? guestfs_read_file (g, "/boot/grub2/grubenv", &n2) : NULL;
      const char *ko = env ? strstr (env, "kernelopts=") : NULL;
      if (ko) {
        size_t kl = strcspn (ko + 11, "\n");
        char *na = xasprintf ("%.*s", (int) kl, ko + 11);
        free (args);
        args = na;
      }
    }
  }
  if (kernel == NULL) {
    r->boot_note = strdup ("no boot entry with a kernel was found (grub.cfg, menu.lst, BLS)");
    goto out;
  }
  gk = boot_path (g, kernel);
  gi = boot_path (g, initrd);
  hk = xasprintf ("%s/vmlinuz", dir);
  hi = xasprintf ("%s/initrd", dir);
  if (gk == NULL || (initrd && gi == NULL)) {
    r->boot_note = xasprintf ("the default entry of %s names %s%s%s, which %s not in the guest",
                              from, kernel, initrd ? " and " : "", initrd ? initrd : "",
                              initrd ? "are" : "is");
    goto out;
  }
  if (hk == NULL || hi == NULL || guestfs_download (g, gk, hk) == -1
      || (gi && guestfs_download (g, gi, hi) == -1)) {
    r->boot_note = xasprintf ("copying the kernel %s out of the guest: %s", gk, gerr (g));
    goto out;
  }
  r->boot_kernel = hk;
  r->boot_initrd = gi ? hi : NULL;
  r->boot_cmdline = args;
  hk = NULL;
  if (gi)
    hi = NULL;
  args = NULL;
  log_info ("bootchain: default boot entry (%s): %s%s%s %s", from, gk, gi ? " + " : "",
            gi ? gi : "", r->boot_cmdline);
 out:
  free (kernel);
  free (initrd);
  free (args);
  guestfs_umount_all (g);
}

static void
run (struct session *s, const char *const *disks, const struct bootchain_opts *o)
{
  struct bootchain_result *r = s->r;
  bool fixable = false, refused = false;

  r->status = BOOTCHAIN_STATUS_ERROR;
  if (open_disks (s, disks, o) == -1 || inspect (s) == -1)
    return;
  if (build_world (s) == -1) {
    r->error = xasprintf ("listing the disks' devices: %s", gerr (s->g));
    return;
  }
  for (size_t i = 0; i < s->world.devs.len; i++)
    if (strcmp (s->world.devs.ptr[i].dev, s->world.root_dev) == 0)
      r->os_root = strdup (s->world.devs.ptr[i].target);
  for (size_t ri = 0; ri < s->roots.len; ri++)
    if (scan_root (s, ri) == -1) {
      r->error = xasprintf ("reading the boot chain of %s: %s", s->roots.ptr[ri], gerr (s->g));
      return;
    }
  r->initramfs_tool = s->initramfs_tool ? strdup (s->initramfs_tool) : NULL;
  /* crypttab's names are what /dev/mapper/NAME references may mean. */
  for (size_t i = 0; i < s->items.len; i++)
    if (strcmp (s->items.ptr[i].ref.kind, "crypttab") == 0
        && string_vector_append (&s->world.mapper_names,
                                 strdup (s->items.ptr[i].ref.key)) == -1)
      return;
  for (size_t i = 0; i < s->items.len; i++) {
    struct bc_item *it = &s->items.ptr[i];
    if (bc_resolve (&s->world, it) == -1)
      return;
    fixable |= it->ref.state == BOOTCHAIN_FIXABLE;
    refused |= it->ref.state == BOOTCHAIN_REFUSED;
  }
  if (!refused && fixable && !o->fix && s->initramfs_tool
      && mount_root (s, s->roots.ptr[0], false) == 0) {
    /* Say what a fix would rebuild. */
    for (size_t i = 0; i < s->items.len && !r->initramfs_reason; i++) {
      const struct bc_item *it = &s->items.ptr[i];
      if (it->ref.state == BOOTCHAIN_FIXABLE
          && initramfs_embeds (s->g, s->initramfs_tool, it->ref.file)) {
        r->initramfs_reason = strdup (it->ref.file);
        r->initramfs_command = strdup (initramfs_command (s->initramfs_tool));
      }
    }
    guestfs_umount_all (s->g);
  }
  if (refused)
    r->status = BOOTCHAIN_STATUS_REFUSED;
  else if (fixable && !o->fix)
    r->status = BOOTCHAIN_STATUS_NEEDS_FIX;
  else if (fixable) {
    for (size_t ri = 0; ri < s->roots.len; ri++)
      if (fix_root (s, ri) == -1) {
        r->error = strdup ("the fix failed part way: the guest may be partly changed "
                           "(restore it from the restore point)");
        collect (s);
        return;
      }
    r->status = BOOTCHAIN_STATUS_OK;
  }
  else
    r->status = BOOTCHAIN_STATUS_OK;
  if (collect (s) == -1) {
    r->status = BOOTCHAIN_STATUS_ERROR;
    r->error = strdup ("out of memory");
    return;
  }
  log_refusals (r);
  if (o->boot_dir && r->status == BOOTCHAIN_STATUS_OK)
    extract_default_entry (s, o->boot_dir);
  if (guestfs_shutdown (s->g) == -1 && o->fix) {
    r->status = BOOTCHAIN_STATUS_ERROR;
    r->error = xasprintf ("closing the disks: %s", gerr (s->g));
  }
}

struct bootchain_result *
bootchain_verify (const char *const *disks, const struct bootchain_opts *o)
{
  static const struct bootchain_opts defaults = { 0 };
  struct session s = { 0 };
  struct bootchain_result *r = calloc (1, sizeof *r);
  struct timespec t0, t1;

  if (r == NULL)
    return NULL;
  if (o == NULL)
    o = &defaults;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  s.r = r;
  r->fix = o->fix;
  for (size_t i = 0; disks && disks[i]; i++)
    r->n_disks++;
  if (r->n_disks == 0) {
    r->status = BOOTCHAIN_STATUS_ERROR;
    r->error = strdup ("no disks given");
    return r;
  }
  if (o->logpath) {
    s.log = fopen (o->logpath, "a");
    if (s.log == NULL)
      log_warn ("bootchain: log %s: %s (going on without it)", o->logpath, strerror (errno));
  }
  run (&s, disks, o);
  if (r->error && r->status == BOOTCHAIN_STATUS_ERROR)
    log_error ("bootchain: %s", r->error);
  if (s.g)
    guestfs_close (s.g);
  if (s.log)
    fclose (s.log);
  for (size_t i = 0; i < s.items.len; i++)
    bc_item_free (&s.items.ptr[i]);
  bc_item_vector_reset (&s.items);
  for (size_t i = 0; i < s.files.len; i++) {
    free (s.files.ptr[i].path);
    free (s.files.ptr[i].content);
  }
  bc_file_vector_reset (&s.files);
  bc_world_reset (&s.world);
  string_vector_free_all (&s.roots);
  free (s.initramfs_tool);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  r->seconds = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
  return r;
}

void
bootchain_result_free (struct bootchain_result *r)
{
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n_refs; i++) {
    struct bc_item it = { .ref = r->refs[i] };
    bc_item_free (&it);
  }
  for (size_t i = 0; i < r->n_changes; i++) {
    free (r->changes[i].file);
    free (r->changes[i].old_text);
    free (r->changes[i].new_text);
  }
  for (size_t i = 0; i < r->n_refusals; i++) {
    free (r->refusals[i].file);
    free (r->refusals[i].device);
    free (r->refusals[i].reason);
    free (r->refusals[i].action);
  }
  free (r->refs);
  free (r->changes);
  free (r->refusals);
  free (r->error);
  free (r->os_root);
  free (r->os_product);
  free (r->os_distro);
  free (r->initramfs_tool);
  free (r->initramfs_command);
  free (r->initramfs_reason);
  free (r->boot_kernel);
  free (r->boot_initrd);
  free (r->boot_cmdline);
  free (r->boot_note);
  free (r);
}

const char *
bootchain_state_name (enum bootchain_state st)
{
  switch (st) {
  case BOOTCHAIN_RESOLVED: return "resolved";
  case BOOTCHAIN_FIXABLE: return "fixable";
  case BOOTCHAIN_FIXED: return "fixed";
  case BOOTCHAIN_REFUSED: return "refused";
  case BOOTCHAIN_UNCHECKED: return "unchecked";
  }
  return "?";
}

const char *
bootchain_status_name (enum bootchain_status st)
{
  switch (st) {
  case BOOTCHAIN_STATUS_OK: return "ok";
  case BOOTCHAIN_STATUS_NEEDS_FIX: return "needs-fix";
  case BOOTCHAIN_STATUS_REFUSED: return "refused";
  case BOOTCHAIN_STATUS_SKIPPED: return "skipped";
  case BOOTCHAIN_STATUS_ERROR: return "error";
  }
  return "?";
}

static json_t *
str_or_null (const char *s)
{
  return s ? json_string (s) : json_null ();
}

json_t *
bootchain_result_json (const struct bootchain_result *r)
{
  json_t *o = json_object (), *refs = json_array (), *changes = json_array (),
    *refusals = json_array ();

  if (!o || !refs || !changes || !refusals) {
    json_decref (o); json_decref (refs); json_decref (changes); json_decref (refusals);
    return NULL;
  }
  for (size_t i = 0; i < r->n_refs; i++) {
    const struct bootchain_ref *f = &r->refs[i];
    json_array_append_new (refs, json_pack ("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}",
                                            "file", f->file, "line", (json_int_t) f->line,
                                            "text", f->text, "kind", f->kind, "key", f->key,
                                            "device", f->device,
                                            "state", bootchain_state_name (f->state),
                                            "target", str_or_null (f->target),
                                            "replacement", str_or_null (f->replacement),
                                            "note", str_or_null (f->note)));
  }
  for (size_t i = 0; i < r->n_changes; i++)
    json_array_append_new (changes, json_pack ("{s:s, s:I, s:s, s:s}",
                                               "file", r->changes[i].file,
                                               "line", (json_int_t) r->changes[i].line,
                                               "old", r->changes[i].old_text,
                                               "new", r->changes[i].new_text));
  for (size_t i = 0; i < r->n_refusals; i++)
    json_array_append_new (refusals, json_pack ("{s:s, s:I, s:s, s:s, s:s}",
                                                "file", r->refusals[i].file,
                                                "line", (json_int_t) r->refusals[i].line,
                                                "device", r->refusals[i].device,
                                                "reason", r->refusals[i].reason,
                                                "action", r->refusals[i].action));
  json_object_set_new (o, "status", json_string (bootchain_status_name (r->status)));
  json_object_set_new (o, "fix", json_boolean (r->fix));
  json_object_set_new (o, "error", str_or_null (r->error));
  json_object_set_new (o, "disks", json_integer ((json_int_t) r->n_disks));
  json_object_set_new (o, "os", json_pack ("{s:o, s:o, s:o}",
                                           "root", str_or_null (r->os_root),
                                           "product", str_or_null (r->os_product),
                                           "distro", str_or_null (r->os_distro)));
  json_object_set_new (o, "references", refs);
  json_object_set_new (o, "changes", changes);
  json_object_set_new (o, "refusals", refusals);
  json_object_set_new (o, "initramfs", json_pack ("{s:o, s:b, s:o, s:o}",
                                                  "tool", str_or_null (r->initramfs_tool),
                                                  "rebuilt", r->initramfs_rebuilt,
                                                  "command", str_or_null (r->initramfs_command),
                                                  "reason", str_or_null (r->initramfs_reason)));
  json_object_set_new (o, "seconds", json_real (r->seconds));
  return o;
}
