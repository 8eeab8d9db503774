/* ferry: small helpers, see util.h. */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <sys/stat.h>

#include "common/util.h"

size_t
edit_distance (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b);
  size_t *d, r;

  if (la > 256 || lb > 256)
    return (size_t) -1;
  d = calloc ((la + 1) * (lb + 1), sizeof *d);
  if (d == NULL)
    return (size_t) -1;
#define D(i, j) d[(i) * (lb + 1) + (j)]
  for (size_t i = 0; i <= la; i++) D (i, 0) = i;
  for (size_t j = 0; j <= lb; j++) D (0, j) = j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      size_t cost = a[i-1] != b[j-1];
      size_t best = D (i-1, j) + 1;
      if (D (i, j-1) + 1 < best) best = D (i, j-1) + 1;
      if (D (i-1, j-1) + cost < best) best = D (i-1, j-1) + cost;
      if (i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1]
          && D (i-2, j-2) + 1 < best)
        best = D (i-2, j-2) + 1;
      D (i, j) = best;
    }
  r = D (la, lb);
#undef D
  free (d);
  return r;
}

const char *
closest_word (const char *word, const char *const *candidates, size_t n)
{
  const char *best = NULL;
  size_t bestd = (size_t) -1, limit = strlen (word) / 3;

  if (limit < 2)
    limit = 2;
  for (size_t i = 0; i < n; i++) {
    size_t d = edit_distance (word, candidates[i]);
    if (d < bestd) {
      bestd = d;
      best = candidates[i];
    }
  }
  return bestd <= limit ? best : NULL;
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *s;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&s, fmt, ap);
  va_end (ap);
  return r == -1 ? NULL : s;
}

int
mkdir_p (const char *path, unsigned mode)
{
  char *p = strdup (path);
  int r = 0;

  if (p == NULL)
    return -1;
  for (char *s = p + 1; ; s++) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir (p, mode) == -1 && errno != EEXIST) {
        r = -1;
        break;
      }
      *s = c;
      if (c == '\0')
        break;
    }
  }
  free (p);
  return r;
}

char *
shell_quote (const char *s)
{
  size_t n = 2;
  char *out, *o;

  if (*s && strspn (s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789_-.,/:=@+%") == strlen (s))
    return strdup (s);
  for (const char *p = s; *p; p++)
    n += *p == '\'' ? 4 : 1;
  out = o = malloc (n + 1);
  if (out == NULL)
    return NULL;
  *o++ = '\'';
  for (const char *p = s; *p; p++) {
    if (*p == '\'') {
      memcpy (o, "'\\''", 4);
      o += 4;
    }
    else
      *o++ = *p;
  }
  *o++ = '\'';
  *o = '\0';
  return out;
}

void
sleep_ms (long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
    ;
}
