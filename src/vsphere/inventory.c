/* ferry: vSphere discovery, see inventory.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vsphere/inventory.h"
#include "vsphere/xml.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

static const char *const vm_paths[] = {
  "name", "parent", "config.uuid", "config.instanceUuid", "config.guestId",
  "config.guestFullName", "config.firmware", "config.bootOptions", "config.version",
  "config.hardware", "config.changeTrackingEnabled", "config.template", "config.keyId",
  "runtime.powerState", "runtime.host", "guest.toolsRunningStatus", "guest.toolsStatus",
  "guest.net", "snapshot", "datastore", "summary.config.vmPathName", NULL
};

struct typepaths { const char *type; const char *const *paths; };
static const char *const name_parent[] = { "name", "parent", NULL };
static const char *const host_paths[] = { "name", "parent", "config.network.vnic",
                                          "config.network.portgroup", NULL };
static const char *const dc_paths[] = { "name", "parent", NULL };
static const char *const ds_paths[] = { "name", "summary.type", "summary.url", NULL };
static const char *const net_paths[] = { "name", NULL };
static const char *const dvpg_paths[] = { "name", "key", "config.defaultPortConfig", NULL };

static const struct typepaths specs[] = {
  { "VirtualMachine", vm_paths },
  { "HostSystem", host_paths },
  { "ComputeResource", name_parent },
  { "ClusterComputeResource", name_parent },
  { "Folder", name_parent },
  { "Datacenter", dc_paths },
  { "Datastore", ds_paths },
  { "Network", net_paths },
  { "DistributedVirtualPortgroup", dvpg_paths },
  { NULL, NULL }
};

static char *
build_specset (const char *view)
{
  size_t cap = 4096;
  char *s = malloc (cap), *ev = vs_xml_escape (view);
  size_t len = 0;

  if (s == NULL || ev == NULL) {
    free (s);
    free (ev);
    return NULL;
  }
#define ADD(...) do {                                                   \
    int n_ = snprintf (s + len, cap - len, __VA_ARGS__);                \
    while ((size_t) n_ >= cap - len) {                                  \
      char *ns_ = realloc (s, cap *= 2);                                \
      if (ns_ == NULL) { free (s); free (ev); return NULL; }            \
      s = ns_;                                                          \
      n_ = snprintf (s + len, cap - len, __VA_ARGS__);                  \
    }                                                                   \
    len += n_;                                                          \
  } while (0)
  ADD ("<specSet>");
  for (size_t i = 0; specs[i].type; i++) {
    ADD ("<propSet><type>%s</type>", specs[i].type);
    for (size_t p = 0; specs[i].paths[p]; p++)
      ADD ("<pathSet>%s</pathSet>", specs[i].paths[p]);
    ADD ("</propSet>");
  }
  ADD ("<objectSet><obj type=\"ContainerView\">%s</obj><skip>true</skip>"
       "<selectSet xsi:type=\"TraversalSpec\"><name>view</name><type>ContainerView</type>"
       "<path>view</path><skip>false</skip></selectSet></objectSet></specSet>", ev);
#undef ADD
  free (ev);
  return s;
}

static const char *
moref_key (const json_t *mor, char *buf, size_t n)
{
  snprintf (buf, n, "%s:%s", vs_str (mor, "type") ? vs_str (mor, "type") : "",
            vs_str (mor, "value") ? vs_str (mor, "value") : "");
  return buf;
}

/* Path of names from the root to obj ("/DC0/vm/sub"), skipping the root. */
static char *
folder_path (const json_t *index, const json_t *mor)
{
  char *path = strdup ("");
  char key[512];
  int depth = 0;

  while (mor && depth++ < 64) {
    const json_t *o = json_object_get (index, moref_key (mor, key, sizeof key));
    const json_t *parent = o ? vs_get (o, "props.parent") : NULL;
    const char *name = o ? vs_str (o, "props.name") : NULL;
    char *np;
    if (o == NULL || parent == NULL || name == NULL)
      break;                               /* the root folder */
    np = xasprintf ("/%s%s", name, path);
    free (path);
    path = np;
    if (path == NULL)
      return NULL;
    mor = parent;
  }
  return path;
}

