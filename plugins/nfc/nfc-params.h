/* nbdkit nfc plugin: its parameters (nbdkit nfc --help), parsed and
 * checked apart from nbdkit so that tests reach them. */
#ifndef NFC_PARAMS_H
#define NFC_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#define NFC_DEFAULT_CONNECTIONS 2
#define NFC_MAX_CONNECTIONS 32
#define NFC_DEFAULT_REQUESTS 4
#define NFC_MAX_REQUESTS 64
#define NFC_DEFAULT_TIMEOUT 120
#define NFC_DEFAULT_RETRIES 3

struct nfc_params {
  char *server;               /* vCenter or ESXi, host[:port] */
  char *user;
  char *password;             /* read from +FILE or - by the plugin */
  char *thumbprint;           /* normalised SHA-1 of server's certificate */
  char *host_thumbprint;      /* normalised thumbprint the ESXi host must also show */
  char *cacert;               /* CA file for server, when no thumbprint */
  char *vm;                   /* VirtualMachine moref */
  char *snapshot;             /* VirtualMachineSnapshot moref */
  char *changeid;             /* with snapshot: block status from CBT */
  int disk;                   /* VirtualDisk key, -1 if not given */
  char *file;                 /* "[datastore] path.vmdk" */
  bool ssl;                   /* transport=nbdssl (default) or nbd */
  unsigned connections;
  unsigned requests;
  int timeout;
  unsigned retries;
};

void nfc_params_init (struct nfc_params *p);
void nfc_params_free (struct nfc_params *p);
/* One key=value.  password is not taken here (the caller reads it from a
 * file or stdin); nfc_password_form says whether its value is allowed.
 * 0, or -1 with why. */
int nfc_params_set (struct nfc_params *p, const char *key, const char *value, char *why,
                    size_t n);
/* "+FILE", "-" or "-FD": true; a literal password on the command line:
 * false (it would be in every process list). */
bool nfc_password_form (const char *value);
/* All given and consistent.  0, or -1 with why. */
int nfc_params_check (const struct nfc_params *p, char *why, size_t n);

#endif
