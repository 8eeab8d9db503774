/* ferry: boot-chain files to block-device references.
 *
 * Each scanner walks one file line by line and records, for every place
 * that names a block device, the line, where the name sits in it (so a fix
 * can replace exactly those bytes), and what the name must be (the root
 * filesystem, swap, an ext4 filesystem, ...).  Nothing here judges whether
 * a name resolves: resolve.c does. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <fnmatch.h>

#include "bootchain/internal.h"
#include "common/cleanup.h"

int
bc_file_kind_of (const char *path)
{
  static const struct { const char *glob; enum bc_file_kind kind; } map[] = {
    { "/boot/grub/grub.cfg", BC_F_GRUBCFG },
    { "/boot/grub2/grub.cfg", BC_F_GRUBCFG },
    { "/boot/efi/EFI/*/grub.cfg", BC_F_GRUBCFG },
    { "/boot/grub/menu.lst", BC_F_GRUBCFG },
    { "/boot/grub/grub.conf", BC_F_GRUBCFG },
    { "/etc/default/grub", BC_F_DEFAULT_GRUB },
    { "/boot/grub/grubenv", BC_F_GRUBENV },
    { "/boot/grub2/grubenv", BC_F_GRUBENV },
    { "/boot/efi/EFI/*/grubenv", BC_F_GRUBENV },
    { "/boot/loader/entries/*.conf", BC_F_BLS },
    { "/boot/efi/loader/entries/*.conf", BC_F_BLS },
    { "/etc/kernel/cmdline", BC_F_KERNEL_CMDLINE },
    { "/etc/fstab", BC_F_FSTAB },
    { "/etc/crypttab", BC_F_CRYPTTAB },
    { "/etc/lvm/lvm.conf", BC_F_LVM },
    { "/etc/mdadm/mdadm.conf", BC_F_MDADM },
    { "/etc/mdadm.conf", BC_F_MDADM },
    { "/etc/multipath.conf", BC_F_MULTIPATH },
    { "/etc/multipath/conf.d/*.conf", BC_F_MULTIPATH },
    { "/etc/initramfs-tools/initramfs.conf", BC_F_INITRAMFS_TOOLS },
    { "/etc/initramfs-tools/conf.d/*", BC_F_INITRAMFS_TOOLS },
    { "/etc/dracut.conf", BC_F_DRACUT },
    { "/etc/dracut.conf.d/*.conf", BC_F_DRACUT },
  };

  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (fnmatch (map[i].glob, path, FNM_PATHNAME) == 0)
      return (int) map[i].kind;
  return -1;
}

void
bc_item_free (struct bc_item *it)
{
  struct bootchain_ref *r = &it->ref;

  free (r->file);
  free (r->text);
  free (r->kind);
  free (r->key);
  free (r->device);
  free (r->target);
  free (r->replacement);
  free (r->note);
  free (it->fstype);
  memset (it, 0, sizeof *it);
}

/* The state a scanner is in for one line. */
struct line_ctx {
  const char *path;
  const char *line;         /* not NUL-terminated at the line's end */
  size_t line_len;
  unsigned lineno;
  size_t file_index;
  bc_item_vector *out;
};

static int
add (const struct line_ctx *c, const char *kind, const char *key, size_t off, size_t len,
     enum bc_what what, enum bc_form form, enum bc_expect expect, const char *fstype,
     bool optional)
{
  struct bc_item it = {
    .what = what, .form = form, .expect = expect, .optional = optional,
    .file_index = c->file_index,
  };

  it.ref.file = strdup (c->path);
  it.ref.line = c->lineno;
  it.ref.text = strndup (c->line, c->line_len);
  it.ref.kind = strdup (kind);
  it.ref.key = strdup (key);
  it.ref.device = strndup (c->line + off, len);
  it.ref.off = off;
  it.ref.len = len;
  it.fstype = fstype ? strdup (fstype) : NULL;
  if (!it.ref.file || !it.ref.text || !it.ref.kind || !it.ref.key || !it.ref.device
      || (fstype && !it.fstype) || bc_item_vector_append (c->out, it) == -1) {
    bc_item_free (&it);
    return -1;
  }
  return 0;
}

