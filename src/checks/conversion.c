/* ferry: the conversion host's side of `ferry check` -- can this machine
 * convert the selected guests?  virt-v2v-in-place and its version,
 * virt-customize (NIC names on virt-v2v 2.2), libguestfs able to launch its
 * appliance, virtio-win for Windows guests, free space and memory for the
 * planned parallel conversions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include "checks/checks.h"
#include "conversion-host/convert.h"
#include "vsphere/inventory.h"
#include "common/cleanup.h"
#include "common/spawn.h"
#include "common/util.h"

#define GIB (1024.0 * 1024 * 1024)

/* Run argv with its output in path, at most timeout_s; returns the wait
 * status, -1 if it did not start, -2 on timeout (killed). */
static int
run_to_file (char *const argv[], const char *path, int timeout_s, double *secs)
{
  const char *env[] = { "LIBGUESTFS_BACKEND=direct", NULL };
  struct spawn_opts so = { .log_path = path, .env = env };
  struct timespec a, b;
  pid_t pid;
  int waited = 0;

  unlink (path);
  clock_gettime (CLOCK_MONOTONIC, &a);
  pid = spawn_start (argv, &so);
  if (pid == -1)
    return -1;
  for (;;) {
    int st;
    pid_t r = waitpid (pid, &st, WNOHANG);
    if (r == pid) {
      clock_gettime (CLOCK_MONOTONIC, &b);
      if (secs)
        *secs = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
      return WIFEXITED (st) && WEXITSTATUS (st) == 0 ? 0 : st ? st : -1;
    }
    if (r == -1)
      return -1;
    if (waited >= timeout_s * 10) {
      spawn_stop (pid, 2000);
      return -2;
    }
    sleep_ms (100);
    waited++;
  }
}

/* The first line of a file, trimmed (static buffer). */
static const char *
first_line (const char *path)
{
  static char line[256];
  FILE *fp = fopen (path, "r");

  line[0] = '\0';
  if (fp) {
    if (fgets (line, sizeof line, fp))
      line[strcspn (line, "\r\n")] = '\0';
    fclose (fp);
  }
  return line;
}

/* The last line of a file mentioning an error, else its last line. */
static const char *
error_line (const char *path)
{
  static char best[512];
  char line[512];
  FILE *fp = fopen (path, "r");

  best[0] = '\0';
  if (fp == NULL)
    return best;
  while (fgets (line, sizeof line, fp)) {
    line[strcspn (line, "\r\n")] = '\0';
    if (*line && (strstr (line, "error") || strstr (line, "Error") || best[0] == '\0'
                  || !strstr (best, "rror")))
      snprintf (best, sizeof best, "%s", line);
  }
  fclose (fp);
  return best;
}

static void
check_appliance (const struct config *cfg, const char *tmp, json_t *rows)
{
  const char *data = config_get_string (cfg, "os_migrate_vmw_data_dir");
  CLEANUP_FREE char *stamp = data ? xasprintf ("%s/.ferry-appliance-ok", data) : NULL;
  CLEANUP_FREE char *log = xasprintf ("%s/ferry-appliance-check.log", tmp);
  char *argv[] = { (char *) "guestfish", (char *) "--ro", (char *) "-a", (char *) "/dev/null",
                   (char *) "run", NULL };
  struct stat sb;
  double secs = 0;
  int st;

  /* A launch takes seconds to minutes (TCG): a success is remembered a day. */
  if (stamp && stat (stamp, &sb) == 0 && time (NULL) - sb.st_mtime < 86400) {
    check_row (rows, "appliance", "libguestfs", "pass",
               "launched its appliance %s (checked within the last day)", first_line (stamp));
    return;
  }
  if (spawn_which ("guestfish") != 0) {
    check_row (rows, "appliance", "libguestfs", "warn",
               "guestfish is not installed, so the appliance launch was not tried: install "
               "guestfish (Debian) or guestfs-tools (RHEL)");
    return;
  }
  st = run_to_file (argv, log, 600, &secs);
  if (st == 0) {
    check_row (rows, "appliance", "libguestfs", "pass", "launched its appliance in %.0f s",
               secs);
    if (stamp) {
      FILE *fp = fopen (stamp, "w");
      if (fp) {
        fprintf (fp, "in %.0f s\n", secs);
        fclose (fp);
      }
    }
  }
  else
    check_row (rows, "appliance", "libguestfs", "fail",
               "cannot launch its appliance (%s): %s; run libguestfs-test-tool for details "
               "(without usable KVM set LIBGUESTFS_BACKEND_SETTINGS=force_tcg)",
               st == -2 ? "no answer in 600 s" : "guestfish failed", error_line (log));
  unlink (log);
}

