/* ferry: datastore HTTPS access, see datastore.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <curl/curl.h>

#include "vsphere/datastore.h"
#include "common/cleanup.h"
#include "common/lock.h"
#include "common/log.h"
#include "common/util.h"

/* Sessions that can log in again for the datastore readers of one host
 * (see datastore.h), and the readers' own session once one was needed. */
struct site {
  struct site *next;
  char *host;                       /* vs_host (): the host[:port] of the URLs */
  const struct vsphere **owners;    /* live sessions that made URLs for it */
  size_t nowners;
  struct vsphere *readers;          /* logged in after a 401, or NULL */
  char *cookie;                     /* its cookie value */
};

static pthread_mutex_t sites_lock = PTHREAD_MUTEX_INITIALIZER;
static struct site *sites;
/* Set while this thread logs in for the readers under sites_lock: a
 * failed vs_connect disconnects its half-made session, which was never
 * noted, and vs_datastore_forget must not wait for the lock we hold. */
static _Thread_local bool renewing;

/* Under sites_lock. */
static struct site *
find_site (const char *host, size_t len)
{
  for (struct site *s = sites; s; s = s->next)
    if (strlen (s->host) == len && strncmp (s->host, host, len) == 0)
      return s;
  return NULL;
}

static void
note_owner (const struct vsphere *vs)
{
  const char *host = vs_host (vs);
  struct site *s;

  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&sites_lock);
  s = find_site (host, strlen (host));
  if (s == NULL && (s = calloc (1, sizeof *s)) != NULL) {
    if ((s->host = strdup (host)) == NULL) {
      free (s);
      s = NULL;
    }
    else {
      s->next = sites;
      sites = s;
    }
  }
  if (s) {
    size_t i;
    for (i = 0; i < s->nowners && s->owners[i] != vs; i++)
      ;
    if (i == s->nowners) {
      const struct vsphere **o = realloc (s->owners, (s->nowners + 1) * sizeof *o);
      if (o) {
        o[s->nowners++] = vs;
        s->owners = o;
      }
    }
  }
}

void
vs_datastore_forget (const struct vsphere *vs)
{
  struct vsphere *drop[8];
  size_t ndrop = 0;

  if (renewing)
    return;
  {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&sites_lock);
    for (struct site **sp = &sites; *sp; ) {
      struct site *s = *sp;
      for (size_t i = 0; i < s->nowners; i++)
        if (s->owners[i] == vs) {
          s->owners[i] = s->owners[--s->nowners];
          break;
        }
      if (s->nowners > 0 || ndrop == sizeof drop / sizeof drop[0]) {
        sp = &s->next;
        continue;
      }
      /* Nobody makes URLs for this host any more: its readers are done. */
      if (s->readers)
        drop[ndrop++] = s->readers;
      *sp = s->next;
      free (s->owners);
      free (s->host);
      free (s->cookie);
      free (s);
    }
  }
  /* Outside the lock: vs_disconnect comes back here. */
  for (size_t i = 0; i < ndrop; i++)
    vs_disconnect (drop[i]);
}

/* vs_datastore_renew_cookie for the site of host (len bytes), under
 * sites_lock; *old is the session to log out once the lock is released. */
static char *
renew_site_cookie (const char *host, size_t len, const char *stale, bool *fresh,
                   struct vsphere **old)
{
  struct site *s;
  struct vsphere *nv = NULL;
  char *out = NULL;
  int r;

  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&sites_lock);
  s = find_site (host, len);
  if (s == NULL || s->nowners == 0)
    return NULL;
  if (s->cookie && (stale == NULL || strcmp (s->cookie, stale) != 0))
    /* Another reader logged in after this one's cookie was given out. */
    return strdup (s->cookie);
  log_info ("%s: vCenter refused the session of the datastore reads (HTTP 401: it expired "
            "or was ended); logging in again", s->host);
  renewing = true;
  r = vs_connect_same (s->owners[0], &nv);
  renewing = false;
  if (r == 0 && vs_cookie (nv) && (out = strdup (vs_cookie (nv))) != NULL) {
    /* The keep-alive the migration gives its own sessions (migrate.c). */
    vs_keepalive_start (nv, 240);
    *old = s->readers;
    s->readers = nv;
    free (s->cookie);
    s->cookie = strdup (out);
    *fresh = true;
    log_info ("%s: logged in again; the datastore reads go on with the new session", s->host);
  }
  else {
    if (r == 0)
      log_error ("%s: logged in again but vCenter gave no session cookie", s->host);
    free (out);
    out = NULL;
    *old = nv;
  }
  return out;
}

