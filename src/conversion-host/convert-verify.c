/* ferry: after virt-v2v, before the instance: is the converted guest
 * bootable on KVM?  See convert.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "conversion-host/convert.h"
#include "bootchain/bootchain.h"
#include "bootchain/boot-check.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

/* What the boot chain's verification found: 0 when the guest may go on,
 * else FERRY_EXIT_CONVERSION after naming what is wrong and what to do. */
static int
judge_boot_chain (const char *name, const struct bootchain_result *r, const char *log_path)
{
  switch (r->status) {
  case BOOTCHAIN_STATUS_OK:
    log_info ("VM %s: boot chain verified: %zu device reference%s, all resolve on KVM%s", name,
              r->n_refs, r->n_refs == 1 ? "" : "s", r->n_changes ? " (changes above)" : "");
    return 0;
  case BOOTCHAIN_STATUS_SKIPPED:
    log_info ("VM %s: boot chain not verified: %s", name, r->error ? r->error : "not covered");
    return 0;
  case BOOTCHAIN_STATUS_REFUSED:
    for (size_t i = 0; i < r->n_refusals; i++)
      log_error ("VM %s: %s line %u: %s %s: %s", name, r->refusals[i].file,
                 r->refusals[i].line, r->refusals[i].device, r->refusals[i].reason,
                 r->refusals[i].action);
    log_error ("VM %s: the converted guest would not boot on KVM: its boot chain names %zu "
               "device%s that will not exist there and cannot be rewritten safely (above); "
               "fix them in the source guest (UUID= or LABEL= names) and migrate again, or set "
               "skip_verify_boot: true if you know the guest boots anyway", name,
               r->n_refusals, r->n_refusals == 1 ? "" : "s");
    return FERRY_EXIT_CONVERSION;
  case BOOTCHAIN_STATUS_NEEDS_FIX:         /* not with fix; as an error */
  case BOOTCHAIN_STATUS_ERROR:
  default:
    log_error ("VM %s: the converted guest's boot chain could not be verified: %s; its log "
               "is %s (set skip_verify_boot: true to go on without this check)", name,
               r->error ? r->error : "?", log_path);
    return FERRY_EXIT_CONVERSION;
  }
}

/* One boot under QEMU, watched on the serial console. */
static int
boot_test (const struct config *cfg, const json_t *vm, const char *const *disks,
           const char *workdir, const struct bootchain_result *chain, json_t **boot_check)
{
  const char *name = json_string_value (json_object_get (vm, "name"));
  const char *fw = json_string_value (json_object_get (vm, "firmware"));
  CLEANUP_FREE char *console = xasprintf ("%s/boot-check.console", workdir);
  CLEANUP_FREE char *what = xasprintf ("VM %s", name);
  struct boot_check_opts o = {
    .disks = disks, .disk_bus = "virtio", .nic_model = "virtio-net-pci",
    .mac = json_string_value (json_object_get (json_array_get (json_object_get (vm, "nics"), 0),
                                               "mac")),
    .uefi = fw && strcmp (fw, "efi") == 0,
    .timeout_s = (int) config_get_int (cfg, "verify_boot_timeout"),
    .console_log = console, .what = what,
  };
  struct boot_check_result res;
  int rc;

  if (console == NULL || what == NULL)
    return FERRY_EXIT_CONVERSION;
  boot_check_guest (&o, chain, &res);
  *boot_check = boot_check_result_json (&res);
  switch (res.verdict) {
  case BOOT_CHECK_BOOTED:
    log_info ("VM %s: the converted guest booted on KVM's hardware in %.0f s (%s)", name,
              res.seconds, res.reason);
    rc = 0;
    break;
  case BOOT_CHECK_INTERRUPTED:
    rc = FERRY_EXIT_INTERRUPTED;
    break;
  case BOOT_CHECK_UNABLE:
    log_error ("VM %s: verify_boot: the boot test could not run: %s; install what is missing "
               "or set verify_boot: false", name, res.reason);
    rc = FERRY_EXIT_CONVERSION;
    break;
  case BOOT_CHECK_FAILED:
  default:
    log_error ("VM %s: verify_boot: the converted guest did NOT boot on KVM's hardware "
               "(virtio disks and NIC): %s after %.0f s; its console is %s", name, res.reason,
               res.seconds, console);
    rc = FERRY_EXIT_CONVERSION;
    break;
  }
  boot_check_result_clear (&res);
  return rc;
}

int
convert_verify (const struct config *cfg, const json_t *vm, const json_t *devices,
                const char *workdir, const char *log_path, json_t **boot_chain,
                json_t **boot_check)
{
  const char *name = json_string_value (json_object_get (vm, "name"));
  CLEANUP_FREE const char **disks = calloc (json_array_size (devices) + 1, sizeof *disks);
  bool boot = config_get_bool (cfg, "verify_boot");
  /* The default entry's kernel and initramfs, copied out for the boot test. */
  CLEANUP_FREE char *boot_dir = boot ? xasprintf ("%s/boot-entry", workdir) : NULL;
  struct bootchain_result *chain = NULL;
  size_t i;
  json_t *d;
  int rc = 0;

  *boot_chain = *boot_check = NULL;
  if (disks == NULL || (boot && boot_dir == NULL))
    return FERRY_EXIT_CONVERSION;
  json_array_foreach (devices, i, d)
    disks[i] = json_string_value (d);
  if (boot_dir && mkdir (boot_dir, 0700) == -1 && errno != EEXIST) {
    log_error ("VM %s: cannot make %s: %s", name, boot_dir, strerror (errno));
    return FERRY_EXIT_CONVERSION;
  }
  if (config_get_bool (cfg, "skip_verify_boot"))
    log_warn ("VM %s: skip_verify_boot: the converted guest's boot chain is NOT verified: a "
              "guest that names its disks by device (/dev/sda1) may not boot on KVM", name);
  else {
    struct bootchain_opts bo = { .fix = true, .logpath = log_path, .boot_dir = boot_dir };
    chain = bootchain_verify (disks, &bo);
    if (chain == NULL) {
      log_error ("VM %s: the converted guest's boot chain could not be verified (out of "
                 "memory)", name);
      rc = FERRY_EXIT_CONVERSION;
    }
    else {
      *boot_chain = bootchain_result_json (chain);
      rc = judge_boot_chain (name, chain, log_path);
    }
  }
  if (rc == 0 && boot)
    rc = boot_test (cfg, vm, disks, workdir, chain, boot_check);
  if (chain) {
    if (chain->boot_kernel)
      unlink (chain->boot_kernel);
    if (chain->boot_initrd)
      unlink (chain->boot_initrd);
    bootchain_result_free (chain);
  }
  if (boot_dir)
    rmdir (boot_dir);
  return rc;
}
