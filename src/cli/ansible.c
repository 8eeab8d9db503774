/* ferry as an Ansible binary module (docs/ansible.md).
 *
 * Ansible copies a binary module to the managed host as
 * AnsiballZ_<module>, runs it as `AnsiballZ_<module> ARGS_FILE` and reads
 * ONE JSON object from its stdout.  The collection in ansible/ makes each
 * module (discover, check, migrate, status, teardown) a link to the ferry
 * binary, so ferry recognises the module by the name it was started under;
 * `ferry ansible-module MODULE ARGS_FILE` does the same explicitly.
 *
 * The module's arguments are ferry's variables (vars.yaml and secrets.yml
 * keys, flat, or as a dict in `config`) plus a few options per module (vms,
 * mode, parallel, ...).  They become the configuration in-process: no
 * secret is ever on a command line or in a file.  The subcommand then runs
 * in-process too, with stdout and stderr (and those of every child process)
 * captured in memory files: the command's output is parsed into the
 * result, its log lines become `stderr` and `warnings`, and the result
 * object is the only thing written on the real stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <errno.h>
#include <getopt.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "workflow/migrate.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/http.h"
#include "common/log.h"
#include "common/redact.h"
#include "common/util.h"

/* The captured log given back in `stderr`: its last part only. */
#define MAX_STDERR (64 * 1024)

struct module_ctx {
  struct config *cfg;
  json_t *args;           /* the module's arguments (without _ansible_*) */
  json_t *names;          /* the VMs: option vms, else vms_list */
  bool check_mode;
  bool debug;
  json_t *result;         /* what is printed */
  int out_fd;             /* memory file standing in for stdout */
};

struct module {
  const char *name;
  const char *const *options;   /* module options besides vms and vars */
  int (*run) (struct module_ctx *m);
};

/* ---- capture ---- */

/* Point fd at a new memory file; *saved keeps the original.  -1 on error. */
static int
capture_fd (int fd, int *saved, const char *name)
{
  int mem = memfd_create (name, MFD_CLOEXEC);

  if (mem == -1)
    return -1;
  fflush (fd == 1 ? stdout : stderr);
  *saved = dup (fd);
  if (*saved == -1 || dup2 (mem, fd) == -1) {
    close (mem);
    return -1;
  }
  return mem;
}

static void
restore_fd (int fd, int saved)
{
  fflush (fd == 1 ? stdout : stderr);
  dup2 (saved, fd);
  close (saved);
}

/* The bytes of the memory file from offset from on, as a string. */
static char *
read_mem (int mem, off_t from)
{
  struct stat sb;
  char *buf;
  ssize_t n;

  if (fstat (mem, &sb) == -1 || sb.st_size < from)
    return strdup ("");
  buf = malloc (sb.st_size - from + 1);
  if (buf == NULL)
    return NULL;
  n = pread (mem, buf, sb.st_size - from, from);
  buf[n > 0 ? n : 0] = '\0';
  return buf;
}

/* ---- running a subcommand in-process ---- */

/* Run `ferry NAME EXTRA... --vm VM...` on the module's configuration;
 * its stdout (parent's and children's) is returned in *out. */
static int
run_command (struct module_ctx *m, const char *name, const char *const *extra, bool vms,
             char **out)
{
  const struct command *cmd = find_command (name);
  struct cli cli = { .cmd = cmd, .cfg = m->cfg, .debug = m->debug };
  CLEANUP_FREE char **argv = NULL;
  size_t argc = 0, n = 1, i;
  json_t *v;
  off_t from;
  int r;

  for (i = 0; extra && extra[i]; i++)
    n++;
  n += 2 * json_array_size (m->names) + 1;
  argv = calloc (n, sizeof *argv);
  if (argv == NULL)
    return FERRY_EXIT_FAILED;
  argv[argc++] = (char *) name;
  for (i = 0; extra && extra[i]; i++)
    argv[argc++] = (char *) extra[i];
  if (vms)
    json_array_foreach (m->names, i, v) {
      argv[argc++] = (char *) "--vm";
      argv[argc++] = (char *) json_string_value (v);
    }
  fflush (stdout);
  from = lseek (m->out_fd, 0, SEEK_END);
  optind = 0;
  r = cmd->run (&cli, (int) argc, argv);
  fflush (stdout);
  if (out)
    *out = read_mem (m->out_fd, from);
  return r;
}

