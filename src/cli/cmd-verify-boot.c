/* ferry verify-boot (plumbing): the boot-chain verifier of a converted
 * guest's disks (src/bootchain/bootchain.h), alone: list every block-device
 * reference of the boot chain and whether it resolves on KVM, with --fix
 * rewrite what is safe, and with --boot boot the disks once under QEMU
 * (boot-check.h).  What `migrate` runs after the conversion (verify_boot). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <getopt.h>

#include "cli/cli.h"
#include "bootchain/bootchain.h"
#include "bootchain/boot-check.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "config/validate.h"

enum { OPT_FIX = 0x200, OPT_FORMAT, OPT_DISK_FORMAT, OPT_LOG, OPT_BOOT, OPT_BOOT_TIMEOUT };

static void
print_table (const struct bootchain_result *r)
{
  size_t counts[BOOTCHAIN_UNCHECKED + 1] = { 0 };

  if (r->os_product || r->os_root)
    printf ("guest: %s %s, root %s, initramfs %s\n", r->os_distro ? r->os_distro : "",
            r->os_product ? r->os_product : "?",
            r->os_root ? r->os_root : "?", r->initramfs_tool ? r->initramfs_tool : "-");
  if (r->n_refs)
    printf ("%-10s %-34s %-14s %-28s %s\n", "STATE", "FILE:LINE", "KEY", "DEVICE",
            "ON THE TARGET");
  for (size_t i = 0; i < r->n_refs; i++) {
    const struct bootchain_ref *f = &r->refs[i];
    CLEANUP_FREE char *where = NULL;
    if (asprintf (&where, "%s:%u", f->file, f->line) == -1)
      where = NULL;
    counts[f->state]++;
    printf ("%-10s %-34s %-14s %-28s %s%s%s%s%s\n", bootchain_state_name (f->state),
            where ? where : f->file, f->key, f->device,
            f->target ? f->target : "",
            f->replacement ? (f->target ? " -> " : "-> ") : "",
            f->replacement ? f->replacement : "",
            f->note && f->state != BOOTCHAIN_REFUSED ? (f->target ? "  " : "") : "",
            f->note && f->state != BOOTCHAIN_REFUSED ? f->note : "");
  }
  if (r->n_changes) {
    printf ("\nchanged:\n");
    for (size_t i = 0; i < r->n_changes; i++)
      printf ("  %s:%u\n    - %s\n    + %s\n", r->changes[i].file, r->changes[i].line,
              r->changes[i].old_text, r->changes[i].new_text);
  }
  if (r->initramfs_command)
    printf ("\ninitramfs: %s (%s, as %s changed)\n",
            r->initramfs_rebuilt ? "rebuilt" : "would be rebuilt", r->initramfs_command,
            r->initramfs_reason ? r->initramfs_reason : "?");
  if (r->n_refusals) {
    printf ("\nrefused:\n");
    for (size_t i = 0; i < r->n_refusals; i++)
      printf ("  %s:%u: %s\n", r->refusals[i].file, r->refusals[i].line,
              r->refusals[i].reason);
  }
  printf ("\n%s: %zu reference%s: %zu resolved, %zu fixed, %zu fixable, %zu refused, "
          "%zu unchecked (%.0f s)\n", bootchain_status_name (r->status), r->n_refs,
          r->n_refs == 1 ? "" : "s", counts[BOOTCHAIN_RESOLVED], counts[BOOTCHAIN_FIXED],
          counts[BOOTCHAIN_FIXABLE], counts[BOOTCHAIN_REFUSED], counts[BOOTCHAIN_UNCHECKED],
          r->seconds);
  if (r->error)
    printf ("%s\n", r->error);
}

/* One option of verify-boot: 0, an exit code, or -1 if not one of its own. */
static int
parse_option (int c, struct bootchain_opts *o, const char **format, bool *boot,
              long long *boot_timeout)
{
  switch (c) {
  case OPT_FIX:
    o->fix = true;
    break;
  case OPT_FORMAT:
    *format = optarg;
    break;
  case OPT_DISK_FORMAT:
    o->disk_format = optarg;
    break;
  case OPT_LOG:
    o->logpath = optarg;
    break;
  case OPT_BOOT:
    *boot = true;
    break;
  case OPT_BOOT_TIMEOUT:
    if (parse_int_range (optarg, 30, 86400, boot_timeout) == -1) {
      fprintf (stderr, "ferry verify-boot: --boot-timeout needs seconds from 30 to 86400, "
               "not '%s'\n", optarg);
      return FERRY_EXIT_USAGE;
    }
    break;
  default:
    return -1;
  }
  return 0;
}

