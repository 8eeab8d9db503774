/* ferry: the VMware side of `ferry check`. */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>

#include "checks/checks.h"
#include "vsphere/inventory.h"
#include "vsphere/select.h"
#include "vsphere/xml.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/net.h"
#include "common/util.h"

void
check_row (json_t *rows, const char *check, const char *target, const char *status,
           const char *fmt, ...)
{
  va_list ap;
  char *detail = NULL;

  va_start (ap, fmt);
  if (vasprintf (&detail, fmt, ap) == -1)
    detail = NULL;
  va_end (ap);
  json_array_append_new (rows, json_pack ("{s:s, s:s, s:s, s:s}", "check", check,
                                          "target", target ? target : "", "status", status,
                                          "detail", detail ? detail : ""));
  free (detail);
}

/* Privileges a migration uses, from the reference's ACL table plus what
 * ferry does beyond it (CBT enable, power-off at cutover). */
static const struct { const char *id, *why; } privileges[] = {
  { "Datastore.Browse", "read disk descriptors (datastore HTTPS)" },
  { "VirtualMachine.Provisioning.DiskRandomRead", "read disks (VDDK)" },
  { "VirtualMachine.Provisioning.DiskRandomAccess", "open disks (VDDK)" },
  { "VirtualMachine.Provisioning.GetVmFiles", "download disks (export lease)" },
  { "VirtualMachine.State.CreateSnapshot", "snapshot before copying" },
  { "VirtualMachine.State.RemoveSnapshot", "remove ferry's snapshot" },
  { "VirtualMachine.Config.ChangeTracking", "enable CBT (warm migration)" },
  { "VirtualMachine.Interact.PowerOff", "power off at cutover" },
  { "VirtualMachine.Interact.GuestControl", "guest shutdown at cutover" },
  { NULL, NULL }
};

static void
check_privileges (struct vsphere *vs, const json_t *vms, json_t *rows)
{
  const json_t *am = vs_get (vs_service_content (vs), "authorizationManager");
  CLEANUP_JSON json_t *session = NULL;
  CLEANUP_FREE char *args = NULL;
  CLEANUP_JSON json_t *res = NULL;
  const json_t *sm = vs_get (vs_service_content (vs), "sessionManager");
  static const char *const sp[] = { "currentSession", NULL };
  size_t cap = 256, len = 0, i;
  json_t *vm, *ep;

  if (json_array_size (vms) == 0)
    return;
  session = vs_get_props (vs, vs_str (sm, "type"), vs_str (sm, "value"), sp);
  if (session == NULL || !vs_str (json_object_get (session, "currentSession"), "key")) {
    check_row (rows, "privileges", vs_host (vs), "warn",
               "cannot read the current session; privileges not verified");
    return;
  }
  args = malloc (cap);
  if (args == NULL)
    return;
#define ADD(...) do { int n_; while ((size_t) (n_ = snprintf (args + len, cap - len, __VA_ARGS__)) >= cap - len) { char *na_ = realloc (args, cap *= 2); if (!na_) return; args = na_; } len += n_; } while (0)
  json_array_foreach (vms, i, vm)
    ADD ("<entity type=\"VirtualMachine\">%s</entity>",
         json_string_value (json_object_get (vm, "moref")));
  ADD ("<sessionId>%s</sessionId>",
       vs_str (json_object_get (session, "currentSession"), "key"));
  for (size_t p = 0; privileges[p].id; p++)
    ADD ("<privId>%s</privId>", privileges[p].id);
#undef ADD
  {
    struct vs_fault f = { 0 };
    xmlDocPtr doc = NULL;
    int r = vs_call (vs, "HasPrivilegeOnEntities", vs_str (am, "type"), vs_str (am, "value"),
                     args, &doc, &f);
    if (r == 1) {
      check_row (rows, "privileges", vs_host (vs), "warn",
                 "not verified: HasPrivilegeOnEntities: %s (check the ACL table in "
                 "docs/check.md by hand)", f.type);
      vs_fault_free (&f);
      return;
    }
    if (r == -1) {
      check_row (rows, "privileges", vs_host (vs), "warn", "not verified (no answer)");
      return;
    }
    {
      xmlNodePtr body = vs_xml_body (doc);
      res = json_array ();
      for (xmlNodePtr rv = vs_xml_child (body, "returnval"); rv; rv = vs_xml_next (rv, "returnval"))
        json_array_append_new (res, vs_xml_to_json (rv));
      xmlFreeDoc (doc);
    }
  }
  json_array_foreach (res, i, ep) {
    CLEANUP_JSON json_t *avail = vs_array (ep, "privAvailability");
    const char *ent = vs_str (ep, "entity.value");
    const char *vmname = ent;
    size_t k;
    json_t *a;
    CLEANUP_FREE char *missing = strdup ("");
    json_array_foreach (vms, k, vm)
      if (ent && strcmp (json_string_value (json_object_get (vm, "moref")), ent) == 0)
        vmname = json_string_value (json_object_get (vm, "name"));
    json_array_foreach (avail, k, a)
      if (!vs_bool (a, "isGranted", false)) {
        char *m = xasprintf ("%s%s%s", missing, *missing ? ", " : "", vs_str (a, "privId"));
        free (missing);
        missing = m;
      }
    if (missing && *missing)
      check_row (rows, "privileges", vmname, "fail",
                 "user lacks %s: grant them (see docs/check.md) or use a role that has them",
                 missing);
    else
      check_row (rows, "privileges", vmname, "pass", "all %zu privileges granted",
                 json_array_size (avail));
  }
}

