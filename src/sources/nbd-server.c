/* ferry: disk sources as NBD servers, see nbd-server.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <libnbd.h>
#include <sys/stat.h>

#include "sources/nbd-server.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/spawn.h"
#include "common/util.h"
#include "common/vector.h"

static int
add (string_vector *v, char *s)
{
  if (s == NULL || string_vector_append (v, s) == -1) {
    free (s);
    return -1;
  }
  return 0;
}

/* "[ds] dir/disk.vmdk" -> "dir/disk.vmdk" */
static const char *
path_in_datastore (const char *file)
{
  const char *p = file ? strchr (file, ']') : NULL;
  if (p == NULL)
    return file;
  p++;
  while (*p == ' ')
    p++;
  return p;
}

/* Double the commas of a value put in qemu's key=value,... options. */
static char *
opts_escape (const char *s)
{
  size_t n = 0;
  char *out, *o;

  for (const char *p = s; *p; p++)
    n += *p == ',' ? 2 : 1;
  out = o = malloc (n + 1);
  if (out == NULL)
    return NULL;
  for (const char *p = s; *p; p++) {
    *o++ = *p;
    if (*p == ',')
      *o++ = ',';
  }
  *o = '\0';
  return out;
}

/* nbdkit serving read-only on a private socket, dying with ferry. */
static int
add_nbdkit (string_vector *v, const char *socket, const char *plugin)
{
  int r = 0;
  r |= add (v, strdup ("nbdkit"));
  r |= add (v, strdup ("--readonly"));
  r |= add (v, strdup ("--exit-with-parent"));
  r |= add (v, strdup ("--foreground"));
  r |= add (v, xasprintf ("--unix=%s", socket));
  r |= add (v, strdup (plugin));
  return r;
}

/* qemu-nbd read-only, serving several connections, until stopped. */
static int
add_qemu_nbd (string_vector *v)
{
  int r = 0;
  r |= add (v, strdup ("qemu-nbd"));
  r |= add (v, strdup ("--read-only"));
  r |= add (v, strdup ("--persistent"));
  r |= add (v, strdup ("--shared=8"));
  return r;
}

/* The nfc plugin: the one built beside this ferry (a build tree:
 * <bindir>/plugins/nfc/nbdkit-nfc-plugin.so), else the one installed with
 * it (FERRY_NFC_PLUGIN: nbdkit's plugin directory under ferry's prefix),
 * else nbdkit's own ("nfc").  malloc'd. */
static char *
nfc_plugin (void)
{
  char exe[4096];
  ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
  char *slash, *p;

  if (n > 0) {
    exe[n] = '\0';
    if ((slash = strrchr (exe, '/')) != NULL) {
      *slash = '\0';
      p = xasprintf ("%s/plugins/nfc/nbdkit-nfc-plugin.so", exe);
      if (p && access (p, R_OK) == 0)
        return p;
      free (p);
    }
  }
  if (access (FERRY_NFC_PLUGIN, R_OK) == 0)
    return strdup (FERRY_NFC_PLUGIN);
  return strdup ("nfc");
}