/* The format, the disk format and the disks (readable, and writable with
 * --fix). */
static int
check_arguments (struct cli *cli, int argc, char **argv, const char *format,
                 const struct bootchain_opts *o)
{
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0) {
    fprintf (stderr, "ferry verify-boot: --format must be table or json, not '%s'\n", format);
    return FERRY_EXIT_USAGE;
  }
  if (o->disk_format && strcmp (o->disk_format, "raw") != 0
      && strcmp (o->disk_format, "qcow2") != 0) {
    fprintf (stderr, "ferry verify-boot: --disk-format must be raw or qcow2, not '%s'\n",
             o->disk_format);
    return FERRY_EXIT_USAGE;
  }
  if (optind >= argc) {
    fprintf (stderr, "ferry verify-boot: no disk given\nUsage: %s\n", cli->cmd->usage);
    return FERRY_EXIT_USAGE;
  }
  for (int i = optind; i < argc; i++)
    if (access (argv[i], o->fix ? R_OK | W_OK : R_OK) == -1) {
      fprintf (stderr, "ferry verify-boot: %s: %s\n", argv[i], strerror (errno));
      return FERRY_EXIT_USAGE;
    }
  return 0;
}

/* --boot: one boot of the disks under QEMU, its console in boot_dir
 * (removed if it booted).  Its result as json; *booted. */
static json_t *
boot_once (const char *const *disks, const struct bootchain_opts *o,
           const struct bootchain_result *res, const char *boot_dir, long long boot_timeout,
           bool *booted)
{
  CLEANUP_FREE char *console = xasprintf ("%s/console", boot_dir);
  struct boot_check_opts bo = {
    .disks = disks, .disk_format = o->disk_format,
    .timeout_s = (int) boot_timeout, .console_log = console, .what = "verify-boot",
  };
  struct boot_check_result br;
  json_t *boot_json;

  boot_check_guest (&bo, res, &br);
  boot_json = boot_check_result_json (&br);
  *booted = br.verdict == BOOT_CHECK_BOOTED;
  if (br.verdict == BOOT_CHECK_BOOTED)
    log_info ("verify-boot: the guest booted in %.0f s (%s)", br.seconds, br.reason);
  else
    log_error ("verify-boot: the guest did NOT boot: %s after %.0f s; its console is kept: %s",
               br.reason, br.seconds, console ? console : boot_dir);
  boot_check_result_clear (&br);
  if (console && *booted) {
    CLEANUP_FREE char *q = xasprintf ("%s.qemu", console);
    CLEANUP_FREE char *k = xasprintf ("%s.qemu.kvm", console);
    unlink (console);
    if (q) unlink (q);
    if (k) unlink (k);
  }
  return boot_json;
}

