/* ferry: generic typed vectors.
 *
 * DEFINE_VECTOR_TYPE (string_vector, char *) defines
 *   typedef struct { char **ptr; size_t len, cap; } string_vector;
 * and string_vector_append, string_vector_reserve, string_vector_reset
 * (frees the array, not the elements).  Initialise with `= empty_vector`. */
#ifndef FERRY_VECTOR_H
#define FERRY_VECTOR_H

#include <stdlib.h>
#include <string.h>
#include <errno.h>

#define empty_vector { .ptr = NULL, .len = 0, .cap = 0 }

int generic_vector_reserve (void *vp, size_t n, size_t itemsize);

#define DEFINE_VECTOR_TYPE(name, type)                                  \
  typedef struct { type *ptr; size_t len; size_t cap; } name;           \
  static inline int __attribute__ ((__unused__))                        \
  name##_reserve (name *v, size_t n)                                    \
  {                                                                     \
    return generic_vector_reserve (v, n, sizeof (type));                \
  }                                                                     \
  static inline int __attribute__ ((__unused__))                        \
  name##_append (name *v, type elem)                                    \
  {                                                                     \
    if (v->len >= v->cap && name##_reserve (v, 1) == -1)                \
      return -1;                                                        \
    v->ptr[v->len++] = elem;                                            \
    return 0;                                                           \
  }                                                                     \
  static inline void __attribute__ ((__unused__))                       \
  name##_reset (name *v)                                                \
  {                                                                     \
    free (v->ptr);                                                      \
    v->ptr = NULL;                                                      \
    v->len = v->cap = 0;                                                \
  }

DEFINE_VECTOR_TYPE (string_vector, char *)

/* Free every element of a string_vector, then the array. */
void string_vector_free_all (string_vector *v);

#endif
