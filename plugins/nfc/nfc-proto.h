/* nbdkit nfc plugin: the NFC wire format, with no I/O.
 *
 * Everything here is a pure function over byte buffers, so that the
 * framing and the fragment bookkeeping are unit-tested (tests/nfc) apart
 * from sockets and TLS.  All integers on the wire are little-endian.
 *
 * Sources (published captures of VDDK 8 traffic, cloudbase/OpenVixDiskLib):
 *   docs/nfc_open.md "Classic 264-byte messages", "AIO framing", "OPEN_FILE",
 *   "Close"; docs/nfc_read.md "Request (44 bytes)", "Reply". */
#ifndef NFC_PROTO_H
#define NFC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* nfc_open.md "Classic 264-byte messages": fixed-size frames before AIO. */
#define NFC_MSG_SIZE 264
enum nfc_msg_type {
  NFC_MSG_SESSION_COMPLETE = 4,
  NFC_MSG_SESSION_PARAMS = 33,
  NFC_MSG_SESSION_PARAMS_REPLY = 36,
  NFC_MSG_HANDSHAKE = 43,
  NFC_MSG_VERSION = 51,
  NFC_MSG_AIO_SESSION_OPEN = 52,
  NFC_MSG_CONNECTION_DATA = 54,
  NFC_MSG_SESSION_FEATURES = 55,
};
/* The version we announce (nfc_open.md: the ESXi 8 capture's 11) and the
 * lowest a server may answer (connection data needs >= 3). */
#define NFC_CLIENT_VERSION 11
#define NFC_MIN_SERVER_VERSION 3
#define NFC_FEATURES 3                  /* interruption | switch */

/* nfc_open.md "AIO framing": a 16-byte header, then `size` payload bytes;
 * extras (the path, read data) follow outside `size`. */
#define NFC_AIO_MAGIC 0xA100DA7Au
#define NFC_AIO_HDR_SIZE 16
enum nfc_aio_type {
  NFC_AIO_ERROR = 1,
  NFC_AIO_OPEN_SESSION = 2,
  NFC_AIO_CLOSE_SESSION = 3,
  NFC_AIO_OPEN_FILE = 4,
  NFC_AIO_CLOSE_FILE = 5,
  NFC_AIO_IO = 7,
  NFC_AIO_SET_SOCK_OPTS = 9,
  NFC_AIO_SET_RES_POOL = 22,
};
/* Payload sizes of the requests we send (nfc_open.md table). */
#define NFC_OPEN_SESSION_SIZE 16
#define NFC_SET_SOCK_OPTS_SIZE 12
#define NFC_SET_RES_POOL_SIZE 4
#define NFC_OPEN_FILE_SIZE 60
#define NFC_CLOSE_FILE_SIZE 8
#define NFC_CLOSE_SESSION_SIZE 4
#define NFC_IO_SIZE 44
/* The largest AIO payload we accept from a server (its data extras are
 * counted apart): every reply we expect is 60 bytes or less; an error
 * message may carry some text.  Anything bigger is a protocol error, never
 * an allocation. */
#define NFC_AIO_MAX_PAYLOAD 4096

#define NFC_FILE_DISK 2                 /* OPEN_FILE file type NFC_DISK */
#define NFC_OPEN_READ_ONLY 0x1eu        /* OPEN_FILE flags of a read-only open */
#define NFC_IO_READ 1u                  /* IO direction (low 32 bits of the opcode) */
/* nfc_read.md "Mapping from VDDK": a read reply comes in fragments of at
 * most NFC_AIO_BUFFER_SIZE data bytes. */
#define NFC_FRAGMENT_MAX 65536u
/* The largest single IO request we send: a uint32 in the reply. */
#define NFC_IO_MAX (32u * 1024 * 1024)

static inline void
nfc_put32 (uint8_t *p, uint32_t v)
{
  p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}
static inline void
nfc_put64 (uint8_t *p, uint64_t v)
{
  nfc_put32 (p, (uint32_t) v);
  nfc_put32 (p + 4, (uint32_t) (v >> 32));
}
static inline uint32_t
nfc_get32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}
static inline uint64_t
nfc_get64 (const uint8_t *p)
{
  return (uint64_t) nfc_get32 (p) | (uint64_t) nfc_get32 (p + 4) << 32;
}