void
checks_conversion (const struct config *cfg, const json_t *vms, json_t *rows)
{
  const char *prog = convert_program ();
  const char *tmp = getenv ("TMPDIR");
  json_t *par = config_get (cfg, "ferry_parallel");
  long long parallel = json_is_integer (par) && json_integer_value (par) > 0
    ? json_integer_value (par) : 1;
  bool linux_vm = false;
  size_t i;
  json_t *vm;

  if (config_get_bool (cfg, "skip_conversion")) {
    check_row (rows, "conversion", "guests", "pass",
               "skip_conversion: the guests are migrated unconverted");
    return;
  }
  if (tmp == NULL || *tmp == '\0')
    tmp = "/var/tmp";
  if (prog == NULL) {
    check_row (rows, "virt-v2v", "conversion host", "fail",
               "virt-v2v-in-place is not installed: install virt-v2v (Debian/Ubuntu: apt "
               "install virt-v2v; RHEL/CentOS: dnf install virt-v2v), or set skip_conversion");
    return;
  }
  {
    CLEANUP_FREE char *out = xasprintf ("%s/ferry-v2v-version.txt", tmp);
    char *argv[] = { (char *) prog, (char *) "--version", NULL };
    int st = out ? run_to_file (argv, out, 60, NULL) : -1;
    check_row (rows, "virt-v2v", "conversion host", st == 0 ? "pass" : "fail", "%s%s",
               st == 0 ? first_line (out) : "virt-v2v-in-place --version failed: ",
               st == 0 ? "" : error_line (out));
    if (out)
      unlink (out);
  }

  json_array_foreach (vms, i, vm) {
    const char *name = json_string_value (json_object_get (vm, "name"));
    const char *gid = json_string_value (json_object_get (vm, "guest_id"));
    const char *family = inventory_guest_family (gid);
    if (family == NULL)
      check_row (rows, "guest-os", name, "fail",
                 "guest OS '%s' is not one virt-v2v converts: set skip_conversion to migrate "
                 "it unconverted", gid ? gid : "?");
    else if (strcmp (family, "windows") == 0) {
      CLEANUP_FREE char *v = convert_virtio_win_version ();
      if (v == NULL)
        check_row (rows, "virtio-win", name, "fail",
                   "Windows guest and no virtio-win on the conversion host: install virtio-win "
                   ">= 1.9.40 (dnf install virtio-win)");
      else
        check_row (rows, "virtio-win", name, "pass", "virtio-win %s", *v ? v : "(version "
                   "unknown)");
    }
    else
      linux_vm = true;
  }
  if (linux_vm)
    check_row (rows, "nic-names", "conversion host", spawn_which ("virt-customize") == 0
               ? "pass" : "warn", "%s", spawn_which ("virt-customize") == 0
               ? "virt-customize present: Linux NIC names are pinned to the VMware MACs"
               : "virt-customize missing: with virt-v2v 2.2 the Linux guests' NIC names can't "
               "be pinned (install libguestfs-tools / guestfs-tools)");

  check_appliance (cfg, tmp, rows);

  /* Room for the planned conversions: the appliance's overlay and cache
   * under TMPDIR, and its memory. */
  {
    struct statvfs sv;
    double need = 2.0 * parallel, have;
    if (statvfs (tmp, &sv) == 0) {
      have = (double) sv.f_bavail * sv.f_frsize / GIB;
      check_row (rows, "free-space", tmp, have >= need ? "pass" : "warn",
                 "%.1f GiB free, %.0f GiB wanted for %lld conversion%s at once", have, need,
                 parallel, parallel == 1 ? "" : "s");
    }
  }
  {
    FILE *fp = fopen ("/proc/meminfo", "r");
    char line[128];
    long long kb = -1;
    while (fp && fgets (line, sizeof line, fp))
      if (sscanf (line, "MemAvailable: %lld kB", &kb) == 1)
        break;
    if (fp)
      fclose (fp);
    if (kb >= 0) {
      double have = kb / 1024.0 / 1024.0, need = 2.0 * parallel;
      check_row (rows, "memory", "conversion host", have >= need ? "pass" : "warn",
                 "%.1f GiB available, %.0f GiB wanted for %lld conversion%s at once (2 GB "
                 "each)%s", have, need, parallel, parallel == 1 ? "" : "s",
                 have >= need ? "" : ": lower ferry_parallel");
    }
  }
}
