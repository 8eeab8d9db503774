/* ferry: the command line layer.  One file per subcommand (cmd-*.c), all
 * registered in the table in ferry.c; each turns options into calls of the
 * libraries under src/ and nothing more. */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include <stdbool.h>
#include <getopt.h>
#include "config/config.h"

struct cli;

struct command {
  const char *name;
  int (*run) (struct cli *cli, int argc, char **argv);  /* NULL: not built yet */
  const char *summary;      /* one line for `ferry --help` */
  const char *usage;        /* "ferry NAME [OPTIONS] ..." */
  const char *help;         /* the options, one per line, for `ferry NAME --help` */
};

struct cli {
  const struct command *cmd;
  struct config *cfg;
  char **global_e;          /* -e given before the subcommand, in order */
  size_t n_global_e;
  bool debug, quiet;
};

extern const struct command commands[];
const struct command *find_command (const char *name);

/* Options every subcommand takes: -e/--extra-vars, --debug, -q/--quiet, -h/--help. */
#define CLI_COMMON_SHORT "e:qh"
#define CLI_COMMON_LONG                                   \
  { "extra-vars", required_argument, NULL, 'e' },         \
  { "debug", no_argument, NULL, 0x100 },                  \
  { "quiet", no_argument, NULL, 'q' },                    \
  { "help", no_argument, NULL, 'h' }

/* Handle a common option returned by getopt_long.  Returns 1 if handled,
 * 0 if not a common option; exits for --help. */
int cli_common_option (struct cli *cli, int c, const char *arg);
/* Report an unknown option or missing argument (getopt's '?' or ':') and
 * return FERRY_EXIT_USAGE. */
int cli_bad_option (struct cli *cli, char **argv);
/* Apply every -e (global then command's), set the log level.  Returns 0, or
 * FERRY_EXIT_USAGE after logging the configuration errors. */
int cli_load_config (struct cli *cli);
void cli_print_command_help (const struct command *cmd, FILE *fp);

/* The subcommands. */
int cmd_check (struct cli *cli, int argc, char **argv);
int cmd_config (struct cli *cli, int argc, char **argv);
int cmd_conversion_host (struct cli *cli, int argc, char **argv);
int cmd_copy (struct cli *cli, int argc, char **argv);
int cmd_discover (struct cli *cli, int argc, char **argv);
int cmd_disk_server (struct cli *cli, int argc, char **argv);
int cmd_migrate (struct cli *cli, int argc, char **argv);
int cmd_networks (struct cli *cli, int argc, char **argv);
int cmd_status (struct cli *cli, int argc, char **argv);
int cmd_teardown (struct cli *cli, int argc, char **argv);
int cmd_sync (struct cli *cli, int argc, char **argv);
int cmd_cutover (struct cli *cli, int argc, char **argv);
int cmd_rollback (struct cli *cli, int argc, char **argv);
int cmd_verify_boot (struct cli *cli, int argc, char **argv);

/* ferry as an Ansible binary module (ansible.c): the module name if ferry
 * was started under a module's name (AnsiballZ_<name>, <name>,
 * ferry_<name>), else NULL. */
const char *ansible_module_for (const char *argv0);
/* Run module with the arguments in args_path (Ansible's JSON args file);
 * prints one JSON object on stdout.  Returns the process exit status. */
int ansible_module_main (const char *module, const char *args_path);

/* What the VM-selecting commands accept beyond --vm NAME (repeatable):
 * each pointer left NULL means the option is refused. */
struct selection {
  json_t *names;              /* filled; defaults to vms_list */
  bool *dry_run;              /* --dry-run */
  const char **format;        /* --format FMT */
  bool *enable_cbt;           /* --enable-cbt */
  long *every;                /* --every SECONDS */
  long long *until_delta;     /* --until-delta BYTES */
  bool *no_conversion_host;   /* --no-conversion-host */
  bool args_file;             /* --args FILE: the reference's args.json */
  /* --parallel N, --max-disks M, --max-disks-per-host H, --progress MODE,
   * --events FILE, --report FILE (migrate, sync, cutover) */
  int *parallel, *max_disks, *max_disks_per_host;
  const char **progress, **events, **report;
};
/* Parse, load the configuration.  0 or an exit code. */
int cli_parse_selection (struct cli *cli, int argc, char **argv, struct selection *sel);

#endif