/* The last "ferry: error: ..." line of the log, without the prefix. */
static char *
last_error (const char *log)
{
  const char *best = NULL, *p = log;

  while (p && *p) {
    const char *e = strstr (p, "error: ");
    const char *nl;
    if (e == NULL)
      break;
    nl = strchr (e, '\n');
    /* Only at the start of a line's message: "ferry: [ctx: ]error: ". */
    {
      const char *bol = e;
      while (bol > log && bol[-1] != '\n')
        bol--;
      if (strncmp (bol, "ferry: ", 7) == 0)
        best = e + 7;
    }
    p = nl ? nl + 1 : NULL;
  }
  if (best == NULL)
    return NULL;
  return strndup (best, strcspn (best, "\n"));
}

/* A JSON value, or each of several concatenated ones (dry-run plans). */
static json_t *
parse_json_stream (const char *s)
{
  json_t *all = json_array ();
  size_t off = 0, len = strlen (s);

  while (off < len) {
    json_error_t e;
    json_t *j;
    while (off < len && (s[off] == '\n' || s[off] == ' '))
      off++;
    if (off >= len)
      break;
    j = json_loadb (s + off, len - off, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &e);
    if (j == NULL)
      break;
    json_array_append_new (all, j);
    off += e.position;
  }
  return all;
}

/* ---- the modules ---- */

static json_t *
status_of (struct module_ctx *m)
{
  return migrate_status (m->cfg, m->names);
}

static bool
opt_bool (struct module_ctx *m, const char *key, bool deflt)
{
  json_t *v = json_object_get (m->args, key);
  if (json_is_boolean (v))
    return json_is_true (v);
  if (json_is_string (v)) {
    const char *s = json_string_value (v);
    return strcasecmp (s, "true") == 0 || strcasecmp (s, "yes") == 0 || strcmp (s, "1") == 0;
  }
  return deflt;
}

static int
mod_discover (struct module_ctx *m)
{
  const char *extra[8] = { "--format", "json" };
  size_t n = 2;
  CLEANUP_FREE char *out = NULL;
  const char *dir = json_string_value (json_object_get (m->args, "output_dir"));
  int r;

  if (opt_bool (m, "all", false))
    extra[n++] = "--all";
  if (!opt_bool (m, "write", true) || m->check_mode)
    extra[n++] = "--no-write";
  if (dir) {
    extra[n++] = "--output-dir";
    extra[n++] = dir;
  }
  r = run_command (m, "discover", extra, true, &out);
  json_object_set_new (m->result, "vms", out && *out ? json_loads (out, 0, NULL) : json_array ());
  if (!json_is_array (json_object_get (m->result, "vms")))
    json_object_set_new (m->result, "vms", json_array ());
  if (r == 0)
    json_object_set_new (m->result, "msg", json_sprintf ("%zu VMs discovered",
                                                         json_array_size (json_object_get (m->result, "vms"))));
  return r;
}

static int
mod_check (struct module_ctx *m)
{
  const char *extra[4] = { "--format", "json" };
  CLEANUP_FREE char *out = NULL;
  json_t *rows, *row;
  size_t i, fails = 0, warns = 0;
  int r;

  if (opt_bool (m, "warm", false))
    extra[2] = "--warm";
  r = run_command (m, "check", extra, true, &out);
  rows = out && *out ? json_loads (out, 0, NULL) : NULL;
  if (!json_is_array (rows)) {
    json_decref (rows);
    rows = json_array ();
  }
  json_object_set_new (m->result, "checks", rows);
  json_array_foreach (rows, i, row) {
    const char *st = json_string_value (json_object_get (row, "status")) ?: "";
    fails += strcmp (st, "fail") == 0;
    warns += strcmp (st, "warn") == 0;
    if (strcmp (st, "fail") == 0 || strcmp (st, "warn") == 0)
      json_array_append_new (json_object_get (m->result, "warnings"),
                             json_sprintf ("check %s %s %s: %s", st,
                                           json_string_value (json_object_get (row, "check")) ?: "",
                                           json_string_value (json_object_get (row, "target")) ?: "",
                                           json_string_value (json_object_get (row, "detail")) ?: ""));
  }
  if (json_array_size (rows))
    json_object_set_new (m->result, "msg", json_sprintf ("%zu checks: %zu passed, %zu warnings, "
                                                         "%zu failed", json_array_size (rows),
                                                         json_array_size (rows) - fails - warns,
                                                         warns, fails));
  return r;
}