/* Guest types whose installers (or administrators, then) often named disks
 * by kernel device (/dev/sda1, /dev/hda1) in the boot chain: releases from
 * before UUIDs were the installers' default, and "other Linux" (custom). */
static const char *const device_name_prone[] = {
  "rhel2", "rhel3", "rhel4", "rhel5", "rhel6", "centos", "oracleLinux", "sles", "suse",
  "debian4", "debian5", "debian6", "debian7", "asianux3", "asianux4", "mandriva", "turboLinux",
  "otherLinux", "other24xLinux", "other26xLinux", "other3xLinux", "genericLinux", NULL
};

/* Warn before anything is copied when the VM's shape says its boot chain
 * may name disks that will not exist on KVM (the conversion verifies it
 * after virt-v2v; see docs/conversion.md). */
static void
check_boot_chain_risk (json_t *rows, const json_t *vm)
{
  const char *name = json_string_value (json_object_get (vm, "name"));
  const char *gid = json_string_value (json_object_get (vm, "guest_id"));
  const json_t *disks = json_object_get (vm, "disks");
  CLEANUP_JSON json_t *controllers = json_object ();
  CLEANUP_FREE char *order = NULL;
  const json_t *d;
  size_t i;
  bool ide = false, prone = false;

  if (gid == NULL || strcmp (inventory_guest_family (gid) ?: "", "linux") != 0)
    return;
  for (i = 0; device_name_prone[i]; i++)
    if (strncmp (gid, device_name_prone[i], strlen (device_name_prone[i])) == 0)
      prone = true;
  json_array_foreach (disks, i, d) {
    const char *ctl = json_string_value (json_object_get (d, "controller")) ?: "?";
    const char *bus = json_string_value (json_object_get (d, "bus_type")) ?: "";
    CLEANUP_FREE char *key = xasprintf ("%s %lld", ctl,
                                        (long long) json_integer_value (json_object_get (d, "bus")));
    char *o = order;
    if (key)
      json_object_set_new (controllers, key, json_true ());
    if (strcmp (bus, "ide") == 0)
      ide = true;
    order = xasprintf ("%s%svd%c = %s (%s %lld:%lld)", o ? o : "", o ? ", " : "",
                       (char) ('a' + (i < 26 ? i : 25)),
                       json_string_value (json_object_get (d, "label")) ?: "?", ctl,
                       (long long) json_integer_value (json_object_get (d, "bus")),
                       (long long) json_integer_value (json_object_get (d, "unit")));
    free (o);
  }
  if (json_object_size (controllers) > 1)
    check_row (rows, "boot-chain", name, "warn",
               "disks on %zu controllers: on KVM they are virtio disks in ferry's order (%s), "
               "not the order VMware's guest saw; a boot chain naming disks by device "
               "(/dev/sdX) would point at the wrong disk: the conversion verifies it "
               "(verify_boot: true adds a boot test)", json_object_size (controllers),
               order ? order : "?");
  if (ide)
    check_row (rows, "boot-chain", name, "warn",
               "IDE disks: an older guest names them /dev/hdX, which does not exist on virtio; "
               "the conversion verifies the boot chain and rewrites such names to UUID=");
  if (prone)
    check_row (rows, "boot-chain", name, "warn",
               "%s guests were often installed naming disks by device (/dev/sda1) in GRUB, "
               "fstab or resume=: the conversion verifies the boot chain and rewrites such "
               "names to UUID= (verify_boot: true adds a boot test)", gid);
}

static void
check_endpoint (json_t *rows, const char *what, const char *host, int port)
{
  char addr[256], err[512];
  CLEANUP_FREE char *target = xasprintf ("%s:%d", host, port);

  if (net_resolve (host, addr, sizeof addr) == -1) {
    check_row (rows, "dns", host, "fail", "%s: cannot resolve: %s; fix DNS or /etc/hosts",
               what, addr);
    return;
  }
  if (net_tcp_check (host, port, 5000, err, sizeof err) == -1)
    check_row (rows, "tcp", target, "fail", "%s: %s; open the firewall from this host", what, err);
  else
    check_row (rows, "tcp", target, "pass", "%s reachable (%s)", what, addr);
}

