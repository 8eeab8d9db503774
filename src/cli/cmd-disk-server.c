/* ferry disk-server (plumbing): serve one VMware disk over NBD on a private
 * Unix socket, from the source the configuration picks (VDDK, datastore
 * HTTPS, local NFS mount, export lease), until interrupted.  Prints the
 * NBD URI.  What the migration does for each disk, exposed for debugging
 * and for tools such as nbdcopy or qemu-img.
 *
 * With the export source the VM's export lease is started first (the VM
 * must be powered off), completed when the server is stopped by a signal,
 * and aborted on every other path.  No keep-alive is sent meanwhile: the
 * lease times out after its info.leaseTimeout (300 s on vCenter) without
 * progress reports, so this is for reads shorter than that (vCenter then
 * cancels the lease and the disk URL stops answering). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <getopt.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sources/disk-source.h"
#include "vsphere/select.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "config/validate.h"

int
cmd_disk_server (struct cli *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CLI_COMMON_LONG,
    { "vm", required_argument, NULL, 'v' },
    { "disk", required_argument, NULL, 'd' },
    { "source", required_argument, NULL, 's' },
    { "print-argv", no_argument, NULL, 'p' },
    { "workdir", required_argument, NULL, 'w' },
    { NULL, 0, NULL, 0 }
  };
  const char *vmname = NULL, *diskarg = NULL, *source = NULL, *workdir = NULL;
  bool print_argv = false;
  CLEANUP_JSON json_t *names = json_array ();
  CLEANUP_VM_SELECTION struct vm_selection sel = { 0 };
  CLEANUP_FREE char *wd = NULL;
  CLEANUP_FREE char *logp = NULL;
  struct vsphere *vs;
  struct disk_source_plan plan;
  struct disk_source src;
  const json_t *vm, *disk = NULL;
  json_t *d;
  size_t i;
  int c, r;
  long long disk_index = -1;
  bool disk_index_ok;

  opterr = 0;
  while ((c = getopt_long (argc, argv, "+" CLI_COMMON_SHORT, opts, NULL)) != -1) {
    if (cli_common_option (cli, c, optarg))
      continue;
    switch (c) {
    case 'v': vmname = optarg; break;
    case 'd': diskarg = optarg; break;
    case 's': source = optarg; break;
    case 'p': print_argv = true; break;
    case 'w': workdir = optarg; break;
    default: return cli_bad_option (cli, argv);
    }
  }
  if (!vmname || !diskarg || optind < argc) {
    fprintf (stderr, "Usage: %s\n", cli->cmd->usage);
    return FERRY_EXIT_USAGE;
  }
  r = cli_load_config (cli);
  if (r)
    return r;
  if (source) {
    CLEANUP_JSON json_t *o = json_pack ("{s:s}", "disk_source", source);
    if (config_add_json (cli->cfg, o, "--source") == -1)
      return FERRY_EXIT_USAGE;
  }
  json_array_append_new (names, json_string (vmname));
  r = select_vms (cli->cfg, names, NULL, &sel);
  if (r)
    return r;
  vs = sel.vs;
  vm = json_array_get (sel.vms, 0);
  if (vm == NULL)
    return FERRY_EXIT_FAILED;
  /* --disk INDEX: digits only (0-based); anything else is a disk key. */
  disk_index_ok = parse_int_range (diskarg, 0, 999, &disk_index) == 0;
  json_array_foreach (json_object_get (vm, "disks"), i, d) {
    char key[32];
    snprintf (key, sizeof key, "%lld", (long long) json_integer_value (json_object_get (d, "key")));
    if (strcmp (key, diskarg) == 0 || (disk_index_ok && (size_t) disk_index == i))
      disk = d;
  }
  if (disk == NULL) {
    log_error ("VM %s has no disk '%s': give a disk key (see ferry discover) or a 0-based "
               "index", vmname, diskarg);
    return FERRY_EXIT_USAGE;
  }
  if (workdir == NULL) {
    wd = xasprintf ("/tmp/ferry-disk-server-%d", (int) getpid ());
    workdir = wd;
  }
  logp = xasprintf ("%s.log", workdir);
  r = disk_source_plan (vs, cli->cfg, vm, disk, NULL, workdir, logp, &plan);
  if (r)
    return r;
  if (print_argv) {
    CLEANUP_STRV char **av = NULL;
    CLEANUP_FREE char *sock = xasprintf ("%s/nbd.sock", workdir);
    CLEANUP_FREE char *sec = xasprintf ("%s/secret", workdir);
    r = disk_source_argv (&plan.req, sock, sec, &av);
    if (r == 0) {
      for (i = 0; av[i]; i++)
        printf ("%s\n", av[i]);
      r = disk_source_available (&plan.req) == 0 ? 0 : FERRY_EXIT_DATA;
    }
    else
      r = FERRY_EXIT_USAGE;
    disk_source_plan_free (&plan);      /* aborts an export lease */
    return r;
  }
  {
    sigset_t set;
    int sig;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    sigaddset (&set, SIGHUP);
    sigprocmask (SIG_BLOCK, &set, NULL);
    r = disk_source_start (&plan.req, &src);
    if (r == 0) {
      vs_keepalive_start (vs, 240);       /* the server reads with our cookie */
      printf ("%s\n", src.uri);
      fflush (stdout);
      log_info ("serving %s until interrupted", plan.req.what);
      sigwait (&set, &sig);
      disk_source_stop (&src);
      rmdir (workdir);
      unlink (logp);
      r = FERRY_EXIT_OK;
      if (disk_source_plan_complete (&plan) == -1)
        r = FERRY_EXIT_SOURCE;
    }
  }
  disk_source_plan_free (&plan);
  return r;
}
