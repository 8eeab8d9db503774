/* nbdkit nfc plugin: parameters, see nfc-params.h. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfc-params.h"
#include "nfc-proto.h"

void
nfc_params_init (struct nfc_params *p)
{
  memset (p, 0, sizeof *p);
  p->disk = -1;
  p->ssl = true;
  p->connections = NFC_DEFAULT_CONNECTIONS;
  p->requests = NFC_DEFAULT_REQUESTS;
  p->timeout = NFC_DEFAULT_TIMEOUT;
  p->retries = NFC_DEFAULT_RETRIES;
}

void
nfc_params_free (struct nfc_params *p)
{
  free (p->server);
  free (p->user);
  if (p->password) {
    memset (p->password, 0, strlen (p->password));
    free (p->password);
  }
  free (p->thumbprint);
  free (p->host_thumbprint);
  free (p->cacert);
  free (p->vm);
  free (p->snapshot);
  free (p->changeid);
  free (p->file);
  nfc_params_init (p);
}

static int
number (const char *key, const char *value, long lo, long hi, long *out, char *why, size_t n)
{
  char *end;
  long v;

  errno = 0;
  v = strtol (value, &end, 10);
  if (errno || end == value || *end || v < lo || v > hi) {
    snprintf (why, n, "%s=%s: a number from %ld to %ld is expected", key, value, lo, hi);
    return -1;
  }
  *out = v;
  return 0;
}

static int
set_string (char **dst, const char *key, const char *value, char *why, size_t n)
{
  if (*dst) {
    snprintf (why, n, "%s is given twice", key);
    return -1;
  }
  if (*value == '\0') {
    snprintf (why, n, "%s is empty", key);
    return -1;
  }
  *dst = strdup (value);
  if (*dst == NULL) {
    snprintf (why, n, "out of memory");
    return -1;
  }
  return 0;
}

/* A managed object id: vm-123, snapshot-7, 42 (ESXi). */
static bool
moref_ok (const char *s)
{
  if (*s == '\0' || strlen (s) > 80)
    return false;
  for (; *s; s++)
    if (!isalnum ((unsigned char) *s) && *s != '-' && *s != '_' && *s != '.')
      return false;
  return true;
}

bool
nfc_password_form (const char *value)
{
  return value && (value[0] == '+' || value[0] == '-');
}