int
disk_source_argv (const struct disk_source_req *req, const char *socket,
                  const char *secret_file, char ***argv_out)
{
  string_vector v = empty_vector;
  int r = 0;

  *argv_out = NULL;
  switch (req->kind) {
  case DISK_SOURCE_VDDK:
    if (!req->server || !req->user || !req->vm_moref || !req->file || !secret_file) {
      log_error ("%s: vddk source needs server, user, password, VM and disk file", req->what);
      return -1;
    }
    r |= add_nbdkit (&v, socket, "vddk");
    r |= add (&v, xasprintf ("server=%s", req->server));
    if (req->port && req->port != 443)
      r |= add (&v, xasprintf ("port=%d", req->port));
    r |= add (&v, xasprintf ("user=%s", req->user));
    r |= add (&v, xasprintf ("password=+%s", secret_file));
    if (req->thumbprint)
      r |= add (&v, xasprintf ("thumbprint=%s", req->thumbprint));
    if (req->libdir)
      r |= add (&v, xasprintf ("libdir=%s", req->libdir));
    r |= add (&v, xasprintf ("vm=moref=%s", req->vm_moref));
    if (req->snapshot_moref)
      r |= add (&v, xasprintf ("snapshot=%s", req->snapshot_moref));
    r |= add (&v, xasprintf ("transports=%s", req->transports ? req->transports
                             : "file:nbdssl:nbd"));
    if (req->compression && *req->compression)
      r |= add (&v, xasprintf ("compression=%s", req->compression));
    r |= add (&v, xasprintf ("file=%s", req->file));
    break;

  case DISK_SOURCE_NFC:
    if (!req->server || !req->user || !req->vm_moref || !secret_file
        || (req->disk_key <= 0 && !req->file)) {
      log_error ("%s: nfc source needs server, user, password, VM and disk", req->what);
      string_vector_free_all (&v);
      return -1;
    }
    {
      CLEANUP_FREE char *plugin = nfc_plugin ();
      r |= add_nbdkit (&v, socket, plugin ? plugin : "nfc");
    }
    if (req->port && req->port != 443)
      r |= add (&v, xasprintf ("server=%s:%d", req->server, req->port));
    else
      r |= add (&v, xasprintf ("server=%s", req->server));
    r |= add (&v, xasprintf ("user=%s", req->user));
    r |= add (&v, xasprintf ("password=+%s", secret_file));
    if (req->thumbprint)
      r |= add (&v, xasprintf ("thumbprint=%s", req->thumbprint));
    if (req->cacert && *req->cacert)
      r |= add (&v, xasprintf ("cacert=%s", req->cacert));
    r |= add (&v, xasprintf ("vm=moref=%s", req->vm_moref));
    /* The disk as the snapshot froze it (ESXi opens no running VM's
     * current disk): its key and the snapshot. */
    if (req->disk_key > 0)
      r |= add (&v, xasprintf ("disk=%lld", req->disk_key));
    else
      r |= add (&v, xasprintf ("file=%s", req->file));
    if (req->snapshot_moref)
      r |= add (&v, xasprintf ("snapshot=%s", req->snapshot_moref));
    r |= add (&v, xasprintf ("transport=%s", req->transports ? req->transports : "nbdssl"));
    r |= add (&v, strdup ("connections=2"));
    r |= add (&v, strdup ("requests=8"));
    break;

  case DISK_SOURCE_HTTPS:
    if (!req->url || !secret_file) {
      log_error ("%s: https source needs the extent URL and the session cookie", req->what);
      return -1;
    }
    /* nbdkit's curl plugin verifies by CA only: a pinned thumbprint (with
     * no CA given) can't be passed on. */
    if (!req->insecure && req->pinned && !(req->cacert && *req->cacert)) {
      if (!req->allow_unverified) {
        log_error ("%s: nbdkit's curl plugin can't verify the server with a pinned "
                   "thumbprint (vddk_thumbprint): give vcenter_cacert (the CA of vCenter's "
                   "certificate), use ferry migrate (which reads it itself, pin included), or "
                   "set allow_unverified_data_path: true to serve it unverified", req->what);
        string_vector_free_all (&v);
        return -1;
      }
      log_warn ("%s: nbdkit's curl plugin can't check the pinned thumbprint: its certificate "
                "is NOT verified on the data path (allow_unverified_data_path)", req->what);
    }
    r |= add_nbdkit (&v, socket, "curl");
    r |= add (&v, xasprintf ("url=%s", req->url));
    r |= add (&v, xasprintf ("cookie=+%s", secret_file));
    if (req->insecure || (req->pinned && !(req->cacert && *req->cacert)))
      r |= add (&v, strdup ("sslverify=false"));
    else if (req->cacert)
      r |= add (&v, xasprintf ("cainfo=%s", req->cacert));
    r |= add (&v, strdup ("timeout=300"));
    break;

  case DISK_SOURCE_EXPORT:
    if (!req->url || !secret_file) {
      log_error ("%s: export source needs the lease's disk URL and the session cookie",
                 req->what);
      return -1;
    }
    /* qemu's curl driver reads the streamOptimized VMDK with range
     * requests; the cookie comes from a secret object read from a file.
     * qemu can neither pin a certificate nor take a CA file: it verifies
     * against the system store, or not at all when the caller allowed it
     * (req->insecure: vmware_insecure or allow_unverified_data_path; the
     * caller has then checked the lease's sslThumbprint against the
     * certificate ferry verified on its own vCenter connection). */
    {
      CLEANUP_FREE char *url = opts_escape (req->url);
      r |= add_qemu_nbd (&v);
      r |= add (&v, xasprintf ("--socket=%s", socket));
      r |= add (&v, strdup ("--object"));
      r |= add (&v, xasprintf ("secret,id=ck,file=%s", secret_file));
      r |= add (&v, strdup ("--image-opts"));
      r |= add (&v, url ? xasprintf ("driver=vmdk,file.driver=https,file.url=%s,"
                                     "file.cookie-secret=ck,file.sslverify=%s,"
                                     "file.timeout=300", url, req->insecure ? "off" : "on")
             : NULL);
    }
    break;

  case DISK_SOURCE_LOCAL:
    if (!req->local_disk_path || !req->file) {
      log_error ("%s: local source needs local_disk_path and the disk file", req->what);
      return -1;
    }
    r |= add_qemu_nbd (&v);
    r |= add (&v, strdup ("--format=vmdk"));
    r |= add (&v, xasprintf ("--socket=%s", socket));
    r |= add (&v, xasprintf ("%s/%s", req->local_disk_path, path_in_datastore (req->file)));
    break;
  }
  r |= string_vector_append (&v, NULL);
  if (r) {
    string_vector_free_all (&v);
    return -1;
  }
  *argv_out = v.ptr;
  return 0;
}

