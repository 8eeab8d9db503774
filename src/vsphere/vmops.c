/* ferry: operations on a source VM, see vmops.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <inttypes.h>

#include "vsphere/vmops.h"
#include "vsphere/xml.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"


char *
vm_snapshot_create (struct vsphere *vs, const char *vm_moref, const char *vm_name,
                    const char *name, const char *description, bool quiesce)
{
  CLEANUP_FREE char *en = vs_xml_escape (name);
  CLEANUP_FREE char *ed = vs_xml_escape (description);
  CLEANUP_FREE char *args = xasprintf ("<name>%s</name><description>%s</description>"
                                       "<memory>false</memory><quiesce>%s</quiesce>",
                                       en, ed, quiesce ? "true" : "false");
  CLEANUP_FREE char *what = xasprintf ("VM %s: create snapshot '%s'", vm_name, name);
  CLEANUP_JSON json_t *task = vs_invoke (vs, "CreateSnapshot_Task", "VirtualMachine",
                                         vm_moref, args);
  CLEANUP_JSON json_t *res = NULL;

  if (task == NULL)
    return NULL;
  if (vs_wait_task (vs, task, what, &res) == -1)
    return NULL;
  if (vs_str (res, "value") == NULL) {
    log_error ("%s: the task gave no snapshot", what);
    return NULL;
  }
  log_info ("VM %s: snapshot %s (%s) created", vm_name, name, vs_str (res, "value"));
  return strdup (vs_str (res, "value"));
}

int
vm_snapshot_remove (struct vsphere *vs, const char *snap_moref, const char *vm_name)
{
  CLEANUP_FREE char *what = xasprintf ("VM %s: remove snapshot %s", vm_name, snap_moref);
  CLEANUP_JSON json_t *task = vs_invoke (vs, "RemoveSnapshot_Task", "VirtualMachineSnapshot",
                                         snap_moref, "<removeChildren>false</removeChildren>"
                                         "<consolidate>true</consolidate>");
  if (task == NULL || vs_wait_task (vs, task, what, NULL) == -1) {
    log_error ("VM %s: snapshot %s could not be removed: remove it in vSphere (it is named "
               "ferry-...) or rerun ferry, which removes its leftover snapshots",
               vm_name, snap_moref);
    return -1;
  }
  log_info ("VM %s: snapshot %s removed", vm_name, snap_moref);
  return 0;
}

static void
collect_named (const json_t *list, const char *prefix, json_t *out)
{
  CLEANUP_JSON json_t *items = vs_array (list, NULL);
  size_t i;
  json_t *s;

  json_array_foreach (items, i, s) {
    const char *n = vs_str (s, "name");
    CLEANUP_JSON json_t *kids = vs_array (s, "childSnapshotList");
    if (n && strncmp (n, prefix, strlen (prefix)) == 0 && vs_str (s, "snapshot.value"))
      json_array_append_new (out, json_string (vs_str (s, "snapshot.value")));
    collect_named (kids, prefix, out);
  }
}

json_t *
vm_snapshots_named (struct vsphere *vs, const char *vm_moref, const char *prefix)
{
  static const char *const paths[] = { "snapshot", NULL };
  CLEANUP_JSON json_t *p = vs_get_props (vs, "VirtualMachine", vm_moref, paths);
  json_t *out;

  if (p == NULL)
    return NULL;
  out = json_array ();
  collect_named (vs_get (json_object_get (p, "snapshot"), "rootSnapshotList"), prefix, out);
  return out;
}

json_t *
vm_snapshot_disks (struct vsphere *vs, const char *snap_moref)
{
  static const char *const paths[] = { "config.hardware", NULL };
  CLEANUP_JSON json_t *p = vs_get_props (vs, "VirtualMachineSnapshot", snap_moref, paths);
  CLEANUP_JSON json_t *devs = NULL;
  json_t *out, *d;
  size_t i;

  if (p == NULL)
    return NULL;
  devs = vs_array (json_object_get (p, "config.hardware"), "device");
  out = json_object ();
  json_array_foreach (devs, i, d) {
    char key[32];
    long long cap;
    if (!vs_str (d, "_type") || strcmp (vs_str (d, "_type"), "VirtualDisk") != 0)
      continue;
    cap = vs_int (d, "capacityInBytes", -1);
    if (cap <= 0)
      cap = vs_int (d, "capacityInKB", 0) * 1024;
    snprintf (key, sizeof key, "%lld", vs_int (d, "key", 0));
    json_object_set_new (out, key, json_pack ("{s:s?, s:s?, s:I}",
                                              "file", vs_str (d, "backing.fileName"),
                                              "change_id", vs_str (d, "backing.changeId"),
                                              "capacity_bytes", (json_int_t) cap));
  }
  return out;
}

char *
vm_power_state (struct vsphere *vs, const char *vm_moref)
{
  static const char *const paths[] = { "runtime.powerState", NULL };
  CLEANUP_JSON json_t *p = vs_get_props (vs, "VirtualMachine", vm_moref, paths);
  const char *s = json_string_value (json_object_get (p, "runtime.powerState"));
  return s ? strdup (s) : NULL;
}

int
vm_shutdown (struct vsphere *vs, const char *vm_moref, const char *vm_name, int timeout_s,
             bool force)
{
  CLEANUP_FREE char *state = vm_power_state (vs, vm_moref);
  struct timespec t0, t;

  if (state && strcmp (state, "poweredOff") == 0)
    return 0;
  log_info ("VM %s: shutting the guest down (timeout %d s)", vm_name, timeout_s);
  {
    json_t *r = vs_invoke (vs, "ShutdownGuest", "VirtualMachine", vm_moref, NULL);
    if (r == NULL && !force) {
      log_error ("VM %s: the guest can't be shut down gracefully (VMware Tools?); shut it "
                 "down yourself, or allow a hard power-off (force_power_off: true)", vm_name);
      return -1;
    }
    json_decref (r);
  }
  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (;;) {
    free (state);
    state = vm_power_state (vs, vm_moref);
    if (state && strcmp (state, "poweredOff") == 0) {
      log_info ("VM %s: powered off", vm_name);
      return 0;
    }
    clock_gettime (CLOCK_MONOTONIC, &t);
    if (t.tv_sec - t0.tv_sec >= timeout_s)
      break;
    sleep_ms (1000);
  }
  if (!force) {
    log_error ("VM %s: still %s after %d s: shut it down yourself, raise shutdown_timeout, "
               "or allow a hard power-off (force_power_off: true)", vm_name,
               state ? state : "running", timeout_s);
    return -1;
  }
  log_warn ("VM %s: no clean shutdown within %d s: powering off", vm_name, timeout_s);
  {
    CLEANUP_FREE char *what = xasprintf ("VM %s: power off", vm_name);
    CLEANUP_JSON json_t *task = vs_invoke (vs, "PowerOffVM_Task", "VirtualMachine", vm_moref, NULL);
    if (task == NULL || vs_wait_task (vs, task, what, NULL) == -1)
      return -1;
  }
  return 0;
}

int
vm_power_on (struct vsphere *vs, const char *vm_moref, const char *vm_name)
{
  CLEANUP_FREE char *what = xasprintf ("VM %s: power on", vm_name);
  CLEANUP_JSON json_t *task = vs_invoke (vs, "PowerOnVM_Task", "VirtualMachine", vm_moref, NULL);
  return task && vs_wait_task (vs, task, what, NULL) == 0 ? 0 : -1;
}

int
vm_enable_cbt (struct vsphere *vs, const char *vm_moref, const char *vm_name)
{
  CLEANUP_FREE char *what = xasprintf ("VM %s: enable CBT", vm_name);
  CLEANUP_JSON json_t *task = vs_invoke (vs, "ReconfigVM_Task", "VirtualMachine", vm_moref,
                                         "<spec><changeTrackingEnabled>true"
                                         "</changeTrackingEnabled></spec>");
  CLEANUP_FREE char *snap = NULL;

  if (task == NULL || vs_wait_task (vs, task, what, NULL) == -1)
    return -1;
  /* CBT takes effect at the next stun/unstun: a snapshot create/remove. */
  snap = vm_snapshot_create (vs, vm_moref, vm_name, "ferry-cbt-enable",
                             "ferry: makes CBT take effect; safe to delete", false);
  if (snap == NULL || vm_snapshot_remove (vs, snap, vm_name) == -1)
    return -1;
  log_info ("VM %s: CBT enabled", vm_name);
  return 0;
}