int
nfc_params_set (struct nfc_params *p, const char *key, const char *value, char *why, size_t n)
{
  long v;

  if (strcmp (key, "server") == 0)
    return set_string (&p->server, key, value, why, n);
  if (strcmp (key, "user") == 0)
    return set_string (&p->user, key, value, why, n);
  if (strcmp (key, "thumbprint") == 0 || strcmp (key, "host-thumbprint") == 0) {
    char **dst = key[0] == 't' ? &p->thumbprint : &p->host_thumbprint;
    char *tp = nfc_thumbprint_normalise (value);
    if (tp == NULL || (key[0] == 't' && strlen (tp) != 59)) {
      free (tp);
      snprintf (why, n, "%s=%s: not a %s fingerprint (AA:BB:... hex bytes; get it with "
                "'openssl s_client -connect HOST:443 </dev/null | openssl x509 -fingerprint "
                "-sha1 -noout')", key, value, key[0] == 't' ? "SHA-1" : "SHA-1 or SHA-256");
      return -1;
    }
    if (*dst) {
      free (tp);
      snprintf (why, n, "%s is given twice", key);
      return -1;
    }
    *dst = tp;
    return 0;
  }
  if (strcmp (key, "cacert") == 0)
    return set_string (&p->cacert, key, value, why, n);
  if (strcmp (key, "vm") == 0) {
    /* The vddk plugin's form: vm=moref=vm-123. */
    if (strncmp (value, "moref=", 6) != 0 || !moref_ok (value + 6)) {
      snprintf (why, n, "vm=%s: give the VM's managed object id as vm=moref=vm-123", value);
      return -1;
    }
    return set_string (&p->vm, key, value + 6, why, n);
  }
  if (strcmp (key, "snapshot") == 0) {
    if (!moref_ok (value)) {
      snprintf (why, n, "snapshot=%s: give the snapshot's managed object id (snapshot-12)",
                value);
      return -1;
    }
    return set_string (&p->snapshot, key, value, why, n);
  }
  if (strcmp (key, "changeid") == 0)
    return set_string (&p->changeid, key, value, why, n);
  if (strcmp (key, "disk") == 0) {
    if (p->disk >= 0) {
      snprintf (why, n, "disk is given twice");
      return -1;
    }
    if (number (key, value, 0, INT_MAX, &v, why, n) == -1)
      return -1;
    p->disk = (int) v;
    return 0;
  }
  if (strcmp (key, "file") == 0) {
    const char *close = strchr (value, ']');
    if (value[0] != '[' || close == NULL || close == value + 1 || close[1] != ' '
        || close[2] == '\0' || strlen (value) > 4096) {
      snprintf (why, n, "file=%s: a datastore path is expected: '[datastore] dir/disk.vmdk'",
                value);
      return -1;
    }
    for (const char *s = value; *s; s++)
      if ((unsigned char) *s < ' ') {
        snprintf (why, n, "file: a control character in the path");
        return -1;
      }
    return set_string (&p->file, key, value, why, n);
  }
  if (strcmp (key, "transport") == 0) {
    if (strcmp (value, "nbdssl") == 0)
      p->ssl = true;
    else if (strcmp (value, "nbd") == 0)
      p->ssl = false;
    else {
      snprintf (why, n, "transport=%s: nbdssl (the default: NFC data in TLS) or nbd (in clear)",
                value);
      return -1;
    }
    return 0;
  }
  if (strcmp (key, "connections") == 0) {
    if (number (key, value, 1, NFC_MAX_CONNECTIONS, &v, why, n) == -1)
      return -1;
    p->connections = (unsigned) v;
    return 0;
  }
  if (strcmp (key, "requests") == 0) {
    if (number (key, value, 1, NFC_MAX_REQUESTS, &v, why, n) == -1)
      return -1;
    p->requests = (unsigned) v;
    return 0;
  }
  if (strcmp (key, "timeout") == 0) {
    if (number (key, value, 1, 3600, &v, why, n) == -1)
      return -1;
    p->timeout = (int) v;
    return 0;
  }
  if (strcmp (key, "retries") == 0) {
    if (number (key, value, 0, 20, &v, why, n) == -1)
      return -1;
    p->retries = (unsigned) v;
    return 0;
  }
  snprintf (why, n, "unknown parameter '%s' (see nbdkit nfc --help)", key);
  return -1;
}

int
nfc_params_check (const struct nfc_params *p, char *why, size_t n)
{
  if (p->server == NULL) {
    snprintf (why, n, "server= is missing: the vCenter (or ESXi) host name");
    return -1;
  }
  if (p->user == NULL) {
    snprintf (why, n, "user= is missing");
    return -1;
  }
  if (p->password == NULL) {
    snprintf (why, n, "password= is missing: password=+FILE or password=- (stdin)");
    return -1;
  }
  if (p->vm == NULL) {
    snprintf (why, n, "vm= is missing: vm=moref=vm-123");
    return -1;
  }
  if ((p->disk >= 0) == (p->file != NULL)) {
    snprintf (why, n, "give one of disk=KEY (the VirtualDisk's device key) or "
              "file='[datastore] path.vmdk'");
    return -1;
  }
  if (p->changeid && p->snapshot == NULL) {
    snprintf (why, n, "changeid= needs snapshot=: changed areas are counted up to a snapshot");
    return -1;
  }
  if (p->thumbprint && p->cacert) {
    snprintf (why, n, "give thumbprint= or cacert=, not both");
    return -1;
  }
  return 0;
}