/* What a run changed for one VM: compare its status before and after. */
static bool
vm_changed (const json_t *before, const json_t *after)
{
  static const char *const keys[] = { "finished", "bytes_copied", "volumes", "ports",
                                      "server", NULL };
  for (size_t i = 0; keys[i]; i++)
    if (!json_equal (json_object_get (before, keys[i]), json_object_get (after, keys[i]))
        && !(json_object_get (before, keys[i]) == NULL && json_object_get (after, keys[i]) == NULL))
      return true;
  return json_array_size (json_object_get (before, "syncs"))
    != json_array_size (json_object_get (after, "syncs"));
}

static json_t *
find_vm (const json_t *list, const char *name)
{
  size_t i;
  json_t *v;
  json_array_foreach (list, i, v)
    if (strcmp (json_string_value (json_object_get (v, "name")) ?: "", name) == 0)
      return v;
  return NULL;
}

static int
mod_migrate (struct module_ctx *m)
{
  const char *mode = json_string_value (json_object_get (m->args, "mode"));
  const char *cmd = "migrate", *extra[4] = { 0 };
  CLEANUP_JSON json_t *before = NULL;
  CLEANUP_JSON json_t *after = NULL;
  CLEANUP_FREE char *out = NULL;
  json_t *vms = json_array (), *v;
  size_t i, n = 0, nchanged = 0, nfailed = 0;
  const char *done_phase;
  int r;

  if (mode == NULL)
    mode = config_get_bool (m->cfg, "cbt_sync")
      ? (config_get_bool (m->cfg, "cutover") ? "cutover" : "sync") : "cold";
  if (strcmp (mode, "cold") == 0) {
    /* The mode option wins over cbt_sync/cutover in the variables. */
    json_object_set_new (m->cfg->vars, "cbt_sync", json_false ());
    json_object_set_new (m->cfg->vars, "cutover", json_false ());
  }
  else if (strcmp (mode, "sync") == 0 || strcmp (mode, "cutover") == 0)
    cmd = mode;
  else {
    json_decref (vms);
    log_error ("mode must be cold, sync or cutover, not '%s'", mode);
    return FERRY_EXIT_USAGE;
  }
  json_object_set_new (m->result, "mode", json_string (mode));
  done_phase = strcmp (mode, "sync") == 0 ? "synced" : "done";
  if (m->check_mode)
    extra[n++] = "--dry-run";
  if (opt_bool (m, "enable_cbt", false))
    extra[n++] = "--enable-cbt";
  if (json_array_size (m->names) == 0) {
    json_decref (vms);
    log_error ("no VMs selected: set vms_list or the module option vms");
    return FERRY_EXIT_USAGE;
  }

  before = status_of (m);
  r = run_command (m, cmd, extra, true, &out);
  if (m->check_mode) {
    json_object_set_new (m->result, "plans", parse_json_stream (out ? out : ""));
    json_decref (vms);
    return r;
  }
  /* Per-VM outcomes from the state ferry keeps (ferry status). */
  after = status_of (m);
  json_array_foreach (after, i, v) {
    const char *name = json_string_value (json_object_get (v, "name"));
    const char *phase = json_string_value (json_object_get (v, "phase")) ?: "";
    const char *err = json_string_value (json_object_get (v, "error"));
    bool changed = vm_changed (find_vm (before, name), v);
    bool ok = err == NULL && (strcmp (phase, done_phase) == 0 || strcmp (phase, "done") == 0);
    json_t *o = json_pack ("{s:s, s:s, s:b, s:s, s:O?, s:O?}", "vm", name,
                           "result", ok ? "ok" : "failed", "changed", changed, "phase", phase,
                           "error", json_object_get (v, "error"),
                           "server", json_object_get (json_object_get (v, "server"), "id"));
    json_t *d = json_object_get (json_object_get (v, "durations"), "total_s");
    if (d && changed)
      json_object_set (o, "seconds", d);
    json_object_set (o, "bytes_copied", json_object_get (v, "bytes_copied"));
    json_object_set (o, "volumes", json_object_get (v, "volumes"));
    json_array_append_new (vms, o);
    nchanged += changed;
    nfailed += !ok;
  }
  json_object_set_new (m->result, "vms", vms);
  json_object_set_new (m->result, "changed", json_boolean (nchanged > 0));
  json_object_set_new (m->result, "msg", json_sprintf ("%zu VMs: %zu %s in this run, %zu failed",
                                                       json_array_size (vms), nchanged,
                                                       strcmp (mode, "sync") == 0 ? "synced" : "migrated",
                                                       nfailed));
  if (r == 0 && nfailed)
    r = FERRY_EXIT_FAILED;
  return r;
}

