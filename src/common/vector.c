/* ferry: storage growth for vector.h. */
#include <stdint.h>
#include "common/vector.h"

struct generic_vector { void *ptr; size_t len; size_t cap; };

int
generic_vector_reserve (void *vp, size_t n, size_t itemsize)
{
  struct generic_vector *v = vp;
  size_t need, newcap;
  void *p;

  if (n > SIZE_MAX - v->len) {
    errno = ENOMEM;
    return -1;
  }
  need = v->len + n;
  if (need <= v->cap)
    return 0;
  newcap = v->cap ? v->cap : 8;
  while (newcap < need) {
    if (newcap > SIZE_MAX / 2) { newcap = need; break; }
    newcap *= 2;
  }
  if (newcap > SIZE_MAX / itemsize) {
    errno = ENOMEM;
    return -1;
  }
  p = realloc (v->ptr, newcap * itemsize);
  if (p == NULL)
    return -1;
  v->ptr = p;
  v->cap = newcap;
  return 0;
}

void
string_vector_free_all (string_vector *v)
{
  for (size_t i = 0; i < v->len; i++)
    free (v->ptr[i]);
  string_vector_reset (v);
}