static char *
nbdkit_plugindir (void)
{
  FILE *fp = popen ("nbdkit --dump-config 2>/dev/null", "r");
  char line[1024];
  char *dir = NULL;

  if (fp == NULL)
    return NULL;
  while (fgets (line, sizeof line, fp))
    if (strncmp (line, "plugindir=", 10) == 0) {
      line[strcspn (line, "\n")] = '\0';
      dir = strdup (line + 10);
    }
  pclose (fp);
  return dir;
}

static int available (const struct disk_source_req *req, bool quiet);

int
disk_source_available (const struct disk_source_req *req)
{
  return available (req, false);
}

int
disk_source_probe_vddk (const struct disk_source_req *req)
{
  return available (req, true);
}

int
disk_source_probe_nfc (const struct disk_source_req *req)
{
  struct disk_source_req nfc = *req;
  nfc.kind = DISK_SOURCE_NFC;
  return available (&nfc, true);
}

static int
available (const struct disk_source_req *req, bool quiet)
{
  if (req->kind == DISK_SOURCE_LOCAL || req->kind == DISK_SOURCE_EXPORT) {
    if (spawn_which ("qemu-nbd") != 0) {
      if (!quiet)
        log_error ("%s: qemu-nbd is not installed: install qemu-utils%s", req->what,
                   req->kind == DISK_SOURCE_EXPORT ? " and qemu-block-extra" : "");
      return -1;
    }
    if (req->kind == DISK_SOURCE_EXPORT) {
      /* A modular qemu (Debian's) reads HTTPS only with its curl module. */
      glob_t g;
      bool modular = glob ("/usr/lib{,64,/*}/qemu/block-*.so", GLOB_BRACE, NULL, &g) == 0;
      bool curl = false;
      if (modular) {
        for (size_t i = 0; i < g.gl_pathc; i++)
          if (strstr (g.gl_pathv[i], "/block-curl.so"))
            curl = true;
        globfree (&g);
      }
      if (modular && !curl) {
        if (!quiet)
          log_error ("%s: qemu's curl block driver (HTTPS) is not installed: install "
                     "qemu-block-extra", req->what);
        return -1;
      }
    }
    return 0;
  }
  if (spawn_which ("nbdkit") != 0) {
    if (!quiet)
      log_error ("%s: nbdkit is not installed: install nbdkit (and nbdkit-plugin-vddk "
               "for VDDK)", req->what);
    return -1;
  }
  if (req->kind == DISK_SOURCE_NFC) {
    CLEANUP_FREE char *plugin = nfc_plugin ();
    CLEANUP_FREE char *dir = plugin && plugin[0] != '/' ? nbdkit_plugindir () : NULL;
    CLEANUP_FREE char *so = plugin && plugin[0] == '/' ? strdup (plugin)
      : dir ? xasprintf ("%s/nbdkit-nfc-plugin.so", dir) : NULL;
    if (so == NULL || access (so, R_OK) != 0) {
      if (!quiet)
        log_error ("%s: ferry's nbdkit nfc plugin is not installed (%s): install ferry's "
                   "package (it ships the plugin), or read disks over datastore HTTPS: "
                   "disk_source: https", req->what, so ? so : "nbdkit-nfc-plugin.so");
      return -1;
    }
    return 0;
  }
  {
    CLEANUP_FREE char *dir = nbdkit_plugindir ();
    const char *plugin = req->kind == DISK_SOURCE_VDDK ? "vddk" : "curl";
    CLEANUP_FREE char *so = dir ? xasprintf ("%s/nbdkit-%s-plugin.so", dir, plugin) : NULL;
    if (so == NULL || access (so, R_OK) != 0) {
      if (quiet)
        ;
      else if (req->kind == DISK_SOURCE_VDDK)
        log_error ("%s: nbdkit's vddk plugin is not installed (%s): install it (Debian does "
                   "not ship it; Fedora/RHEL: nbdkit-vddk-plugin), or read disks without "
                   "VDDK: disk_source: https", req->what, so ? so : "nbdkit-vddk-plugin.so");
      else
        log_error ("%s: nbdkit's curl plugin is not installed: install nbdkit", req->what);
      return -1;
    }
  }
  if (req->kind == DISK_SOURCE_VDDK) {
    const char *libdir = req->libdir ? req->libdir : "/usr/lib/vmware-vix-disklib";
    CLEANUP_FREE char *pat = xasprintf ("%s/lib64/libvixDiskLib.so*", libdir);
    glob_t g;
    int found = pat && glob (pat, 0, NULL, &g) == 0;
    if (pat && found)
      globfree (&g);
    if (!found && !quiet)
      log_error ("%s: VMware's VDDK library is not in libdir %s (no lib64/libvixDiskLib.so): "
                 "install VDDK 8.x there and set libdir, or read disks without VDDK: "
                 "disk_source: https", req->what, libdir);
    if (!found)
      return -1;
  }
  return 0;
}