static bool
is_quote_or_space (char ch)
{
  return isspace ((unsigned char) ch) || ch == '"' || ch == '\'';
}

/* Kernel parameters in line[start, end): root=, resume=, rd.lvm.*, rd.md.*,
 * rd.luks.uuid.  A parameter the kernel or initramfs reads as a device. */
static int
scan_cmdline (const struct line_ctx *c, const char *kind, size_t start, size_t end)
{
  static const struct { const char *key; enum bc_what what; enum bc_expect expect; } params[] = {
    { "root=", BC_DEVSPEC, BC_EXPECT_ROOT },
    { "resume=", BC_DEVSPEC, BC_EXPECT_SWAP },
    { "rd.lvm.lv=", BC_LV, BC_EXPECT_ANY },
    { "rd.lvm.vg=", BC_VG, BC_EXPECT_ANY },
    { "rd.md.uuid=", BC_MD_UUID, BC_EXPECT_ANY },
    { "rd.luks.uuid=", BC_LUKS_UUID, BC_EXPECT_ANY },
  };
  size_t i = start;

  while (i < end) {
    size_t t0, t1;
    while (i < end && is_quote_or_space (c->line[i]))
      i++;
    t0 = i;
    while (i < end && !is_quote_or_space (c->line[i]))
      i++;
    t1 = i;
    for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
      size_t kl = strlen (params[p].key);
      if (t1 - t0 > kl && strncmp (c->line + t0, params[p].key, kl) == 0) {
        if (add (c, kind, params[p].key, t0 + kl, t1 - t0 - kl, params[p].what,
                 BC_FORM_SPEC, params[p].expect, NULL, false) == -1)
          return -1;
        break;
      }
    }
  }
  return 0;
}

/* Skip blanks from i; return the new index. */
static size_t
skip_space (const struct line_ctx *c, size_t i)
{
  while (i < c->line_len && isspace ((unsigned char) c->line[i]))
    i++;
  return i;
}

static size_t
skip_word (const struct line_ctx *c, size_t i)
{
  while (i < c->line_len && !isspace ((unsigned char) c->line[i]))
    i++;
  return i;
}

/* Does the word at i equal w (followed by a blank or the end)? */
static bool
word_is (const struct line_ctx *c, size_t i, const char *w)
{
  size_t n = strlen (w);
  return i + n <= c->line_len && strncmp (c->line + i, w, n) == 0
    && (i + n == c->line_len || isspace ((unsigned char) c->line[i + n]));
}

/* An assignment NAME= at i (after blanks): the index after '=', or 0. */
static size_t
assignment (const struct line_ctx *c, size_t i, const char *name)
{
  size_t n = strlen (name);
  if (i + n < c->line_len && strncmp (c->line + i, name, n) == 0 && c->line[i + n] == '=')
    return i + n + 1;
  return 0;
}

static int
scan_grubcfg (const struct line_ctx *c)
{
  size_t i = skip_space (c, 0), v;

  if (word_is (c, i, "linux") || word_is (c, i, "linux16") || word_is (c, i, "linuxefi")
      || word_is (c, i, "kernel")) {
    i = skip_space (c, skip_word (c, i));      /* the command */
    i = skip_word (c, i);                      /* the kernel's path */
    return scan_cmdline (c, "kernel-cmdline", i, c->line_len);
  }
  /* RHEL 8's grub.cfg: set kernelopts="root=... ro ..." */
  if (word_is (c, i, "set")) {
    i = skip_space (c, skip_word (c, i));
    if ((v = assignment (c, i, "kernelopts")) || (v = assignment (c, i, "default_kernelopts")))
      return scan_cmdline (c, "kernel-cmdline", v, c->line_len);
  }
  return 0;
}

static int
scan_default_grub (const struct line_ctx *c)
{
  size_t i = skip_space (c, 0), v;

  if ((v = assignment (c, i, "GRUB_CMDLINE_LINUX"))
      || (v = assignment (c, i, "GRUB_CMDLINE_LINUX_DEFAULT")))
    return scan_cmdline (c, "default-grub", v, c->line_len);
  return 0;
}

