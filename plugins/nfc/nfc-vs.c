/* nbdkit nfc plugin: vSphere side, see nfc-vs.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include "nfc-proto.h"
#include "nfc-vs.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/redact.h"
#include "common/util.h"
#include "vsphere/vmops.h"
#include "vsphere/xml.h"

void
nfc_vs_disk_free (struct nfc_vs_disk *d)
{
  free (d->vm);
  free (d->vm_name);
  free (d->host);
  free (d->snapshot);
  free (d->file);
  memset (d, 0, sizeof *d);
  d->key = -1;
}

static bool
is_disk (const json_t *dev)
{
  const char *t = vs_str (dev, "_type");
  return t && strcmp (t, "VirtualDisk") == 0;
}

static long long
capacity_of (const json_t *dev)
{
  long long cap = vs_int (dev, "capacityInBytes", -1);
  if (cap <= 0)
    cap = vs_int (dev, "capacityInKB", 0) * 1024;
  return cap;
}

/* Whether file is the disk's current file or one of its parents (the
 * state of an older snapshot). */
static bool
disk_has_file (const json_t *dev, const char *file)
{
  const json_t *b = vs_get (dev, "backing");

  for (int depth = 0; b && depth < 64; depth++) {
    const char *f = vs_str (b, "fileName");
    if (f && strcmp (f, file) == 0)
      return true;
    b = vs_get (b, "parent");
  }
  return false;
}

int
nfc_vs_resolve (struct vsphere *vs, const char *vm, const char *snapshot, int disk,
                const char *file, struct nfc_vs_disk *out)
{
  static const char *const paths[] = { "name", "runtime.host", "config.hardware", NULL };
  CLEANUP_JSON json_t *p = NULL;
  CLEANUP_JSON json_t *devs = NULL;
  CLEANUP_JSON json_t *snapdisks = NULL;
  const json_t *dev = NULL, *d;
  const char *host, *name;
  size_t i;

  memset (out, 0, sizeof *out);
  out->key = -1;
  p = vs_get_props (vs, "VirtualMachine", vm, paths);
  if (p == NULL) {
    log_error ("%s: cannot read VM %s (does vm=moref=%s exist?)", vs_host (vs), vm, vm);
    return -1;
  }
  name = json_string_value (json_object_get (p, "name"));
  host = vs_str (json_object_get (p, "runtime.host"), "value");
  if (host == NULL || !nfc_safe_token (host, 256)) {
    log_error ("%s: VM %s has no runtime.host in vSphere's answer (is it a VM, and "
               "registered on a host?)", vs_host (vs), vm);
    return -1;
  }
  devs = vs_array (json_object_get (p, "config.hardware"), "device");
  json_array_foreach (devs, i, d) {
    if (!is_disk (d))
      continue;
    if ((disk >= 0 && vs_int (d, "key", -1) == disk) || (file && disk_has_file (d, file))) {
      dev = d;
      break;
    }
  }
  if (snapshot) {
    snapdisks = vm_snapshot_disks (vs, snapshot);
    if (snapdisks == NULL) {
      log_error ("%s: cannot read snapshot %s of VM %s", vs_host (vs), snapshot, vm);
      return -1;
    }
  }
  out->vm = strdup (vm);
  out->vm_name = strdup (name ? name : vm);
  out->host = strdup (host);
  out->snapshot = snapshot ? strdup (snapshot) : NULL;
  if (disk >= 0) {
    char k[32];
    const json_t *sd;
    snprintf (k, sizeof k, "%d", disk);
    sd = snapdisks ? json_object_get (snapdisks, k) : NULL;
    if (snapdisks && sd == NULL) {
      log_error ("%s: snapshot %s of VM %s has no disk with key %d", vs_host (vs), snapshot,
                 out->vm_name, disk);
      goto fail;
    }
    if (sd) {
      const char *f = json_string_value (json_object_get (sd, "file"));
      out->file = f ? strdup (f) : NULL;
      out->capacity = (uint64_t) json_integer_value (json_object_get (sd, "capacity_bytes"));
    }
    else if (dev) {
      const char *f = vs_str (dev, "backing.fileName");
      out->file = f ? strdup (f) : NULL;
      out->capacity = (uint64_t) capacity_of (dev);
    }
    else {
      log_error ("%s: VM %s has no disk with key %d (disk=KEY is the VirtualDisk's device key, "
                 "2000 for the first SCSI disk)", vs_host (vs), out->vm_name, disk);
      goto fail;
    }
    out->key = disk;
  }
  else {
    const char *k;
    json_t *sd;
    out->file = strdup (file);
    if (dev) {
      out->key = (int) vs_int (dev, "key", -1);
      out->capacity = (uint64_t) capacity_of (dev);
    }
    /* The snapshot's own disks say best what its files hold. */
    json_object_foreach (snapdisks, k, sd) {
      const char *f = json_string_value (json_object_get (sd, "file"));
      if (f && strcmp (f, file) == 0) {
        out->key = atoi (k);
        out->capacity = (uint64_t) json_integer_value (json_object_get (sd, "capacity_bytes"));
      }
    }
    if (out->key < 0) {
      log_error ("%s: %s is not a disk of VM %s%s%s (nor one of its snapshots' parents): "
                 "give file= a path from the VM's disks, or disk=KEY", vs_host (vs), file,
                 out->vm_name, snapshot ? " or of snapshot " : "", snapshot ? snapshot : "");
      goto fail;
    }
  }
  if (out->file == NULL || *out->file != '[') {
    log_error ("%s: VM %s disk %d has no datastore file name in vSphere's answer",
               vs_host (vs), out->vm_name, out->key);
    goto fail;
  }
  if (out->capacity == 0 || out->capacity > (UINT64_C (1) << 62)) {
    log_error ("%s: VM %s disk %d (%s): vSphere gave no usable capacity", vs_host (vs),
               out->vm_name, out->key, out->file);
    goto fail;
  }
  if (!out->vm || !out->vm_name || !out->host)
    goto fail;
  out->vm_ticket = file != NULL || snapshot != NULL;
  return 0;

 fail:
  nfc_vs_disk_free (out);
  return -1;
}

