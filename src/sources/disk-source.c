/* ferry: a VM disk's source from the configuration, see disk-source.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/disk-source.h"
#include "copy/vmdk.h"
#include "vsphere/datastore.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/http.h"
#include "common/log.h"
#include "common/net.h"
#include "common/util.h"

/* Keep a string alive in plan->keep and return it. */
static const char *
keep (struct disk_source_plan *plan, char *s)
{
  if (s == NULL)
    return NULL;
  json_array_append_new (plan->keep, json_string (s));
  free (s);
  return json_string_value (json_array_get (plan->keep, json_array_size (plan->keep) - 1));
}

static const char *
keepc (struct disk_source_plan *plan, const char *s)
{
  return s ? keep (plan, strdup (s)) : NULL;
}

/* The flat extent's URL for an HTTPS read, from the disk's descriptor. */
static const char *
https_url (struct disk_source_plan *plan, struct vsphere *vs, const struct config *cfg,
           const char *what, const char *file)
{
  const char *dc = config_get_string (cfg, "vcenter_datacenter");
  CLEANUP_FREE char *desc = vs_datastore_get (vs, dc, file, 65536);
  CLEANUP_JSON json_t *d = NULL;
  json_t *ext;
  const char *type, *efile, *slash;
  CLEANUP_FREE char *dir = NULL;
  CLEANUP_FREE char *flat = NULL;

  if (desc == NULL)
    return NULL;
  d = vmdk_parse_descriptor (desc);
  if (d == NULL) {
    log_error ("%s: %s is not a VMDK descriptor: this disk can't be read over datastore "
               "HTTPS; use disk_source: vddk", what, file);
    return NULL;
  }
  if (json_string_value (json_object_get (d, "parent"))) {
    log_error ("%s: %s is a snapshot delta (parent %s): datastore HTTPS reads only flat "
               "disks; consolidate the VM's snapshots or use disk_source: vddk",
               what, file, json_string_value (json_object_get (d, "parent")));
    return NULL;
  }
  if (json_array_size (json_object_get (d, "extents")) != 1) {
    log_error ("%s: %s has %zu extents: datastore HTTPS reads single-extent flat disks; "
               "use disk_source: vddk", what, file, json_array_size (json_object_get (d, "extents")));
    return NULL;
  }
  ext = json_array_get (json_object_get (d, "extents"), 0);
  type = json_string_value (json_object_get (ext, "type"));
  efile = json_string_value (json_object_get (ext, "file"));
  if (type == NULL || efile == NULL || (strcmp (type, "VMFS") && strcmp (type, "FLAT"))) {
    log_error ("%s: %s: extent type %s can't be read over datastore HTTPS (flat only); "
               "use disk_source: vddk", what, file, type ? type : "?");
    return NULL;
  }
  /* The extent sits beside the descriptor. */
  slash = strrchr (file, '/');
  dir = slash ? strndup (file, slash - file + 1) : NULL;
  if (dir == NULL) {
    const char *close = strchr (file, ']');
    dir = close ? xasprintf ("%.*s ", (int) (close - file + 1), file) : strdup ("");
  }
  flat = xasprintf ("%s%s", dir, efile);
  return keep (plan, vs_datastore_url (vs, dc, flat));
}

/* How a child (nbdkit's curl plugin, qemu's curl driver) verifies the
 * server it reads from.  Neither can be given a pinned thumbprint; qemu
 * can't be given a CA file either (system store only).  Where the child
 * can't verify what ferry verifies, refuse -- unless the operator said
 * allow_unverified_data_path (or vmware_insecure). */
static int
data_path_tls (const struct config *cfg, struct disk_source_req *r, const char *child)
{
  bool pin = config_get_string (cfg, "vddk_thumbprint") != NULL;
  bool qemu = r->kind == DISK_SOURCE_EXPORT;
  bool ca = r->cacert != NULL && *r->cacert;

  r->insecure = config_get_bool (cfg, "vmware_insecure");
  if (r->insecure)
    return 0;                   /* the operator's choice, warned at login */
  if (!(pin && !ca) && !(qemu && (ca || pin)))
    return 0;                   /* the child verifies as ferry does */
  if (config_get_bool (cfg, "allow_unverified_data_path")) {
    log_warn ("%s: %s can't verify the server as ferry does (%s): its certificate is NOT "
              "verified on the data path (allow_unverified_data_path)", r->what, child,
              pin ? "a pinned thumbprint" : "vcenter_cacert");
    r->insecure = true;
    return 0;
  }
  log_error ("%s: %s can't verify the server's certificate with %s%s: %s, or set "
             "allow_unverified_data_path: true to read it unverified", r->what, child,
             pin ? "a pinned thumbprint (vddk_thumbprint)" : "vcenter_cacert",
             qemu ? " (it trusts only the system CA store)" : "",
             qemu ? "add vCenter's CA to the system store (update-ca-certificates) and drop "
             "vcenter_cacert/vddk_thumbprint, or use disk_source: https (ferry verifies it "
             "itself)" : "give vcenter_cacert (the CA of vCenter's certificate), or use "
             "ferry migrate (which reads it itself, pin included)");
  return -1;
}

