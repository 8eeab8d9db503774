/* ferry: guest conversion, see convert.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <wordexp.h>
#include <sys/wait.h>
#include <sys/stat.h>

#include "conversion-host/convert.h"
#include "vsphere/inventory.h"
#include "vsphere/xml.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/util.h"
#include "common/vector.h"
#include "openstack/resources.h"

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


/* The first text of a file (up to 1 MiB), or NULL. */
static char *
slurp (const char *path)
{
  FILE *fp = fopen (path, "r");
  char *buf;
  size_t n;

  if (fp == NULL)
    return NULL;
  buf = malloc ((1 << 20) + 1);
  if (buf == NULL) {
    fclose (fp);
    return NULL;
  }
  n = fread (buf, 1, 1 << 20, fp);
  buf[n] = '\0';
  fclose (fp);
  return buf;
}

/* Run argv to completion with its output appended to log_path; 0 if it
 * exited 0, else the wait status (or -1). */
static int
run_logged (char *const argv[], const char *const *env, const char *log_path)
{
  struct spawn_opts so = { .log_path = log_path, .env = env };
  pid_t pid = spawn_start (argv, &so);
  int st;

  bool interrupted;

  if (pid == -1)
    return -1;
  st = spawn_wait_interruptible (pid, 10000, &interrupted);
  if (interrupted) {
    log_error ("%s: interrupted (a signal): stopped", argv[0]);
    return -1;
  }
  return WIFEXITED (st) && WEXITSTATUS (st) == 0 ? 0 : st == 0 ? -1 : st;
}

/* What this virt-v2v-in-place accepts: version 2.2 (Debian 12) has neither
 * --run nor --firstboot, later ones have both (then no virt-customize pass
 * is needed). */
struct v2v_caps {
  bool run, firstboot;
};

static void
v2v_caps (const char *prog, const char *workdir, struct v2v_caps *caps)
{
  CLEANUP_FREE char *path = xasprintf ("%s/virt-v2v-help.txt", workdir);
  char *argv[] = { (char *) prog, (char *) "--help", NULL };
  CLEANUP_FREE char *text = NULL;

  caps->run = caps->firstboot = false;
  if (path == NULL)
    return;
  unlink (path);
  run_logged (argv, NULL, path);
  text = slurp (path);
  unlink (path);
  if (text) {
    caps->run = strstr (text, "--run ") != NULL;
    caps->firstboot = strstr (text, "--firstboot ") != NULL;
  }
}

/* The names VMware's PCI slots give a guest's NICs with predictable
 * naming (ens192 is the first NIC, ens224 the second, ...): hints only. */
static const char *const vmware_slot_names[] = {
  "ens192", "ens224", "ens256", "ens161", "ens193", "ens225", "ens257", "ens162", "ens194",
  "ens226", NULL
};

/* The script run inside a Linux guest (virt-v2v --run, or virt-customize
 * --run): NIC names pinned to the VMware MACs.  The guest's own network
 * configuration (NetworkManager keyfiles, ifcfg files, netplan, ifupdown)
 * says which names it uses, and, where it gives a MAC, which NIC has which
 * name.  Names without a MAC are matched through VMware's slot names, or
 * when exactly one name and one NIC are left; never by file order.  Each
 * pinned pair becomes a udev rule and a systemd .link file; a line
 * "ferry-nic: ..." per decision goes to the conversion log. */
