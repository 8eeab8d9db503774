/* ferry: export leases, see lease.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vsphere/lease.h"
#include "vsphere/xml.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

#define LEASE_READY_TIMEOUT_S 600

struct export_lease {
  char *id;                   /* HttpNfcLease moref value */
  char *vm_name;
  json_t *urls;               /* [{"url", "thumbprint"}] of the disks, in order */
  int timeout_s;
  bool open;                  /* neither completed nor aborted */
};

const char *
export_lease_id (const struct export_lease *l)
{
  return l->id;
}

int
export_lease_timeout (const struct export_lease *l)
{
  return l->timeout_s;
}

int
export_lease_disk_count (const struct export_lease *l)
{
  return (int) json_array_size (l->urls);
}

const char *
export_lease_disk_url (const struct export_lease *l, int disk_index)
{
  if (disk_index < 0)
    return NULL;
  return json_string_value (json_object_get (json_array_get (l->urls, disk_index), "url"));
}

const char *
export_lease_disk_thumbprint (const struct export_lease *l, int disk_index)
{
  if (disk_index < 0)
    return NULL;
  return json_string_value (json_object_get (json_array_get (l->urls, disk_index),
                                             "thumbprint"));
}

/* A "*" host -> vs_host (ESXi and vCenter give "*"
 * when the client must use the address it already reaches them by). */
static char *
fix_host (struct vsphere *vs, const char *url)
{
  const char *p = strstr (url, "://");
  if (p && p[3] == '*' && (p[4] == '/' || p[4] == ':' || p[4] == '\0'))
    return xasprintf ("%.*s%s%s", (int) (p + 3 - url), url, vs_host (vs), p + 4);
  return strdup (url);
}

static int
lease_call (struct vsphere *vs, struct export_lease *l, const char *method, const char *args)
{
  json_t *r = vs_invoke (vs, method, "HttpNfcLease", l->id, args);
  if (r == NULL) {
    log_error ("VM %s: export lease %s: %s failed", l->vm_name, l->id, method);
    return -1;
  }
  json_decref (r);
  return 0;
}

int
export_lease_progress (struct vsphere *vs, struct export_lease *l, int percent)
{
  char args[64];
  if (!l->open)
    return 0;
  snprintf (args, sizeof args, "<percent>%d</percent>", percent < 0 ? 0 : percent > 100 ? 100
            : percent);
  return lease_call (vs, l, "HttpNfcLeaseProgress", args);
}

int
export_lease_complete (struct vsphere *vs, struct export_lease *l)
{
  if (l == NULL || !l->open)
    return 0;
  l->open = false;
  if (lease_call (vs, l, "HttpNfcLeaseComplete", NULL) == -1)
    return -1;
  log_debug ("VM %s: export lease %s completed", l->vm_name, l->id);
  return 0;
}

int
export_lease_abort (struct vsphere *vs, struct export_lease *l)
{
  if (l == NULL || !l->open)
    return 0;
  l->open = false;
  if (lease_call (vs, l, "HttpNfcLeaseAbort", NULL) == -1)
    return -1;
  log_debug ("VM %s: export lease %s aborted", l->vm_name, l->id);
  return 0;
}

void
export_lease_free (struct vsphere *vs, struct export_lease *l)
{
  if (l == NULL)
    return;
  if (l->open && vs)
    export_lease_abort (vs, l);
  free (l->id);
  free (l->vm_name);
  json_decref (l->urls);
  free (l);
}

