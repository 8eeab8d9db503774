/* ferry: OpenStack requests -- headers, token renewal, retries, errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <time.h>
#include <pthread.h>
#include <curl/curl.h>

#include "openstack/internal.h"
#include "common/cleanup.h"
#include "common/lock.h"
#include "common/log.h"
#include "common/util.h"
#include "common/vector.h"

/* Renew the token this long before it expires. */
#define RENEW_AHEAD_S 300


int
os_set_microversion (struct os_client *c, const char *service, const char *version)
{
  if (version == NULL)
    return json_object_del (c->microversions, service) == 0 ? 0 : 0;
  return json_object_set_new (c->microversions, service, json_string (version));
}

void
os_set_conflict_retries (struct os_client *c, int attempts, long first_delay_ms)
{
  c->conflict_attempts = attempts < 1 ? 1 : attempts;
  c->conflict_delay_ms = first_delay_ms;
}

char *
os_url_escape (const char *s)
{
  char *e = curl_easy_escape (NULL, s, 0);
  char *out = e ? strdup (e) : NULL;
  curl_free (e);
  return out;
}

/* Waits learn how long they take.  A cloud's operations of one kind
 * (a volume becoming available, a server ACTIVE) take about as long as
 * each other, so a wait of a kind seen before sleeps most of the shortest
 * recent duration before its first look, then polls closely: fewer
 * requests on the cloud's API (which matters with many VMs at once) and
 * the end noticed sooner than by a growing interval. */
#define POLL_KINDS 32
#define POLL_HISTORY 8
static struct {
  char kind[48];
  double seen[POLL_HISTORY]; /* seconds */
  int n, next;
} poll_kinds[POLL_KINDS];
static int poll_nkinds;
static pthread_mutex_t poll_lock = PTHREAD_MUTEX_INITIALIZER;

static double
elapsed_s (const struct timespec *t0)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return (double) (now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The slot of kind (created if new and there is room), or -1.  Under poll_lock. */
static int
poll_slot (const char *kind)
{
  for (int i = 0; i < poll_nkinds; i++)
    if (strcmp (poll_kinds[i].kind, kind) == 0)
      return i;
  if (poll_nkinds == POLL_KINDS || strlen (kind) >= sizeof poll_kinds[0].kind)
    return -1;
  snprintf (poll_kinds[poll_nkinds].kind, sizeof poll_kinds[0].kind, "%s", kind);
  return poll_nkinds++;
}

/* At most this long before the first look: the same kind can take much
 * longer for one resource than for another (a volume made from a large
 * image), and a quick one must not wait for what a slow one took. */
#define POLL_FIRST_MAX_S 10.0

/* Seconds to wait before the first look at a wait of this kind: 0.8 times
 * the shortest of the last POLL_HISTORY ones (at most POLL_FIRST_MAX_S),
 * 0 when none was seen. */
static double
poll_first_delay (const char *kind)
{
  double d = 0;
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&poll_lock);
  int i = poll_slot (kind);
  if (i >= 0 && poll_kinds[i].n > 0) {
    d = poll_kinds[i].seen[0];
    for (int k = 1; k < poll_kinds[i].n; k++)
      if (poll_kinds[i].seen[k] < d)
        d = poll_kinds[i].seen[k];
    d *= 0.8;
    if (d > POLL_FIRST_MAX_S)
      d = POLL_FIRST_MAX_S;
  }
  return d;
}

static void
poll_learn (const char *kind, double seconds)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&poll_lock);
  int i = poll_slot (kind);
  if (i >= 0) {
    poll_kinds[i].seen[poll_kinds[i].next] = seconds;
    poll_kinds[i].next = (poll_kinds[i].next + 1) % POLL_HISTORY;
    if (poll_kinds[i].n < POLL_HISTORY)
      poll_kinds[i].n++;
  }
}

int
os_poll_kind (const char *kind, int timeout_s, long interval_ms,
              int (*done) (void *arg), void *arg)
{
  struct timespec t0;
  double first = kind ? poll_first_delay (kind) : 0;

  clock_gettime (CLOCK_MONOTONIC, &t0);
  if (first > 0) {
    if (first > timeout_s)
      first = timeout_s;
    sleep_ms ((long) (first * 1000));
    interval_ms = 250; /* close to the end now */
  }
  for (int looks = 1;; looks++) {
    int r = done (arg);
    if (r == 1) {
      /* Learn only from a wait seen unfinished once: one done at the first
       * look may have been done long before (a rerun's volume already
       * available) and says nothing of how long the operation takes. */
      if (kind && looks > 1)
        poll_learn (kind, elapsed_s (&t0));
      return 0;
    }
    if (r == -1)
      return -1;
    if (elapsed_s (&t0) >= timeout_s)
      return -2;
    sleep_ms (interval_ms);
    if (interval_ms < 2000)
      interval_ms = interval_ms * 3 / 2;
  }
}