/* A run-ending signal arrived: caught (signals.h), or pending while
 * blocked (ferry disk-server waits for them with sigwait). */
static bool
stop_requested (void)
{
  sigset_t set;

  if (signals_pending ())
    return true;
  if (sigpending (&set) == -1)
    return false;
  return sigismember (&set, SIGINT) == 1 || sigismember (&set, SIGTERM) == 1 ||
    sigismember (&set, SIGHUP) == 1;
}

/* Is the server ready to serve the disk?  Not just listening: qemu-nbd
 * listens before it has opened the image (and exits, removing its socket,
 * if that fails), so a connect() alone would announce an endpoint that is
 * not there.  The NBD handshake completes only once the export exists. */
static int
server_ready (const char *path)
{
  struct nbd_handle *h = nbd_create ();
  int r = 0;

  if (h == NULL)
    return 0;
  /* Asynchronously, for at most half a second: a server that listens but
   * does not answer yet must not block the caller (who checks the child
   * and signals between tries). */
  if (nbd_aio_connect_unix (h, path) == 0) {
    for (int i = 0; i < 10 && !nbd_aio_is_ready (h) && !nbd_aio_is_dead (h) &&
           !nbd_aio_is_closed (h); i++)
      if (nbd_poll (h, 50) == -1)
        break;
    r = nbd_aio_is_ready (h) && nbd_get_size (h) >= 0;
  }
  if (r)
    nbd_shutdown (h, 0);
  nbd_close (h);
  return r;
}

