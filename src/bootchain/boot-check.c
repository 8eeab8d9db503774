/* ferry: boot a converted guest once and watch its serial console, see
 * boot-check.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bootchain/boot-check.h"
#include "bootchain/bootchain.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/spawn.h"
#include "common/util.h"
#include "common/vector.h"

/* How a boot ends, as guests print it on their console. */
static const struct marker {
  int kind;                   /* 1 user space, -1 failure, 2 root wait, 3 root found */
  const char *re;
  const char *why;
} markers[] = {
  { 1, "login: ", "a login prompt" },
  { 1, "Reached target .*(Multi-User System|Graphical Interface)",
    "systemd reached its multi-user target" },
  { -1, "Gave up waiting for root", "the initramfs gave up waiting for its root device" },
  { -1, "ALERT! .* does not exist", "the initramfs found no root device (ALERT! ... does not exist)" },
  { -1, "\\(initramfs\\) ", "the initramfs dropped to its rescue shell" },
  { -1, "Kernel panic - not syncing", "a kernel panic" },
  { -1, "VFS: Unable to mount root fs", "the kernel could not mount its root file system" },
  { -1, "Cannot open root device", "the kernel could not open its root device" },
  { -1, "You are in emergency mode|Entering emergency mode|Give root password for maintenance",
    "the guest entered emergency mode (a file system in fstab or the root could not be mounted)" },
  { -1, "Could not boot\\.", "dracut could not boot (its root or a device it waits for is missing)" },
  { -1, "Warning: /dev/[^ ]+ does not exist", "dracut: a device named in the boot chain does not exist" },
  { -1, "grub rescue>", "GRUB's rescue prompt (GRUB could not find its files)" },
  /* GRUB's "error: no such device" alone is not one: a search can fail and
   * a fallback still boot.  A fatal one ends in its rescue prompt. */
  { -1, "No bootable device|Boot failed: not a bootable disk", "the firmware found nothing to boot" },
  /* Debian's initramfs prints this once udev has settled without the root
   * device.  dracut's "timeout, still waiting for ... initqueue hooks" is
   * not one: its timeout scripts may still assemble the root (degraded
   * RAID, LVM); its verdict is "Could not boot." or emergency mode. */
  { 2, "Begin: Waiting for root file system", "the initramfs is waiting for its root device" },
  { 3, "EXT4-fs \\([^)]*\\): mounted|XFS \\([^)]*\\): Ending clean mount|Will now check root file system"
    "|Running /scripts/local-bottom|Switching root", NULL },
};
#define NMARKERS (sizeof markers / sizeof markers[0])

static regex_t compiled[NMARKERS];
static bool compiled_ok;
static pthread_once_t compiled_once = PTHREAD_ONCE_INIT;

/* Once per process: VMs are verified in parallel worker threads. */
static void
compile_markers_once (void)
{
  compiled_ok = true;
  for (size_t i = 0; i < NMARKERS; i++)
    if (regcomp (&compiled[i], markers[i].re, REG_EXTENDED) != 0)
      compiled_ok = false;
}

static int
compile_markers (void)
{
  pthread_once (&compiled_once, compile_markers_once);
  return compiled_ok ? 0 : -1;
}

/* The offset just past the last match of marker i in text, or -1. */
static long
last_match (size_t i, const char *text)
{
  regmatch_t m;
  long end = -1;
  size_t base = 0;

  while (text[base] && regexec (&compiled[i], text + base, 1, &m, base ? REG_NOTBOL : 0) == 0) {
    end = (long) (base + m.rm_eo);
    base += m.rm_eo > 0 ? (size_t) m.rm_eo : 1;
  }
  return end;
}

int
boot_check_scan (const char *text, size_t len, const char **why)
{
  CLEANUP_FREE char *t = malloc (len + 1);
  long wait_at = -1, found_at = -1;

  *why = NULL;
  if (t == NULL || compile_markers () == -1)
    return 0;
  /* A console carries NULs and escape sequences: keep the text matchable. */
  for (size_t i = 0; i < len; i++)
    t[i] = text[i] == '\0' ? ' ' : text[i];
  t[len] = '\0';
  for (size_t i = 0; i < NMARKERS; i++) {
    long at = last_match (i, t);
    if (at < 0)
      continue;
    switch (markers[i].kind) {
    case 1: case -1:
      *why = markers[i].why;
      return markers[i].kind;
    case 2: if (at > wait_at) { wait_at = at; *why = markers[i].why; } break;
    case 3: if (at > found_at) found_at = at; break;
    }
  }
  if (wait_at > found_at)
    return 2;
  *why = NULL;
  return 0;
}

