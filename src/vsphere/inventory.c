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
#include "common/vector.h"

/* What a VM's record refers to elsewhere in the inventory, as index keys
 * ("type:value"), kept until the whole inventory is read. */
struct vm_refs {
  char *parent;               /* its folder, or NULL */
  char *host;                 /* runtime.host, or NULL */
  string_vector datastores;
  string_vector nic_networks; /* one per NIC: its backing's network, or NULL */
  size_t taken_at;            /* objects read when it came (discovery_forget) */
};

DEFINE_VECTOR_TYPE (vm_refs_vector, struct vm_refs)

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

/* Path of names from the root to the object of index key ("/DC0/vm/sub"),
 * skipping the root. */
static char *
folder_path (const json_t *index, const char *key)
{
  char *path = strdup ("");
  char next[512];
  int depth = 0;

  while (key && depth++ < 64) {
    const json_t *o = json_object_get (index, key);
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
    key = moref_key (parent, next, sizeof next);
  }
  return path;
}

/* The Datacenter at or above the object of index key, or NULL. */
static const json_t *
datacenter_of (const json_t *index, const char *key)
{
  char next[512];
  int depth = 0;

  while (key && depth++ < 64) {
    const json_t *o = json_object_get (index, key);
    const json_t *parent;
    if (o == NULL)
      return NULL;
    if (strcmp (vs_str (o, "obj.type") ? vs_str (o, "obj.type") : "", "Datacenter") == 0)
      return o;
    parent = vs_get (o, "props.parent");
    key = parent ? moref_key (parent, next, sizeof next) : NULL;
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

/* The index key of a moref, malloc'd, or NULL if there is no moref. */
static char *
moref_key_dup (const json_t *mor)
{
  char key[512];

  return mor ? strdup (moref_key (mor, key, sizeof key)) : NULL;
}

/* A string that many VMs' records hold alike (a guest OS, a datastore, a
 * controller model, a warning): one json string in the pool, shared by
 * reference (nothing changes a record's strings in place).  NULL for NULL
 * or invalid UTF-8, as json_string. */
static json_t *
pooled_string (json_t *pool, const char *s)
{
  json_t *v;

  if (s == NULL)
    return NULL;
  v = json_object_get (pool, s);
  if (v == NULL) {
    v = json_string (s);
    if (v == NULL || json_object_set_new (pool, s, v) == -1)
      return NULL;
  }
  return json_incref (v);
}

/* Set key to value, or take the key out when there is no value (as a
 * failed json_object_set_new would have left it out). */
static void
set_or_drop (json_t *obj, const char *key, json_t *value)
{
  if (value == NULL)
    json_object_del (obj, key);
  else
    json_object_set_new (obj, key, value);
}

/* Add a moref's key (or NULL for none) to a list of references. */
static void
refs_add (string_vector *v, const json_t *mor)
{
  char *key = moref_key_dup (mor);

  if (string_vector_append (v, key) == -1)
    free (key);
}

static void
vm_refs_clear (struct vm_refs *r)
{
  free (r->parent);
  free (r->host);
  string_vector_free_all (&r->datastores);
  string_vector_free_all (&r->nic_networks);
}

/* A VM's record from its own properties (o: {"obj", "props", "missing"}),
 * in the order of docs/discover.md.  What other objects of the inventory
 * give (host, cluster, datacenter, folder, datastores, port group names
 * and VLANs) is left empty here and refs says where to find it
 * (vm_resolve fills it in once the whole inventory is read).  NULL if out
 * of memory. */
static json_t *
vm_record (const json_t *o, struct vm_refs *refs, json_t *pool)
{
  const json_t *p = json_object_get (o, "props");
  const json_t *hw = json_object_get (p, "config.hardware");
  CLEANUP_JSON json_t *devices = vs_array (hw, "device");
  CLEANUP_JSON json_t *gnet = vs_array (json_object_get (p, "guest.net"), NULL);
  CLEANUP_JSON json_t *dsrefs = vs_array (json_object_get (p, "datastore"), NULL);
  json_t *vm = json_object (), *disks = json_array (), *nics = json_array ();
  json_t *controllers = json_object ();
  size_t i;
  json_t *d;
  const char *fw = json_string_value (json_object_get (p, "config.firmware"));
  bool vtpm = false;

  refs->parent = moref_key_dup (json_object_get (p, "parent"));
  refs->host = moref_key_dup (json_object_get (p, "runtime.host"));
  json_array_foreach (dsrefs, i, d)
    refs_add (&refs->datastores, d);
  json_object_set_new (vm, "name", json_string (json_string_value (json_object_get (p, "name")) ? json_string_value (json_object_get (p, "name")) : ""));
  json_object_set_new (vm, "moref", json_string (vs_str (o, "obj.value")));
  json_object_set_new (vm, "uuid", json_string (json_string_value (json_object_get (p, "config.uuid"))));
  json_object_set_new (vm, "instance_uuid", json_string (json_string_value (json_object_get (p, "config.instanceUuid"))));
  json_object_set_new (vm, "guest_id", pooled_string (pool, json_string_value (json_object_get (p, "config.guestId"))));
  json_object_set_new (vm, "guest_full_name", pooled_string (pool, json_string_value (json_object_get (p, "config.guestFullName"))));
  json_object_set_new (vm, "power_state", pooled_string (pool, json_string_value (json_object_get (p, "runtime.powerState"))));
  {
    const char *trs = json_string_value (json_object_get (p, "guest.toolsRunningStatus"));
    const char *ts = json_string_value (json_object_get (p, "guest.toolsStatus"));
    json_object_set_new (vm, "tools_status", pooled_string (pool, trs ? trs : ts ? ts : "unknown"));
  }
  json_object_set_new (vm, "num_cpu", json_integer (vs_int (hw, "numCPU", 0)));
  json_object_set_new (vm, "cores_per_socket", json_integer (vs_int (hw, "numCoresPerSocket", 1)));
  json_object_set_new (vm, "memory_mb", json_integer (vs_int (hw, "memoryMB", 0)));
  json_object_set_new (vm, "firmware", pooled_string (pool, fw && *fw ? fw : "bios"));
  json_object_set_new (vm, "secure_boot",
                       json_boolean (vs_bool (json_object_get (p, "config.bootOptions"),
                                              "efiSecureBootEnabled", false)));
  json_object_set_new (vm, "hw_version", pooled_string (pool, json_string_value (json_object_get (p, "config.version"))));
  json_object_set_new (vm, "template",
                       json_boolean (prop_bool (p, "config.template", false)));
  json_object_set_new (vm, "encrypted",
                       json_boolean (json_object_get (p, "config.keyId") != NULL
                                     && !json_is_null (json_object_get (p, "config.keyId"))));
  /* Their places, filled by vm_resolve. */
  json_object_set_new (vm, "host", json_null ());
  json_object_set_new (vm, "cluster", json_null ());
  json_object_set_new (vm, "datacenter", json_null ());
  json_object_set_new (vm, "folder", json_string (""));
  json_object_set_new (vm, "datastores", json_array ());
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
        "{s:I, s:o?, s:o?, s:o?, s:I, s:I, s:I, s:s?, s:o?, s:b, s:o?, s:o?, s:s?, s:s?, s:o?}",
        "key", (json_int_t) vs_int (d, "key", 0),
        "label", pooled_string (pool, vs_str (d, "deviceInfo.label")),
        "controller", pooled_string (pool, model),
        "bus_type", pooled_string (pool, controller_bus (model)),
        "bus", (json_int_t) vs_int (ctl, "bus", 0),
        "unit", (json_int_t) vs_int (d, "unitNumber", 0),
        "capacity_bytes", (json_int_t) cap,
        "file", file,
        "datastore", pooled_string (pool, dsname),
        "thin", vs_bool (b, "thinProvisioned", false),
        "mode", pooled_string (pool, vs_str (b, "diskMode") ? vs_str (b, "diskMode") : "persistent"),
        "sharing", pooled_string (pool, vs_str (b, "sharing") ? vs_str (b, "sharing") : "sharingNone"),
        "rdm", rdm,
        "change_id", vs_str (b, "changeId"),
        "backing", pooled_string (pool, bt)));
    }
    else if (nic_model (type)) {
      const json_t *b = json_object_get (d, "backing");
      const char *mac = vs_str (d, "macAddress");
      json_t *ips = json_array ();
      size_t k;
      json_t *g;
      json_array_foreach (gnet, k, g)
        if (mac && vs_str (g, "macAddress") && strcasecmp (vs_str (g, "macAddress"), mac) == 0) {
          CLEANUP_JSON json_t *addrs = vs_array (g, "ipAddress");
          size_t a;
          json_t *ip;
          json_array_foreach (addrs, a, ip)
            if (json_is_string (ip))
              json_array_append (ips, ip);
        }
      /* network: the backing's device name until vm_resolve knows better;
       * vlan: only the inventory knows it. */
      if (json_array_append_new (nics, json_pack (
        "{s:I, s:o, s:s?, s:o?, s:s?, s:n, s:b, s:o, s:o?}",
        "key", (json_int_t) vs_int (d, "key", 0),
        "type", pooled_string (pool, nic_model (type)),
        "mac", mac,
        "network", pooled_string (pool, vs_str (b, "deviceName")),
        "portgroup_key", vs_str (b, "port.portgroupKey"),
        "vlan",
        "connected", vs_bool (d, "connectable.connected", vs_bool (d, "connectable.startConnected", false)),
        "ips", ips,
        "label", pooled_string (pool, vs_str (d, "deviceInfo.label")))) == 0)
        refs_add (&refs->nic_networks, vs_get (b, "network"));
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

/* Distributed port groups by their key ("dvportgroup-..." keys are what
 * a NIC's backing names), the last one of a key winning. */
static json_t *
portgroups_by_key (const json_t *index)
{
  json_t *out = json_object ();
  const char *ik;
  json_t *x;

  json_object_foreach ((json_t *) index, ik, x)
    if (strncmp (ik, "DistributedVirtualPortgroup:", 28) == 0 && vs_str (x, "props.key"))
      json_object_set (out, vs_str (x, "props.key"), x);
  return out;
}

/* Fill in what vm_record left to the rest of the inventory. */
static void
vm_resolve (json_t *vm, const struct vm_refs *refs, const json_t *index,
            const json_t *portgroups, json_t *pool)
{
  const json_t *host = NULL, *cr = NULL;
  const json_t *dc = datacenter_of (index, refs->parent);
  CLEANUP_FREE char *folder = folder_path (index, refs->parent);
  json_t *datastores = json_array ();
  json_t *nics = json_object_get (vm, "nics");
  char key[512];
  size_t i;
  json_t *nic;

  if (refs->host)
    host = json_object_get (index, refs->host);
  if (host) {
    const json_t *vnic = json_object_get (json_object_get (host, "props"), "config.network.vnic");
    CLEANUP_JSON json_t *va = vs_array (vnic, NULL);
    const char *addr = vs_str (json_array_get (va, 0), "spec.ip.ipAddress");
    json_object_set_new (vm, "host", json_pack ("{s:o?, s:o?, s:s?}",
                                               "name", pooled_string (pool, vs_str (host, "props.name")),
                                               "address", pooled_string (pool, addr ? addr : vs_str (host, "props.name")),
                                               "moref", strchr (refs->host, ':') + 1));
    cr = json_object_get (index, moref_key (vs_get (host, "props.parent"), key, sizeof key));
  }
  if (cr && vs_str (cr, "obj.type") && strcmp (vs_str (cr, "obj.type"), "ClusterComputeResource") == 0)
    set_or_drop (vm, "cluster", pooled_string (pool, vs_str (cr, "props.name")));
  if (dc)
    set_or_drop (vm, "datacenter", pooled_string (pool, vs_str (dc, "props.name")));
  set_or_drop (vm, "folder", pooled_string (pool, folder ? folder : ""));
  for (i = 0; i < refs->datastores.len; i++) {
    const json_t *ds = refs->datastores.ptr[i]
      ? json_object_get (index, refs->datastores.ptr[i]) : NULL;
    if (ds)
      json_array_append_new (datastores, pooled_string (pool, vs_str (ds, "props.name")));
  }
  json_object_set_new (vm, "datastores", datastores);

  json_array_foreach (nics, i, nic) {
    const char *pgkey = json_string_value (json_object_get (nic, "portgroup_key"));
    const char *netname = json_string_value (json_object_get (nic, "network"));
    const char *netref = i < refs->nic_networks.len ? refs->nic_networks.ptr[i] : NULL;
    long long vlan = -1;      /* a single VLAN id; -1: none known (or a trunk) */
    if (pgkey) {
      /* The port group's name and VLAN, from the inventory. */
      const json_t *x = json_object_get (portgroups, pgkey);
      if (x) {
        const json_t *pc = json_object_get (json_object_get (x, "props"),
                                            "config.defaultPortConfig");
        netname = vs_str (x, "props.name");
        vlan = vs_int (pc, "vlan.vlanId", -1);
      }
    }
    else if (!netname && netref) {
      const json_t *n = json_object_get (index, netref);
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
    /* json_string copies netname (maybe the NIC's own value) before the
     * old value goes. */
    json_object_set_new (nic, "vlan", vlan >= 0 ? json_integer (vlan) : json_null ());
    json_object_set_new (nic, "network", netname ? pooled_string (pool, netname) : json_null ());
  }
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

/* What discovery keeps while the inventory streams in: every object but
 * the VMs as it came (there are few), and of each VM only its record and
 * what it refers to. */
struct discovery {
  json_t *index;              /* "type:value" -> {"obj", "props", "missing"} */
  json_t *vms;                /* VM records, in inventory order */
  vm_refs_vector refs;        /* what each of vms refers to */
  json_t *pool;               /* strings the records share (pooled_string) */
  size_t taken;               /* objects taken */
};

static int
discovery_take (void *arg, const json_t *o)
{
  struct discovery *dis = arg;
  const char *type = vs_str (o, "obj.type");
  struct vm_refs refs = { .taken_at = ++dis->taken };
  char key[512];
  json_t *vm;

  if (type == NULL || strcmp (type, "VirtualMachine") != 0)
    return json_object_set (dis->index, moref_key (json_object_get (o, "obj"), key, sizeof key),
                            (json_t *) o);
  vm = vm_record (o, &refs, dis->pool);
  if (vm == NULL || vm_refs_vector_append (&dis->refs, refs) == -1) {
    json_decref (vm);
    vm_refs_clear (&refs);
    return -1;
  }
  if (json_array_append_new (dis->vms, vm) == -1) {
    vm_refs_clear (&dis->refs.ptr[--dis->refs.len]);
    return -1;
  }
  return 0;
}

/* An answer is read again: its VMs go (its other objects will be set
 * again, to the same keys). */
static void
discovery_forget (void *arg, size_t n)
{
  struct discovery *dis = arg;

  dis->taken = n < dis->taken ? dis->taken - n : 0;
  while (dis->refs.len > 0 && dis->refs.ptr[dis->refs.len - 1].taken_at > dis->taken) {
    vm_refs_clear (&dis->refs.ptr[--dis->refs.len]);
    json_array_remove (dis->vms, dis->refs.len);
  }
}

static void
discovery_clear (struct discovery *dis)
{
  for (size_t i = 0; i < dis->refs.len; i++)
    vm_refs_clear (&dis->refs.ptr[i]);
  dis->refs.len = 0;
  json_array_clear (dis->vms);
  json_object_clear (dis->index);
  dis->taken = 0;
}

/* Every object of the view, as it streams in: 0, or -1 after logging. */
static int
discovery_retrieve (struct vsphere *vs, struct discovery *dis)
{
  static const char *const types[] = {
    "VirtualMachine", "HostSystem", "ComputeResource", "ClusterComputeResource", "Folder",
    "Datacenter", "Datastore", "Network", "DistributedVirtualPortgroup", NULL
  };
  const json_t *root = vs_get (vs_service_content (vs), "rootFolder");
  struct vs_object_sink sink = { discovery_take, discovery_forget, dis };
  CLEANUP_FREE char *view = NULL;
  CLEANUP_FREE char *spec = NULL;
  int r = -1;

  /* A view lives in its session: if the session was renewed meanwhile
   * (expired, ended by an administrator), make the view again, once. */
  for (int attempt = 0; attempt < 2; attempt++) {
    unsigned gen = vs_session_generation (vs);
    struct vs_fault f = { 0 };
    if (view == NULL)
      view = vs_create_view (vs, vs_str (root, "type"), vs_str (root, "value"), types);
    if (view == NULL)
      return -1;
    free (spec);
    spec = build_specset (view);
    discovery_clear (dis);
    r = spec ? vs_retrieve_each (vs, spec, &sink, &f) : -1;
    if (r == 1 && attempt == 0
        && strcmp (f.type, "ManagedObjectNotFound") == 0 && vs_ensure_session (vs) == 1)
      ;                               /* the view died with its session */
    else if (r == 1)
      log_error ("%s RetrievePropertiesEx: %s: %s", vs_host (vs), f.type, f.message);
    vs_fault_free (&f);
    if (vs_session_generation (vs) == gen) {
      vs_destroy_view (vs, view);
      break;
    }
    free (view);
    view = NULL;
    if (r == 0)
      break;
    log_info ("%s: the session was renewed during discovery; retrieving again", vs_host (vs));
  }
  return r == 0 ? 0 : -1;
}

/* The strings of an array made pooled (the same warning for many VMs). */
static void
share_strings (json_t *array, json_t *pool)
{
  size_t i;
  json_t *v, *shared;

  json_array_foreach (array, i, v)
    if (json_is_string (v) && (shared = pooled_string (pool, json_string_value (v))))
      json_array_set_new (array, i, shared);
}

/* Is there a Datacenter of this name in the inventory? */
static bool
has_datacenter (const json_t *index, const char *name)
{
  const char *k;
  json_t *o;

  json_object_foreach ((json_t *) index, k, o)
    if (strncmp (k, "Datacenter:", 11) == 0
        && vs_str (o, "props.name") && strcmp (vs_str (o, "props.name"), name) == 0)
      return true;
  return false;
}

json_t *
inventory_discover (struct vsphere *vs, const struct inventory_opts *opts)
{
  struct discovery dis = { json_object (), json_array (), empty_vector, json_object (), 0 };
  const char *dc_wanted = opts && opts->datacenter && *opts->datacenter ? opts->datacenter : NULL;
  CLEANUP_JSON json_t *portgroups = NULL;
  json_t *out = NULL, *vm;
  size_t i;

  if (dis.index == NULL || dis.vms == NULL || dis.pool == NULL)
    goto done;
  if (discovery_retrieve (vs, &dis) == -1)
    goto done;
  if (dc_wanted && !has_datacenter (dis.index, dc_wanted)) {
    log_error ("%s: no datacenter named '%s': check vcenter_datacenter", vs_host (vs),
               dc_wanted);
    goto done;
  }
  portgroups = portgroups_by_key (dis.index);
  out = json_array ();
  json_array_foreach (dis.vms, i, vm) {
    vm_resolve (vm, &dis.refs.ptr[i], dis.index, portgroups, dis.pool);
    if (dc_wanted) {
      const char *dc = json_string_value (json_object_get (vm, "datacenter"));
      if (dc == NULL || strcmp (dc, dc_wanted) != 0)
        continue;
    }
    inventory_assess (vm, opts);
    share_strings (json_object_get (vm, "blockers"), dis.pool);
    share_strings (json_object_get (vm, "warnings"), dis.pool);
    json_array_append (out, vm);
  }
 done:
  discovery_clear (&dis);
  vm_refs_vector_reset (&dis.refs);
  json_decref (dis.index);
  json_decref (dis.vms);
  json_decref (dis.pool);
  return out;
}