int
nfc_ticket_from_json (const json_t *rv, struct nfc_ticket *t, char *why, size_t n)
{
  const char *host = vs_str (rv, "host");
  const char *tp = vs_str (rv, "sslThumbprint");
  const char *svc = vs_str (rv, "service");
  const char *sid = vs_str (rv, "sessionId");
  long long port = vs_int (rv, "port", -1);

  memset (t, 0, sizeof *t);
  if (!json_is_object (rv)) {
    snprintf (why, n, "the answer holds no HostServiceTicket");
    return -1;
  }
  if (host == NULL || !nfc_safe_token (host, 255)) {
    snprintf (why, n, "the ticket's host is %s", host ? "not a host name" : "missing");
    return -1;
  }
  if (port < 1 || port > 65535) {
    snprintf (why, n, "the ticket's port is %s", port == -1 ? "missing" : "out of range");
    return -1;
  }
  if (tp == NULL) {
    snprintf (why, n, "the ticket has no sslThumbprint: the host's certificate could not be "
              "checked");
    return -1;
  }
  t->thumbprint = nfc_thumbprint_normalise (tp);
  if (t->thumbprint == NULL) {
    snprintf (why, n, "the ticket's sslThumbprint is not a SHA-1 or SHA-256 fingerprint");
    return -1;
  }
  if (svc == NULL || !nfc_safe_token (svc, 64)) {
    snprintf (why, n, "the ticket's service is %s", svc ? "not a service name" : "missing");
    goto fail;
  }
  if (sid == NULL || !nfc_safe_token (sid, 512)) {
    snprintf (why, n, "the ticket's sessionId is %s", sid ? "not a plain token" : "missing");
    goto fail;
  }
  t->host = strdup (host);
  t->port = (int) port;
  t->service = strdup (svc);
  t->session = strdup (sid);
  if (!t->host || !t->service || !t->session) {
    snprintf (why, n, "out of memory");
    goto fail;
  }
  return 0;

 fail:
  nfc_ticket_free (t);
  return -1;
}

int
nfc_vs_ticket (struct vsphere *vs, const struct nfc_vs_disk *d, struct nfc_ticket *t)
{
  /* nfc_auth.md "Why this is not public pyVmomi": the NfcService object
   * is nfcService on vCenter, ha-nfc on ESXi. */
  const char *api = vs_str (vs_service_content (vs), "about.apiType");
  const char *nfc = api && strcmp (api, "HostAgent") == 0 ? "ha-nfc" : "nfcService";
  CLEANUP_FREE char *evm = vs_xml_escape (d->vm);
  CLEANUP_FREE char *ehost = vs_xml_escape (d->host);
  CLEANUP_FREE char *args = NULL;
  const char *method;
  char why[256];
  struct vs_fault f = { 0 };
  xmlDocPtr doc = NULL;
  int r;

  if (d->key >= 0 && !d->vm_ticket) {
    method = "NfcRandomAccessOpenReadonly";
    args = xasprintf ("<vm type=\"VirtualMachine\">%s</vm><diskDeviceKey>%d</diskDeviceKey>"
                      "<hostForAccess type=\"HostSystem\">%s</hostForAccess>", evm, d->key, ehost);
  }
  else {
    method = "NfcGetVmFiles";
    args = xasprintf ("<vm type=\"VirtualMachine\">%s</vm>", evm);
  }
  if (args == NULL)
    return -1;
  r = vs_call (vs, method, "NfcService", nfc, args, &doc, &f);
  if (r == 1 && d->key >= 0 && !d->vm_ticket && f.type
      && (strcmp (f.type, "MethodNotFound") == 0 || strcmp (f.type, "NotImplemented") == 0)) {
    log_debug ("%s %s: %s; asking NfcGetVmFiles", vs_host (vs), method, f.type);
    vs_fault_free (&f);
    free (args);
    method = "NfcGetVmFiles";
    args = xasprintf ("<vm type=\"VirtualMachine\">%s</vm>", evm);
    if (args == NULL)
      return -1;
    r = vs_call (vs, method, "NfcService", nfc, args, &doc, &f);
  }
  if (r == 1) {
    log_error ("%s %s for VM %s: %s: %s", vs_host (vs), method, d->vm_name, f.type,
               f.message && *f.message ? f.message : "(no message)");
    vs_fault_free (&f);
    return -1;
  }
  if (r == -1)
    return -1;
  {
    xmlNodePtr rv = vs_xml_child (vs_xml_body (doc), "returnval");
    CLEANUP_JSON json_t *j = rv ? vs_xml_to_json (rv) : NULL;
    xmlFreeDoc (doc);
    if (nfc_ticket_from_json (j, t, why, sizeof why) == -1) {
      log_error ("%s %s for VM %s: %s", vs_host (vs), method, d->vm_name, why);
      return -1;
    }
  }
  redact_add_secret (t->session);
  log_debug ("%s %s: ticket for %s:%d (%s)", vs_host (vs), method, t->host, t->port, t->service);
  return 0;
}