static bool
have_kvm (void)
{
  int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd == -1)
    return false;
  close (fd);
  return true;
}

static const char *
ovmf_code (void)
{
  static const char *const paths[] = { "/usr/share/OVMF/OVMF_CODE_4M.fd",
                                       "/usr/share/OVMF/OVMF_CODE.fd",
                                       "/usr/share/edk2/ovmf/OVMF_CODE.fd", NULL };
  for (size_t i = 0; paths[i]; i++)
    if (access (paths[i], R_OK) == 0)
      return paths[i];
  return NULL;
}

/* A private copy of a file (the UEFI variables template): 0 or -1. */
static int
copy_to (const char *from, const char *to)
{
  char buf[65536];
  ssize_t n = 0;
  int in = open (from, O_RDONLY | O_CLOEXEC);
  int out = in == -1 ? -1 : open (to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int r = in == -1 || out == -1 ? -1 : 0;

  while (r == 0 && (n = read (in, buf, sizeof buf)) > 0)
    if (write (out, buf, n) != n)
      r = -1;
  if (n < 0)
    r = -1;
  if (in != -1)
    close (in);
  if (out != -1 && close (out) == -1)
    r = -1;
  return r;
}

static int
add (string_vector *v, char *s)
{
  return s ? string_vector_append (v, s) : -1;
}

/* QEMU's command line for opts, or -1 (res->reason says why). */
static int
qemu_argv (const struct boot_check_opts *o, bool kvm, const char *vars, string_vector *v,
           struct boot_check_result *res)
{
  bool scsi = o->disk_bus && strcmp (o->disk_bus, "scsi") == 0;
  int r = 0;

  r |= add (v, strdup ("qemu-system-x86_64"));
  r |= add (v, strdup ("-no-user-config"));
  r |= add (v, strdup ("-nodefaults"));
  r |= add (v, strdup ("-display"));
  r |= add (v, strdup ("none"));
  r |= add (v, strdup ("-vga"));
  r |= add (v, strdup ("std"));
  r |= add (v, strdup ("-machine"));
  r |= add (v, strdup (kvm ? "q35,accel=kvm" : "q35,accel=tcg"));
  r |= add (v, strdup ("-cpu"));
  r |= add (v, strdup (kvm ? "host" : "max"));
  r |= add (v, strdup ("-m"));
  r |= add (v, strdup ("1024"));
  /* Every write goes to a temporary overlay: the volumes stay as converted. */
  r |= add (v, strdup ("-snapshot"));
  if (o->uefi) {
    const char *code = ovmf_code ();
    if (code == NULL) {
      res->reason = strdup ("the guest boots with UEFI and no OVMF firmware is installed "
                            "(apt install ovmf)");
      return -1;
    }
    r |= add (v, strdup ("-drive"));
    r |= add (v, xasprintf ("if=pflash,format=raw,readonly=on,file=%s", code));
    r |= add (v, strdup ("-drive"));
    r |= add (v, xasprintf ("if=pflash,format=raw,file=%s", vars));
  }
  if (scsi) {
    r |= add (v, strdup ("-device"));
    r |= add (v, strdup ("virtio-scsi-pci,id=scsi0"));
  }
  for (size_t i = 0; o->disks[i]; i++) {
    r |= add (v, strdup ("-drive"));
    r |= add (v, xasprintf ("file=%s,format=%s,if=none,id=disk%zu,cache=unsafe", o->disks[i],
                            o->disk_format ? o->disk_format : "raw", i));
    r |= add (v, strdup ("-device"));
    r |= add (v, xasprintf ("%s,drive=disk%zu%s", scsi ? "scsi-hd,bus=scsi0.0" : "virtio-blk-pci",
                            i, i == 0 ? ",bootindex=1" : ""));
  }
  /* A network that reaches nothing: the guest is a copy of a live server. */
  r |= add (v, strdup ("-netdev"));
  r |= add (v, strdup ("user,id=net0,restrict=on"));
  r |= add (v, strdup ("-device"));
  r |= add (v, o->mac ? xasprintf ("%s,netdev=net0,mac=%s", o->nic_model ?: "virtio-net-pci", o->mac)
                      : xasprintf ("%s,netdev=net0", o->nic_model ?: "virtio-net-pci"));
  r |= add (v, strdup ("-chardev"));
  r |= add (v, xasprintf ("file,id=console,path=%s", o->console_log));
  r |= add (v, strdup ("-serial"));
  r |= add (v, strdup ("chardev:console"));
  if (o->kernel) {
    r |= add (v, strdup ("-kernel"));
    r |= add (v, strdup (o->kernel));
    if (o->initrd) {
      r |= add (v, strdup ("-initrd"));
      r |= add (v, strdup (o->initrd));
    }
    r |= add (v, strdup ("-append"));
    r |= add (v, xasprintf ("%s console=ttyS0", o->append ? o->append : ""));
  }
  r |= string_vector_append (v, NULL);
  if (r) {
    res->reason = strdup ("out of memory");
    return -1;
  }
  return 0;
}

static double
now_mono (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Append what the console file has gained since *off to the window (the
 * console's last bytes), keeping at most cap bytes. */
static void
read_console (int fd, char *win, size_t cap, size_t *len)
{
  char buf[4096];
  ssize_t n;

  while ((n = read (fd, buf, sizeof buf < cap ? sizeof buf : cap)) > 0) {
    if (*len + n > cap) {
      size_t drop = *len + n - cap;
      memmove (win, win + drop, *len - drop);
      *len -= drop;
    }
    memcpy (win + *len, buf, n);
    *len += n;
  }
}

/* One boot with the accelerator res->kvm says; *early: QEMU ended before
 * the guest wrote anything (an accelerator that does not work here). */
static void
boot_once (const struct boot_check_opts *o, const char *qlog, const char *vars,
           struct boot_check_result *res, bool *early)
{
  string_vector av = empty_vector;
  int timeout = o->timeout_s > 0 ? o->timeout_s : 600;
  int root_wait = o->root_wait_s > 0 ? o->root_wait_s : 20;
  const char *what = o->what ? o->what : "guest";
  char window[16384];
  size_t wlen = 0;
  double t0 = now_mono (), waiting_since = 0;
  pid_t pid;
  int fd = -1;

  *early = false;
  res->verdict = BOOT_CHECK_UNABLE;
  if (qemu_argv (o, res->kvm, vars, &av, res) == -1)
    goto out;
  unlink (o->console_log);
  unlink (qlog);
  fd = open (o->console_log, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd == -1) {
    res->reason = xasprintf ("cannot create the console log %s: %s", o->console_log,
                             strerror (errno));
    goto out;
  }
  log_info ("%s: booting the converted disks once under QEMU (%s, %s disks, -snapshot: "
            "nothing is written to them; console: %s)", what, res->kvm ? "KVM" : "TCG",
            o->disk_bus && strcmp (o->disk_bus, "scsi") == 0 ? "virtio-scsi" : "virtio-blk",
            o->console_log);
  pid = spawn_start (av.ptr, &(struct spawn_opts) { .log_path = qlog });
  if (pid == -1) {
    res->reason = strdup ("QEMU did not start");
    goto out;
  }
  res->verdict = BOOT_CHECK_FAILED;
  for (;;) {
    const char *why = NULL;
    double now = now_mono ();
    int k;

    read_console (fd, window, sizeof window, &wlen);
    k = boot_check_scan (window, wlen, &why);
    if (k == 1) {
      res->verdict = BOOT_CHECK_BOOTED;
      res->reason = strdup (why);
      break;
    }
    if (k == -1) {
      res->reason = strdup (why);
      break;
    }
    if (k == 2 && waiting_since == 0)
      waiting_since = now;
    if (k != 2)
      waiting_since = 0;
    if (waiting_since && now - waiting_since > root_wait) {
      res->reason = xasprintf ("%s, and no root device appeared within %d s", why, root_wait);
      break;
    }
    if (now - t0 > timeout) {
      res->reason = xasprintf ("no verdict within %d s (the console %s); the guest may "
                               "not write to the serial console", timeout,
                               wlen ? "shows no login prompt" : "stayed empty");
      break;
    }
    if (signals_pending ()) {
      res->verdict = BOOT_CHECK_INTERRUPTED;
      res->reason = strdup ("interrupted by a signal");
      break;
    }
    if (!spawn_alive (pid)) {
      read_console (fd, window, sizeof window, &wlen);
      if (boot_check_scan (window, wlen, &why) == 1) {
        res->verdict = BOOT_CHECK_BOOTED;
        res->reason = strdup (why);
      }
      else {
        *early = wlen == 0;
        res->reason = xasprintf ("QEMU ended before the guest reached user space (its "
                                 "messages: %s)", qlog);
      }
      pid = -1;
      break;
    }
    sleep_ms (200);
  }
  if (pid != -1)
    spawn_stop (pid, 5000);
  res->seconds = now_mono () - t0;
 out:
  if (fd != -1)
    close (fd);
  string_vector_free_all (&av);
}

enum boot_check_verdict
boot_check_run (const struct boot_check_opts *o, struct boot_check_result *res)
{
  CLEANUP_FREE char *qlog = o->console_log ? xasprintf ("%s.qemu", o->console_log) : NULL;
  CLEANUP_FREE char *vars = o->console_log ? xasprintf ("%s.efivars", o->console_log) : NULL;
  bool early = false;

  memset (res, 0, sizeof *res);
  res->verdict = BOOT_CHECK_UNABLE;
  if (o->disks == NULL || o->disks[0] == NULL || qlog == NULL || vars == NULL) {
    res->reason = strdup ("nothing to boot");
    return res->verdict;
  }
  if (spawn_which ("qemu-system-x86_64") != 0) {
    res->reason = strdup ("qemu-system-x86_64 is not installed (apt install qemu-system-x86)");
    return res->verdict;
  }
  if (o->uefi && ovmf_code ()) {
    /* The firmware's variables: a fresh copy of the template per boot. */
    const char *tmpl = strstr (ovmf_code (), "_4M") ? "/usr/share/OVMF/OVMF_VARS_4M.fd"
                                                     : "/usr/share/OVMF/OVMF_VARS.fd";
    if (copy_to (tmpl, vars) == -1) {
      res->reason = xasprintf ("cannot copy the UEFI variables template %s", tmpl);
      return res->verdict;
    }
  }
  res->kvm = have_kvm ();
  boot_once (o, qlog, vars, res, &early);
  if (res->kvm && early) {
    /* /dev/kvm can be there and not work (nested virtualisation without
     * the features QEMU needs): then TCG, slower but the same verdict. */
    log_warn ("%s: QEMU could not run the guest with KVM (see %s): booting with TCG",
              o->what ? o->what : "guest", qlog);
    free (res->reason);
    res->reason = NULL;
    res->kvm = false;
    {
      CLEANUP_FREE char *kept = xasprintf ("%s.kvm", qlog);
      if (kept)
        rename (qlog, kept);
    }
    boot_once (o, qlog, vars, res, &early);
  }
  unlink (vars);
  if (res->reason == NULL)
    res->reason = strdup ("?");
  return res->verdict;
}

void
boot_check_result_clear (struct boot_check_result *res)
{
  free (res->reason);
  res->reason = NULL;
}

json_t *
boot_check_result_json (const struct boot_check_result *res)
{
  static const char *const names[] = { "booted", "failed", "unable", "interrupted" };
  return json_pack ("{s:s, s:s?, s:f, s:s, s:s}", "result", names[res->verdict], "reason",
                    res->reason, "seconds", res->seconds, "accelerator", res->kvm ? "kvm" : "tcg",
                    "boot", res->direct ? "default entry's kernel" : "boot loader");
}

enum boot_check_verdict
boot_check_guest (struct boot_check_opts *o, const struct bootchain_result *chain,
                  struct boot_check_result *res)
{
  const char *what = o->what ? o->what : "guest";
  bool direct = chain && chain->boot_kernel && chain->boot_cmdline
    && !strstr (chain->boot_cmdline, "console=ttyS");

  if (direct) {
    o->kernel = chain->boot_kernel;
    o->initrd = chain->boot_initrd;
    o->append = chain->boot_cmdline;
    log_info ("%s: the guest's boot loader does not write to the serial console: the boot "
              "test boots its default entry's kernel and initramfs directly, with its command "
              "line and console=ttyS0", what);
  }
  else if (chain && chain->boot_note)
    log_info ("%s: the boot test boots through the guest's boot loader (%s)", what,
              chain->boot_note);
  boot_check_run (o, res);
  res->direct = direct;
  return res->verdict;
}