/* A classic message: zeroed, with its type. */
void nfc_msg_init (uint8_t msg[NFC_MSG_SIZE], uint32_t type);
/* The client's classic messages (nfc_open.md "Handshake order"). */
void nfc_msg_handshake (uint8_t msg[NFC_MSG_SIZE]);          /* 43 "PlainText" */
void nfc_msg_version (uint8_t msg[NFC_MSG_SIZE], uint32_t version);
void nfc_msg_connection_data (uint8_t msg[NFC_MSG_SIZE], uint32_t name_len,
                              uint32_t opid_len);
void nfc_msg_features (uint8_t msg[NFC_MSG_SIZE], uint32_t features);
static inline uint32_t nfc_msg_type (const uint8_t msg[NFC_MSG_SIZE]) { return nfc_get32 (msg); }

struct nfc_aio_hdr {
  uint32_t type, size, opid;
};
void nfc_aio_hdr_encode (uint8_t out[NFC_AIO_HDR_SIZE], uint32_t type, uint32_t size,
                         uint32_t opid);
/* 0, or -1 with why filled: bad magic, or a payload over NFC_AIO_MAX_PAYLOAD. */
int nfc_aio_hdr_decode (const uint8_t in[NFC_AIO_HDR_SIZE], struct nfc_aio_hdr *h,
                        char *why, size_t why_len);
const char *nfc_aio_type_name (uint32_t type);

/* OPEN_FILE request (nfc_open.md "OPEN_FILE"); the path follows it. */
void nfc_open_file_encode (uint8_t out[NFC_OPEN_FILE_SIZE], uint32_t path_len, uint32_t flags);
struct nfc_open_reply {
  uint64_t handle;
  uint32_t file_type, flags, sector_size;
};
/* 0, or -1 with why (too short, not a disk, absurd sector size). */
int nfc_open_file_reply_decode (const uint8_t *p, size_t len, struct nfc_open_reply *r,
                                char *why, size_t why_len);

/* IO read request (nfc_read.md "Request (44 bytes)"). */
void nfc_io_read_encode (uint8_t out[NFC_IO_SIZE], uint64_t handle, uint64_t offset,
                         uint32_t length);
/* One reply fragment's payload (nfc_read.md "Reply"). */
struct nfc_io_frag {
  uint64_t opcode;            /* low 32: direction; high 32: compression */
  uint64_t req_offset;        /* byte offset of the request */
  uint32_t total;             /* the request's length */
  uint32_t frag_offset;       /* where this fragment's data goes */
  uint32_t frag_len;          /* data bytes that follow */
};
void nfc_io_reply_decode (const uint8_t p[NFC_IO_SIZE], struct nfc_io_frag *f);

/* The code of an AIO error message (type 1).  The published captures do
 * not lay its payload out; the first uint32, when there is one, is taken
 * as the code (0 when the payload is empty). */
uint32_t nfc_aio_error_code (const uint8_t *p, size_t len);
/* " (VIX_E_...)" for the VIX API's first error codes (nfc_auth.md names
 * 0x0b VIX_E_FILE_READ_ONLY), "" for others. */
const char *nfc_vix_name (uint32_t code);

/* Reassembly of one read from fragments that may come in any order: each
 * is checked against the request (offset, total length, in bounds, no
 * overlap with one received before) before its data is read, and the read
 * is complete when every byte came exactly once.  The received ranges are
 * kept merged, in a list of bounded size. */
struct nfc_range { uint32_t start, end; };
struct nfc_reasm {
  uint64_t offset;
  uint32_t length;
  uint32_t received;
  struct nfc_range *r;
  size_t n, cap;
};
int nfc_reasm_init (struct nfc_reasm *a, uint64_t offset, uint32_t length);
void nfc_reasm_free (struct nfc_reasm *a);
/* 0: the fragment is good and its range now counted (its data may be read
 * into buf + f->frag_offset); -1 with why otherwise. */
int nfc_reasm_accept (struct nfc_reasm *a, const struct nfc_io_frag *f, char *why,
                      size_t why_len);
static inline bool nfc_reasm_done (const struct nfc_reasm *a) { return a->received == a->length; }

/* A certificate thumbprint in any case, with or without ':' separators,
 * of 20 (SHA-1) or 32 (SHA-256) bytes, as "AA:BB:...": malloc'd, or NULL
 * if it is neither. */
char *nfc_thumbprint_normalise (const char *s);

/* A value from a server that goes into an authd command line or a host
 * name: printable ASCII, no space or control character, 1..max bytes. */
bool nfc_safe_token (const char *s, size_t max);

#endif
