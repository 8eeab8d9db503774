/* ferry: resource cleanup with GCC/Clang cleanup attributes.
 *
 * A variable declared CLEANUP_FREE char *s = ... is freed when it leaves
 * scope, so a function with several early error returns leaks nothing.
 * Transfer ownership out with TAKE_PTR(). */
#ifndef FERRY_CLEANUP_H
#define FERRY_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>

void cleanup_free (void *ptr);
void cleanup_fclose (FILE **fp);
void cleanup_json (json_t **j);
void cleanup_close (int *fd);
void cleanup_strv (char ***v);

#define CLEANUP_FREE __attribute__ ((cleanup (cleanup_free)))
#define CLEANUP_FCLOSE __attribute__ ((cleanup (cleanup_fclose)))
#define CLEANUP_JSON __attribute__ ((cleanup (cleanup_json)))
#define CLEANUP_CLOSE __attribute__ ((cleanup (cleanup_close)))
#define CLEANUP_STRV __attribute__ ((cleanup (cleanup_strv)))

/* Return the pointer and leave NULL behind, so the cleanup does nothing. */
#define TAKE_PTR(p) ({ __typeof__ (p) take_ptr_tmp_ = (p); (p) = NULL; take_ptr_tmp_; })

#endif
