/* ferry: lists of disk areas (sort, merge, subtract) and zero detection. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "copy/rw.h"

static int
cmp_range (const void *a, const void *b)
{
  const struct copy_range *x = a, *y = b;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return x->length < y->length ? -1 : x->length > y->length;
}

int
ranges_normalize (range_vector *v)
{
  size_t out = 0;

  if (v->len == 0)
    return 0;
  qsort (v->ptr, v->len, sizeof v->ptr[0], cmp_range);
  for (size_t i = 0; i < v->len; i++) {
    struct copy_range r = v->ptr[i];
    if (r.length == 0)
      continue;
    if (out > 0) {
      struct copy_range *last = &v->ptr[out - 1];
      uint64_t end = last->start + last->length;
      if (r.start <= end) {
        uint64_t rend = r.start + r.length;
        if (rend > end)
          last->length = rend - last->start;
        continue;
      }
    }
    v->ptr[out++] = r;
  }
  v->len = out;
  return 0;
}

int
ranges_subtract (const range_vector *a, const range_vector *b, range_vector *out)
{
  size_t j = 0;

  for (size_t i = 0; i < a->len; i++) {
    uint64_t pos = a->ptr[i].start;
    uint64_t end = pos + a->ptr[i].length;

    while (j < b->len && b->ptr[j].start + b->ptr[j].length <= pos)
      j++;
    for (size_t k = j; k < b->len && b->ptr[k].start < end && pos < end; k++) {
      uint64_t bs = b->ptr[k].start, be = bs + b->ptr[k].length;
      if (bs > pos &&
          range_vector_append (out, (struct copy_range) { pos, bs - pos }) == -1)
        return -1;
      if (be > pos)
        pos = be;
    }
    if (pos < end &&
        range_vector_append (out, (struct copy_range) { pos, end - pos }) == -1)
      return -1;
  }
  return 0;
}

uint64_t
ranges_total (const range_vector *v)
{
  uint64_t t = 0;
  for (size_t i = 0; i < v->len; i++)
    t += v->ptr[i].length;
  return t;
}

uint32_t
ranges_hash (const range_vector *v)
{
  uLong crc = crc32 (0, NULL, 0);
  for (size_t i = 0; i < v->len; i++) {
    unsigned char b[16];
    for (int k = 0; k < 8; k++) {
      b[k] = (unsigned char) (v->ptr[i].start >> (8 * k));
      b[8 + k] = (unsigned char) (v->ptr[i].length >> (8 * k));
    }
    crc = crc32 (crc, b, sizeof b);
  }
  return (uint32_t) crc;
}

/* As nbdcopy: check the first 16 bytes, then compare the buffer with
 * itself shifted by 16, which memcmp does at memory speed. */
bool
is_zero (const void *buf, size_t len)
{
  const unsigned char *p = buf;
  size_t i, lim = len < 16 ? len : 16;

  for (i = 0; i < lim; i++)
    if (p[i])
      return false;
  if (len <= 16)
    return true;
  return memcmp (p, p + 16, len - 16) == 0;
}