static int
mod_status (struct module_ctx *m)
{
  json_t *st = status_of (m);
  json_object_set_new (m->result, "vms", st);
  json_object_set_new (m->result, "msg", json_sprintf ("%zu VMs", json_array_size (st)));
  return 0;
}

/* Resources ferry created for a VM, per its state: server, ports, volumes. */
static json_t *
resources_of (const json_t *v)
{
  json_t *ids = json_array (), *x;
  const char *k;
  size_t i;

  if (json_string_value (json_object_get (json_object_get (v, "server"), "id")))
    json_array_append_new (ids, json_sprintf ("server %s", json_string_value (
                                                json_object_get (json_object_get (v, "server"), "id"))));
  json_array_foreach (json_object_get (v, "ports"), i, x)
    if (json_string_value (json_object_get (x, "id")))
      json_array_append_new (ids, json_sprintf ("port %s", json_string_value (json_object_get (x, "id"))));
  json_object_foreach (json_object_get (v, "volumes"), k, x)
    if (json_string_value (json_object_get (x, "id")))
      json_array_append_new (ids, json_sprintf ("volume %s", json_string_value (json_object_get (x, "id"))));
  return ids;
}

static int
mod_teardown (struct module_ctx *m)
{
  CLEANUP_JSON json_t *before = NULL;
  CLEANUP_JSON json_t *after = NULL;
  json_t *vms = json_array (), *v;
  size_t i, deleted = 0;
  int r = 0;

  if (json_array_size (m->names) == 0) {
    json_decref (vms);
    log_error ("no VMs selected: set vms_list or the module option vms");
    return FERRY_EXIT_USAGE;
  }
  before = status_of (m);
  if (!m->check_mode)
    r = run_command (m, "teardown", NULL, true, NULL);
  after = status_of (m);
  json_array_foreach (before, i, v) {
    const char *name = json_string_value (json_object_get (v, "name"));
    CLEANUP_JSON json_t *had = resources_of (v);
    CLEANUP_JSON json_t *left = resources_of (find_vm (after, name));
    json_t *gone = json_array (), *x;
    size_t k, l;
    json_array_foreach (had, k, x) {
      bool still = false;
      json_t *y;
      json_array_foreach (left, l, y)
        still = still || json_equal (x, y);
      if (!still || m->check_mode)
        json_array_append (gone, x);
    }
    if (!m->check_mode)
      deleted += json_array_size (gone);
    json_array_append_new (vms, json_pack ("{s:s, s:o, s:O}", "vm", name,
                                           m->check_mode ? "would_delete" : "deleted", gone,
                                           "left", left));
  }
  json_object_set_new (m->result, "vms", vms);
  json_object_set_new (m->result, "changed", json_boolean (deleted > 0));
  json_object_set_new (m->result, "msg", json_sprintf (m->check_mode ? "check mode: nothing deleted"
                                                       : "%zu resources deleted", deleted));
  return r;
}