/* The Datacenter above obj, or NULL. */
static const json_t *
datacenter_of (const json_t *index, const json_t *mor)
{
  char key[512];
  int depth = 0;

  while (mor && depth++ < 64) {
    const json_t *o = json_object_get (index, moref_key (mor, key, sizeof key));
    if (o == NULL)
      return NULL;
    if (strcmp (vs_str (mor, "type") ? vs_str (mor, "type") : "", "Datacenter") == 0)
      return o;
    mor = vs_get (o, "props.parent");
  }
  return NULL;
}

static const char *
controller_model (const char *type)
{
  static const struct { const char *t, *m, *bus; } map[] = {
    { "ParaVirtualSCSIController", "pvscsi", "scsi" },
    { "VirtualLsiLogicController", "lsilogic", "scsi" },
    { "VirtualLsiLogicSASController", "lsilogic-sas", "scsi" },
    { "VirtualBusLogicController", "buslogic", "scsi" },
    { "VirtualAHCIController", "ahci", "sata" },
    { "VirtualSATAController", "sata", "sata" },
    { "VirtualIDEController", "ide", "ide" },
    { "VirtualNVMEController", "nvme", "nvme" },
    { "VirtualPCIController", "pci", "pci" },
    { "VirtualSIOController", "sio", "sio" },
    { "VirtualPS2Controller", "ps2", "ps2" },
    { "VirtualUSBController", "usb", "usb" },
    { "VirtualUSBXHCIController", "usb-xhci", "usb" },
    { NULL, NULL, NULL }
  };
  for (size_t i = 0; map[i].t; i++)
    if (type && strcmp (type, map[i].t) == 0)
      return map[i].m;
  return NULL;
}

static const char *
controller_bus (const char *model)
{
  if (model == NULL) return NULL;
  if (!strcmp (model, "pvscsi") || !strncmp (model, "lsilogic", 8) || !strcmp (model, "buslogic"))
    return "scsi";
  if (!strcmp (model, "ahci") || !strcmp (model, "sata")) return "sata";
  if (!strcmp (model, "ide")) return "ide";
  if (!strcmp (model, "nvme")) return "nvme";
  return NULL;
}

static const char *
nic_model (const char *type)
{
  static const struct { const char *t, *m; } map[] = {
    { "VirtualE1000", "e1000" }, { "VirtualE1000e", "e1000e" },
    { "VirtualVmxnet3", "vmxnet3" }, { "VirtualVmxnet3Vrdma", "vmxnet3-vrdma" },
    { "VirtualVmxnet2", "vmxnet2" }, { "VirtualVmxnet", "vmxnet" },
    { "VirtualPCNet32", "pcnet32" }, { "VirtualSriovEthernetCard", "sriov" },
    { NULL, NULL }
  };
  for (size_t i = 0; map[i].t; i++)
    if (type && strcmp (type, map[i].t) == 0)
      return map[i].m;
  return NULL;
}

static json_t *
snapshot_tree (const json_t *list)
{
  json_t *out = json_array ();
  CLEANUP_JSON json_t *items = vs_array (list, NULL);
  size_t i;
  json_t *s;

  json_array_foreach (items, i, s) {
    CLEANUP_JSON json_t *kids = vs_array (s, "childSnapshotList");
    json_array_append_new (out, json_pack ("{s:s?, s:s?, s:s?, s:s?, s:s?, s:o}",
                                           "name", vs_str (s, "name"),
                                           "moref", vs_str (s, "snapshot.value"),
                                           "description", vs_str (s, "description"),
                                           "created", vs_str (s, "createTime"),
                                           "state", vs_str (s, "state"),
                                           "children", snapshot_tree (kids)));
  }
  return out;
}

static int
snapshot_depth (const json_t *tree)
{
  size_t i;
  json_t *s;
  int best = 0;

  json_array_foreach (tree, i, s) {
    int d = 1 + snapshot_depth (json_object_get (s, "children"));
    if (d > best)
      best = d;
  }
  return best;
}