/* Wait until the lease is ready: 0, or -1 after logging. */
static int
wait_ready (struct vsphere *vs, struct export_lease *l)
{
  static const char *const paths[] = { "state", "error", NULL };
  struct timespec t0, t;

  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (;;) {
    CLEANUP_JSON json_t *p = vs_get_props (vs, "HttpNfcLease", l->id, paths);
    const char *state = vs_str (p, "state");
    if (p == NULL) {
      log_error ("VM %s: export lease %s: its state can't be read", l->vm_name, l->id);
      return -1;
    }
    if (state && strcmp (state, "ready") == 0)
      return 0;
    if (state && (strcmp (state, "error") == 0 || strcmp (state, "done") == 0)) {
      const char *msg = vs_str (p, "error.localizedMessage");
      log_error ("VM %s: export lease %s failed: %s", l->vm_name, l->id,
                 msg && *msg ? msg : vs_str (p, "error.fault._type") ? vs_str (p, "error.fault._type")
                 : state);
      return -1;
    }
    clock_gettime (CLOCK_MONOTONIC, &t);
    if (t.tv_sec - t0.tv_sec >= LEASE_READY_TIMEOUT_S) {
      log_error ("VM %s: export lease %s still %s after %d s", l->vm_name, l->id,
                 state ? state : "not ready", LEASE_READY_TIMEOUT_S);
      return -1;
    }
    sleep_ms (250);
  }
}

static int
read_info (struct vsphere *vs, struct export_lease *l)
{
  static const char *const paths[] = { "info", NULL };
  CLEANUP_JSON json_t *p = vs_get_props (vs, "HttpNfcLease", l->id, paths);
  CLEANUP_JSON json_t *urls = vs_array (p, "info.deviceUrl");
  size_t i;
  json_t *u;

  if (p == NULL || json_object_get (p, "info") == NULL) {
    log_error ("VM %s: export lease %s gives no info", l->vm_name, l->id);
    return -1;
  }
  l->timeout_s = (int) vs_int (p, "info.leaseTimeout", 0);
  json_array_foreach (urls, i, u) {
    const char *url = vs_str (u, "url");
    const char *tp = vs_str (u, "sslThumbprint");
    CLEANUP_FREE char *fixed = NULL;
    if (url == NULL || !vs_bool (u, "disk", true))
      continue;
    fixed = fix_host (vs, url);
    if (fixed == NULL)
      return -1;
    json_array_append_new (l->urls, json_pack ("{s:s, s:s?}", "url", fixed,
                                               "thumbprint", tp && *tp ? tp : NULL));
  }
  if (json_array_size (l->urls) == 0) {
    log_error ("VM %s: export lease %s lists no disk URL", l->vm_name, l->id);
    return -1;
  }
  return 0;
}

struct export_lease *
vm_export_start (struct vsphere *vs, const char *vm_moref, const char *vm_name)
{
  struct vs_fault f = { 0 };
  xmlDocPtr doc = NULL;
  struct export_lease *l;
  CLEANUP_JSON json_t *ref = NULL;
  xmlNodePtr rv;
  int r;

  r = vs_call (vs, "ExportVm", "VirtualMachine", vm_moref, NULL, &doc, &f);
  if (r == 1) {
    if (f.type && strcmp (f.type, "InvalidPowerState") == 0)
      log_error ("VM %s must be powered off for an export lease: shut it down "
                 "(shutdown: true) or use disk_source: https", vm_name);
    else
      log_error ("VM %s: ExportVm: %s: %s", vm_name, f.type ? f.type : "fault",
                 f.message && *f.message ? f.message : "(no message)");
    vs_fault_free (&f);
    return NULL;
  }
  if (r == -1)
    return NULL;
  rv = vs_xml_child (vs_xml_body (doc), "returnval");
  ref = rv ? vs_xml_to_json (rv) : NULL;
  xmlFreeDoc (doc);
  if (vs_str (ref, "value") == NULL) {
    log_error ("VM %s: ExportVm returned no lease", vm_name);
    return NULL;
  }
  l = calloc (1, sizeof *l);
  if (l == NULL)
    return NULL;
  l->id = strdup (vs_str (ref, "value"));
  l->vm_name = strdup (vm_name ? vm_name : vm_moref);
  l->urls = json_array ();
  l->open = true;
  if (l->id == NULL || l->vm_name == NULL || l->urls == NULL
      || wait_ready (vs, l) == -1 || read_info (vs, l) == -1) {
    export_lease_free (vs, l);
    return NULL;
  }
  log_info ("VM %s: export lease %s ready (%d disk%s, timeout %d s)", vm_name, l->id,
            export_lease_disk_count (l), export_lease_disk_count (l) == 1 ? "" : "s",
            l->timeout_s);
  return l;
}