static const char nic_script_body[] =
  "set -u\n"
  "R=${FERRY_NIC_ROOT:-}   # the guest's root: / inside the guest, a directory in tests\n"
  "mkdir -p \"$R\"/var/log; : > \"$R\"/var/log/ferry-nic-names.log\n"
  "say () { echo \"ferry-nic: $*\"; echo \"ferry-nic: $*\" >> \"$R\"/var/log/ferry-nic-names.log; }\n"
  "lc () { printf '%s' \"$1\" | tr 'A-F' 'a-f'; }\n"
  "pairs=''\n"
  "names=''\n"
  "has () { case \" $1 \" in *\" $2 \"*) return 0 ;; esac; return 1; }\n"
  "mac_pinned () { case \" $pairs \" in *\" $1=\"*) return 0 ;; esac; return 1; }\n"
  "name_pinned () { case \" $pairs \" in *\"=$1 \"*) return 0 ;; esac; return 1; }\n"
  "add_name () {\n"
  "  [ -n \"$1\" ] && [ \"$1\" != lo ] || return 0\n"
  "  has \"$names\" \"$1\" || names=\"$names $1\"\n"
  "}\n"
  "pair () {\n"
  "  m=$(lc \"$1\"); n=$2\n"
  "  [ -n \"$n\" ] && has \"$macs\" \"$m\" || return 0\n"
  "  mac_pinned \"$m\" || name_pinned \"$n\" || { pairs=\"$pairs $m=$n\"; say \"$n has MAC $m in $3\"; }\n"
  "}\n"
  "for f in \"$R\"/etc/NetworkManager/system-connections/*; do\n"
  "  [ -f \"$f\" ] || continue\n"
  "  n=$(sed -n 's/^interface-name=//p' \"$f\" | head -n 1)\n"
  "  m=$(sed -n 's/^mac-address=//p' \"$f\" | head -n 1)\n"
  "  add_name \"$n\"; [ -z \"$m\" ] || pair \"$m\" \"$n\" \"$f\"\n"
  "done\n"
  "for f in \"$R\"/etc/sysconfig/network-scripts/ifcfg-* \"$R\"/etc/sysconfig/network/ifcfg-*; do\n"
  "  [ -f \"$f\" ] || continue\n"
  "  n=$(sed -n 's/^DEVICE=[\"'\\'']*\\([^\"'\\'']*\\).*/\\1/p' \"$f\" | head -n 1)\n"
  "  [ -n \"$n\" ] || n=${f##*/ifcfg-}\n"
  "  m=$(sed -n 's/^HWADDR=[\"'\\'']*\\([0-9A-Fa-f:]*\\).*/\\1/p' \"$f\" | head -n 1)\n"
  "  add_name \"$n\"; [ -z \"$m\" ] || pair \"$m\" \"$n\" \"$f\"\n"
  "done\n"
  "for f in \"$R\"/etc/netplan/*.yaml \"$R\"/etc/netplan/*.yml; do\n"
  "  [ -f \"$f\" ] || continue\n"
  "  out=$(awk '\n"
  "    function flush() { if (key != \"\") print (set != \"\" ? set : key), mac; key = \"\"; mac = \"\"; set = \"\" }\n"
  "    { sub(/#.*/, \"\"); if ($0 ~ /^[ \\t]*$/) next; match($0, /^ */); ind = RLENGTH }\n"
  "    /^ *ethernets: *$/ { flush(); eth = ind; cind = -1; next }\n"
  "    eth >= 0 && ind <= eth { flush(); eth = -1 }\n"
  "    eth >= 0 && cind < 0 { cind = ind }\n"
  "    eth >= 0 && ind == cind { flush(); key = $1; sub(/:$/, \"\", key); gsub(/[\"\\047]/, \"\", key); next }\n"
  "    eth >= 0 && $1 == \"macaddress:\" { mac = $2; gsub(/[\"\\047]/, \"\", mac) }\n"
  "    eth >= 0 && $1 == \"set-name:\" { set = $2; gsub(/[\"\\047]/, \"\", set) }\n"
  "    END { flush() }' eth=-1 \"$f\")\n"
  "  while read -r n m; do\n"
  "    add_name \"$n\"; [ -z \"$m\" ] || pair \"$m\" \"$n\" \"$f\"\n"
  "  done <<EOF\n"
  "$out\n"
  "EOF\n"
  "done\n"
  "for f in \"$R\"/etc/network/interfaces \"$R\"/etc/network/interfaces.d/*; do\n"
  "  [ -f \"$f\" ] || continue\n"
  "  out=$(awk '$1 == \"iface\" { n = $2; print n } $1 == \"hwaddress\" && n != \"\" { print n, ($2 == \"ether\" ? $3 : $2) }' \"$f\")\n"
  "  while read -r n m; do\n"
  "    add_name \"$n\"; [ -z \"$m\" ] || pair \"$m\" \"$n\" \"$f\"\n"
  "  done <<EOF\n"
  "$out\n"
  "EOF\n"
  "done\n"
  "# Names without a MAC: VMware's slot name of each NIC.\n"
  "i=0\n"
  "for m in $macs; do\n"
  "  i=$((i + 1)); h=$(echo $slots | cut -d' ' -f$i)\n"
  "  if ! mac_pinned \"$m\" && [ -n \"$h\" ] && has \"$names\" \"$h\" && ! name_pinned \"$h\"; then\n"
  "    pairs=\"$pairs $m=$h\"; say \"$h is VMware's name for the NIC with MAC $m (slot order)\"\n"
  "  fi\n"
  "done\n"
  "# One name and one NIC left: they go together.\n"
  "ln=''; lm=''\n"
  "for n in $names; do name_pinned \"$n\" || ln=\"$ln $n\"; done\n"
  "for m in $macs; do mac_pinned \"$m\" || lm=\"$lm $m\"; done\n"
  "set -- $ln\n"
  "if [ $# -eq 1 ] && [ $(echo $lm | wc -w) -eq 1 ]; then\n"
  "  pairs=\"$pairs $(echo $lm)=$1\"; say \"$1 is the only configured name left, $(echo $lm) the only NIC\"\n"
  "  set --\n"
  "fi\n"
  "for n in \"$@\"; do say \"WARNING: can't tell which NIC '$n' is (no MAC in its configuration): not pinned\"; done\n"
  "[ -n \"$pairs\" ] || { say 'no interface names to pin'; exit 0; }\n"
  "mkdir -p \"$R\"/etc/udev/rules.d \"$R\"/etc/systemd/network\n"
  "r=\"$R\"/etc/udev/rules.d/70-ferry-persistent-net.rules\n"
  "echo '# Written by ferry at migration: NIC names kept from VMware, by MAC.' > \"$r\"\n"
  "for p in $pairs; do\n"
  "  m=${p%%=*}; n=${p#*=}\n"
  "  echo \"SUBSYSTEM==\\\"net\\\", ACTION==\\\"add\\\", ATTR{address}==\\\"$m\\\", NAME=\\\"$n\\\"\" >> \"$r\"\n"
  "  printf '# Written by ferry at migration.\\n[Match]\\nMACAddress=%s\\n\\n[Link]\\nName=%s\\n' \"$m\" \"$n\" > \"$R/etc/systemd/network/10-ferry-$n.link\"\n"
  "  say \"pinned $n to $m\"\n"
  "done\n";