static void
print_result (const char *format, const struct bootchain_result *res, json_t *boot_json)
{
  if (strcmp (format, "json") == 0) {
    CLEANUP_JSON json_t *j = bootchain_result_json (res);
    if (j && boot_json)
      json_object_set (j, "boot_check", boot_json);
    if (j)
      json_dumpf (j, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    printf ("\n");
  }
  else {
    print_table (res);
    if (boot_json)
      printf ("boot test (%s, %s): %s: %s (%.0f s)\n",
              json_string_value (json_object_get (boot_json, "boot")),
              json_string_value (json_object_get (boot_json, "accelerator")),
              json_string_value (json_object_get (boot_json, "result")),
              json_string_value (json_object_get (boot_json, "reason")),
              json_real_value (json_object_get (boot_json, "seconds")));
  }
}

/* The exit code for the verdict (said in the log). */
static int
verdict_exit_code (const struct bootchain_result *res, bool boot, bool boot_ok)
{
  switch (res->status) {
  case BOOTCHAIN_STATUS_OK:
    return boot && !boot_ok ? FERRY_EXIT_CONVERSION : FERRY_EXIT_OK;
  case BOOTCHAIN_STATUS_SKIPPED:
    log_warn ("verify-boot: %s", res->error);
    return boot && !boot_ok ? FERRY_EXIT_CONVERSION : FERRY_EXIT_OK;
  case BOOTCHAIN_STATUS_NEEDS_FIX:
    log_warn ("verify-boot: some references do not resolve on KVM; --fix rewrites them");
    return FERRY_EXIT_FAILED;
  case BOOTCHAIN_STATUS_REFUSED:
    log_error ("verify-boot: refused: the guest would not boot on KVM as it is; nothing was "
               "changed");
    return FERRY_EXIT_CONVERSION;
  case BOOTCHAIN_STATUS_ERROR:
  default:
    return FERRY_EXIT_CONVERSION;
  }
}

int
cmd_verify_boot (struct cli *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CLI_COMMON_LONG,
    { "fix", no_argument, NULL, OPT_FIX },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "disk-format", required_argument, NULL, OPT_DISK_FORMAT },
    { "log", required_argument, NULL, OPT_LOG },
    { "boot", no_argument, NULL, OPT_BOOT },
    { "boot-timeout", required_argument, NULL, OPT_BOOT_TIMEOUT },
    { NULL, 0, NULL, 0 }
  };
  struct bootchain_opts o = { 0 };
  struct bootchain_result *res;
  const char *format = "table";
  bool boot = false, boot_ok = false;
  long long boot_timeout = 600;
  char boot_dir[] = "/var/tmp/ferry-verify-boot-XXXXXX";
  CLEANUP_JSON json_t *boot_json = NULL;
  int c, r;

  opterr = 0;
  while ((c = getopt_long (argc, argv, "+" CLI_COMMON_SHORT, opts, NULL)) != -1) {
    if (cli_common_option (cli, c, optarg))
      continue;
    r = parse_option (c, &o, &format, &boot, &boot_timeout);
    if (r == -1)
      return cli_bad_option (cli, argv);
    if (r)
      return r;
  }
  r = check_arguments (cli, argc, argv, format, &o);
  if (r)
    return r;
  r = cli_load_config (cli);
  if (r)
    return r;

  if (boot) {
    if (mkdtemp (boot_dir) == NULL) {
      log_error ("verify-boot: cannot make %s: %s", boot_dir, strerror (errno));
      return FERRY_EXIT_FAILED;
    }
    o.boot_dir = boot_dir;
  }
  res = bootchain_verify ((const char *const *) argv + optind, &o);
  if (res == NULL) {
    log_error ("verify-boot: out of memory");
    if (boot)
      rmdir (boot_dir);
    return FERRY_EXIT_FAILED;
  }
  /* --boot: once the boot chain is sound, one boot under QEMU. */
  if (boot && (res->status == BOOTCHAIN_STATUS_OK || res->status == BOOTCHAIN_STATUS_SKIPPED))
    boot_json = boot_once ((const char *const *) argv + optind, &o, res, boot_dir,
                           boot_timeout, &boot_ok);
  if (boot) {
    if (res->boot_kernel)
      unlink (res->boot_kernel);
    if (res->boot_initrd)
      unlink (res->boot_initrd);
    rmdir (boot_dir);
  }
  print_result (format, res, boot_json);
  r = verdict_exit_code (res, boot, boot_ok);
  bootchain_result_free (res);
  return r;
}
