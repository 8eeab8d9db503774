/* ferry: the OpenStack REST client -- connection, Keystone, requests.
 *
 * One struct os_client is one authenticated Keystone v3 session (a token
 * scoped to a project, and the endpoints of its catalog) over one struct
 * http (so one kept-alive connection).  Like struct http it is used by one
 * thread at a time: give each worker thread its own client.
 *
 * - Auth: password (user and project by name or id, the user's domain
 *   separate from the project's), v3applicationcredential (by id, or by
 *   name with the user), or an existing token.  The token is registered
 *   with redact.h and never logged.
 * - Endpoints from the catalog for the cloud's region_name and interface
 *   (public by default).
 * - The token is renewed before it expires (5 minutes ahead) and once on a
 *   401 answer; a second 401 is an error.
 * - Requests: JSON in and out (jansson), Nova pinned to OS_NOVA_MICROVERSION,
 *   retries with backoff on connection errors and 5xx (http.h) and on 409
 *   conflicts that say they are transient (task_state, locked, retry, ...).
 * - Every error logged names the call (e.g. "Cinder create volume 'web-1'"),
 *   the method and URL, the HTTP status and the service's own message, and
 *   says what to check; quota errors say which quota, its limit and the
 *   amount asked when the answer says them. */
#ifndef FERRY_OPENSTACK_H
#define FERRY_OPENSTACK_H

#include <stdbool.h>
#include <time.h>
#include <jansson.h>

#include "common/http.h"

/* Nova microversion ferry speaks: 2.67 = block_device_mapping_v2 with
 * volume_type (2.67), server tags (2.52), networks [{port}] (2.1). */
#define OS_NOVA_MICROVERSION "2.67"

struct os_client;

/* Services, by what ferry calls them.  Catalog types accepted for each:
 * identity; compute; volume (volumev3, block-storage); network; image. */
#define OS_IDENTITY "identity"
#define OS_COMPUTE "compute"
#define OS_VOLUME "volume"
#define OS_NETWORK "network"
#define OS_IMAGE "image"

/* Authenticate with the cloud as resolved by clouds_resolve() (auth{...},
 * auth_type, region_name, interface, insecure, cacert).  Returns the
 * client, or NULL with *exit_code set (FERRY_EXIT_DEST: unreachable,
 * refused, no catalog; FERRY_EXIT_USAGE: incomplete settings) after an
 * error naming what failed and what to check was logged. */
struct os_client *os_connect (const json_t *cloud, int *exit_code);
void os_disconnect (struct os_client *c);

/* Endpoints over plain http:// (plain-http.c): named once per run with a
 * warning (Keystone's auth_url and each catalog endpoint ferry uses); the
 * list (a new JSON array of URLs) goes into the report.  reset: forget
 * them (at the end of a run, for leak checks). */
void os_note_plain_http (const char *what, const char *url);
json_t *os_plain_http_endpoints (void);
void os_plain_http_reset (void);

const char *os_project_id (const struct os_client *c);
const char *os_project_name (const struct os_client *c);
const char *os_user_id (const struct os_client *c);
const char *os_region (const struct os_client *c);     /* may be NULL */
/* The current token (a secret: registered with redact.h).  Borrowed. */
const char *os_token (const struct os_client *c);
time_t os_token_expires (const struct os_client *c);
/* How many times the client authenticated (1 after os_connect). */
unsigned os_auth_count (const struct os_client *c);
/* Requests made (HTTP round trips, auth included), for benchmarks. */
unsigned os_round_trips (const struct os_client *c);

/* The endpoint URL of a service (OS_COMPUTE, ...) from the catalog, or
 * NULL (not logged) if the catalog has none for the region and interface.
 * Neutron's and Glance's are returned with their API version (/v2.0, /v2)
 * appended when the catalog gives the bare server URL. */
const char *os_endpoint (const struct os_client *c, const char *service);

/* Authenticate again now (a new token).  0 or -1 (logged). */
int os_reauth (struct os_client *c);

/* A request.  path is relative to the service's endpoint ("/volumes") or
 * an absolute URL.  body (may be NULL) is sent as JSON. */
struct os_call {
  const char *service;        /* OS_COMPUTE, ... */
  const char *method;         /* "GET", ... */
  const char *path;
  const json_t *body;
  const char *what;           /* names the call in messages; default "METHOD path" */
  bool quiet_404;             /* a 404 returns NULL, *status 404, no error logged */
  const char *const *headers; /* extra "Name: value" lines, NULL-terminated */
  const struct http_upload *upload; /* raw body streamed from a file (Glance) */
  char **response_headers;    /* if not NULL, receives the raw answer headers */
};

/* Returns the decoded answer (json null for an empty body; a JSON string
 * for a body that is not JSON) on 2xx; NULL otherwise, the error already
 * logged.  *status (if not NULL) gets the HTTP status, 0 if none came. */
json_t *os_call (struct os_client *c, const struct os_call *call, long *status);

/* The common case of os_call. */
json_t *os_request (struct os_client *c, const char *service, const char *method,
                    const char *path, const json_t *body, long *status);

/* DELETE path on a service; a resource already gone (404) is success.
 * 0, or -1 after logging (what names the call). */
int os_delete (struct os_client *c, const char *service, const char *path, const char *what);

/* POST {"metadata": metadata} to path (Nova and Cinder merge the keys into
 * the resource's metadata).  0, or -1 after logging. */
int os_post_metadata (struct os_client *c, const char *service, const char *path,
                      const json_t *metadata, const char *what);

/* Pin or unpin (version NULL) the microversion sent to a service
 * ("volume" "3.59").  Nova is pinned to OS_NOVA_MICROVERSION by default. */
int os_set_microversion (struct os_client *c, const char *service, const char *version);

/* Retries on transient 409 conflicts: attempts and first delay (ms). */
void os_set_conflict_retries (struct os_client *c, int attempts, long first_delay_ms);

/* Percent-encode s for a URL path segment or query value (malloc'd). */
char *os_url_escape (const char *s);

/* Poll until done() returns 1 (success) or -1 (failure, already logged)
 * or timeout_s passes; returns 0, -1, or -2 on timeout (logged by the
 * caller, who knows what was awaited).  Waits learn how long they take:
 * with kind (e.g. "volume available"), the first look comes after 0.8
 * times the shortest of the last 8 waits of that kind, at most 10 s
 * (process-wide, thread-safe), then every 250 ms growing to 2 s; a kind not seen yet, or
 * a NULL kind, looks at once, then every interval_ms growing to 2 s. */
int os_poll_kind (const char *kind, int timeout_s, long interval_ms,
                  int (*done) (void *arg), void *arg);

#endif
