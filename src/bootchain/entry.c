/* ferry: a guest's default boot entry (kernel, initramfs, command line),
 * read from grub.cfg, GRUB legacy's menu.lst or a BLS entry, for the boot test's direct kernel
 * boot (boot-check.h).  Text only: no libguestfs here. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bootchain/internal.h"

/* The line starting at p (up to end), without its newline, as [*ls, *le). */
static const char *
next_line (const char *p, const char *end, const char **ls, const char **le)
{
  const char *nl = memchr (p, '\n', end - p);
  *ls = p;
  *le = nl ? nl : end;
  return nl ? nl + 1 : end;
}

static const char *
skip_blanks (const char *p, const char *e)
{
  while (p < e && isspace ((unsigned char) *p))
    p++;
  return p;
}

/* The first word of [p, e) equals w (followed by a blank or the end)? */
static bool
word_is (const char *p, const char *e, const char *w)
{
  size_t n = strlen (w);
  return (size_t) (e - p) >= n && memcmp (p, w, n) == 0 && (p + n == e || isspace ((unsigned char) p[n]));
}

static const char *
after_word (const char *p, const char *e)
{
  while (p < e && !isspace ((unsigned char) *p))
    p++;
  return skip_blanks (p, e);
}

/* The rest of the line, trailing blanks removed, malloc'd. */
static char *
rest (const char *p, const char *e)
{
  while (e > p && isspace ((unsigned char) e[-1]))
    e--;
  return strndup (p, e - p);
}

static char *
first_word (const char *p, const char *e)
{
  const char *w = p;
  while (w < e && !isspace ((unsigned char) *w))
    w++;
  return strndup (p, w - p);
}

int
bc_grub_default_entry (const char *cfg, size_t len, char **kernel, char **initrd, char **args)
{
  const char *p = cfg, *end = cfg + len, *ls, *le;
  int depth = 0;
  bool in_entry = false;

  *kernel = *initrd = *args = NULL;
  while (p < end) {
    const char *w;
    p = next_line (p, end, &ls, &le);
    w = skip_blanks (ls, le);
    if (!in_entry) {
      /* The first menuentry (GRUB 2), or title (GRUB legacy: the entry
       * runs to the next title). */
      if (word_is (w, le, "menuentry")) {
        in_entry = true;
        depth = 1;
      }
      else if (word_is (w, le, "title")) {
        in_entry = true;
        depth = 0;
      }
      continue;
    }
    if (depth == 0 && word_is (w, le, "title"))
      break;
    if (depth > 0 && memchr (w, '{', le - w))
      depth++;
    if (depth > 0 && w < le && *w == '}' && --depth == 0)
      break;
    if (*kernel == NULL && (word_is (w, le, "linux") || word_is (w, le, "linuxefi")
                            || word_is (w, le, "linux16") || word_is (w, le, "kernel"))) {
      const char *path = after_word (w, le);
      const char *a = after_word (path, le);
      *kernel = first_word (path, le);
      *args = rest (a, le);
    }
    else if (*initrd == NULL && (word_is (w, le, "initrd") || word_is (w, le, "initrdefi")
                                 || word_is (w, le, "initrd16")))
      *initrd = first_word (after_word (w, le), le);
  }
  if (*kernel == NULL || **kernel == '\0') {
    free (*kernel); free (*initrd); free (*args);
    *kernel = *initrd = *args = NULL;
    return -1;
  }
  return 0;
}

int
bc_bls_entry (const char *conf, size_t len, char **kernel, char **initrd, char **args)
{
  const char *p = conf, *end = conf + len, *ls, *le;

  *kernel = *initrd = *args = NULL;
  while (p < end) {
    const char *w;
    p = next_line (p, end, &ls, &le);
    w = skip_blanks (ls, le);
    if (*kernel == NULL && word_is (w, le, "linux"))
      *kernel = first_word (after_word (w, le), le);
    else if (*initrd == NULL && word_is (w, le, "initrd"))
      *initrd = first_word (after_word (w, le), le);
    else if (*args == NULL && word_is (w, le, "options"))
      *args = rest (after_word (w, le), le);
  }
  if (*kernel == NULL || **kernel == '\0') {
    free (*kernel); free (*initrd); free (*args);
    *kernel = *initrd = *args = NULL;
    return -1;
  }
  if (*args == NULL)
    *args = strdup ("");
  return 0;
}