int
disk_source_start (const struct disk_source_req *req, struct disk_source *src)
{
  CLEANUP_STRV char **argv = NULL;
  const char *secret = NULL;
  int fd;

  memset (src, 0, sizeof *src);
  src->pid = -1;
  if (disk_source_available (req) == -1)
    return FERRY_EXIT_DATA;
  if (mkdir_p (req->workdir, 0700) == -1) {
    log_error ("%s: cannot create %s: %s", req->what, req->workdir, strerror (errno));
    return FERRY_EXIT_DATA;
  }
  src->socket = xasprintf ("%s/nbd.sock", req->workdir);
  if (src->socket == NULL)
    return FERRY_EXIT_FAILED;
  unlink (src->socket);
  if (req->kind == DISK_SOURCE_VDDK || req->kind == DISK_SOURCE_NFC)
    secret = req->password;
  else if (req->kind == DISK_SOURCE_HTTPS)
    secret = NULL;
  if (req->kind != DISK_SOURCE_LOCAL) {
    src->secret_file = xasprintf ("%s/secret", req->workdir);
    fd = src->secret_file ? open (src->secret_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)
      : -1;
    if (fd == -1) {
      log_error ("%s: cannot write a private file in %s: %s", req->what, req->workdir,
                 strerror (errno));
      disk_source_stop (src);
      return FERRY_EXIT_DATA;
    }
    {
      CLEANUP_FREE char *content = req->kind == DISK_SOURCE_HTTPS
        || req->kind == DISK_SOURCE_EXPORT
        ? xasprintf ("vmware_soap_session=%s", req->cookie ? req->cookie : "")
        : xasprintf ("%s", secret ? secret : "");
      size_t len = content ? strlen (content) : 0;
      if (content == NULL || write (fd, content, len) != (ssize_t) len) {
        close (fd);
        log_error ("%s: cannot write %s", req->what, src->secret_file);
        disk_source_stop (src);
        return FERRY_EXIT_DATA;
      }
    }
    close (fd);
  }
  if (disk_source_argv (req, src->socket, src->secret_file, &argv) == -1) {
    disk_source_stop (src);
    return FERRY_EXIT_USAGE;
  }
  {
    struct spawn_opts so = { .log_path = req->log_path };
    src->pid = spawn_start (argv, &so);
  }
  if (src->pid == -1) {
    disk_source_stop (src);
    return FERRY_EXIT_DATA;
  }
  for (int waited = 0; ; waited += 50) {
    struct timespec ts = { 0, 50 * 1000000L };
    if (server_ready (src->socket))
      break;
    if (stop_requested ()) {
      log_error ("%s: interrupted while %s was starting", req->what, argv[0]);
      disk_source_stop (src);
      return FERRY_EXIT_INTERRUPTED;
    }
    if (!spawn_alive (src->pid)) {
      log_error ("%s: %s exited before serving the disk; its last lines:", req->what, argv[0]);
      log_file_tail (req->log_path, 8, argv[0]);
      src->pid = -1;
      disk_source_stop (src);
      return FERRY_EXIT_DATA;
    }
    if (waited > 60000) {
      log_error ("%s: %s did not open %s within 60 s; see %s", req->what, argv[0],
                 src->socket, req->log_path ? req->log_path : "its log");
      disk_source_stop (src);
      return FERRY_EXIT_DATA;
    }
    nanosleep (&ts, NULL);
  }
  /* The server has read its secret at start-up: don't leave it on disk. */
  if (src->secret_file) {
    unlink (src->secret_file);
    free (src->secret_file);
    src->secret_file = NULL;
  }
  src->uri = xasprintf ("nbd+unix:///?socket=%s", src->socket);
  log_debug ("%s: %s serving on %s", req->what, argv[0], src->socket);
  return src->uri ? 0 : FERRY_EXIT_FAILED;
}

void
disk_source_stop (struct disk_source *src)
{
  if (src->pid > 0)
    spawn_stop (src->pid, 5000);
  src->pid = -1;
  if (src->socket) {
    unlink (src->socket);
    free (src->socket);
    src->socket = NULL;
  }
  if (src->secret_file) {
    unlink (src->secret_file);
    free (src->secret_file);
    src->secret_file = NULL;
  }
  free (src->uri);
  src->uri = NULL;
}

const char *
disk_source_kind_name (enum disk_source_kind kind)
{
  switch (kind) {
  case DISK_SOURCE_VDDK: return "vddk";
  case DISK_SOURCE_HTTPS: return "https";
  case DISK_SOURCE_LOCAL: return "local";
  case DISK_SOURCE_EXPORT: return "export";
  case DISK_SOURCE_NFC: return "nfc";
  }
  return "unknown";
}

const char *
disk_source_kind_title (enum disk_source_kind kind)
{
  switch (kind) {
  case DISK_SOURCE_VDDK: return "VDDK";
  case DISK_SOURCE_HTTPS: return "datastore HTTPS";
  case DISK_SOURCE_LOCAL: return "local mount";
  case DISK_SOURCE_EXPORT: return "export lease";
  case DISK_SOURCE_NFC: return "NFC";
  }
  return "an unknown source";
}
