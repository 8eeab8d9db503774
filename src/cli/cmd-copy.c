/* ferry copy: copy a disk between NBD, files and block devices.  A thin
 * layer over copy_run() (src/copy/copy.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <inttypes.h>
#include <getopt.h>

#include "cli/cli.h"
#include "common/error.h"
#include "common/log.h"
#include "common/cleanup.h"
#include "common/http.h"
#include "common/redact.h"
#include "copy/copy.h"
#include "common/signals.h"
#include "config/validate.h"

enum {
  OPT_CONNECTIONS = 0x200, OPT_REQUESTS, OPT_REQUEST_SIZE, OPT_EXTENTS, OPT_CHECKPOINT,
  OPT_DEST_ZERO, OPT_VERIFY, OPT_PROGRESS, OPT_NO_EXTENTS, OPT_RETRIES, OPT_CHECKPOINT_INTERVAL, OPT_CACERT, OPT_THUMBPRINT,
  OPT_INSECURE, OPT_COOKIE_FILE,
};

static atomic_bool cancel;

/* The first line of path, registered as a secret.  NULL after logging. */
static char *
read_cookie_file (const char *path)
{
  FILE *fp = fopen (path, "r");
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;

  if (fp == NULL) {
    log_error ("--cookie-file %s: %s", path, strerror (errno));
    return NULL;
  }
  n = getline (&line, &cap, fp);
  fclose (fp);
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
  if (n <= 0 || strchr (line, '=') == NULL) {
    log_error ("--cookie-file %s: the first line must be the cookie, NAME=VALUE", path);
    free (line);
    return NULL;
  }
  redact_add_secret (strchr (line, '=') + 1);
  return line;
}

enum progress_mode { PROGRESS_NONE, PROGRESS_BAR, PROGRESS_JSON };

struct progress_ctx {
  enum progress_mode mode;
  bool tty;
};

static void
progress_cb (void *opaque, const struct copy_progress *p)
{
  struct progress_ctx *ctx = opaque;

  if (ctx->mode == PROGRESS_JSON)
    copy_progress_print_json (p);
  else
    copy_progress_print_bar (p, ctx->tty);
}

/* A count: decimal digits only, within [min, max]. */
static int
parse_count (const char *opt, const char *s, unsigned long min, unsigned long max,
             unsigned long *out)
{
  long long v;

  if (parse_int_range (s, (long long) min, (long long) max, &v) == -1) {
    fprintf (stderr, "ferry copy: %s must be a number from %lu to %lu, not '%s'\n",
             opt, min, max, s);
    return -1;
  }
  *out = (unsigned long) v;
  return 0;
}

/* A size: bytes, or with a K/M suffix (powers of 1024; "KiB", "MB" too),
 * overflow-checked: 17592186044417M is not 1M. */
static int
parse_size (const char *opt, const char *s, size_t *out)
{
  unsigned long long v;

  if (parse_size_range (s, COPY_MIN_REQUEST_SIZE, COPY_MAX_REQUEST_SIZE, &v) == -1
      || v % 4096) {
    fprintf (stderr, "ferry copy: %s must be a multiple of 4096 from 4K to 32M "
             "(e.g. 256K, 1M), not '%s'\n", opt, s);
    return -1;
  }
  *out = (size_t) v;
  return 0;
}

/* One option of copy: 0, an exit code, or -1 if not one of its own. */
static int
parse_option (int c, struct copy_options *o, struct http_tls *tls, char **cookie,
              struct progress_ctx *pctx)
{
  unsigned long n;

  switch (c) {
  case OPT_CONNECTIONS:
    if (parse_count ("--connections", optarg, 1, COPY_MAX_CONNECTIONS, &n) == -1)
      return FERRY_EXIT_USAGE;
    o->connections = (unsigned) n;
    break;
  case OPT_REQUESTS:
    if (parse_count ("--requests", optarg, 1, COPY_MAX_REQUESTS, &n) == -1)
      return FERRY_EXIT_USAGE;
    o->requests = (unsigned) n;
    break;
  case OPT_REQUEST_SIZE:
    if (parse_size ("--request-size", optarg, &o->request_size) == -1)
      return FERRY_EXIT_USAGE;
    break;
  case OPT_CACERT:
    tls->cacert = optarg;
    o->src_tls = tls;
    break;
  case OPT_THUMBPRINT:
    tls->thumbprint = optarg;
    o->src_tls = tls;
    break;
  case OPT_INSECURE:
    tls->insecure = true;
    o->src_tls = tls;
    log_warn ("--insecure: the https:// source's certificate is NOT verified");
    break;
  case OPT_COOKIE_FILE:
    /* The cookie ("name=value") from a file: a secret never on the
     * command line. */
    free (*cookie);
    *cookie = read_cookie_file (optarg);
    if (*cookie == NULL)
      return FERRY_EXIT_USAGE;
    o->src_cookie = *cookie;
    break;
  case OPT_CHECKPOINT_INTERVAL:
    if (parse_count ("--checkpoint-interval", optarg, 10, 3600000, &n) == -1)
      return FERRY_EXIT_USAGE;
    o->checkpoint_interval_ms = (unsigned) n;
    break;
  case OPT_RETRIES:
    if (parse_count ("--retries", optarg, 0, 100, &n) == -1)
      return FERRY_EXIT_USAGE;
    o->retries = (unsigned) n;
    break;
  case OPT_EXTENTS:
    o->extents_file = optarg;
    break;
  case OPT_CHECKPOINT:
    o->checkpoint_file = optarg;
    break;
  case OPT_DEST_ZERO:
    o->destination_is_zero = true;
    break;
  case OPT_VERIFY:
    o->verify = true;
    break;
  case OPT_NO_EXTENTS:
    o->no_extents = true;
    break;
  case OPT_PROGRESS:
    if (optarg == NULL || strcmp (optarg, "bar") == 0)
      pctx->mode = PROGRESS_BAR;
    else if (strcmp (optarg, "json") == 0)
      pctx->mode = PROGRESS_JSON;
    else {
      fprintf (stderr, "ferry copy: --progress takes no value, =bar or =json, not '%s'\n",
               optarg);
      return FERRY_EXIT_USAGE;
    }
    break;
  default:
    return -1;
  }
  return 0;
}