static int
snapshot_count (const json_t *tree)
{
  size_t i;
  json_t *s;
  int n = 0;

  json_array_foreach (tree, i, s)
    n += 1 + snapshot_count (json_object_get (s, "children"));
  return n;
}

/* "[LocalDS_0] vm/disk.vmdk" -> "LocalDS_0" */
static char *
datastore_of_file (const char *file)
{
  const char *e;
  if (file == NULL || file[0] != '[' || (e = strchr (file, ']')) == NULL)
    return NULL;
  return strndup (file + 1, e - file - 1);
}

/* Property values are keyed by their full path ("config.guestId"). */
static bool
prop_bool (const json_t *p, const char *name, bool dflt)
{
  json_t *v = json_object_get (p, name);
  if (json_is_boolean (v))
    return json_is_true (v);
  if (json_is_string (v))
    return strcmp (json_string_value (v), "true") == 0;
  return dflt;
}

static json_t *
build_vm (const json_t *o, const json_t *index)
{
  const json_t *p = json_object_get (o, "props");
  const json_t *hw = json_object_get (p, "config.hardware");
  CLEANUP_JSON json_t *devices = vs_array (hw, "device");
  CLEANUP_JSON json_t *gnet = vs_array (json_object_get (p, "guest.net"), NULL);
  CLEANUP_JSON json_t *dsrefs = vs_array (json_object_get (p, "datastore"), NULL);
  json_t *vm = json_object (), *disks = json_array (), *nics = json_array ();
  json_t *datastores = json_array (), *controllers = json_object ();
  const json_t *hostref = json_object_get (p, "runtime.host");
  const json_t *host = NULL, *cr = NULL;
  char key[512];
  size_t i;
  json_t *d;
  CLEANUP_FREE char *folder = folder_path (index, json_object_get (p, "parent"));
  const json_t *dc = datacenter_of (index, json_object_get (p, "parent"));
  const char *fw = json_string_value (json_object_get (p, "config.firmware"));
  bool vtpm = false;

  json_object_set_new (vm, "name", json_string (json_string_value (json_object_get (p, "name")) ? json_string_value (json_object_get (p, "name")) : ""));
  json_object_set_new (vm, "moref", json_string (vs_str (o, "obj.value")));
  json_object_set_new (vm, "uuid", json_string (json_string_value (json_object_get (p, "config.uuid"))));
  json_object_set_new (vm, "instance_uuid", json_string (json_string_value (json_object_get (p, "config.instanceUuid"))));
  json_object_set_new (vm, "guest_id", json_string (json_string_value (json_object_get (p, "config.guestId"))));
  json_object_set_new (vm, "guest_full_name", json_string (json_string_value (json_object_get (p, "config.guestFullName"))));
  json_object_set_new (vm, "power_state", json_string (json_string_value (json_object_get (p, "runtime.powerState"))));
  {
    const char *trs = json_string_value (json_object_get (p, "guest.toolsRunningStatus"));
    const char *ts = json_string_value (json_object_get (p, "guest.toolsStatus"));
    json_object_set_new (vm, "tools_status", json_string (trs ? trs : ts ? ts : "unknown"));
  }
  json_object_set_new (vm, "num_cpu", json_integer (vs_int (hw, "numCPU", 0)));
  json_object_set_new (vm, "cores_per_socket", json_integer (vs_int (hw, "numCoresPerSocket", 1)));
  json_object_set_new (vm, "memory_mb", json_integer (vs_int (hw, "memoryMB", 0)));
  json_object_set_new (vm, "firmware", json_string (fw && *fw ? fw : "bios"));
  json_object_set_new (vm, "secure_boot",
                       json_boolean (vs_bool (json_object_get (p, "config.bootOptions"),
                                              "efiSecureBootEnabled", false)));
  json_object_set_new (vm, "hw_version", json_string (json_string_value (json_object_get (p, "config.version"))));
  json_object_set_new (vm, "template",
                       json_boolean (prop_bool (p, "config.template", false)));
  json_object_set_new (vm, "encrypted",
                       json_boolean (json_object_get (p, "config.keyId") != NULL
                                     && !json_is_null (json_object_get (p, "config.keyId"))));

  if (hostref)
    host = json_object_get (index, moref_key (hostref, key, sizeof key));
  if (host) {
    const json_t *vnic = json_object_get (json_object_get (host, "props"), "config.network.vnic");
    CLEANUP_JSON json_t *va = vs_array (vnic, NULL);
    const char *addr = vs_str (json_array_get (va, 0), "spec.ip.ipAddress");
    json_object_set_new (vm, "host", json_pack ("{s:s?, s:s?, s:s?}",
                                               "name", vs_str (host, "props.name"),
                                               "address", addr ? addr : vs_str (host, "props.name"),
                                               "moref", vs_str (hostref, "value")));
    cr = json_object_get (index, moref_key (vs_get (host, "props.parent"), key, sizeof key));
  }
  else
    json_object_set_new (vm, "host", json_null ());
  if (cr && vs_str (cr, "obj.type") && strcmp (vs_str (cr, "obj.type"), "ClusterComputeResource") == 0)
    json_object_set_new (vm, "cluster", json_string (vs_str (cr, "props.name")));
  else
    json_object_set_new (vm, "cluster", json_null ());
  json_object_set_new (vm, "datacenter", dc ? json_string (vs_str (dc, "props.name")) : json_null ());
  json_object_set_new (vm, "folder", json_string (folder ? folder : ""));
  json_array_foreach (dsrefs, i, d) {
    const json_t *ds = json_object_get (index, moref_key (d, key, sizeof key));
    if (ds)
      json_array_append_new (datastores, json_string (vs_str (ds, "props.name")));
  }
  json_object_set_new (vm, "datastores", datastores);
  json_object_set_new (vm, "vmx_path", json_string (json_string_value (json_object_get (p, "summary.config.vmPathName"))));

  /* Controllers first: disks refer to them by key. */
  json_array_foreach (devices, i, d) {
    const char *model = controller_model (vs_str (d, "_type"));
    if (model && vs_str (d, "key"))
      json_object_set_new (controllers, vs_str (d, "key"),
                           json_pack ("{s:s, s:I}", "model", model,
                                      "bus", (json_int_t) vs_int (d, "busNumber", 0)));
    if (vs_str (d, "_type") && strcmp (vs_str (d, "_type"), "VirtualTPM") == 0)
      vtpm = true;
  }
  json_array_foreach (devices, i, d) {
    const char *type = vs_str (d, "_type");
    if (type && strcmp (type, "VirtualDisk") == 0) {
      const json_t *b = json_object_get (d, "backing");
      const char *bt = vs_str (b, "_type");
      const json_t *ctl = json_object_get (controllers, vs_str (d, "controllerKey")
                                           ? vs_str (d, "controllerKey") : "");
      const char *model = vs_str (ctl, "model");
      const char *file = vs_str (b, "fileName");
      CLEANUP_FREE char *dsname = datastore_of_file (file);
      const char *rdm = NULL;
      long long cap = vs_int (d, "capacityInBytes", -1);
      if (cap <= 0)
        cap = vs_int (d, "capacityInKB", 0) * 1024;
      if (bt && strcmp (bt, "VirtualDiskRawDiskMappingVer1BackingInfo") == 0)
        rdm = vs_str (b, "compatibilityMode") && strcmp (vs_str (b, "compatibilityMode"),
                                                         "physicalMode") == 0
          ? "physical" : "virtual";
      json_array_append_new (disks, json_pack (
        "{s:I, s:s?, s:s?, s:s?, s:I, s:I, s:I, s:s?, s:s?, s:b, s:s?, s:s?, s:s?, s:s?, s:s?}",
        "key", (json_int_t) vs_int (d, "key", 0),
        "label", vs_str (d, "deviceInfo.label"),
        "controller", model,
        "bus_type", controller_bus (model),
        "bus", (json_int_t) vs_int (ctl, "bus", 0),
        "unit", (json_int_t) vs_int (d, "unitNumber", 0),
        "capacity_bytes", (json_int_t) cap,
        "file", file,
        "datastore", dsname,
        "thin", vs_bool (b, "thinProvisioned", false),
        "mode", vs_str (b, "diskMode") ? vs_str (b, "diskMode") : "persistent",
        "sharing", vs_str (b, "sharing") ? vs_str (b, "sharing") : "sharingNone",
        "rdm", rdm,
        "change_id", vs_str (b, "changeId"),
        "backing", bt));
    }
    else if (nic_model (type)) {
      const json_t *b = json_object_get (d, "backing");
      const char *mac = vs_str (d, "macAddress");
      const char *pgkey = vs_str (b, "port.portgroupKey");
      const char *netname = vs_str (b, "deviceName");
      json_t *ips = json_array ();
      long long vlan = -1;      /* a single VLAN id; -1: none known (or a trunk) */
      size_t k;
      json_t *g;
      if (pgkey) {
        /* The port group's name and VLAN, from the inventory. */
        json_t *x;
        const char *ik;
        json_object_foreach ((json_t *) index, ik, x)
          if (strncmp (ik, "DistributedVirtualPortgroup:", 28) == 0
              && vs_str (x, "props.key") && strcmp (vs_str (x, "props.key"), pgkey) == 0) {
            const json_t *pc = json_object_get (json_object_get (x, "props"),
                                                "config.defaultPortConfig");
            netname = vs_str (x, "props.name");
            vlan = vs_int (pc, "vlan.vlanId", -1);
          }
      }
      else if (!netname && vs_get (b, "network")) {
        const json_t *n = json_object_get (index, moref_key (vs_get (b, "network"), key, sizeof key));
        netname = vs_str (n, "props.name");
      }
      if (!pgkey && netname && host) {
        /* A standard port group: its VLAN on the VM's host. */
        CLEANUP_JSON json_t *pgs = vs_array (json_object_get (json_object_get (host, "props"),
                                                              "config.network.portgroup"),
                                             NULL);
        size_t q;
        json_t *pg;
        json_array_foreach (pgs, q, pg)
          if (vs_str (pg, "spec.name") && strcmp (vs_str (pg, "spec.name"), netname) == 0)
            vlan = vs_int (pg, "spec.vlanId", -1);
      }
      json_array_foreach (gnet, k, g)
        if (mac && vs_str (g, "macAddress") && strcasecmp (vs_str (g, "macAddress"), mac) == 0) {
          CLEANUP_JSON json_t *addrs = vs_array (g, "ipAddress");
          size_t a;
          json_t *ip;
          json_array_foreach (addrs, a, ip)
            if (json_is_string (ip))
              json_array_append (ips, ip);
        }
      json_array_append_new (nics, json_pack (
        "{s:I, s:s, s:s?, s:s?, s:s?, s:o, s:b, s:o, s:s?}",
        "key", (json_int_t) vs_int (d, "key", 0),
        "type", nic_model (type),
        "mac", mac,
        "network", netname,
        "portgroup_key", pgkey,
        "vlan", vlan >= 0 ? json_integer (vlan) : json_null (),
        "connected", vs_bool (d, "connectable.connected", vs_bool (d, "connectable.startConnected", false)),
        "ips", ips,
        "label", vs_str (d, "deviceInfo.label")));
    }
  }
  json_object_set_new (vm, "disks", disks);
  json_object_set_new (vm, "nics", nics);
  json_object_set_new (vm, "vtpm", json_boolean (vtpm));
  {
    const json_t *snap = json_object_get (p, "snapshot");
    json_t *tree = snapshot_tree (vs_get (snap, "rootSnapshotList"));
    json_object_set_new (vm, "snapshots", tree);
    json_object_set_new (vm, "current_snapshot", json_string (vs_str (snap, "currentSnapshot.value")));
  }
  json_object_set_new (vm, "cbt_enabled",
                       json_boolean (prop_bool (p, "config.changeTrackingEnabled", false)));
  json_decref (controllers);
  return vm;
}