static int
scan_fstab (const struct line_ctx *c, enum bc_file_kind kind)
{
  size_t f[4][2];           /* the first four fields: [start, end) */
  size_t n = 0, i = skip_space (c, 0);
  const char *spec;
  size_t speclen;
  bool optional = false;
  CLEANUP_FREE char *mnt = NULL;
  CLEANUP_FREE char *type = NULL;
  CLEANUP_FREE char *opts = NULL;

  if (i >= c->line_len || c->line[i] == '#')
    return 0;
  while (i < c->line_len && n < 4) {
    f[n][0] = i;
    i = skip_word (c, i);
    f[n][1] = i;
    n++;
    i = skip_space (c, i);
  }
  if (n < 2)
    return 0;
  /* fstab: spec mountpoint type options; crypttab: name device key options. */
  size_t d = kind == BC_F_FSTAB ? 0 : 1;
  spec = c->line + f[d][0];
  speclen = f[d][1] - f[d][0];
  if (!(speclen > 5 && strncmp (spec, "/dev/", 5) == 0)
      && !(speclen > 5 && strncmp (spec, "UUID=", 5) == 0)
      && !(speclen > 6 && strncmp (spec, "LABEL=", 6) == 0)
      && !(speclen > 9 && strncmp (spec, "PARTUUID=", 9) == 0)
      && !(speclen > 10 && strncmp (spec, "PARTLABEL=", 10) == 0))
    return 0;               /* proc, tmpfs, host:/export, a bind mount, none */
  if (kind == BC_F_CRYPTTAB) {
    CLEANUP_FREE char *name = strndup (c->line + f[0][0], f[0][1] - f[0][0]);
    if (name == NULL)
      return -1;
    return add (c, "crypttab", name, f[1][0], speclen, BC_DEVSPEC, BC_FORM_SPEC,
                BC_EXPECT_ANY, NULL, false);
  }
  mnt = strndup (c->line + f[1][0], f[1][1] - f[1][0]);
  type = n > 2 ? strndup (c->line + f[2][0], f[2][1] - f[2][0]) : strdup ("auto");
  opts = n > 3 ? strndup (c->line + f[3][0], f[3][1] - f[3][0]) : strdup ("defaults");
  if (!mnt || !type || !opts)
    return -1;
  for (char *save = NULL, *o = strtok_r (opts, ",", &save); o; o = strtok_r (NULL, ",", &save))
    if (strcmp (o, "nofail") == 0 || strcmp (o, "noauto") == 0)
      optional = true;
  if (strcmp (type, "swap") == 0)
    return add (c, "fstab", "swap", f[0][0], speclen, BC_DEVSPEC, BC_FORM_SPEC,
                BC_EXPECT_SWAP, NULL, optional);
  if (strcmp (mnt, "/") == 0)
    return add (c, "fstab", "/", f[0][0], speclen, BC_DEVSPEC, BC_FORM_SPEC,
                BC_EXPECT_ROOT, NULL, optional);
  if (strcmp (type, "auto") == 0 || strchr (type, ','))
    return add (c, "fstab", mnt, f[0][0], speclen, BC_DEVSPEC, BC_FORM_SPEC,
                BC_EXPECT_ANY, NULL, optional);
  return add (c, "fstab", mnt, f[0][0], speclen, BC_DEVSPEC, BC_FORM_SPEC,
              BC_EXPECT_FSTYPE, type, optional);
}

/* Every "/dev/NAME" inside line[start, end) (a quoted pattern or a token):
 * NAME is the longest run of name characters after it. */
