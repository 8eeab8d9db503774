/* ferry: guest conversion, see convert.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <wordexp.h>
#include <sys/wait.h>
#include <sys/stat.h>

#include "migrate/convert.h"
#include "vsphere/inventory.h"
#include "vsphere/xml.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/util.h"
#include "common/vector.h"

const char *
convert_program (void)
{
  static const char *const cands[] = { "virt-v2v-in-place", "/usr/libexec/virt-v2v-in-place",
                                       NULL };
  for (size_t i = 0; cands[i]; i++)
    if (spawn_which (cands[i]) == 0)
      return cands[i];
  return NULL;
}

/* A libvirt domain for a guest whose filesystems span disks: every disk
 * with a distinct target name on its own bus. */
static char *
domain_xml (const json_t *vm, const json_t *devices)
{
  size_t cap = 1024, len = 0, i;
  char *s = malloc (cap);
  int sd = 0, hd = 0, vd = 0;
  json_t *d;

#define ADD(...) do { int n_; while (s && (size_t) (n_ = snprintf (s + len, cap - len, __VA_ARGS__)) >= cap - len) { char *ns_ = realloc (s, cap *= 2); if (!ns_) { free (s); s = NULL; } else s = ns_; } if (s) len += n_; } while (0)
  ADD ("<domain type='kvm'><name>ferry-convert</name><memory>2097152</memory><os>"
       "<type>hvm</type></os><devices>");
  json_array_foreach (json_object_get (vm, "disks"), i, d) {
    const char *bus = json_string_value (json_object_get (d, "bus_type"));
    const char *dev = json_string_value (json_array_get (devices, i));
    char target[16];
    if (dev == NULL)
      break;
    if (bus && strcmp (bus, "ide") == 0)
      snprintf (target, sizeof target, "hd%c", 'a' + hd++);
    else if (bus && (strcmp (bus, "scsi") == 0 || strcmp (bus, "sata") == 0))
      snprintf (target, sizeof target, "sd%c", 'a' + sd++);
    else
      snprintf (target, sizeof target, "vd%c", 'a' + vd++);   /* nvme, unknown: virtio */
    {
      /* Block devices on a conversion host, files on the Glance path;
       * the path is escaped for the XML attribute. */
      CLEANUP_FREE char *q = vs_xml_escape (dev);
      struct stat sb;
      bool block = stat (dev, &sb) == 0 && S_ISBLK (sb.st_mode);
      ADD ("<disk type='%s' device='disk'><driver name='qemu' type='raw'/>"
           "<source %s='%s'/><target dev='%s' bus='%s'/></disk>", block ? "block" : "file",
           block ? "dev" : "file", q, target,
           target[0] == 'h' ? "ide" : target[0] == 's' ? (strcmp (bus, "sata") == 0 ? "sata"
                                                           : "scsi") : "virtio");
    }
  }
  ADD ("</devices></domain>\n");
#undef ADD
  return s;
}


int
convert_guest (const struct config *cfg, const json_t *vm, const json_t *devices,
               const char *workdir, const char *log_path)
{
  const char *prog = convert_program ();
  const char *name = json_string_value (json_object_get (vm, "name"));
  const char *gid = json_string_value (json_object_get (vm, "guest_id"));
  const char *extra = config_get_string (cfg, "extra_opts");
  const char *boot = config_get_string (cfg, "boot_script_path");
  string_vector av = empty_vector;
  const char *env[] = { "LIBGUESTFS_BACKEND=direct", NULL, NULL, NULL };
  CLEANUP_FREE char *xmlpath = NULL;
  wordexp_t we = { 0 };
  bool we_used = false;
  int st, r = FERRY_EXIT_CONVERSION;
  pid_t pid;

  if (prog == NULL) {
    log_error ("VM %s: virt-v2v-in-place is not installed on this conversion host: install "
               "virt-v2v (Debian/Ubuntu: apt install virt-v2v; RHEL/CentOS: dnf install "
               "virt-v2v), or set skip_conversion: true", name);
    return FERRY_EXIT_CONVERSION;
  }
  if (inventory_guest_family (gid) == NULL) {
    log_error ("VM %s: guest OS '%s' can't be converted by virt-v2v: set skip_conversion: "
               "true to migrate it unconverted", name, gid ? gid : "?");
    return FERRY_EXIT_CONVERSION;
  }
  if (config_get_bool (cfg, "debug")) {
    env[1] = "LIBGUESTFS_DEBUG=1";
    env[2] = "LIBGUESTFS_TRACE=1";
  }
  string_vector_append (&av, strdup (prog));
  if (config_get_bool (cfg, "debug")) {
    string_vector_append (&av, strdup ("-v"));
    string_vector_append (&av, strdup ("-x"));
  }
  if (boot && *boot) {
    string_vector_append (&av, strdup ("--firstboot"));
    string_vector_append (&av, strdup (boot));
  }
  if (extra && *extra) {
    /* Split like a shell would, but never run anything. */
    if (wordexp (extra, &we, WRDE_NOCMD | WRDE_UNDEF) != 0) {
      log_error ("VM %s: extra_opts '%s' can't be split into options (quotes?)", name, extra);
      string_vector_free_all (&av);
      return FERRY_EXIT_USAGE;
    }
    we_used = true;
    for (size_t i = 0; i < we.we_wordc; i++)
      string_vector_append (&av, strdup (we.we_wordv[i]));
  }
  if (json_array_size (devices) == 1 && !config_get_bool (cfg, "multidiskfs")) {
    string_vector_append (&av, strdup ("-i"));
    string_vector_append (&av, strdup ("disk"));
    string_vector_append (&av, strdup (json_string_value (json_array_get (devices, 0))));
  }
  else {
    CLEANUP_FREE char *xml = domain_xml (vm, devices);
    FILE *fp;
    xmlpath = xasprintf ("%s/domain.xml", workdir);
    fp = xmlpath ? fopen (xmlpath, "w") : NULL;
    if (fp == NULL || xml == NULL || fputs (xml, fp) == EOF) {
      if (fp) fclose (fp);
      log_error ("VM %s: cannot write %s", name, xmlpath ? xmlpath : workdir);
      goto out;
    }
    fclose (fp);
    string_vector_append (&av, strdup ("-i"));
    string_vector_append (&av, strdup ("libvirtxml"));
    string_vector_append (&av, strdup (xmlpath));
  }
  string_vector_append (&av, NULL);
  log_info ("VM %s: converting the guest with %s (log: %s)", name, prog, log_path);
  {
    struct spawn_opts so = { .log_path = log_path, .env = env };
    pid = spawn_start (av.ptr, &so);
  }
  if (pid == -1)
    goto out;
  st = spawn_wait (pid);
  if (WIFEXITED (st) && WEXITSTATUS (st) == 0) {
    log_info ("VM %s: guest converted", name);
    r = 0;
  }
  else {
    char buf[64];
    log_error ("VM %s: virt-v2v-in-place failed (%s); its last lines:", name,
               spawn_status_str (st, buf, sizeof buf));
    {
      CLEANUP_FREE char *prefix = xasprintf ("VM %s: virt-v2v", name);
      log_file_tail (log_path, 20, prefix ? prefix : "virt-v2v");
    }
  }
 out:
  if (we_used)
    wordfree (&we);
  string_vector_free_all (&av);
  return r;
}