const char *
inventory_guest_family (const char *g)
{
  static const char *const linux_prefixes[] = {
    "rhel", "centos", "oracleLinux", "ubuntu", "debian", "sles", "suse", "opensuse",
    "fedora", "rockylinux", "almalinux", "amazonlinux", "photon", "asianux", "mandriva",
    "otherLinux", "other24xLinux", "other26xLinux", "other3xLinux", "other4xLinux",
    "other5xLinux", "other6xLinux", "genericLinux", "coreos", "redhat", "turboLinux", NULL
  };
  if (g == NULL || *g == '\0')
    return NULL;
  for (size_t i = 0; linux_prefixes[i]; i++)
    if (strncmp (g, linux_prefixes[i], strlen (linux_prefixes[i])) == 0)
      return "linux";
  if (strncmp (g, "win", 3) == 0)
    return "windows";
  return NULL;
}

void
inventory_assess (json_t *vm, const struct inventory_opts *opts)
{
  json_t *blockers = json_array (), *warnings = json_array ();
  json_t *disks = json_object_get (vm, "disks");
  json_t *d;
  size_t i;
  int depth = snapshot_depth (json_object_get (vm, "snapshots"));
  int nsnap = snapshot_count (json_object_get (vm, "snapshots"));
  const char *gid = json_string_value (json_object_get (vm, "guest_id"));
  bool nvme = false;

#define B(...) json_array_append_new (blockers, json_sprintf (__VA_ARGS__))
#define W(...) json_array_append_new (warnings, json_sprintf (__VA_ARGS__))
  if (json_is_true (json_object_get (vm, "template")))
    B ("a template, not a VM: deploy a VM from it to migrate it");
  if (json_is_true (json_object_get (vm, "encrypted")))
    B ("encrypted VM (VM encryption): its disks can't be read through snapshots; "
       "decrypt it in vSphere first");
  json_array_foreach (disks, i, d) {
    const char *label = json_string_value (json_object_get (d, "label"));
    const char *mode = json_string_value (json_object_get (d, "mode"));
    const char *rdm = json_string_value (json_object_get (d, "rdm"));
    const char *sharing = json_string_value (json_object_get (d, "sharing"));
    long long cap = json_integer_value (json_object_get (d, "capacity_bytes"));
    label = label ? label : "disk";
    if (rdm && strcmp (rdm, "physical") == 0)
      B ("%s: physical-mode RDM: not captured by snapshots; convert it to virtual mode "
         "or move its data separately", label);
    if (mode && strncmp (mode, "independent", 11) == 0)
      B ("%s: independent disk (%s): not captured by snapshots; make it dependent "
         "(persistent) first", label, mode);
    if (sharing && strcmp (sharing, "sharingMultiWriter") == 0)
      B ("%s: multi-writer shared disk: can't be copied consistently", label);
    if (opts && opts->max_disk_bytes > 0 && cap > opts->max_disk_bytes)
      B ("%s: %lld bytes, larger than the destination's limit of %lld bytes",
         label, cap, opts->max_disk_bytes);
    if (json_string_value (json_object_get (d, "bus_type"))
        && strcmp (json_string_value (json_object_get (d, "bus_type")), "nvme") == 0)
      nvme = true;
  }
  if (nsnap > 0)
    W ("%d existing snapshot%s (depth %d): copies read the current state; consider "
       "consolidating first", nsnap, nsnap == 1 ? "" : "s", depth);
  if (!json_is_true (json_object_get (vm, "cbt_enabled")))
    W ("CBT off: warm migration (sync) needs it (ferry sync --enable-cbt)");
  {
    const char *ts = json_string_value (json_object_get (vm, "tools_status"));
    if (!ts || (strcmp (ts, "guestToolsRunning") && strcmp (ts, "toolsOk")))
      W ("VMware Tools not running: no graceful guest shutdown (power-off only)");
  }
  if (json_is_true (json_object_get (vm, "vtpm")))
    W ("virtual TPM: its contents (e.g. BitLocker keys) are not migrated");
  if (inventory_guest_family (gid) == NULL)
    W ("guest OS '%s' is unknown or not supported by virt-v2v: conversion will be "
       "refused unless skip_conversion", gid ? gid : "?");
  if (nvme)
    W ("NVMe controller: disks will be presented as virtio on the destination");
  if (json_array_size (disks) > (size_t) (opts && opts->max_disks ? opts->max_disks : 25))
    W ("%zu disks: more than one conversion host can attach at once (~25)",
       json_array_size (disks));
  if (json_array_size (disks) == 0)
    W ("no disks");
#undef B
#undef W
  json_object_set_new (vm, "blockers", blockers);
  json_object_set_new (vm, "warnings", warnings);
}