static int
scan_dev_paths (const struct line_ctx *c, const char *kind, const char *key,
                size_t start, size_t end, enum bc_what what, enum bc_form form)
{
  for (size_t i = start; i + 5 <= end; i++) {
    size_t j;
    if (strncmp (c->line + i, "/dev/", 5) != 0)
      continue;
    j = i + 5;
    while (j < end && (isalnum ((unsigned char) c->line[j]) || c->line[j] == '/'
                       || c->line[j] == '-' || c->line[j] == '_' || c->line[j] == '.'
                       || c->line[j] == ':'))
      j++;
    /* A regular expression's "/dev/sd.*": the name stops before ".*". */
    while (j > i + 5 && (c->line[j - 1] == '.' || c->line[j - 1] == '/'))
      j--;
    if (add (c, kind, key, i, j - i, what, form, BC_EXPECT_ANY, NULL, false) == -1)
      return -1;
    i = j - 1;
  }
  return 0;
}

/* lvm.conf: the quoted patterns of filter/global_filter, which may span
 * lines: *in_filter is kept between lines. */
static int
scan_lvm (const struct line_ctx *c, bool *in_filter, const char **key)
{
  size_t i = skip_space (c, 0), end = c->line_len;

  for (size_t k = 0; k < c->line_len; k++)
    if (c->line[k] == '#') {
      end = k;
      break;
    }
  if (!*in_filter) {
    size_t v = i;
    if (strncmp (c->line + v, "global_filter", 13) == 0) {
      *key = "global_filter";
      v += 13;
    }
    else if (strncmp (c->line + v, "filter", 6) == 0) {
      *key = "filter";
      v += 6;
    }
    else
      return 0;
    while (v < end && isspace ((unsigned char) c->line[v]))
      v++;
    if (v >= end || c->line[v] != '=')
      return 0;
    *in_filter = true;
    i = v + 1;
  }
  while (i < end) {
    size_t q0, q1;
    if (c->line[i] == ']') {
      *in_filter = false;
      return 0;
    }
    if (c->line[i] != '"') {
      i++;
      continue;
    }
    q0 = i + 1;
    q1 = q0;
    while (q1 < end && c->line[q1] != '"')
      q1++;
    if (q1 > q0 && (c->line[q0] == 'a' || c->line[q0] == 'r')
        && scan_dev_paths (c, "lvm-filter", *key, q0, q1,
                           c->line[q0] == 'a' ? BC_FILTER_ACCEPT : BC_FILTER_REJECT,
                           BC_FORM_KNAME) == -1)
      return -1;
    i = q1 + 1;
  }
  return 0;
}

static int
scan_mdadm (const struct line_ctx *c)
{
  size_t i = skip_space (c, 0);

  if (word_is (c, i, "DEVICE"))
    return scan_dev_paths (c, "mdadm", "DEVICE", i + 6, c->line_len, BC_DEVSPEC, BC_FORM_KNAME);
  if (word_is (c, i, "ARRAY")) {
    const char *d = NULL;
    for (size_t k = i; k + 8 <= c->line_len; k++)
      if (strncmp (c->line + k, "devices=", 8) == 0) {
        d = c->line + k;
        break;
      }
    if (d) {
      size_t s = (size_t) (d - c->line) + 8;
      return scan_dev_paths (c, "mdadm", "ARRAY devices=", s, skip_word (c, s),
                             BC_DEVSPEC, BC_FORM_KNAME);
    }
  }
  return 0;
}

/* multipath.conf: devnode and wwid entries, and whether they sit in a
 * blacklist section (which only excludes devices: harmless on virtio). */
static int
scan_multipath (const struct line_ctx *c, int *depth, int *blacklist_depth)
{
  size_t i = skip_space (c, 0), v;
  int r = 0;

  if (i < c->line_len && c->line[i] == '#')
    return 0;
  if (word_is (c, i, "devnode") || word_is (c, i, "wwid")) {
    v = skip_space (c, skip_word (c, i));
    if (v < c->line_len) {
      bool bl = *blacklist_depth > 0 && *depth >= *blacklist_depth;
      CLEANUP_FREE char *key = strndup (c->line + i, skip_word (c, i) - i);
      if (key == NULL)
        return -1;
      r = add (c, "multipath", key, v, skip_word (c, v) - v,
               bl ? BC_MULTIPATH_BLACKLIST : BC_MULTIPATH_OTHER, BC_FORM_KNAME,
               BC_EXPECT_ANY, NULL, false);
    }
  }
  for (size_t k = i; k < c->line_len; k++) {
    if (c->line[k] == '{') {
      (*depth)++;
      if (strncmp (c->line + i, "blacklist", 9) == 0 && *blacklist_depth == 0)
        *blacklist_depth = *depth;
    }
    else if (c->line[k] == '}') {
      if (*depth == *blacklist_depth)
        *blacklist_depth = 0;
      if (*depth > 0)
        (*depth)--;
    }
  }
  return r;
}