struct wait_look {
  struct os_client *c;
  struct os_wait *w;
};

static int
wait_look (void *arg)
{
  struct wait_look *l = arg;
  struct os_wait *w = l->w;
  bool gone = false;
  const char *st;

  json_decref (w->res);
  w->res = w->get (l->c, w->id, w->status == NULL, &gone);
  if (w->status == NULL)
    return gone ? 1 : w->res ? 0 : -1;
  if (gone)
    return strcmp (w->status, "deleted") == 0 ? 1 : -1;
  if (w->res == NULL)
    return -1;
  st = json_string_value (json_object_get (w->res, "status"));
  free (w->last);
  w->last = strdup (st ? st : "?");
  if (st && strcmp (st, w->status) == 0)
    return 1;
  if (st && w->failed && w->failed (l->c, w->id, w->res, st, w->status))
    return -1;
  return 0;
}

int
os_wait_status (struct os_client *c, struct os_wait *w, int timeout_s)
{
  struct wait_look l = { .c = c, .w = w };

  return os_poll_kind (w->kind, timeout_s, 500, wait_look, &l);
}

/* Renew a token about to expire. */
static int
fresh_token (struct os_client *c)
{
  if (c->expires == 0 || time (NULL) + RENEW_AHEAD_S < c->expires)
    return 0;
  log_debug ("OpenStack: the token expires soon: authenticating again");
  return os_reauth (c);
}

static void
log_failure (struct os_client *c, const struct os_call *call, const char *what,
             const char *url, long status, const char *body)
{
  CLEANUP_FREE char *msg = os_error_text (body);
  CLEANUP_FREE char *quota = os_quota_explain (status, msg);

  if (quota)
    log_error ("%s: %s %s: HTTP %ld: %s: %s", what, call->method, url, status,
               msg ? msg : "", quota);
  else if (status == 404)
    log_error ("%s: %s %s: HTTP 404: %s; %s (project %s%s%s)", what, call->method, url,
               msg ? msg : "", os_status_advice (status), c->project_name,
               c->region ? ", region " : "", c->region ? c->region : "");
  else
    log_error ("%s: %s %s: HTTP %ld: %s; %s", what, call->method, url, status,
               msg ? msg : "", os_status_advice (status));
}

/* The URL of a call: its path if absolute, else the path under the
 * service's endpoint.  -1 if the catalog has none (logged). */
static int
call_url (struct os_client *c, const struct os_call *call, const char *service, char **url)
{
  const char *base;

  if (strncmp (call->path, "http://", 7) == 0 || strncmp (call->path, "https://", 8) == 0) {
    *url = strdup (call->path);
    return 0;
  }
  base = os_endpoint (c, service);
  if (base == NULL) {
    log_error ("%s: the service catalog has no %s endpoint for interface %s%s%s: "
               "check region_name and interface in dst_cloud",
               call->what ? call->what : call->path, os_service_label (service), c->interface,
               c->region ? " in region " : "", c->region ? c->region : "");
    return -1;
  }
  *url = xasprintf ("%s%s%s", base, call->path[0] == '/' ? "" : "/", call->path);
  return 0;
}

/* The microversion headers of the service, if one is set. */
static void
microversion_headers (struct os_client *c, const char *service, char **mv1, char **mv2)
{
  const char *mv = json_string_value (json_object_get (c->microversions, service));

  if (mv == NULL)
    return;
  *mv1 = xasprintf ("OpenStack-API-Version: %s %s", service, mv);
  if (strcmp (service, OS_COMPUTE) == 0)
    *mv2 = xasprintf ("X-OpenStack-Nova-API-Version: %s", mv);
}

/* The headers of one attempt, NULL-terminated.  -1: out of memory. */
static int
call_headers (string_vector *hdrs, char *auth_hdr, const struct os_call *call, bool json_body,
              char *mv1, char *mv2)
{
  string_vector_reset (hdrs);
  string_vector_append (hdrs, auth_hdr);
  string_vector_append (hdrs, (char *) "Accept: application/json");
  if (json_body)
    string_vector_append (hdrs, (char *) "Content-Type: application/json");
  else if (call->upload)
    string_vector_append (hdrs, (char *) "Content-Type: application/octet-stream");
  if (mv1)
    string_vector_append (hdrs, mv1);
  if (mv2)
    string_vector_append (hdrs, mv2);
  for (size_t i = 0; call->headers && call->headers[i]; i++)
    string_vector_append (hdrs, (char *) call->headers[i]);
  return string_vector_append (hdrs, NULL);
}