/* Start the VM's export lease and take the disk's URL from it, after
 * checking the lease's certificate thumbprint: qemu can't pin one, so the
 * server it will talk to must be the one ferry verified. */
static int
export_plan (struct vsphere *vs, const json_t *vm, const json_t *disk,
             struct disk_source_plan *plan)
{
  struct disk_source_req *r = &plan->req;
  const char *vmname = json_string_value (json_object_get (vm, "name"));
  const char *moref = json_string_value (json_object_get (vm, "moref"));
  const json_t *disks = json_object_get (vm, "disks");
  const char *url, *tp, *host;
  int index = -1;
  size_t i;
  json_t *d;

  json_array_foreach (disks, i, d)
    if (d == disk || json_equal (json_object_get (d, "key"), json_object_get (disk, "key")))
      index = (int) i;
  if (moref == NULL || index < 0) {
    log_error ("%s: the disk is not one of the VM's", r->what);
    return FERRY_EXIT_USAGE;
  }
  plan->vs = vs;
  plan->lease = vm_export_start (vs, moref, vmname);
  if (plan->lease == NULL)
    return FERRY_EXIT_SOURCE;
  url = export_lease_disk_url (plan->lease, index);
  if (url == NULL) {
    log_error ("%s: the export lease has %d disk URL(s), none for disk %d", r->what,
               export_lease_disk_count (plan->lease), index);
    return FERRY_EXIT_SOURCE;
  }
  tp = export_lease_disk_thumbprint (plan->lease, index);
  host = strstr (url, "://");
  host = host ? host + 3 : url;
  if (strncmp (host, vs_host (vs), strlen (vs_host (vs))) == 0
      && strchr ("/:", host[strlen (vs_host (vs))])) {
    const char *peer = http_peer_thumbprint (vs_http (vs));
    CLEANUP_FREE char *a = tp ? http_normalise_thumbprint (tp) : NULL;
    CLEANUP_FREE char *b = peer ? http_normalise_thumbprint (peer) : NULL;
    if (tp && (a == NULL || b == NULL || strcmp (a, b) != 0)) {
      log_error ("%s: the export lease's certificate thumbprint %s is not the one of the "
                 "vCenter certificate ferry verified (%s): refusing to read the disk",
                 r->what, tp, peer ? peer : "none");
      return FERRY_EXIT_SOURCE;
    }
  }
  else if (r->insecure)
    log_warn ("%s: the export lease's disk is served by another host than vCenter (%s), "
              "read unverified (thumbprint %s)", r->what, url, tp ? tp : "not given");
  /* else: qemu verifies that host against the system store. */
  r->url = keepc (plan, url);
  r->cookie = keepc (plan, vs_cookie (vs));
  return 0;
}

