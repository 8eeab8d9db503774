/* nbdkit nfc plugin: one NFC connection to an ESXi host.
 *
 * A connection is made with one ticket (tickets are single use):
 *   TCP to the ticket's host:port, authd's plain-text banner, TLS checked
 *   against the pinned thumbprints before a byte of the session is sent,
 *   SESSION / BANNER / THUMBPRINT_SHA2 / PROXY (nfc_auth.md "Stage 3"),
 *   for nbdssl a second TLS handshake on the same TCP connection, checked
 *   the same way (nfc_open.md "After PROXY"), the classic handshake, the
 *   AIO session and OPEN_FILE read-only (nfc_open.md).
 * Then reads: nfc_conn_pread may be called from many threads at once; up
 * to `requests` IO requests are in flight on the connection, their reply
 * fragments read by the connection's own receiver thread straight into
 * the callers' buffers once checked (nfc_read.md "Reply").
 *
 * When anything goes wrong on the connection (EOF, reset, timeout, TLS
 * error, a reply that breaks the protocol), the connection is "broken":
 * every read in flight on it fails, none returns partial data, and the
 * caller makes a new connection with a fresh ticket. */
#ifndef NFC_CONN_H
#define NFC_CONN_H

#include <stdbool.h>
#include <stdint.h>

struct nfc_ticket {
  char *host;                 /* ESXi host name or address */
  int port;                   /* authd port (902) */
  char *thumbprint;           /* normalised SHA-1 (or SHA-256) of its certificate */
  char *service;              /* "vpxa-nfc" (vCenter) or "ha-nfc" (ESXi) */
  char *session;              /* the one-time session id */
};
void nfc_ticket_free (struct nfc_ticket *t);

struct nfc_target {
  const char *path;           /* "[datastore] dir/disk.vmdk": OPEN_FILE's argument */
  const char *name;           /* the disk as messages name it */
  bool ssl;                   /* nbdssl: TLS for the NFC data too */
  const char *const *pins;    /* more normalised thumbprints the host must match, NULL-ended */
  unsigned requests;          /* IO requests in flight at most */
  int timeout_s;              /* no answer for this long: the connection is broken */
};

/* Why an operation failed. */
enum nfc_fail {
  NFC_OK = 0,
  NFC_FAIL_RETRY,             /* the connection broke: a fresh ticket may do */
  NFC_FAIL_TICKET,            /* authd refused the ticket (4xx/5xx): a fresh one may do */
  NFC_FAIL_REFUSED,           /* the NFC server answered an AIO error: final */
  NFC_FAIL_PROTOCOL,          /* the server broke the protocol or failed a check */
  NFC_FAIL_SECURITY,          /* the certificate is not the pinned one: never retried */
};

struct nfc_conn;

/* Connect and open the disk.  NULL with *why set (the error is logged). */
struct nfc_conn *nfc_conn_open (const struct nfc_ticket *t, const struct nfc_target *tg,
                                enum nfc_fail *why);
/* Read count bytes at offset into buf (count <= NFC_IO_MAX); safe from
 * any number of threads.  0, or -1 with *why (logged) and errno set; the
 * buffer's content is then undefined. */
int nfc_conn_pread (struct nfc_conn *c, void *buf, uint32_t count, uint64_t offset,
                    enum nfc_fail *why);
bool nfc_conn_broken (struct nfc_conn *c);
uint32_t nfc_conn_sector_size (const struct nfc_conn *c);
/* Close the file and the session politely if the connection is healthy
 * and idle, then free it.  No read may be running on it. */
void nfc_conn_close (struct nfc_conn *c);

/* For tests: how a certificate (DER) matches a thumbprint. */
bool nfc_cert_matches (const unsigned char *der, int der_len, const char *thumbprint);

#endif
