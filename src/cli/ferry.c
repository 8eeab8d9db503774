/* ferry: main entry point and the table of subcommands (as git.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <libxml/parser.h>

#include "cli/cli.h"
#include "common/error.h"
#include "common/http.h"
#include "common/log.h"
#include "common/redact.h"
#include "common/util.h"

#define SELECT_HELP \
  "Selection:\n" \
  "      --vm NAME            work on this VM (repeatable); default: vms_list\n"
#define ARGS_HELP \
  "      --args FILE          os-migrate's args.json (its migrate module's arguments:\n" \
  "                           user, password, server, vmname, cbtsync, ...); -e wins\n"

#define PARALLEL_USAGE " [--parallel N] [--report FILE]"
#define PARALLEL_HELP \
  "Many VMs at once:\n" \
  "      --parallel N         migrate N VMs at once (ferry_parallel, default 1)\n" \
  "      --max-disks M        copy at most M disks at once overall (ferry_max_disks,\n" \
  "                           default 2 x N); a VM's disks copy at once within it\n" \
  "      --max-disks-per-host H  at most H at once per ESXi host\n" \
  "                           (ferry_max_disks_per_host, default 10)\n" \
  "      --progress MODE      auto (default: tty on a terminal with N > 1, else\n" \
  "                           plain), tty (a line per VM and disk, redrawn), json\n" \
  "                           (one event object per line on stderr) or plain (log)\n" \
  "      --events FILE        append the JSON events to FILE as well\n" \
  "      --report FILE        write each VM's outcome, time and disks as JSON\n"

const struct command commands[] = {
  { "discover", cmd_discover,
    "Inventory VMs from vCenter/ESXi and flag migration blockers",
    "ferry discover [-e @FILE]... [--vm NAME]... [--all] [--format table|json|yaml|csv] "
    "[--output-dir DIR]",
    SELECT_HELP
    "      --all                every VM of the datacenter\n"
    "      --format FMT         table (default), json, yaml or csv\n"
    "      --output-dir DIR     where to write <vm>/vm.json and os-migrate's files\n"
    "                           (default: os_migrate_vmw_data_dir)\n"
    "      --no-write           write no files, only print\n" },
  { "check", cmd_check,
    "Check both sides before migrating: credentials, privileges, reachability, quotas, tools",
    "ferry check [-e @FILE]... [--vm NAME]... [--warm] [--parallel N] [--format table|json]",
    "      --vm NAME            check this VM (repeatable); default: vms_list\n"
    "      --warm               a warm migration is planned: CBT off is a failure\n"
    "                           (implied by cbt_sync: true)\n"
    "      --parallel N         N migrations at once are planned (ferry_parallel):\n"
    "                           warn if the conversion host's vCPUs, RAM (1 vCPU +\n"
    "                           2 GiB each) or attach limit (~25 volumes) is short\n"
    "      --format FMT         table (default) or json\n"
    "Exit status 1 if any check failed.\n" },
  { "copy", cmd_copy,
    "Copy a disk between NBD, files and block devices (the migration's data path)",
    "ferry copy [OPTIONS] SRC DST    (SRC, DST: nbd://..., nbd+unix:///?socket=..., file, "
    "block device; SRC also https://...)",
    "      --extents FILE       copy only these areas ([{\"start\":N,\"length\":N},...])\n"
    "      --checkpoint FILE    record finished ranges; a rerun copies only what is missing\n"
    "                           (and only into the destination the checkpoint describes)\n"
    "      --checkpoint-interval MS  how often finished ranges are flushed and recorded\n"
    "                           (default 2000)\n"
    "      --destination-is-zero  the destination reads as zeroes: skip zero areas\n"
    "      --verify             compare source and destination (crc32) after copying\n"
    "      --progress[=json]    a bar with bytes, rate and ETA; json: one object per second\n"
    "      --connections N      connections and threads (default 4; 1 without multi-conn)\n"
    "      --requests N         requests in flight per connection (default 16)\n"
    "      --request-size SIZE  bytes per request (default 256K)\n"
    "      --retries N          retries of a failed request, with backoff (default 5)\n"
    "      --no-extents         don't ask the source for extents; detect zeroes in data\n"
    "An https:// source (e.g. a datastore file, /folder/...) is read by ferry itself:\n"
    "      --cacert FILE        verify its certificate with this CA (default: the system store)\n"
    "      --thumbprint FP      or pin its SHA-1 thumbprint (AA:BB:...)\n"
    "      --insecure           don't verify it (warned)\n"
    "      --cookie-file FILE   send the cookie NAME=VALUE on its first line (e.g.\n"
    "                           vmware_soap_session=...)\n"
    "Exit status 5 if reading, writing, flushing or verifying failed.\n" },
  { "migrate", cmd_migrate,
    "Migrate VMs: snapshot, copy disks to Cinder volumes, convert, create the instance",
    "ferry migrate [-e @FILE]... [--args FILE] [--vm NAME]... [--dry-run] [--no-conversion-host]"
    PARALLEL_USAGE,
    SELECT_HELP
    ARGS_HELP PARALLEL_HELP
    "      --dry-run            show the plan per VM, change nothing\n"
    "      --no-conversion-host copy to local images, upload them to Glance and boot from\n"
    "                           volumes made from them (use_conversion_host: false)\n" },
  { "sync", cmd_sync,
    "Warm migration: copy the blocks changed since the last sync (CBT), VM running",
    "ferry sync [-e @FILE]... [--args FILE] [--vm NAME]... [--enable-cbt] [--every SECONDS] "
    "[--until-delta BYTES] [--dry-run]" PARALLEL_USAGE,
    SELECT_HELP
    ARGS_HELP PARALLEL_HELP
    "      --enable-cbt         turn CBT on where it is off (else: refused)\n"
    "      --every SECONDS      keep syncing at this interval (sync_interval) until Ctrl-C\n"
    "      --until-delta BYTES  stop when a sync copies less than this (K, M, G)\n"
    "      --dry-run            show the plan, change nothing\n" },
  { "cutover", cmd_cutover,
    "Warm migration: shut down, last sync, convert, create the instance",
    "ferry cutover [-e @FILE]... [--args FILE] [--vm NAME]... [--enable-cbt]" PARALLEL_USAGE,
    SELECT_HELP
    ARGS_HELP PARALLEL_HELP
    "The guest is shut down (shutdown_timeout, then power-off if force_power_off)\n"
    "before the final snapshot; the downtime is measured until the server is ACTIVE.\n" },
  { "rollback", cmd_rollback,
    "Undo a migration: delete the destination, power the VMware VM back on",
    "ferry rollback [-e @FILE]... [--vm NAME]...",
    SELECT_HELP },
  { "status", cmd_status,
    "Show each VM's migration phase, bytes copied, syncs and resources created",
    "ferry status [-e @FILE]... [--vm NAME]... [--format table|json]",
    "      --vm NAME            this VM (repeatable); default: vms_list, else every VM\n"
    "                           with state in os_migrate_vmw_data_dir\n"
    "      --format FMT         table (default) or json\n" },
  { "teardown", cmd_teardown,
    "Delete what ferry created on the destination for the selected VMs",
    "ferry teardown [-e @FILE]... [--vm NAME]...",
    "      --vm NAME            this VM (repeatable); default: vms_list\n"
    "Deletes the server, ports, volumes and flavor ferry created (per delete_os_instance,\n"
    "delete_os_port, delete_os_volume), nothing else.  The source VM is not touched.\n" },
  { "disk-server", cmd_disk_server,
    "Serve one VMware disk over NBD (plumbing: what migrate reads from)",
    "ferry disk-server [-e @FILE]... --vm NAME --disk KEY|INDEX [--source auto|vddk|nfc|https|local|export] "
    "[--print-argv] [--workdir DIR]",
    "      --vm NAME            the VM\n"
    "      --disk KEY|INDEX     the disk: its key (ferry discover) or 0-based index\n"
    "      --source KIND        auto (VDDK if installed, else https), vddk, nfc (ferry's\n"
    "                           NFC plugin; ESXi opens a running VM's disks only through\n"
    "                           a snapshot), https, local, export (export lease: the VM\n"
    "                           must be powered off)\n"
    "                           (default: disk_source)\n"
    "      --print-argv         print the NBD server's command line (no secrets) and exit\n"
    "      --workdir DIR        private directory for the socket (default /tmp/ferry-disk-server-PID)\n"
    "Prints the NBD URI (nbd+unix:///?socket=...) and serves until SIGINT/SIGTERM.\n" },
  { "verify-boot", cmd_verify_boot,
    "Check (--fix) a converted Linux guest's boot chain for disk names KVM lacks (plumbing)",
    "ferry verify-boot [--fix] [--boot [--boot-timeout S]] [--format table|json] "
    "[--disk-format raw|qcow2] [--log FILE] "
    "DISK...",
    "DISK...: the guest's disks in ferry's attach order (the first is /dev/vda).\n"
    "Lists every block-device reference of the boot chain (kernel command lines of\n"
    "grub.cfg, /etc/default/grub, menu.lst, BLS entries, grubenv; fstab, crypttab,\n"
    "lvm.conf filters, mdadm.conf, multipath.conf, initramfs RESUME, dracut\n"
    "add_device) and whether it resolves on KVM with virtio-blk.\n"
    "      --fix                rewrite the source's device names (sda1 -> UUID=...) where\n"
    "                           they map to the expected filesystem; rebuild the initramfs\n"
    "                           inside the guest if a file it holds changed.  Nothing is\n"
    "                           written when any reference is refused\n"
    "      --format FMT         table (default) or json\n"
    "      --disk-format FMT    raw (default: never probed) or qcow2\n"
    "      --log FILE           append libguestfs's messages and the in-guest commands' output\n"
    "      --boot               then boot the disks once under QEMU (-snapshot: nothing is\n"
    "                           written), watching the serial console for a login prompt;\n"
    "                           a guest whose boot loader is silent there gets its default\n"
    "                           entry's kernel booted directly with console=ttyS0\n"
    "      --boot-timeout S     give the boot S seconds (default 600)\n"
    "Exit status 0 all resolve (after the fixes with --fix; also for a guest that is not\n"
    "Linux: not covered) and, with --boot, it booted; 1 some do not resolve but --fix\n"
    "would fix them all; 6 some cannot be fixed (refused: file, line and what to do), the\n"
    "disks could not be inspected, or the boot failed.\n" },
  { "conversion-host", cmd_conversion_host,
    "Deploy, show or delete the conversion host in the destination cloud",
    "ferry conversion-host deploy|status|delete [-e @FILE]... [--name NAME] [--parallel N] "
    "[--no-wait-ssh] [--format text|json]",
    "Actions:\n"
    "  deploy                   create (or find and reuse) the instance, flavor, security\n"
    "                           group and floating IP; print its address and inventory\n"
    "  status                   its server status, addresses, flavor, attached volumes\n"
    "  delete                   delete what deploy made, nothing else\n"
    "Options:\n"
    "      --name NAME          the host: server ferry-conversion-host-NAME\n"
    "                           (conversion_host_name, default 'default')\n"
    "      --parallel N         migrations it must run at once: 1 vCPU and 2 GB each,\n"
    "                           at least 2 vCPU / 4 GB / 16 GB (ferry_parallel, default 1)\n"
    "      --no-wait-ssh        do not wait for SSH (conversion_host_wait_ssh: false)\n"
    "      --wait-ssh           wait for SSH (up to conversion_host_ssh_timeout s)\n"
    "      --format FMT         text (default) or json\n"
    "A host that does not answer SSH is reported, not a failure.\n" },
  { "networks", cmd_networks,
    "Plan or create the destination networks for the source port groups",
    "ferry networks plan|create [-e @FILE]... [--vm NAME]... [--format text|json] "
    "[--write FILE]",
    "Actions:\n"
    "  plan                     the selected VMs' port groups (VLAN, subnets seen in guest\n"
    "                           addresses) matched to Neutron networks by network_map,\n"
    "                           and what create would make for the unmapped ones\n"
    "  create                   make them (found again by name on a rerun) and print the\n"
    "                           network_map that maps every port group\n"
    "Options:\n"
    "      --vm NAME            this VM (repeatable); default: vms_list\n"
    "      --format FMT         text (default) or json\n"
    "      --write FILE         create: also write the network_map snippet to FILE\n" },
  { "config", cmd_config,
    "Show the effective configuration (secrets masked) or the known keys",
    "ferry config show [-e @FILE]... [--format yaml|json] | ferry config keys",
    "Actions:\n"
    "  show                     print the effective configuration, secrets as ***\n"
    "  keys                     list every configuration key with its type and default\n"
    "Options:\n"
    "      --format FMT         yaml (default) or json\n" },
  { NULL }
};

const struct command *
find_command (const char *name)
{
  for (const struct command *c = commands; c->name; c++)
    if (strcmp (c->name, name) == 0)
      return c;
  return NULL;
}

static void
usage (FILE *fp)
{
  fprintf (fp,
           "ferry %s: move virtual machines from VMware vSphere to OpenStack\n\n"
           "Usage: ferry [--debug|--quiet] [-e @FILE|KEY=VALUE]... COMMAND [ARGS]\n"
           "       ferry help COMMAND | ferry COMMAND --help | ferry --version\n\n"
           "Commands:\n", FERRY_VERSION);
  for (const struct command *c = commands; c->name; c++)
    fprintf (fp, "  %-16s %s%s\n", c->name, c->summary, c->run ? "" : " (not built yet)");
  fprintf (fp,
           "\nConfiguration: os-migrate's vars.yaml and secrets.yml work unchanged:\n"
           "  ferry migrate -e @secrets.yml -e @vars.yaml\n"
           "clouds.yaml, OS_CLOUD and OS_* variables are honoured for the destination.\n"
           "Ansible: ferry is also the ferry.vmware collection's modules (docs/ansible.md).\n\n"
           "Exit codes:\n"
           "  0    success\n"
           "  1    the work failed (a check failed, a VM failed; others went on)\n"
           "  2    usage or configuration error: nothing was done\n"
           "  3    vSphere side: unreachable, login refused, API fault\n"
           "  4    OpenStack side: unreachable, authentication, API error, quota\n"
           "  5    disk data path: read, write or verify failed\n"
           "  6    guest conversion failed\n"
           "  130  interrupted (SIGINT/SIGTERM); ferry's snapshots were removed\n\n"
           "See docs/ferry.md for every option and docs/configuration.md for every key.\n");
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { "debug", no_argument, NULL, 0x100 },
    { "quiet", no_argument, NULL, 'q' },
    { "extra-vars", required_argument, NULL, 'e' },
    { NULL, 0, NULL, 0 }
  };
  struct cli cli = { 0 };
  const struct command *cmd;
  char *global_e[256];
  int c, r;

  /* Started under an Ansible module's name (the collection's links to
   * ferry, copied to the host as AnsiballZ_<module>): one args file. */
  {
    const char *module = ansible_module_for (argv[0]);
    if (module) {
      if (argc != 2) {
        fprintf (stderr, "ferry: started as the Ansible module '%s': usage: %s ARGS_FILE "
                 "(a JSON object of module arguments)\n", module, argv[0]);
        return FERRY_EXIT_USAGE;
      }
      return ansible_module_main (module, argv[1]);
    }
  }

  cli.global_e = global_e;
  opterr = 0;
  /* '+': stop at the first non-option, the subcommand. */
  while ((c = getopt_long (argc, argv, "+hVqe:", opts, NULL)) != -1) {
    switch (c) {
    case 'h':
      usage (stdout);
      return FERRY_EXIT_OK;
    case 'V':
      printf ("ferry %s\n", FERRY_VERSION);
      return FERRY_EXIT_OK;
    case 0x100:
      cli.debug = true;
      break;
    case 'q':
      cli.quiet = true;
      break;
    case 'e':
      if (cli.n_global_e >= sizeof global_e / sizeof global_e[0]) {
        fprintf (stderr, "ferry: too many -e options\n");
        return FERRY_EXIT_USAGE;
      }
      global_e[cli.n_global_e++] = optarg;
      break;
    default:
      fprintf (stderr, "ferry: option '%s' is not known or needs a value\n"
               "See 'ferry --help'.\n", argv[optind - 1]);
      return FERRY_EXIT_USAGE;
    }
  }
  if (optind >= argc) {
    usage (stderr);
    return FERRY_EXIT_USAGE;
  }

  if (strcmp (argv[optind], "help") == 0) {
    if (optind + 1 >= argc) {
      usage (stdout);
      return FERRY_EXIT_OK;
    }
    cmd = find_command (argv[optind + 1]);
    if (cmd == NULL) {
      fprintf (stderr, "ferry: no help for '%s': not a ferry command. See 'ferry --help'.\n",
               argv[optind + 1]);
      return FERRY_EXIT_USAGE;
    }
    cli.cmd = cmd;
    cli_print_command_help (cmd, stdout);
    return FERRY_EXIT_OK;
  }

  /* Plumbing for the Ansible collection, not in the command list. */
  if (strcmp (argv[optind], "ansible-module") == 0) {
    if (argc - optind != 3) {
      fprintf (stderr, "Usage: ferry ansible-module MODULE ARGS_FILE\n"
               "Runs MODULE (discover, check, migrate, status, teardown) as an Ansible binary\n"
               "module: ARGS_FILE is a JSON object of arguments; prints one JSON result.\n");
      return FERRY_EXIT_USAGE;
    }
    return ansible_module_main (argv[optind + 1], argv[optind + 2]);
  }

  cmd = find_command (argv[optind]);
  if (cmd == NULL) {
    const char *names[32];
    size_t n = 0;
    const char *near;
    for (const struct command *k = commands; k->name && n < 32; k++)
      names[n++] = k->name;
    near = closest_word (argv[optind], names, n);
    fprintf (stderr, "ferry: '%s' is not a ferry command%s%s%s. See 'ferry --help'.\n",
             argv[optind], near ? " (did you mean '" : "", near ? near : "",
             near ? "'?)" : "");
    return FERRY_EXIT_USAGE;
  }
  cli.cmd = cmd;
  argc -= optind;
  argv += optind;
  optind = 0;               /* reset getopt for the subcommand */

  if (cmd->run == NULL) {
    for (int i = 1; i < argc; i++)
      if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0) {
        cli_print_command_help (cmd, stdout);
        return FERRY_EXIT_OK;
      }
    fprintf (stderr, "ferry %s: not built yet in this version of ferry (%s)\n",
             cmd->name, FERRY_VERSION);
    return FERRY_EXIT_FAILED;
  }

  cli.cfg = config_new ();
  if (cli.cfg == NULL) {
    perror ("ferry");
    return FERRY_EXIT_FAILED;
  }
  /* Both libraries want their global set-up once, before any thread
   * (parallel migrations run a vSphere session per worker thread). */
  http_global_init ();
  xmlInitParser ();
  r = cmd->run (&cli, argc, argv);
  http_global_cleanup ();
  config_free (cli.cfg);
  redact_clear ();
  return r;
}
