/* nbdkit nfc plugin: read a VMware disk over NFC (what VDDK's nbd and
 * nbdssl transports speak) without VDDK.  See nbdkit-nfc-plugin.pod.
 *
 * Thread model: PARALLEL.  One nbdkit instance serves one disk, read-only;
 * the plugin keeps a pool of up to `connections` NFC connections shared
 * by every NBD connection (handles are stateless), and each NFC connection
 * pipelines up to `requests` reads, their replies sorted out by opId by
 * the connection's receiver thread (nfc-conn.c).  nbdkit's worker threads
 * are what fills the pipelines: a serializing model would leave one read
 * in flight, the NFC round trip to a remote ESXi host per read.  The
 * vSphere session (one struct vsphere, used by one thread at a time) is
 * behind vs_lock. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>
#include <openssl/opensslv.h>

#include "nfc-conn.h"
#include "nfc-params.h"
#include "nfc-proto.h"
#include "nfc-vs.h"
#include "common/http.h"
#include "common/redact.h"
#include "vsphere/vmops.h"
#include "vsphere/vsphere.h"

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

static struct nfc_params params;
static pthread_mutex_t vs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vsphere *vs;
static struct nfc_vs_disk disk = { .key = -1 };
static char *disk_name;               /* "VM name disk 2000 ([ds] path.vmdk)" */
static bool http_ready;

/* Block status from CBT: the areas, sorted, and what the others are. */
struct area { uint64_t start, length; };
static struct area *areas;
static size_t nareas;
static bool have_areas;
static uint32_t gap_type;             /* of what is outside the areas */

struct pool_entry {
  struct nfc_conn *c;
  unsigned users;
  bool connecting;
};
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static struct pool_entry *pool;
static uint32_t sector_size = 512;
static unsigned reconnects;           /* counted for the debug log */

static void
nfc_load (void)
{
  nfc_params_init (&params);
}

static void
nfc_unload (void)
{
  if (pool) {
    for (unsigned i = 0; i < params.connections; i++)
      nfc_conn_close (pool[i].c);
    free (pool);
    pool = NULL;
  }
  if (vs)
    vs_disconnect (vs);
  vs = NULL;
  nfc_vs_disk_free (&disk);
  free (disk_name);
  free (areas);
  nfc_params_free (&params);
  if (http_ready)
    http_global_cleanup ();
}

static int
nfc_config (const char *key, const char *value)
{
  char why[512];

  if (strcmp (key, "password") == 0) {
    char *pw = NULL;
    if (!nfc_password_form (value)) {
      nbdkit_error ("password: a password on the command line is visible in every process "
                    "list: give password=+FILE (read from FILE), password=- (asked on the "
                    "terminal) or password=-FD (read from file descriptor FD)");
      return -1;
    }
    if (params.password) {
      nbdkit_error ("password is given twice");
      return -1;
    }
    if (nbdkit_read_password (value, &pw) == -1)
      return -1;
    /* A password file ends with a newline that is not part of it. */
    pw[strcspn (pw, "\r\n")] = '\0';
    params.password = pw;
    redact_add_secret (pw);
    return 0;
  }
  if (nfc_params_set (&params, key, value, why, sizeof why) == -1) {
    nbdkit_error ("%s", why);
    return -1;
  }
  return 0;
}

static int
nfc_config_complete (void)
{
  char why[512];

  if (nfc_params_check (&params, why, sizeof why) == -1) {
    nbdkit_error ("%s", why);
    return -1;
  }
  return 0;
}

#define nfc_config_help \
  "server=<HOST>        (required) vCenter or ESXi host name [:port].\n" \
  "user=<USER>          (required) vSphere user name.\n" \
  "password=+<FILE>|-|-<FD> (required) From FILE, the terminal, or FD.\n" \
  "thumbprint=<SHA1>    Pin server's certificate (AA:BB:...); else CA-verified.\n" \
  "cacert=<FILE>        CA bundle for server's certificate.\n" \
  "host-thumbprint=<TP> Pin the ESXi host's (authd's) certificate too.\n" \
  "vm=moref=<MOREF>     (required) The VM, e.g. vm=moref=vm-123.\n" \
  "disk=<KEY>           The VirtualDisk's device key (2000...), or:\n" \
  "file=<[ds] path>     The disk file, e.g. file='[datastore1] vm/vm.vmdk'.\n" \
  "snapshot=<MOREF>     Read the disk as this snapshot froze it.\n" \
  "changeid=<ID>|*      With snapshot: block status from CBT (* = allocated).\n" \
  "transport=nbdssl|nbd NFC data in TLS (default) or in clear.\n" \
  "connections=<N>      NFC connections to the host (default 2).\n" \
  "requests=<N>         Reads in flight per connection (default 4).\n" \
  "timeout=<SECS>       No answer for this long breaks a connection (120).\n" \
  "retries=<N>          Reconnections (fresh ticket) per read (default 3)."