/* What a call has tried already. */
struct call_retries {
  bool reauthed, same_second_retried;
  time_t reauth_at;
  int conflicts;
  long delay;
};

/* Another attempt after a refused token or a conflict that passes?  1 to
 * send again (resp freed), 0 for no, -1 if authenticating again failed. */
static int
try_again (struct os_client *c, const struct os_call *call, const char *what,
           struct http_response *resp, struct call_retries *t)
{
  if (resp->status == 401 && !t->reauthed && !(call->upload && call->upload->size < 0)) {
    log_info ("%s: the token was refused (expired or revoked): authenticating again", what);
    t->reauthed = true;
    t->reauth_at = time (NULL);
    http_response_free (resp);
    return os_reauth (c) == -1 ? -1 : 1;
  }
  if (resp->status == 401 && t->reauthed && !t->same_second_retried
      && time (NULL) - t->reauth_at <= 1 && !(call->upload && call->upload->size < 0)) {
    /* Keystone keeps a revocation (of a user's tokens: password change,
     * user disabled; of a project's) as "issued before" its time cut to
     * the second, and Fernet tokens carry their issue time in whole
     * seconds (keystone/models/revoke_model.py, revoke/backends/sql.py,
     * token/providers/fernet): a token issued in the revocation's second
     * is refused too.  Once more, in the next second. */
    log_info ("%s: the new token was refused too (issued in the second of a revocation): "
              "authenticating again in a second", what);
    t->same_second_retried = true;
    http_response_free (resp);
    sleep_ms (1100);
    t->reauth_at = time (NULL);
    return os_reauth (c) == -1 ? -1 : 1;
  }
  if (resp->status == 409) {
    CLEANUP_FREE char *msg = os_error_text (resp->body);
    if (os_conflict_is_transient (msg) && ++t->conflicts < c->conflict_attempts
        && !(call->upload && call->upload->size < 0)) {
      log_warn ("%s: conflict: %s; retrying in %ld ms (attempt %d of %d)", what,
                msg ? msg : "", t->delay, t->conflicts + 1, c->conflict_attempts);
      http_response_free (resp);
      sleep_ms (t->delay);
      t->delay = t->delay * 2 > 10000 ? 10000 : t->delay * 2;
      return 1;
    }
  }
  return 0;
}

/* A 2xx answer as JSON (text if it is not JSON, json null if empty). */
static json_t *
answer_json (const struct http_response *resp, const char *what)
{
  json_t *result;

  if (resp->len == 0)
    result = json_null ();
  else {
    result = json_loadb (resp->body, resp->len, JSON_DECODE_ANY, NULL);
    if (result == NULL)
      result = json_stringn (resp->body, resp->len);
  }
  if (result == NULL)
    log_error ("%s: out of memory", what);
  return result;
}

json_t *
os_call (struct os_client *c, const struct os_call *call, long *status)
{
  const char *service = call->service;
  CLEANUP_FREE char *url = NULL;
  CLEANUP_FREE char *text = NULL;
  CLEANUP_FREE char *default_what = NULL;
  CLEANUP_FREE char *auth_hdr = NULL;
  CLEANUP_FREE char *mv1 = NULL;
  CLEANUP_FREE char *mv2 = NULL;
  const char *what = call->what;
  string_vector hdrs = empty_vector;
  struct call_retries tries = { .delay = c->conflict_delay_ms };
  json_t *result = NULL;
  struct http_response resp = { 0 };

  if (status)
    *status = 0;
  if (call->response_headers)
    *call->response_headers = NULL;
  if (strcmp (service, "volumev3") == 0 || strcmp (service, "block-storage") == 0)
    service = OS_VOLUME;
  if (call_url (c, call, service, &url) == -1)
    return NULL;
  if (what == NULL)
    what = default_what = xasprintf ("%s %s %s", os_service_label (service), call->method,
                                     call->path);
  if (call->body) {
    text = json_dumps (call->body, JSON_COMPACT);
    if (text == NULL) {
      log_error ("%s: out of memory", what);
      return NULL;
    }
  }
  microversion_headers (c, service, &mv1, &mv2);

  for (;;) {
    struct http_request req = {
      .method = call->method, .url = url, .body = text, .body_len = text ? strlen (text) : 0,
      .what = what, .upload = call->upload,
      .idempotent = strcmp (call->method, "POST") != 0 && strcmp (call->method, "PATCH") != 0,
    };
    int again;

    if (fresh_token (c) == -1)
      break;
    free (auth_hdr);
    auth_hdr = xasprintf ("X-Auth-Token: %s", c->token);
    if (call_headers (&hdrs, auth_hdr, call, text != NULL, mv1, mv2) == -1) {
      log_error ("%s: out of memory", what);
      break;
    }
    req.headers = (const char *const *) hdrs.ptr;

    c->round_trips++;
    if (http_request (c->http, &req, &resp) == -1)
      break;
    if (status)
      *status = resp.status;
    again = try_again (c, call, what, &resp, &tries);
    if (again == -1)
      break;
    if (again == 1)
      continue;
    if (resp.status >= 200 && resp.status < 300) {
      result = answer_json (&resp, what);
      if (result && call->response_headers)
        *call->response_headers = TAKE_PTR (resp.headers);
      break;
    }
    if (resp.status == 404 && call->quiet_404)
      break;
    if (resp.status == 401)
      log_error ("%s: %s %s: HTTP 401 again after authenticating again: %s", what,
                 call->method, url, os_status_advice (401));
    else
      log_failure (c, call, what, url, resp.status, resp.body);
    break;
  }
  http_response_free (&resp);
  string_vector_reset (&hdrs);
  return result;
}