static const char *const discover_opts[] = { "all", "write", "output_dir", NULL };
static const char *const check_opts[] = { "warm", NULL };
static const char *const migrate_opts[] = { "mode", "parallel", "enable_cbt", NULL };
static const char *const no_opts[] = { NULL };

static const struct module modules[] = {
  { "discover", discover_opts, mod_discover },
  { "check", check_opts, mod_check },
  { "migrate", migrate_opts, mod_migrate },
  { "status", no_opts, mod_status },
  { "teardown", no_opts, mod_teardown },
};
#define N_MODULES (sizeof modules / sizeof modules[0])

static const struct module *
find_module (const char *name)
{
  for (size_t i = 0; i < N_MODULES; i++)
    if (strcmp (modules[i].name, name) == 0)
      return &modules[i];
  return NULL;
}

const char *
ansible_module_for (const char *argv0)
{
  const char *b = strrchr (argv0, '/');
  char name[64];
  size_t len;

  b = b ? b + 1 : argv0;
  if (strncmp (b, "AnsiballZ_", 10) == 0)
    b += 10;
  if (strncmp (b, "ferry_", 6) == 0)
    b += 6;
  len = strcspn (b, ".");               /* discover.py, discover.exe */
  if (len >= sizeof name)
    return NULL;
  memcpy (name, b, len);
  name[len] = '\0';
  for (size_t i = 0; i < N_MODULES; i++)
    if (strcmp (modules[i].name, name) == 0)
      return modules[i].name;
  return NULL;
}

static bool
is_option (const struct module *mod, const char *key)
{
  if (strcmp (key, "vms") == 0 || strcmp (key, "config") == 0)
    return true;
  for (size_t i = 0; mod->options[i]; i++)
    if (strcmp (mod->options[i], key) == 0)
      return true;
  return false;
}

/* The module's arguments -> configuration and options.  0 or -1. */
static int
load_args (struct module_ctx *m, const struct module *mod, json_t *all)
{
  CLEANUP_JSON json_t *flat = json_object ();
  json_t *v, *vars;
  const char *k;
  int r = 0;

  m->args = json_object ();
  json_object_foreach (all, k, v) {
    if (strncmp (k, "_ansible_", 9) == 0) {
      if (strcmp (k, "_ansible_check_mode") == 0)
        m->check_mode = json_is_true (v);
      else if (strcmp (k, "_ansible_debug") == 0)
        m->debug = m->debug || json_is_true (v);
      else if (strcmp (k, "_ansible_verbosity") == 0)
        m->debug = m->debug || json_integer_value (v) >= 3;
      continue;
    }
    if (is_option (mod, k))
      json_object_set (m->args, k, v);
    else if (!json_is_null (v))          /* Ansible's omit leaves no key; null is "unset" */
      json_object_set (flat, k, v);
  }
  /* Secrets are known before anything is logged. */
  redact_add_secrets_from_json (all);
  vars = json_object_get (m->args, "config");
  if (vars && !json_is_null (vars) && config_add_json (m->cfg, vars, "module option config") == -1)
    r = -1;
  if (config_add_json (m->cfg, flat, "module arguments") == -1)
    r = -1;
  v = json_object_get (m->args, "parallel");
  if (v && !json_is_null (v)) {
    /* ferry_parallel once ferry knows it, parallel until then. */
    const char *key = config_lookup_key ("ferry_parallel") ? "ferry_parallel" : "parallel";
    CLEANUP_JSON json_t *p = json_pack ("{s:O}", key, v);
    if (config_add_json (m->cfg, p, "module option parallel") == -1)
      r = -1;
  }

  m->names = json_array ();
  v = json_object_get (m->args, "vms");
  if (json_is_string (v) && json_string_length (v))
    json_array_append (m->names, v);
  else if (json_is_array (v))
    json_array_extend (m->names, v);
  if (json_array_size (m->names) == 0 && json_array_size (config_get (m->cfg, "vms_list")))
    json_array_extend (m->names, config_get (m->cfg, "vms_list"));
  return r || m->cfg->errors ? -1 : 0;
}

