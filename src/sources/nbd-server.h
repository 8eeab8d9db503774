/* ferry: where a VMware disk's bytes come from.  Each source kind is an
 * NBD server started on a private Unix socket, read by the copy engine:
 *
 *   vddk    nbdkit's vddk plugin (VMware's VDDK library, NFC on TCP 902);
 *           the password by file (password=+FILE), never in argv;
 *   https   nbdkit's curl plugin on the datastore's HTTPS file access, the
 *           flat extent named by the disk's descriptor, authenticated with
 *           the vSphere session cookie by file (cookie=+FILE);
 *   local   qemu-nbd, read-only, on the VMDK under an NFS-mounted datastore
 *           (local_disk_path; every VMDK subformat and snapshot delta chain
 *           qemu reads; cold migrations only);
 *   export  qemu-nbd, read-only, on the streamOptimized VMDK an export lease
 *           (ExportVm's HttpNfcLease) serves over HTTPS, through qemu's curl
 *           block driver (Debian: qemu-block-extra), the session cookie by
 *           file (a qemu secret object).  The lease is the caller's: started
 *           before (vsphere/lease.h) and completed or aborted after. */
#ifndef FERRY_SOURCES_NBD_SERVER_H
#define FERRY_SOURCES_NBD_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

enum disk_source_kind { DISK_SOURCE_VDDK, DISK_SOURCE_HTTPS, DISK_SOURCE_LOCAL,
                        DISK_SOURCE_EXPORT, DISK_SOURCE_NFC };

/* The kind as the state and the report record it: "vddk", "https",
 * "local", "export", "nfc". */
const char *disk_source_kind_name (enum disk_source_kind kind);
/* The kind as messages say it: "VDDK", "datastore HTTPS", "local mount",
 * "export lease", "NFC". */
const char *disk_source_kind_title (enum disk_source_kind kind);

struct disk_source_req {
  enum disk_source_kind kind;
  const char *what;           /* "VM lab-multi disk 2000", for messages */
  const char *file;           /* "[ds] dir/disk.vmdk" as at the snapshot */
  /* vddk, nfc */
  const char *server;         /* vCenter host (port separately) */
  int port;                   /* 0: default */
  const char *user, *password, *thumbprint, *libdir;
  const char *vm_moref, *snapshot_moref;
  const char *transports;     /* e.g. "file:nbdssl:nbd" */
  const char *compression;    /* e.g. "fastlz", or NULL */
  long long disk_key;         /* nfc: the disk's device key (with file: its state) */
  /* https, export */
  const char *url;            /* the flat extent's URL; export: the lease's disk URL */
  const char *cookie;         /* vmware_soap_session value */
  const char *cacert;
  bool insecure;              /* don't verify (the operator allowed it) */
  bool pinned;                /* https: ferry pins a thumbprint nbdkit can't take */
  bool allow_unverified;      /* https: allow_unverified_data_path */
  /* local */
  const char *local_disk_path;
  /* all */
  const char *workdir;        /* private directory for the socket and secret files */
  const char *log_path;       /* the server's own log */
};

struct disk_source {
  pid_t pid;
  char *socket;
  char *uri;                  /* nbd+unix:///?socket=... */
  char *secret_file;
};

/* Build the server's argv (NULL-terminated, malloc'd strings) for req,
 * with the socket and secret file paths given.  Returns 0 or -1 after
 * logging what is missing.  Separate from start so it can be tested. */
int disk_source_argv (const struct disk_source_req *req, const char *socket,
                      const char *secret_file, char ***argv);

/* Check that what the kind needs is installed: nbdkit and its plugin, the
 * VDDK library, qemu-nbd.  0, or -1 after logging what to install. */
int disk_source_available (const struct disk_source_req *req);
/* The same for VDDK, silently: 0 if nbdkit's vddk plugin and the library are there. */
int disk_source_probe_vddk (const struct disk_source_req *req);
/* The same for NFC: 0 if nbdkit and ferry's nfc plugin are there. */
int disk_source_probe_nfc (const struct disk_source_req *req);

/* Start the server and wait until its socket answers.  Returns 0, or an
 * exit code after logging (the server's log tail included). */
int disk_source_start (const struct disk_source_req *req, struct disk_source *src);
/* Stop it, remove the socket and any secret file.  Safe to call twice. */
void disk_source_stop (struct disk_source *src);

#endif
