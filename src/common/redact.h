/* ferry: the one redaction mechanism.
 *
 * Secrets (passwords, tokens, session cookies, application credential
 * secrets) are registered once, when they are read or received.  Everything
 * that leaves the process as text -- log lines, error messages, reports,
 * `config show`, debug dumps of HTTP traffic -- goes through redact_string()
 * or redact_json(), and child processes are started only with an argv that
 * redact_argv_check() accepts. */
#ifndef FERRY_REDACT_H
#define FERRY_REDACT_H

#include <stdbool.h>
#include <jansson.h>

#define REDACTED "***"

/* Register a secret value.  Values shorter than REDACT_MIN_LEN are not
 * registered (masking every "a" would make output unreadable), but keys
 * named as secrets are still masked by redact_json(). */
#define REDACT_MIN_LEN 3
void redact_add_secret (const char *value);
/* Forget every registered secret (tests). */
void redact_clear (void);

/* True if a configuration or JSON key names a secret (password, secret,
 * token, cookie, ... case-insensitive). */
bool redact_is_secret_key (const char *key);

/* A newly allocated copy of s with every registered secret replaced by ***,
 * and the values of well-known secret carriers masked too: URL userinfo
 * passwords, Cookie/Set-Cookie/X-Auth-Token/X-Subject-Token/Authorization
 * headers, key=value pairs whose key is secret, SOAP <password> elements,
 * JSON "password": "..." members.  NULL only on out of memory. */
char *redact_string (const char *s);

/* A deep copy of j with the value of every secret key replaced by "***"
 * (at any depth) and registered secrets masked inside other strings. */
json_t *redact_json (const json_t *j);

/* Register every value of a secret key found in j (at any depth). */
void redact_add_secrets_from_json (const json_t *j);

/* 0 if no element of argv contains a registered secret; else -1 and the
 * index of the offending element in *bad.  Used before every exec. */
int redact_argv_check (char *const argv[], int *bad);

#endif
