/* ferry: datastore HTTPS access, see datastore.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "vsphere/datastore.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

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