json_t *
inventory_discover (struct vsphere *vs, const struct inventory_opts *opts)
{
  static const char *const types[] = {
    "VirtualMachine", "HostSystem", "ComputeResource", "ClusterComputeResource", "Folder",
    "Datacenter", "Datastore", "Network", "DistributedVirtualPortgroup", NULL
  };
  const json_t *root = vs_get (vs_service_content (vs), "rootFolder");
  CLEANUP_FREE char *view = NULL;
  CLEANUP_FREE char *spec = NULL;
  CLEANUP_JSON json_t *objs = NULL;
  CLEANUP_JSON json_t *index = json_object ();
  json_t *out, *o;
  size_t i;
  char key[512];
  bool dc_found = opts == NULL || opts->datacenter == NULL || *opts->datacenter == '\0';

  /* A view lives in its session: if the session was renewed meanwhile
   * (expired, ended by an administrator), make the view again, once. */
  for (int attempt = 0; attempt < 2; attempt++) {
    unsigned gen = vs_session_generation (vs);
    if (view == NULL)
      view = vs_create_view (vs, vs_str (root, "type"), vs_str (root, "value"), types);
    if (view == NULL)
      return NULL;
    struct vs_fault f = { 0 };
    free (spec);
    spec = build_specset (view);
    objs = spec ? vs_retrieve_fault (vs, spec, &f) : NULL;
    if (objs == NULL && f.type && attempt == 0
        && strcmp (f.type, "ManagedObjectNotFound") == 0 && vs_ensure_session (vs) == 1)
      ;                               /* the view died with its session */
    else if (objs == NULL && f.type)
      log_error ("%s RetrievePropertiesEx: %s: %s", vs_host (vs), f.type, f.message);
    vs_fault_free (&f);
    if (vs_session_generation (vs) == gen) {
      vs_destroy_view (vs, view);
      break;
    }
    free (view);
    view = NULL;
    if (objs)
      break;
    log_info ("%s: the session was renewed during discovery; retrieving again", vs_host (vs));
  }
  if (objs == NULL)
    return NULL;

  json_array_foreach (objs, i, o)
    json_object_set (index, moref_key (json_object_get (o, "obj"), key, sizeof key), o);

  out = json_array ();
  json_array_foreach (objs, i, o) {
    if (!dc_found && strcmp (vs_str (o, "obj.type"), "Datacenter") == 0
        && vs_str (o, "props.name") && strcmp (vs_str (o, "props.name"), opts->datacenter) == 0)
      dc_found = true;
    if (strcmp (vs_str (o, "obj.type") ? vs_str (o, "obj.type") : "", "VirtualMachine") != 0)
      continue;
    json_t *vm = build_vm (o, index);
    if (opts && opts->datacenter && *opts->datacenter) {
      const char *dc = json_string_value (json_object_get (vm, "datacenter"));
      if (dc == NULL || strcmp (dc, opts->datacenter) != 0) {
        json_decref (vm);
        continue;
      }
    }
    inventory_assess (vm, opts);
    json_array_append_new (out, vm);
  }
  if (!dc_found) {
    log_error ("%s: no datacenter named '%s': check vcenter_datacenter", vs_host (vs),
               opts->datacenter);
    json_decref (out);
    return NULL;
  }
  return out;
}