char *
vs_datastore_renew_cookie (const char *url, const char *stale, bool *fresh)
{
  const char *host = url, *end;
  struct vsphere *old = NULL;
  char *out;

  *fresh = false;
  if (strncmp (host, "https://", 8) == 0)
    host += 8;
  end = host + strcspn (host, "/?#");
  out = renew_site_cookie (host, (size_t) (end - host), stale, fresh, &old);
  vs_disconnect (old);                  /* its session is over: Logout is a formality */
  return out;
}

char *
vs_datastore_path_of_url (const char *url)
{
  const char *p = strstr (url, "/folder/");
  const char *q, *ds;
  CLEANUP_FREE char *path = NULL;
  CLEANUP_FREE char *name = NULL;
  char *dpath, *dname;
  char *out;

  if (p == NULL || (q = strchr (p, '?')) == NULL || (ds = strstr (q, "dsName=")) == NULL)
    return strdup (url);
  p += 8;
  ds += 7;
  path = strndup (p, q - p);
  name = strndup (ds, strcspn (ds, "&#"));
  if (path == NULL || name == NULL)
    return NULL;
  dpath = curl_easy_unescape (NULL, path, 0, NULL);
  dname = curl_easy_unescape (NULL, name, 0, NULL);
  out = dpath && dname ? xasprintf ("[%s] %s", dname, dpath) : NULL;
  curl_free (dpath);
  curl_free (dname);
  return out;
}

static char *
escape (const char *s)
{
  char *e = curl_easy_escape (NULL, s, 0);
  char *out = e ? strdup (e) : NULL;
  curl_free (e);
  return out;
}

char *
vs_datastore_url (const struct vsphere *vs, const char *datacenter, const char *file)
{
  const char *close, *path;
  CLEANUP_FREE char *ds = NULL;
  CLEANUP_FREE char *eds = NULL;
  CLEANUP_FREE char *edc = NULL;
  CLEANUP_FREE char *epath = NULL;
  size_t n;

  if (file == NULL || file[0] != '[' || (close = strchr (file, ']')) == NULL)
    return NULL;
  ds = strndup (file + 1, close - file - 1);
  path = close + 1;
  while (*path == ' ')
    path++;
  /* Escape each path component, keep the slashes. */
  epath = calloc (1, strlen (path) * 3 + 1);
  if (ds == NULL || epath == NULL)
    return NULL;
  n = 0;
  for (const char *p = path; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
        || strchr ("/-_.~", *p))
      epath[n++] = *p;
    else
      n += sprintf (epath + n, "%%%02X", (unsigned char) *p);
  }
  eds = escape (ds);
  edc = escape (datacenter ? datacenter : "ha-datacenter");
  if (eds == NULL || edc == NULL)
    return NULL;
  note_owner (vs);
  return xasprintf ("https://%s/folder/%s?dcPath=%s&dsName=%s", vs_host (vs), epath, edc, eds);
}

char *
vs_datastore_get (struct vsphere *vs, const char *datacenter, const char *file, size_t max_bytes)
{
  CLEANUP_FREE char *url = vs_datastore_url (vs, datacenter, file);
  CLEANUP_FREE char *range = xasprintf ("Range: bytes=0-%zu", max_bytes - 1);
  CLEANUP_FREE char *what = xasprintf ("%s datastore GET %s", vs_host (vs), file);
  const char *headers[] = { range, NULL };
  struct http_request req = { .method = "GET", .headers = headers, .idempotent = true };
  struct http_response resp = { 0 };
  char *out;

  if (url == NULL) {
    log_error ("%s: not a datastore path ('[datastore] dir/file.vmdk')", file);
    return NULL;
  }
  req.url = url;
  req.what = what;
  if (http_request (vs_http (vs), &req, &resp) == -1)
    return NULL;
  if (resp.status == 401) {
    /* The session ended (idle timeout, TerminateSession): vs_ensure_session
     * logs in again if so, and the read is tried once more. */
    int alive = vs_ensure_session (vs);
    http_response_free (&resp);
    if (alive == -1)
      return NULL;
    if (alive == 1 && http_request (vs_http (vs), &req, &resp) == -1)
      return NULL;
    if (alive == 0)
      resp.status = 401;
  }
  if (resp.status == 401) {
    log_error ("%s: HTTP 401 with a live session: check that the user may browse the "
               "datastore (Datastore.Browse, Datastore.FileManagement)", what);
    http_response_free (&resp);
    return NULL;
  }
  if (resp.status != 200 && resp.status != 206) {
    log_error ("%s: HTTP %ld: check that the file exists and the user may browse the "
               "datastore (Datastore.Browse)", what, resp.status);
    http_response_free (&resp);
    return NULL;
  }
  out = resp.body;
  resp.body = NULL;
  http_response_free (&resp);
  return out;
}
