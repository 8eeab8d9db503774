/* ferry: the allowed values of the configuration keys, and strict numbers
 * for command-line options.
 *
 * keys.c says what type each key has; validate.c says which values of that
 * type are allowed (a range of integers, a set of words, a host name with
 * an optional port, a URL, a CIDR, ...).  config.c checks every value of a
 * known key as it is loaded, so a wrong one stops ferry (exit 2) before it
 * connects anywhere or changes anything. */
#ifndef FERRY_VALIDATE_H
#define FERRY_VALIDATE_H

#include <stdbool.h>
#include <jansson.h>

/* Check value (already of the key's type: after config.c's coercion) of
 * the key whose canonical name is key; given is the name as the user wrote
 * it (an alias, an import_workloads_ form), used in the message.  NULL if
 * the value is allowed (or the key has no restriction); else a malloc'd
 * "key 'GIVEN[PATH]': VALUE is not allowed: WHY; expected WHAT". */
char *config_check_value (const char *key, const char *given, const json_t *value);

/* What the key allows, as one malloc'd phrase ("an integer from 0 to 86400
 * (seconds)"), or NULL if any value of its type will do. */
char *config_allowed (const char *key);

/* Every key with a restriction, for tests: the i-th name, or NULL past the end. */
const char *config_restricted_key (size_t i);

/* A decimal integer, nothing else (no spaces, no sign unless min < 0, no
 * suffix), within [min, max].  0, or -1 if s is not one. */
int parse_int_range (const char *s, long long min, long long max, long long *out);

/* A size in bytes: decimal digits and an optional K, M, G or T suffix
 * (powers of 1024), optionally followed by "i" and then "B" ("4K", "4KiB",
 * "1MB", "4096", "4096B"), overflow-checked, within [min, max].  0, or -1
 * if s is not one. */
int parse_size_range (const char *s, unsigned long long min, unsigned long long max,
                      unsigned long long *out);

#endif