static int
scan_initramfs_tools (const struct line_ctx *c)
{
  size_t i = skip_space (c, 0), v, e;

  if ((v = assignment (c, i, "RESUME")) == 0)
    return 0;
  e = skip_word (c, v);
  if (e > v && (c->line[v] == '"' || c->line[v] == '\'')) {
    v++;
    if (e > v && (c->line[e - 1] == '"' || c->line[e - 1] == '\''))
      e--;
  }
  if (e == v || (e - v == 4 && (strncmp (c->line + v, "none", 4) == 0
                                || strncmp (c->line + v, "auto", 4) == 0)))
    return 0;
  return add (c, "initramfs-resume", "RESUME", v, e - v, BC_DEVSPEC, BC_FORM_SPEC,
              BC_EXPECT_SWAP, NULL, false);
}

static int
scan_dracut (const struct line_ctx *c)
{
  size_t i = skip_space (c, 0), v;

  if (strncmp (c->line + i, "add_device", 10) != 0)
    return 0;
  v = i + 10;
  if (v < c->line_len && c->line[v] == '+')
    v++;
  if (v >= c->line_len || c->line[v] != '=')
    return 0;
  return scan_dev_paths (c, "dracut-add-device", "add_device", v + 1, c->line_len,
                         BC_DEVSPEC, BC_FORM_PATH);
}

int
bc_scan (const char *path, enum bc_file_kind kind, const char *content, size_t len,
         size_t file_index, bc_item_vector *out)
{
  struct line_ctx c = { .path = path, .file_index = file_index, .out = out };
  bool in_filter = false;
  const char *lvm_key = "filter";
  int mp_depth = 0, mp_blacklist = 0;
  size_t pos = 0;

  while (pos < len) {
    const char *nl = memchr (content + pos, '\n', len - pos);
    size_t ll = nl ? (size_t) (nl - (content + pos)) : len - pos;
    int r = 0;

    c.line = content + pos;
    c.line_len = ll;
    c.lineno++;
    /* grubenv pads its block with '#': the padding is no line of ours. */
    switch (kind) {
    case BC_F_GRUBCFG:
      r = scan_grubcfg (&c);
      break;
    case BC_F_DEFAULT_GRUB:
      r = scan_default_grub (&c);
      break;
    case BC_F_GRUBENV:
      if (assignment (&c, 0, "kernelopts"))
        r = scan_cmdline (&c, "grubenv", 11, ll);
      break;
    case BC_F_BLS:
      if (word_is (&c, skip_space (&c, 0), "options")) {
        size_t s = skip_space (&c, 0) + 7;
        r = scan_cmdline (&c, "bls", s, ll);
      }
      break;
    case BC_F_KERNEL_CMDLINE:
      r = scan_cmdline (&c, "kernel-cmdline", 0, ll);
      break;
    case BC_F_FSTAB:
    case BC_F_CRYPTTAB:
      r = scan_fstab (&c, kind);
      break;
    case BC_F_LVM:
      r = scan_lvm (&c, &in_filter, &lvm_key);
      break;
    case BC_F_MDADM:
      r = scan_mdadm (&c);
      break;
    case BC_F_MULTIPATH:
      r = scan_multipath (&c, &mp_depth, &mp_blacklist);
      break;
    case BC_F_INITRAMFS_TOOLS:
      r = scan_initramfs_tools (&c);
      break;
    case BC_F_DRACUT:
      r = scan_dracut (&c);
      break;
    }
    if (r == -1)
      return -1;
    pos += ll + (nl ? 1 : 0);
  }
  return 0;
}