char *
convert_nic_script (const json_t *vm)
{
  json_t *nics = json_object_get (vm, "nics"), *n;
  size_t i, cap = sizeof nic_script_body + 1024;
  char *s = malloc (cap);
  size_t len = 0;
  const char *name = json_string_value (json_object_get (vm, "name"));

  if (s == NULL)
    return NULL;
#define ADD(...) do { int n_ = snprintf (s + len, cap - len, __VA_ARGS__); if (n_ < 0 || (size_t) n_ >= cap - len) { free (s); return NULL; } len += n_; } while (0)
  ADD ("#!/bin/sh\n# Written by ferry for VM %s: keep its NIC names on KVM.\nmacs='", "guest");
  (void) name;                /* the VM name stays out of the script: no quoting issue */
  json_array_foreach (nics, i, n) {
    const char *mac = json_string_value (json_object_get (n, "mac"));
    if (mac == NULL)
      continue;
    for (const char *p = mac; *p; p++)
      if (!(strchr ("0123456789abcdefABCDEF:", *p))) {
        free (s);
        return NULL;
      }
    ADD ("%s", len && s[len - 1] != '\'' ? " " : "");
    for (const char *p = mac; *p; p++)
      ADD ("%c", *p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
  }
  ADD ("'\nslots='");
  for (i = 0; i < json_array_size (nics) && vmware_slot_names[i]; i++)
    ADD ("%s%s", i ? " " : "", vmware_slot_names[i]);
  ADD ("'\n%s", nic_script_body);
#undef ADD
  return s;
}

/* virtio-win's version on this host ("1.9.40"), "" if installed with an
 * unknown version, NULL if missing. */
char *
convert_virtio_win_version (void)
{
  const char *dir = getenv ("VIRTIO_WIN");
  struct stat sb;

  if (dir == NULL || *dir == '\0')
    dir = "/usr/share/virtio-win";
  if (stat (dir, &sb) != 0)
    return NULL;
  {
    /* The RPM's version, from its ISO symlink target (virtio-win-1.9.40.iso). */
    char target[512];
    CLEANUP_FREE char *iso = xasprintf ("%s/virtio-win.iso", dir);
    ssize_t n = iso ? readlink (iso, target, sizeof target - 1) : -1;
    if (n > 0) {
      target[n] = '\0';
      const char *b = strrchr (target, '/');
      b = b ? b + 1 : target;
      if (strncmp (b, "virtio-win-", 11) == 0) {
        char *v = strdup (b + 11), *e = v ? strstr (v, ".iso") : NULL;
        if (e) *e = '\0';
        return v;
      }
    }
  }
  return strdup ("");
}

/* a >= b for dotted versions. */
static bool
version_ge (const char *a, const char *b)
{
  while (*a || *b) {
    long x = strtol (a, (char **) &a, 10), y = strtol (b, (char **) &b, 10);
    if (x != y)
      return x > y;
    if (*a == '.') a++;
    if (*b == '.') b++;
    if (!*a && !*b)
      break;
    if (!((*a >= '0' && *a <= '9') || !*a) || !((*b >= '0' && *b <= '9') || !*b))
      break;
  }
  return true;
}

int
convert_precheck (const struct config *cfg, const json_t *vm)
{
  const char *name = json_string_value (json_object_get (vm, "name"));
  const char *gid = json_string_value (json_object_get (vm, "guest_id"));
  const char *family = inventory_guest_family (gid);

  (void) cfg;
  if (convert_program () == NULL) {
    log_error ("VM %s: virt-v2v-in-place is not installed on this conversion host: install "
               "virt-v2v (Debian/Ubuntu: apt install virt-v2v; RHEL/CentOS: dnf install "
               "virt-v2v), or set skip_conversion: true", name);
    return FERRY_EXIT_CONVERSION;
  }
  if (family == NULL) {
    log_error ("VM %s: guest OS '%s' can't be converted by virt-v2v: set skip_conversion: "
               "true to migrate it unconverted", name, gid ? gid : "?");
    return FERRY_EXIT_CONVERSION;
  }
  if (strcmp (family, "windows") == 0) {
    CLEANUP_FREE char *v = convert_virtio_win_version ();
    if (v == NULL) {
      log_error ("VM %s: a Windows guest needs virtio-win (>= 1.9.40) on the conversion host "
                 "for its virtio drivers, and it is not installed (no /usr/share/virtio-win, "
                 "$VIRTIO_WIN unset): install virtio-win (RHEL/CentOS/Fedora: dnf install "
                 "virtio-win), or set skip_conversion: true; nothing was copied", name);
      return FERRY_EXIT_CONVERSION;
    }
    if (*v && !version_ge (v, "1.9.40")) {
      log_error ("VM %s: virtio-win %s on the conversion host is older than 1.9.40: update "
                 "it; nothing was copied", name, v);
      return FERRY_EXIT_CONVERSION;
    }
  }
  return 0;
}

/* Lines virt-v2v and ferry's script wrote that an operator wants in ferry's
 * own log: what was detected and which NIC names were pinned. */
static void
log_conversion_facts (const char *name, const char *log_path)
{
  FILE *fp = fopen (log_path, "r");
  char line[1024];

  if (fp == NULL)
    return;
  while (fgets (line, sizeof line, fp)) {
    line[strcspn (line, "\r\n")] = '\0';
    if (strncmp (line, "ferry-nic: ", 11) == 0)
      log_info ("VM %s: %s", name, line + 11);
    else if (strstr (line, "Detected operating system") || strstr (line, "Converting ")
             || strstr (line, "This guest has virtio drivers installed"))
      log_info ("VM %s: virt-v2v: %s", name, line);
  }
  fclose (fp);
}

/* The NIC naming script of a Linux guest, written to
 * <workdir>/ferry-nic-names.sh (*script_path, the caller's to free). */
static int
write_nic_script (const json_t *vm, const char *workdir, const char *name, char **script_path)
{
  CLEANUP_FREE char *script = convert_nic_script (vm);
  FILE *fp;

  *script_path = xasprintf ("%s/ferry-nic-names.sh", workdir);
  fp = script && *script_path ? fopen (*script_path, "w") : NULL;
  if (fp == NULL || fputs (script, fp) == EOF) {
    if (fp) fclose (fp);
    log_error ("VM %s: cannot write the NIC naming script %s (a MAC that is not one?)", name,
               *script_path ? *script_path : workdir);
    return FERRY_EXIT_CONVERSION;
  }
  fclose (fp);
  return 0;
}

static void
append_debug_flags (string_vector *v, bool debug)
{
  if (debug) {
    string_vector_append (v, strdup ("-v"));
    string_vector_append (v, strdup ("-x"));
  }
}

/* extra_opts, split like a shell would, but never running anything. */
static int
append_extra_opts (string_vector *av, const char *extra, const char *name)
{
  wordexp_t we = { 0 };

  if (wordexp (extra, &we, WRDE_NOCMD | WRDE_UNDEF) != 0) {
    log_error ("VM %s: extra_opts '%s' can't be split into options (quotes?)", name, extra);
    return FERRY_EXIT_USAGE;
  }
  for (size_t i = 0; i < we.we_wordc; i++)
    string_vector_append (av, strdup (we.we_wordv[i]));
  wordfree (&we);
  return 0;
}

/* The input of virt-v2v-in-place: the one disk, or a libvirt domain
 * written to <workdir>/domain.xml. */
static int
append_input (string_vector *av, const struct config *cfg, const json_t *vm,
              const json_t *devices, const char *workdir, const char *name)
{
  CLEANUP_FREE char *xml = NULL;
  CLEANUP_FREE char *xmlpath = NULL;
  FILE *fp;

  if (json_array_size (devices) == 1 && !config_get_bool (cfg, "multidiskfs")) {
    string_vector_append (av, strdup ("-i"));
    string_vector_append (av, strdup ("disk"));
    string_vector_append (av, strdup (json_string_value (json_array_get (devices, 0))));
    return 0;
  }
  xml = domain_xml (vm, devices);
  xmlpath = xasprintf ("%s/domain.xml", workdir);
  fp = xmlpath ? fopen (xmlpath, "w") : NULL;
  if (fp == NULL || xml == NULL || fputs (xml, fp) == EOF) {
    if (fp) fclose (fp);
    log_error ("VM %s: cannot write %s", name, xmlpath ? xmlpath : workdir);
    return FERRY_EXIT_CONVERSION;
  }
  fclose (fp);
  string_vector_append (av, strdup ("-i"));
  string_vector_append (av, strdup ("libvirtxml"));
  string_vector_append (av, strdup (xmlpath));
  return 0;
}

/* virt-v2v-in-place's command line (NULL-terminated). */
static int
v2v_argv (string_vector *av, const char *prog, const struct config *cfg, const json_t *vm,
          const json_t *devices, const char *workdir, const char *script_path,
          const struct v2v_caps *caps)
{
  const char *name = json_string_value (json_object_get (vm, "name"));
  const char *extra = config_get_string (cfg, "extra_opts");
  const char *boot = config_get_string (cfg, "boot_script_path");
  int r;

  string_vector_append (av, strdup (prog));
  append_debug_flags (av, config_get_bool (cfg, "debug"));
  if (script_path && caps->run) {
    string_vector_append (av, strdup ("--run"));
    string_vector_append (av, strdup (script_path));
  }
  if (boot && *boot && caps->firstboot) {
    string_vector_append (av, strdup ("--firstboot"));
    string_vector_append (av, strdup (boot));
  }
  if (extra && *extra && (r = append_extra_opts (av, extra, name)) != 0)
    return r;
  if ((r = append_input (av, cfg, vm, devices, workdir, name)) != 0)
    return r;
  string_vector_append (av, NULL);
  return 0;
}

/* The NIC naming script, run in the guest by guestfish. */
static int
pin_nic_names (const json_t *devices, const char *script_path, bool debug,
               const char *const *env, const char *name, const char *log_path)
{
  string_vector cv = empty_vector;
  int st;

  string_vector_append (&cv, strdup ("guestfish"));
  append_debug_flags (&cv, debug);
  string_vector_append (&cv, strdup ("--rw"));
  string_vector_append (&cv, strdup ("--format=raw"));
  for (size_t i = 0; i < json_array_size (devices); i++) {
    string_vector_append (&cv, strdup ("-a"));
    string_vector_append (&cv, strdup (json_string_value (json_array_get (devices, i))));
  }
  string_vector_append (&cv, strdup ("-i"));
  string_vector_append (&cv, strdup ("upload"));
  string_vector_append (&cv, strdup (script_path));
  string_vector_append (&cv, strdup ("/tmp/ferry-nic-names.sh"));
  string_vector_append (&cv, strdup (":"));
  string_vector_append (&cv, strdup ("sh"));
  string_vector_append (&cv, strdup ("/bin/sh /tmp/ferry-nic-names.sh"));
  string_vector_append (&cv, strdup (":"));
  string_vector_append (&cv, strdup ("rm"));
  string_vector_append (&cv, strdup ("/tmp/ferry-nic-names.sh"));
  string_vector_append (&cv, NULL);
  log_info ("VM %s: pinning the NIC names (guestfish: this virt-v2v-in-place has no --run)",
            name);
  st = run_logged (cv.ptr, env, log_path);
  string_vector_free_all (&cv);
  if (st != 0) {
    char buf[64];
    log_error ("VM %s: the NIC naming script could not run (guestfish %s); the last lines "
               "of the log:", name, st == -1 ? "is not installed: apt install guestfish"
               : spawn_status_str (st, buf, sizeof buf));
    return -1;
  }
  return 0;
}

/* The first-boot script, added by virt-customize. */
static int
add_firstboot (const json_t *devices, const char *boot, bool debug, const char *const *env,
               const char *name, const char *log_path)
{
  string_vector cv = empty_vector;
  int st;

  string_vector_append (&cv, strdup ("virt-customize"));
  append_debug_flags (&cv, debug);
  string_vector_append (&cv, strdup ("--no-network"));
  for (size_t i = 0; i < json_array_size (devices); i++) {
    string_vector_append (&cv, strdup ("--format"));
    string_vector_append (&cv, strdup ("raw"));
    string_vector_append (&cv, strdup ("-a"));
    string_vector_append (&cv, strdup (json_string_value (json_array_get (devices, i))));
  }
  string_vector_append (&cv, strdup ("--firstboot"));
  string_vector_append (&cv, strdup (boot));
  string_vector_append (&cv, NULL);
  log_info ("VM %s: adding the first-boot script with virt-customize (this "
            "virt-v2v-in-place has no --firstboot)", name);
  st = run_logged (cv.ptr, env, log_path);
  string_vector_free_all (&cv);
  if (st != 0) {
    char buf[64];
    log_error ("VM %s: virt-customize %s; the last lines of the log:", name, st == -1
               ? "is not installed: apt install libguestfs-tools"
               : spawn_status_str (st, buf, sizeof buf));
    return -1;
  }
  return 0;
}

static void
log_v2v_tail (const char *name, const char *log_path)
{
  CLEANUP_FREE char *prefix = xasprintf ("VM %s: virt-v2v", name);
  log_file_tail (log_path, 20, prefix ? prefix : "virt-v2v");
}

int
convert_guest (const struct config *cfg, const json_t *vm, const json_t *devices,
               const char *workdir, const char *log_path)
{
  const char *prog = convert_program ();
  const char *name = json_string_value (json_object_get (vm, "name"));
  const char *gid = json_string_value (json_object_get (vm, "guest_id"));
  const char *family = inventory_guest_family (gid);
  const char *boot = config_get_string (cfg, "boot_script_path");
  bool debug = config_get_bool (cfg, "debug");
  string_vector av = empty_vector;
  const char *env[] = { "LIBGUESTFS_BACKEND=direct", NULL, NULL, NULL };
  CLEANUP_FREE char *script_path = NULL;
  struct v2v_caps caps;
  int st, r;

  if ((r = convert_precheck (cfg, vm)) != 0)
    return r;
  if (debug) {
    env[1] = "LIBGUESTFS_DEBUG=1";
    env[2] = "LIBGUESTFS_TRACE=1";
  }
  if (boot && *boot && access (boot, R_OK) != 0) {
    log_error ("VM %s: boot_script_path %s can't be read (%s): it must be a file on the "
               "conversion host", name, boot, strerror (errno));
    return FERRY_EXIT_USAGE;
  }
  v2v_caps (prog, workdir, &caps);
  {
    /* This run's log alone (the last one kept as .1). */
    CLEANUP_FREE char *old = xasprintf ("%s.1", log_path);
    if (old)
      rename (log_path, old);
  }

  /* NIC names, for Linux guests with NICs. */
  if (strcmp (family, "linux") == 0 && json_array_size (json_object_get (vm, "nics"))
      && (r = write_nic_script (vm, workdir, name, &script_path)) != 0)
    return r;

  r = v2v_argv (&av, prog, cfg, vm, devices, workdir, script_path, &caps);
  if (r) {
    string_vector_free_all (&av);
    return r;
  }
  log_info ("VM %s: converting the guest with %s (log: %s)", name, prog, log_path);
  st = run_logged (av.ptr, env, log_path);
  string_vector_free_all (&av);
  if (st != 0) {
    char buf[64];
    log_error ("VM %s: virt-v2v-in-place failed (%s); its last lines:", name,
               st == -1 ? "did not run" : spawn_status_str (st, buf, sizeof buf));
    log_v2v_tail (name, log_path);
    return FERRY_EXIT_CONVERSION;
  }

  /* What this virt-v2v-in-place could not do itself (2.2 has no --run or
   * --firstboot).  The NIC script runs through guestfish, whose `sh`
   * prints the script's decisions into the log (virt-customize keeps them
   * to itself); the first-boot script is installed by virt-customize. */
  if ((script_path && !caps.run
       && pin_nic_names (devices, script_path, debug, env, name, log_path) == -1)
      || (boot && *boot && !caps.firstboot
          && add_firstboot (devices, boot, debug, env, name, log_path) == -1)) {
    log_v2v_tail (name, log_path);
    return FERRY_EXIT_CONVERSION;
  }
  log_conversion_facts (name, log_path);
  log_info ("VM %s: guest converted", name);
  return 0;
}

/* ---- restore points: Cinder snapshots taken before converting ---- */

static char *
restore_point_name (const char *vm, const char *volume_id)
{
  return xasprintf ("ferry-preconvert-%s-%.8s", vm, volume_id);
}

json_t *
convert_restore_points_take (struct os_client *os, const char *vm, const json_t *vol_ids,
                             bool *reused)
{
  json_t *out = json_object ();
  json_t *d;
  size_t i;

  json_array_foreach (vol_ids, i, d) {
    const char *vid = json_string_value (d);
    CLEANUP_FREE char *name = restore_point_name (vm, vid);
    CLEANUP_FREE char *last = NULL;
    CLEANUP_JSON json_t *have = os_snapshot_list (os, vid);
    CLEANUP_JSON json_t *snap = NULL;
    const char *sid = NULL;
    json_t *s;
    size_t j;
    int r;

    if (have == NULL || name == NULL)
      goto fail;
    /* One left by an interrupted run is the state before any conversion. */
    json_array_foreach (have, j, s)
      if (strcmp (json_string_value (json_object_get (s, "name")) ?: "", name) == 0
          && strcmp (json_string_value (json_object_get (s, "status")) ?: "", "available") == 0)
        sid = json_string_value (json_object_get (s, "id"));
    if (sid) {
      log_info ("VM %s: volume %s: restore point %s (from an earlier run) kept", vm, vid, sid);
      json_object_set_new (out, vid, json_string (sid));
      *reused = true;
      continue;
    }
    {
      CLEANUP_JSON json_t *md = json_pack ("{s:s}", "ferry_restore_point", vm);
      snap = os_snapshot_create (os, vid, name, "Taken by ferry before converting the guest: "
                                 "the volume is restored from it if the conversion fails; "
                                 "deleted after a successful one.", md);
    }
    if (snap == NULL)
      goto fail;
    sid = json_string_value (json_object_get (snap, "id"));
    r = os_snapshot_wait (os, sid, "available", 600, &last);
    if (r != 0) {
      log_warn ("VM %s: volume %s: the volume backend could not snapshot it (snapshot %s %s): "
                "converting WITHOUT a restore point; if the conversion fails, the volume is "
                "copied again from the source by a rerun", vm, vid, sid,
                r == -2 ? "still creating after 600 s" : last ? last : "failed");
      os_snapshot_delete (os, sid);
      convert_restore_points_drop (os, vm, out);
      json_object_clear (out);
      return out;
    }
    log_info ("VM %s: volume %s: restore point %s taken before the conversion", vm, vid, sid);
    json_object_set_new (out, vid, json_string (sid));
  }
  return out;

 fail:
  json_decref (out);
  return NULL;
}

int
convert_restore_points_restore (struct os_client *os, const char *vm, const json_t *points)
{
  const char *vid;
  json_t *sid;
  int rc = 0;

  json_object_foreach ((json_t *) points, vid, sid) {
    CLEANUP_JSON json_t *v = NULL;
    /* Cinder marks the volume available before the snapshot (which is
     * "restoring" until then): a restore is over when both are, else the
     * snapshot cannot be deleted yet. */
    if (os_volume_revert (os, vid, json_string_value (sid)) == -1
        || (v = os_volume_wait (os, vid, "available", 1800)) == NULL
        || os_snapshot_wait (os, json_string_value (sid), "available", 300, NULL) != 0) {
      log_error ("VM %s: volume %s could NOT be restored from its restore point %s: its "
                 "content is a partly converted guest; restore it by hand (openstack volume "
                 "revert %s) or run ferry teardown and migrate again", vm, vid,
                 json_string_value (sid), json_string_value (sid));
      rc = -1;
      continue;
    }
    log_info ("VM %s: volume %s restored from restore point %s (as copied, before the "
              "conversion)", vm, vid, json_string_value (sid));
  }
  return rc;
}

int
convert_restore_points_drop (struct os_client *os, const char *vm, const json_t *points)
{
  const char *vid;
  json_t *sid;
  int rc = 0;

  json_object_foreach ((json_t *) points, vid, sid)
    if (os_snapshot_delete (os, json_string_value (sid)) == -1
        || os_snapshot_wait (os, json_string_value (sid), "deleted", 300, NULL) != 0) {
      log_warn ("VM %s: restore point %s of volume %s could not be deleted: delete it by "
                "hand (openstack volume snapshot delete %s)", vm, json_string_value (sid), vid,
                json_string_value (sid));
      rc = -1;
    }
  return rc;
}

int
convert_restore_points_purge (struct os_client *os, const char *vm, const char *volume_id)
{
  CLEANUP_JSON json_t *have = os_snapshot_list (os, volume_id);
  CLEANUP_FREE char *name = restore_point_name (vm, volume_id);
  json_t *s;
  size_t i;
  int rc = have ? 0 : -1;

  json_array_foreach (have, i, s) {
    const char *sid = json_string_value (json_object_get (s, "id"));
    const char *status = json_string_value (json_object_get (s, "status")) ?: "";
    if (name == NULL || strcmp (json_string_value (json_object_get (s, "name")) ?: "", name))
      continue;
    /* One being deleted already (dropped after a restore) is waited for. */
    if ((strcmp (status, "deleting") && os_snapshot_delete (os, sid) == -1)
        || os_snapshot_wait (os, sid, "deleted", 300, NULL) != 0) {
      log_error ("VM %s: restore point %s of volume %s is still there: delete it "
                 "(openstack volume snapshot delete %s), then run teardown again", vm, sid,
                 volume_id, sid);
      rc = -1;
    }
  }
  return rc;
}