json_t *
os_request (struct os_client *c, const char *service, const char *method, const char *path,
            const json_t *body, long *status)
{
  struct os_call call = { .service = service, .method = method, .path = path, .body = body };
  return os_call (c, &call, status);
}

bool
os_is_uuid (const char *s)
{
  size_t hex = 0;

  if (s == NULL)
    return false;
  for (const char *p = s; *p; p++) {
    if (*p == '-')
      continue;
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
      return false;
    hex++;
  }
  return hex == 32;
}

/* The "next" link of a page, or NULL. */
static const char *
next_link (const json_t *page, const char *key)
{
  CLEANUP_FREE char *lk = xasprintf ("%s_links", key);
  size_t i;
  json_t *l;

  json_array_foreach (json_object_get (page, lk), i, l) {
    const char *rel = json_string_value (json_object_get (l, "rel"));
    if (rel && strcmp (rel, "next") == 0)
      return json_string_value (json_object_get (l, "href"));
  }
  return json_string_value (json_object_get (page, "next"));     /* Glance */
}

json_t *
os_list (struct os_client *c, const char *service, const char *path, const char *key,
         const char *what)
{
  CLEANUP_JSON json_t *all = json_array ();
  CLEANUP_FREE char *cur = strdup (path);

  for (int pages = 0; cur && pages < 1000; pages++) {
    struct os_call call = { .service = service, .method = "GET", .path = cur, .what = what };
    CLEANUP_JSON json_t *page = os_call (c, &call, NULL);
    const json_t *items = json_object_get (page, key);
    const char *next;
    char *n = NULL;

    if (page == NULL)
      return NULL;
    if (!json_is_array (items)) {
      log_error ("%s: the answer has no '%s' list", what ? what : path, key);
      return NULL;
    }
    json_array_extend (all, (json_t *) items);
    next = next_link (page, key);
    if (next == NULL || json_array_size (items) == 0)
      break;
    if (next[0] == '/') {
      /* Glance: "/v2/images?marker=..." relative to the server. */
      const char *base = os_endpoint (c, service);
      const char *v = base ? strstr (base, "/v2") : NULL;
      n = v ? xasprintf ("%.*s%s", (int) (v - base), base, next) : NULL;
    }
    else
      n = strdup (next);
    free (cur);
    cur = n;
  }
  return TAKE_PTR (all);
}

int
os_post_metadata (struct os_client *c, const char *service, const char *path,
                  const json_t *metadata, const char *what)
{
  CLEANUP_JSON json_t *body = json_pack ("{s:O}", "metadata", metadata);
  struct os_call call = { .service = service, .method = "POST", .path = path, .body = body,
                          .what = what };
  CLEANUP_JSON json_t *ans = body ? os_call (c, &call, NULL) : NULL;

  return ans ? 0 : -1;
}

int
os_delete (struct os_client *c, const char *service, const char *path, const char *what)
{
  struct os_call call = { .service = service, .method = "DELETE", .path = path, .what = what,
                          .quiet_404 = true };
  long st = 0;
  CLEANUP_JSON json_t *ans = os_call (c, &call, &st);

  return ans || st == 404 ? 0 : -1;
}