static void
nfc_dump_plugin (void)
{
  printf ("nfc_transports=nbdssl nbd\n");
  printf ("nfc_client_version=%d\n", NFC_CLIENT_VERSION);
  printf ("nfc_fragment_max=%u\n", NFC_FRAGMENT_MAX);
  printf ("nfc_openssl=%s\n", OPENSSL_VERSION_TEXT);
  printf ("nfc_ferry_version=%s\n", FERRY_VERSION);
}

static int
area_cmp (const void *a, const void *b)
{
  const struct area *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

static int
load_areas (void)
{
  json_t *j = vm_changed_areas (vs, disk.vm, disk.snapshot, disk.key, disk.capacity,
                                params.changeid, NULL);
  size_t i;
  json_t *a;

  if (j == NULL) {
    nbdkit_error ("%s: QueryChangedDiskAreas since '%s' gave no areas: is CBT on for the VM, "
                  "and the change id one of this disk's?", disk_name, params.changeid);
    return -1;
  }
  areas = calloc (json_array_size (j) + 1, sizeof *areas);
  if (areas == NULL) {
    json_decref (j);
    return -1;
  }
  json_array_foreach (j, i, a) {
    json_int_t s = json_integer_value (json_object_get (a, "start"));
    json_int_t l = json_integer_value (json_object_get (a, "length"));
    uint64_t end;
    if (s < 0 || l <= 0 || (uint64_t) s >= disk.capacity)
      continue;
    end = (uint64_t) s + (uint64_t) l;
    if (end > disk.capacity || end < (uint64_t) s)
      end = disk.capacity;
    areas[nareas++] = (struct area) { (uint64_t) s, end - (uint64_t) s };
  }
  json_decref (j);
  qsort (areas, nareas, sizeof *areas, area_cmp);
  have_areas = true;
  /* "*": outside the allocated areas the disk reads as zeros.  A real
   * change id: outside the changed areas the data is unchanged, not zero;
   * a hole without ZERO says so (a client that must not copy it again
   * knows; one that trusts only ZERO, as nbdcopy, copies it, correctly). */
  gap_type = strcmp (params.changeid, "*") == 0 ? NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO
    : NBDKIT_EXTENT_HOLE;
  nbdkit_debug ("%s: %zu %s areas since '%s'", disk_name, nareas,
                gap_type & NBDKIT_EXTENT_ZERO ? "allocated" : "changed", params.changeid);
  return 0;
}

static int probe (void);

static int
nfc_get_ready (void)
{
  struct vs_opts o = { .host = params.server, .user = params.user, .password = params.password,
                       .thumbprint = params.thumbprint, .cacert = params.cacert };

  http_global_init ();
  http_ready = true;
  if (vs_connect (&o, &vs) != 0)
    return -1;
  if (nfc_vs_resolve (vs, params.vm, params.snapshot, params.disk, params.file, &disk) == -1)
    return -1;
  if (asprintf (&disk_name, "VM %s disk %d (%s)", disk.vm_name, disk.key, disk.file) == -1)
    return -1;
  nbdkit_debug ("%s: %" PRIu64 " bytes, on host %s", disk_name, disk.capacity, disk.host);
  if (params.changeid && load_areas () == -1)
    return -1;
  pool = calloc (params.connections, sizeof *pool);
  if (pool == NULL)
    return -1;
  return probe ();
}

static bool
same_host (const char *server, const char *host)
{
  const char *s = server;
  size_t n;

  if (strncmp (s, "https://", 8) == 0)
    s += 8;
  n = strcspn (s, ":/");
  return strlen (host) == n && strncmp (s, host, n) == 0;
}

/* A new NFC connection with a fresh ticket; authd refusing a ticket or a
 * connection breaking during setup gets another ticket, up to retries
 * times.  NULL after logging. */
static struct nfc_conn *
connect_new (void)
{
  for (unsigned attempt = 0;; attempt++) {
    struct nfc_ticket t;
    struct nfc_conn *c;
    enum nfc_fail fail;
    const char *pins[3];
    size_t np = 0;
    int r;

    pthread_mutex_lock (&vs_lock);
    r = nfc_vs_ticket (vs, &disk, &t);
    pthread_mutex_unlock (&vs_lock);
    if (r == -1)
      return NULL;
    /* The user's pin of server binds the host too when the ticket sends us
     * back to it (ESXi without vCenter). */
    if (params.thumbprint && same_host (params.server, t.host))
      pins[np++] = params.thumbprint;
    if (params.host_thumbprint)
      pins[np++] = params.host_thumbprint;
    pins[np] = NULL;
    {
      struct nfc_target tg = { .path = disk.file, .name = disk_name, .ssl = params.ssl,
                               .pins = pins, .requests = params.requests,
                               .timeout_s = params.timeout };
      c = nfc_conn_open (&t, &tg, &fail);
    }
    nfc_ticket_free (&t);
    if (c) {
      sector_size = nfc_conn_sector_size (c);
      return c;
    }
    if ((fail != NFC_FAIL_RETRY && fail != NFC_FAIL_TICKET) || attempt >= params.retries)
      return NULL;
    nbdkit_debug ("%s: connecting again with a fresh ticket (attempt %u of %u)", disk_name,
                  attempt + 2, params.retries + 1);
    usleep (200000 * (attempt + 1));
  }
}

/* A connection to read on (its users counted), made if need be. */
static struct nfc_conn *
pool_get (unsigned *idx)
{
  pthread_mutex_lock (&pool_lock);
  for (;;) {
    int best = -1, empty = -1;
    bool cleaned = false;

    for (unsigned i = 0; i < params.connections; i++) {
      struct pool_entry *e = &pool[i];
      if (e->c && nfc_conn_broken (e->c)) {
        if (e->users == 0) {
          struct nfc_conn *old = e->c;
          e->c = NULL;
          pthread_mutex_unlock (&pool_lock);
          nfc_conn_close (old);
          pthread_mutex_lock (&pool_lock);
          cleaned = true;
          break;
        }
        continue;
      }
      if (e->c && (best < 0 || e->users < pool[best].users))
        best = (int) i;
      if (e->c == NULL && !e->connecting && empty < 0)
        empty = (int) i;
    }
    if (cleaned)
      continue;
    /* A new connection when the others' pipelines are full. */
    if (empty >= 0 && (best < 0 || pool[best].users >= params.requests)) {
      struct nfc_conn *c;
      pool[empty].connecting = true;
      pthread_mutex_unlock (&pool_lock);
      c = connect_new ();
      pthread_mutex_lock (&pool_lock);
      pool[empty].connecting = false;
      if (c) {
        pool[empty].c = c;
        pool[empty].users = 1;
        if (reconnects++ >= params.connections)
          nbdkit_debug ("%s: NFC connection %d made again", disk_name, empty);
      }
      pthread_cond_broadcast (&pool_cond);
      pthread_mutex_unlock (&pool_lock);
      *idx = (unsigned) empty;
      return c;
    }
    if (best >= 0) {
      pool[best].users++;
      pthread_mutex_unlock (&pool_lock);
      *idx = (unsigned) best;
      return pool[best].c;
    }
    pthread_cond_wait (&pool_cond, &pool_lock);
  }
}

static void
pool_put (unsigned idx)
{
  pthread_mutex_lock (&pool_lock);
  pool[idx].users--;
  pthread_cond_broadcast (&pool_cond);
  pthread_mutex_unlock (&pool_lock);
}

/* A first connection is made (and closed) before nbdkit serves, so that a
 * bad ticket, host, thumbprint or disk path stops nbdkit at once with its
 * reason.  It is not kept: nbdkit may fork after this, and a connection
 * has a thread.  The first read makes a new one, with a fresh ticket. */
static int
probe (void)
{
  struct nfc_conn *c = connect_new ();

  if (c == NULL)
    return -1;
  nfc_conn_close (c);
  return 0;
}

static void *
nfc_open (int readonly)
{
  static int handle;
  (void) readonly;
  return &handle;
}

static int64_t
nfc_get_size (void *h)
{
  (void) h;
  return (int64_t) disk.capacity;
}

static int
nfc_can_multi_conn (void *h)
{
  (void) h;
  return 1;
}

static int
nfc_can_cache (void *h)
{
  (void) h;
  return NBDKIT_CACHE_NONE;
}

/* One read, whole or not at all: a broken connection is replaced (fresh
 * ticket) and the read asked again, up to `retries` times. */
static int
read_retry (void *buf, uint32_t count, uint64_t offset)
{
  for (unsigned attempt = 0;; attempt++) {
    unsigned idx;
    struct nfc_conn *c = pool_get (&idx);
    enum nfc_fail fail = NFC_FAIL_RETRY;
    int r = -1;

    if (c == NULL) {
      nbdkit_error ("%s: read at offset %" PRIu64 ": no NFC connection", disk_name, offset);
      errno = EIO;
      return -1;
    }
    r = nfc_conn_pread (c, buf, count, offset, &fail);
    pool_put (idx);
    if (r == 0)
      return 0;
    if (fail != NFC_FAIL_RETRY || attempt >= params.retries) {
      if (fail == NFC_FAIL_RETRY)
        nbdkit_error ("%s: read at offset %" PRIu64 " (%u bytes) failed %u times on a broken "
                      "NFC connection: giving up", disk_name, offset, count, attempt + 1);
      errno = EIO;
      return -1;
    }
    nbdkit_debug ("%s: read at offset %" PRIu64 ": the NFC connection broke; reading again on "
                  "a new one", disk_name, offset);
  }
}

static int
nfc_pread (void *h, void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
  uint8_t *out = buf;

  (void) h;
  (void) flags;
  while (count > 0) {
    uint32_t ss = sector_size;
    uint64_t start = offset & ~(uint64_t) (ss - 1);
    uint32_t n = count > NFC_IO_MAX - 2 * ss ? NFC_IO_MAX - 2 * ss : count;
    uint64_t end = offset + n;
    uint64_t aend = (end + ss - 1) & ~(uint64_t) (ss - 1);

    if (aend > disk.capacity)
      aend = disk.capacity;
    if (start == offset && aend == end) {
      if (read_retry (out, n, offset) == -1)
        return -1;
    }
    else {
      /* NFC reads whole sectors (nfc_read.md "Mapping from VDDK"): read
       * the sectors around an unaligned request and copy the part asked. */
      uint8_t *bounce = malloc (aend - start);
      if (bounce == NULL) {
        nbdkit_error ("out of memory");
        return -1;
      }
      if (read_retry (bounce, (uint32_t) (aend - start), start) == -1) {
        free (bounce);
        return -1;
      }
      memcpy (out, bounce + (offset - start), n);
      free (bounce);
    }
    out += n;
    offset += n;
    count -= n;
  }
  return 0;
}

static int
nfc_can_extents (void *h)
{
  (void) h;
  return have_areas;
}

static int
nfc_extents (void *h, uint32_t count, uint64_t offset, uint32_t flags,
             struct nbdkit_extents *ext)
{
  uint64_t pos = offset, end = offset + count;
  size_t lo = 0, hi = nareas;

  (void) h;
  (void) flags;
  /* The first area that ends after offset. */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (areas[mid].start + areas[mid].length <= offset)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (size_t i = lo; i < nareas && pos < end; i++) {
    uint64_t s = areas[i].start, e = areas[i].start + areas[i].length;
    if (e <= pos)
      continue;
    if (s > pos) {
      uint64_t gap_end = s < end ? s : end;
      if (nbdkit_add_extent (ext, pos, gap_end - pos, gap_type) == -1)
        return -1;
      pos = gap_end;
      if (pos >= end)
        break;
    }
    if (e > end)
      e = end;
    if (nbdkit_add_extent (ext, pos, e - pos, 0) == -1)
      return -1;
    pos = e;
  }
  if (pos < end && nbdkit_add_extent (ext, pos, end - pos, gap_type) == -1)
    return -1;
  return 0;
}

static struct nbdkit_plugin plugin = {
  .name = "nfc",
  .longname = "nbdkit VMware NFC plugin (ferry)",
  .version = FERRY_VERSION,
  .load = nfc_load,
  .unload = nfc_unload,
  .config = nfc_config,
  .config_complete = nfc_config_complete,
  .config_help = nfc_config_help,
  .dump_plugin = nfc_dump_plugin,
  .get_ready = nfc_get_ready,
  .open = nfc_open,
  .get_size = nfc_get_size,
  .can_multi_conn = nfc_can_multi_conn,
  .can_cache = nfc_can_cache,
  .pread = nfc_pread,
  .can_extents = nfc_can_extents,
  .extents = nfc_extents,
  .errno_is_preserved = 1,
};

NBDKIT_REGISTER_PLUGIN (plugin)