/* What was copied, for a run that got to copy. */
static void
log_stats (const struct copy_options *o, const struct copy_stats *st, int r)
{
  char b1[32], b2[32], b3[32], b4[32];

  if (st->total || st->processed)
    log_info ("copy: %" PRIu64 " of %" PRIu64 " bytes processed in %.2f s "
              "(%" PRIu64 " done before; read %" PRIu64 ", written %" PRIu64
              ", zeroed %" PRIu64 ", skipped %" PRIu64 "; %" PRIu64 " retries, "
              "%u connection%s)", st->processed, st->total, st->seconds, st->done_before,
              st->bytes_read, st->bytes_written, st->bytes_zeroed, st->bytes_skipped,
              st->retries, st->connections, st->connections == 1 ? "" : "s");
  if (r == FERRY_EXIT_OK)
    log_info ("copied %s to %s: %s of %s disk areas, %s of data, %s/s",
              o->src, o->dst, copy_human_size (st->total, b1, sizeof b1),
              copy_human_size (st->size, b2, sizeof b2),
              copy_human_size (st->bytes_written, b3, sizeof b3),
              copy_human_size ((uint64_t) (st->seconds > 0 ? (double) st->processed /
                                           st->seconds : 0), b4, sizeof b4));
  if (st->verified && st->verify_mismatches == 0)
    log_info ("verify: OK: %" PRIu64 " bytes compared, source and destination are "
              "identical", st->verify_bytes);
}

int
cmd_copy (struct cli *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CLI_COMMON_LONG,
    { "connections", required_argument, NULL, OPT_CONNECTIONS },
    { "requests", required_argument, NULL, OPT_REQUESTS },
    { "request-size", required_argument, NULL, OPT_REQUEST_SIZE },
    { "extents", required_argument, NULL, OPT_EXTENTS },
    { "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
    { "destination-is-zero", no_argument, NULL, OPT_DEST_ZERO },
    { "verify", no_argument, NULL, OPT_VERIFY },
    { "progress", optional_argument, NULL, OPT_PROGRESS },
    { "no-extents", no_argument, NULL, OPT_NO_EXTENTS },
    { "retries", required_argument, NULL, OPT_RETRIES },
    { "checkpoint-interval", required_argument, NULL, OPT_CHECKPOINT_INTERVAL },
    { "cacert", required_argument, NULL, OPT_CACERT },
    { "thumbprint", required_argument, NULL, OPT_THUMBPRINT },
    { "insecure", no_argument, NULL, OPT_INSECURE },
    { "cookie-file", required_argument, NULL, OPT_COOKIE_FILE },
    { NULL, 0, NULL, 0 }
  };
  struct copy_options o;
  struct copy_stats st;
  struct http_tls tls = { 0 };
  CLEANUP_FREE char *cookie = NULL;
  struct progress_ctx pctx = { .mode = PROGRESS_NONE };
  int c, r;

  copy_options_init (&o);
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+" CLI_COMMON_SHORT, opts, NULL)) != -1) {
    if (cli_common_option (cli, c, optarg))
      continue;
    r = parse_option (c, &o, &tls, &cookie, &pctx);
    if (r == -1)
      return cli_bad_option (cli, argv);
    if (r)
      return r;
  }
  if (argc - optind != 2) {
    fprintf (stderr, "ferry copy: %s\nUsage: %s\nSee 'ferry copy --help'.\n",
             argc - optind < 2 ? "a source and a destination are needed"
             : "too many arguments", cli->cmd->usage);
    return FERRY_EXIT_USAGE;
  }
  o.src = argv[optind];
  o.dst = argv[optind + 1];
  r = cli_load_config (cli);
  if (r)
    return r;

  if (pctx.mode != PROGRESS_NONE) {
    pctx.tty = isatty (STDERR_FILENO);
    o.progress = progress_cb;
    o.progress_opaque = &pctx;
    o.progress_interval_ms = pctx.mode == PROGRESS_JSON ? 1000 : pctx.tty ? 250 : 5000;
  }
  signals_catch (&cancel);
  o.cancel = &cancel;

  r = copy_run (&o, &st);
  if (r == FERRY_EXIT_OK || r == FERRY_EXIT_DATA || r == FERRY_EXIT_INTERRUPTED)
    log_stats (&o, &st, r);
  return r;
}