void
checks_vmware (const struct config *cfg, const json_t *names, bool warm, json_t *rows,
               json_t *selected)
{
  const char *vc = config_get_string (cfg, "vcenter_hostname");
  CLEANUP_VM_SELECTION struct vm_selection sel = { 0 };
  struct vsphere *vs;
  CLEANUP_JSON json_t *hosts = json_object ();
  CLEANUP_FREE char *vhost = NULL;
  int port;
  size_t i;
  json_t *vm;

  if (vc == NULL || *vc == '\0')
    vc = config_get_string (cfg, "esxi_hostname");
  if (vc == NULL || *vc == '\0') {
    check_row (rows, "config", "vcenter_hostname", "fail", "set vcenter_hostname");
    return;
  }
  vhost = net_split_host_port (vc, 443, &port);
  check_endpoint (rows, "vCenter", vhost, port);

  select_vms (cfg, names ? names : config_get (cfg, "vms_list"), NULL, &sel);
  vs = sel.vs;
  if (vs == NULL) {
    check_row (rows, "login", vc, "fail",
               "cannot log in (see the error above): check vcenter_username, "
               "vcenter_password and TLS settings");
    return;
  }
  check_row (rows, "login", vc, "pass", "%s as %s",
             vs_str (vs_service_content (vs), "about.fullName"),
             config_get_string (cfg, "vcenter_username"));
  if (http_peer_thumbprint (vs_http (vs)))
    check_row (rows, "thumbprint", vc, config_get_bool (cfg, "vmware_insecure")
               && !config_get_string (cfg, "vddk_thumbprint") ? "warn" : "pass",
               "%s%s", http_peer_thumbprint (vs_http (vs)),
               config_get_bool (cfg, "vmware_insecure") && !config_get_string (cfg, "vddk_thumbprint")
               ? " (not verified: vmware_insecure; pin it with vddk_thumbprint)" : "");

  if (sel.all == NULL) {
    check_row (rows, "inventory", vc, "fail", "cannot read the inventory (see above)");
    return;
  }
  if (sel.missing)
    check_row (rows, "vms", vc, "fail", "%d VM%s of the selection not found (see above)",
               sel.missing, sel.missing == 1 ? "" : "s");
  if (selected && sel.vms)
    json_array_extend (selected, sel.vms);

  json_array_foreach (sel.vms, i, vm) {
    const char *name = json_string_value (json_object_get (vm, "name"));
    json_t *m, *d;
    size_t k;
    const char *hn = json_string_value (json_object_get (json_object_get (vm, "host"), "address"));

    check_row (rows, "vm", name, "pass", "%s, %s, %lld vCPU, %lld MiB, %zu disk%s, %zu NIC%s",
               json_string_value (json_object_get (vm, "power_state")),
               json_string_value (json_object_get (vm, "guest_id")),
               (long long) json_integer_value (json_object_get (vm, "num_cpu")),
               (long long) json_integer_value (json_object_get (vm, "memory_mb")),
               json_array_size (json_object_get (vm, "disks")),
               json_array_size (json_object_get (vm, "disks")) == 1 ? "" : "s",
               json_array_size (json_object_get (vm, "nics")),
               json_array_size (json_object_get (vm, "nics")) == 1 ? "" : "s");
    json_array_foreach (json_object_get (vm, "blockers"), k, m)
      check_row (rows, "blocker", name, "fail", "%s", json_string_value (m));
    json_array_foreach (json_object_get (vm, "warnings"), k, m) {
      const char *w = json_string_value (m);
      if (warm && strncmp (w, "CBT off", 7) == 0)
        check_row (rows, "cbt", name, "fail", "CBT is off and a warm migration needs it: "
                   "run with --enable-cbt (enable_cbt: true) or enable it in vSphere");
      else
        check_row (rows, "warning", name, "warn", "%s", w);
    }
    if (json_is_true (json_object_get (vm, "cbt_enabled")))
      check_row (rows, "cbt", name, "pass", "CBT enabled");
    json_array_foreach (json_object_get (vm, "disks"), k, d)
      check_row (rows, "disk", name, "pass", "%s: %s on datastore %s (%lld bytes, %s)",
                 json_string_value (json_object_get (d, "label")),
                 json_string_value (json_object_get (d, "file")),
                 json_string_value (json_object_get (d, "datastore")),
                 (long long) json_integer_value (json_object_get (d, "capacity_bytes")),
                 json_string_value (json_object_get (d, "mode")));
    check_boot_chain_risk (rows, vm);
    if (hn)
      json_object_set_new (hosts, hn, json_true ());
  }
  {
    const char *h;
    json_t *v;
    json_object_foreach (hosts, h, v) {
      check_endpoint (rows, "ESXi host (HTTPS)", h, 443);
      check_endpoint (rows, "ESXi host (NFC/VDDK)", h, 902);
    }
  }
  check_privileges (vs, sel.vms, rows);
}