/* The log lines: all of it (truncated) in stderr, warnings apart. */
static void
add_log (json_t *result, const char *log)
{
  json_t *warnings = json_object_get (result, "warnings");
  const char *p = log;
  size_t len = strlen (log);

  while (*p) {
    size_t n = strcspn (p, "\n");
    const char *w = strstr (p, "warning: ");
    if (strncmp (p, "ferry: ", 7) == 0 && w && w < p + n)
      json_array_append_new (warnings, json_stringn (w + 9, p + n - w - 9));
    p += n + (p[n] == '\n');
  }
  json_object_set_new (result, "stderr", json_string (len > MAX_STDERR ? log + len - MAX_STDERR : log));
}

int
ansible_module_main (const char *name, const char *args_path)
{
  const struct module *mod = find_module (name);
  struct module_ctx m = { .result = json_object (), .out_fd = -1 };
  CLEANUP_JSON json_t *all = NULL;
  CLEANUP_FREE char *log = NULL;
  CLEANUP_FREE char *msg = NULL;
  json_error_t jerr;
  int saved_out = -1, saved_err = -1, err_fd, r = 0;
  bool failed;

  json_object_set_new (m.result, "changed", json_false ());
  json_object_set_new (m.result, "warnings", json_array ());
  json_object_set_new (m.result, "ferry_version", json_string (FERRY_VERSION));

  /* From here on, only the result goes to the real stdout. */
  m.out_fd = capture_fd (1, &saved_out, "ferry-module-stdout");
  err_fd = capture_fd (2, &saved_err, "ferry-module-stderr");
  if (m.out_fd == -1 || err_fd == -1) {
    msg = xasprintf ("cannot capture output: %s", strerror (errno));
    r = FERRY_EXIT_FAILED;
    goto out;
  }
  if (mod == NULL) {
    msg = xasprintf ("'%s' is not a ferry module (discover, check, migrate, status, teardown)",
                     name);
    r = FERRY_EXIT_USAGE;
    goto out;
  }
  all = json_load_file (args_path, 0, &jerr);
  if (!json_is_object (all)) {
    msg = xasprintf ("%s: not a JSON object of module arguments: %s", args_path, jerr.text);
    r = FERRY_EXIT_USAGE;
    goto out;
  }
  m.cfg = config_new ();
  if (load_args (&m, mod, all) == -1) {
    r = FERRY_EXIT_USAGE;
    goto out;
  }
  if (m.debug)
    log_set_level (LOG_LEVEL_DEBUG);
  /* As cli_load_config: the HTTP limits for every handle made from now on. */
  http_set_limits (config_get_int (m.cfg, "http_max_body_mib"),
                   config_get_int (m.cfg, "http_timeout"));
  http_global_init ();
  r = mod->run (&m);
  http_global_cleanup ();

 out:
  if (err_fd != -1) {
    log = read_mem (err_fd, 0);
    restore_fd (2, saved_err);
    close (err_fd);
  }
  if (m.out_fd != -1) {
    restore_fd (1, saved_out);
    close (m.out_fd);
  }
  failed = r != 0;
  if (log)
    add_log (m.result, log);
  if (failed && msg == NULL && log)
    msg = last_error (log);
  if (failed && msg == NULL)
    msg = xasprintf ("ferry %s failed with exit status %d", name, r);
  if (msg)
    json_object_set_new (m.result, "msg", json_string (msg));
  json_object_set_new (m.result, "failed", json_boolean (failed));
  json_object_set_new (m.result, "rc", json_integer (r));
  if (m.check_mode && strcmp (name, "teardown") && strcmp (name, "migrate"))
    json_object_set_new (m.result, "changed", json_false ());
  {
    /* Nothing secret leaves, even if a module put it in its result. */
    CLEANUP_JSON json_t *safe = redact_json (m.result);
    CLEANUP_FREE char *s = json_dumps (safe, JSON_COMPACT | JSON_PRESERVE_ORDER);
    puts (s ? s : "{\"failed\": true, \"msg\": \"out of memory\"}");
    fflush (stdout);
  }
  json_decref (m.result);
  json_decref (m.args);
  json_decref (m.names);
  config_free (m.cfg);
  redact_clear ();
  return failed ? FERRY_EXIT_FAILED : FERRY_EXIT_OK;
}
