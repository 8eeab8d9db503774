/* ferry: small string and file helpers shared by every part. */
#ifndef FERRY_UTIL_H
#define FERRY_UTIL_H

#include <stddef.h>
#include <stdbool.h>

/* Edit distance (insert, delete, substitute, transpose adjacent). */
size_t edit_distance (const char *a, const char *b);

/* The candidate closest to word, or NULL if none is close enough to be a
 * plausible typo (distance <= max(2, strlen(word)/3)). */
const char *closest_word (const char *word, const char *const *candidates, size_t n);

/* Like asprintf but returns the string (NULL on out of memory). */
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* mkdir -p with the given mode for created directories. */
int mkdir_p (const char *path, unsigned mode);

/* Sleep ms milliseconds (restarted after signals). */
void sleep_ms (long ms);

/* Shell-quote s for showing a command line to a human. */
char *shell_quote (const char *s);

#endif