json_t *
vm_changed_areas (struct vsphere *vs, const char *vm_moref, const char *snap_moref,
                  int disk_key, uint64_t capacity, const char *change_id, char **fault_type)
{
  json_t *out = json_array ();
  uint64_t start = 0;
  CLEANUP_FREE char *ecid = vs_xml_escape (change_id);

  if (fault_type)
    *fault_type = NULL;
  while (start < capacity) {
    CLEANUP_FREE char *args = xasprintf ("<snapshot type=\"VirtualMachineSnapshot\">%s</snapshot>"
                                         "<deviceKey>%d</deviceKey><startOffset>%" PRIu64
                                         "</startOffset><changeId>%s</changeId>",
                                         snap_moref, disk_key, start, ecid);
    struct vs_fault f = { 0 };
    xmlDocPtr doc = NULL;
    int r = vs_call (vs, "QueryChangedDiskAreas", "VirtualMachine", vm_moref, args, &doc, &f);
    CLEANUP_JSON json_t *rv = NULL;
    CLEANUP_JSON json_t *areas = NULL;
    size_t i;
    json_t *a;
    uint64_t next;

    if (r == 1) {
      if (fault_type)
        *fault_type = strdup (f.type);
      else
        log_error ("%s QueryChangedDiskAreas disk %d since '%s': %s: %s", vs_host (vs),
                   disk_key, change_id, f.type, f.message);
      vs_fault_free (&f);
      json_decref (out);
      return NULL;
    }
    if (r == -1) {
      json_decref (out);
      return NULL;
    }
    {
      xmlNodePtr n = vs_xml_child (vs_xml_body (doc), "returnval");
      rv = n ? vs_xml_to_json (n) : json_object ();
      xmlFreeDoc (doc);
    }
    areas = vs_array (rv, "changedArea");
    json_array_foreach (areas, i, a) {
      long long s = vs_int (a, "start", -1), l = vs_int (a, "length", -1);
      json_t *last = json_array_get (out, json_array_size (out) - 1);
      if (s < 0 || l <= 0)
        continue;
      /* Merge with the previous area when they touch. */
      if (last && json_integer_value (json_object_get (last, "start"))
          + json_integer_value (json_object_get (last, "length")) == s)
        json_object_set_new (last, "length",
                             json_integer (json_integer_value (json_object_get (last, "length")) + l));
      else
        json_array_append_new (out, json_pack ("{s:I, s:I}", "start", (json_int_t) s,
                                               "length", (json_int_t) l));
    }
    next = (uint64_t) vs_int (rv, "startOffset", (long long) start)
      + (uint64_t) vs_int (rv, "length", 0);
    if (next <= start)
      break;                  /* no progress: stop rather than loop */
    start = next;
  }
  return out;
}