int
disk_source_plan (struct vsphere *vs, const struct config *cfg, const json_t *vm,
                  const json_t *disk, const char *snapshot_moref, const char *workdir,
                  const char *log_path, struct disk_source_plan *plan)
{
  struct disk_source_req *r = &plan->req;
  const char *kind = config_get_string (cfg, "disk_source");
  const char *vmname = json_string_value (json_object_get (vm, "name"));
  const char *file = json_string_value (json_object_get (disk, "file"));
  const char *host = config_get_string (cfg, "vcenter_hostname");
  CLEANUP_FREE char *what = xasprintf ("VM %s disk %lld (%s)", vmname,
                                       (long long) json_integer_value (json_object_get (disk, "key")),
                                       json_string_value (json_object_get (disk, "label")));
  int port;

  memset (plan, 0, sizeof *plan);
  plan->keep = json_array ();
  r->what = keep (plan, what ? strdup (what) : NULL);
  r->file = keepc (plan, file);
  r->workdir = keepc (plan, workdir);
  r->log_path = keepc (plan, log_path);
  if (host == NULL || *host == '\0')
    host = config_get_string (cfg, "esxi_hostname");

  if (kind == NULL || strcmp (kind, "auto") == 0) {
    struct disk_source_req probe = { .kind = DISK_SOURCE_VDDK, .what = r->what,
                                     .libdir = config_get_string (cfg, "libdir") };
    if (config_get_string (cfg, "local_disk_path"))
      kind = "local";
    else
      /* VDDK when it is there (plugin and library), else datastore HTTPS:
       * VDDK can no longer be downloaded, so its absence is normal. */
      kind = disk_source_probe_vddk (&probe) == 0 ? "vddk" : "https";
    log_debug ("%s: disk_source auto: %s", r->what, kind);
  }
  if (strcmp (kind, "vddk") == 0 || strcmp (kind, "nfc") == 0) {
    CLEANUP_FREE char *h = net_split_host_port (host, 443, &port);
    bool nfc = strcmp (kind, "nfc") == 0;
    r->kind = nfc ? DISK_SOURCE_NFC : DISK_SOURCE_VDDK;
    r->server = keepc (plan, h);
    r->port = port;
    r->user = config_get_string (cfg, "vcenter_username");
    r->password = config_get_string (cfg, "vcenter_password");
    r->thumbprint = config_get_string (cfg, "vddk_thumbprint");
    if (r->thumbprint == NULL)        /* the one ferry's own TLS check saw */
      r->thumbprint = keepc (plan, http_peer_thumbprint (vs_http (vs)));
    else
      r->thumbprint = keep (plan, http_normalise_thumbprint (r->thumbprint));
    r->vm_moref = json_string_value (json_object_get (vm, "moref"));
    r->snapshot_moref = keepc (plan, snapshot_moref);
    if (nfc) {
      /* The plugin verifies vCenter by one means: the pinned thumbprint,
       * else the CA given, else the certificate ferry's own connection
       * verified (pinned). */
      const char *ca = config_get_string (cfg, "vcenter_cacert");
      r->disk_key = json_integer_value (json_object_get (disk, "key"));
      if (config_get_string (cfg, "vddk_thumbprint") == NULL && ca && *ca) {
        r->thumbprint = NULL;
        r->cacert = ca;
      }
      r->transports = "nbdssl";
    }
    else {
      r->libdir = config_get_string (cfg, "libdir");
      r->transports = "file:nbdssl:nbd";
      r->compression = NULL;
    }
  }
  else if (strcmp (kind, "https") == 0) {
    r->kind = DISK_SOURCE_HTTPS;
    r->url = https_url (plan, vs, cfg, r->what, file);
    if (r->url == NULL) {
      disk_source_plan_free (plan);
      return FERRY_EXIT_SOURCE;
    }
    r->cookie = keepc (plan, vs_cookie (vs));
    r->cacert = config_get_string (cfg, "vcenter_cacert");
    /* ferry migrate reads this URL itself, verified as its vCenter
     * connection (src/copy/https-ops.c).  These settings are for a child
     * serving it (ferry disk-server: nbdkit's curl plugin), checked when
     * one is started (disk_source_argv). */
    r->insecure = config_get_bool (cfg, "vmware_insecure");
    r->pinned = config_get_string (cfg, "vddk_thumbprint") != NULL;
    r->allow_unverified = config_get_bool (cfg, "allow_unverified_data_path");
  }
  else if (strcmp (kind, "local") == 0) {
    r->kind = DISK_SOURCE_LOCAL;
    r->local_disk_path = config_get_string (cfg, "local_disk_path");
    if (r->local_disk_path == NULL) {
      log_error ("%s: disk_source local needs local_disk_path (the datastore's NFS mount)",
                 r->what);
      disk_source_plan_free (plan);
      return FERRY_EXIT_USAGE;
    }
  }
  else if (strcmp (kind, "export") == 0) {
    int e;
    r->kind = DISK_SOURCE_EXPORT;
    if (snapshot_moref)
      log_warn ("%s: the export source reads the powered-off VM's current disks, not "
                "snapshot %s", r->what, snapshot_moref);
    r->cacert = config_get_string (cfg, "vcenter_cacert");
    if (data_path_tls (cfg, r, "qemu's curl driver (export lease)") == -1) {
      disk_source_plan_free (plan);
      return FERRY_EXIT_USAGE;
    }
    e = export_plan (vs, vm, disk, plan);
    if (e) {
      disk_source_plan_free (plan);
      return e;
    }
  }
  else {
    log_error ("disk_source '%s': use auto, vddk, nfc, https, local or export", kind);
    disk_source_plan_free (plan);
    return FERRY_EXIT_USAGE;
  }
  return 0;
}

int
disk_source_plan_progress (struct disk_source_plan *plan, int percent)
{
  return plan->lease ? export_lease_progress (plan->vs, plan->lease, percent) : 0;
}

int
disk_source_plan_complete (struct disk_source_plan *plan)
{
  return plan->lease ? export_lease_complete (plan->vs, plan->lease) : 0;
}

void
disk_source_plan_free (struct disk_source_plan *plan)
{
  export_lease_free (plan->vs, plan->lease);   /* aborts it if still open */
  plan->lease = NULL;
  json_decref (plan->keep);
  plan->keep = NULL;
}
