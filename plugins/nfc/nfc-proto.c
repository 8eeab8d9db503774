/* nbdkit nfc plugin: the NFC wire format, see nfc-proto.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfc-proto.h"

void
nfc_msg_init (uint8_t msg[NFC_MSG_SIZE], uint32_t type)
{
  memset (msg, 0, NFC_MSG_SIZE);
  nfc_put32 (msg, type);
}

/* nfc_open.md: type 43 carries the ASCII word PlainText at offset 4. */
void
nfc_msg_handshake (uint8_t msg[NFC_MSG_SIZE])
{
  static const char word[] = "PlainText";

  nfc_msg_init (msg, NFC_MSG_HANDSHAKE);
  memcpy (msg + 4, word, sizeof word - 1);
}

/* Type 51: the protocol version at offset 4. */
void
nfc_msg_version (uint8_t msg[NFC_MSG_SIZE], uint32_t version)
{
  nfc_msg_init (msg, NFC_MSG_VERSION);
  nfc_put32 (msg + 4, version);
}

/* Type 54: the lengths of the two raw strings that follow it (client
 * name, operation id). */
void
nfc_msg_connection_data (uint8_t msg[NFC_MSG_SIZE], uint32_t name_len, uint32_t opid_len)
{
  nfc_msg_init (msg, NFC_MSG_CONNECTION_DATA);
  nfc_put32 (msg + 4, name_len);
  nfc_put32 (msg + 8, opid_len);
}

/* Type 55: the session feature bits at offset 4. */
void
nfc_msg_features (uint8_t msg[NFC_MSG_SIZE], uint32_t features)
{
  nfc_msg_init (msg, NFC_MSG_SESSION_FEATURES);
  nfc_put32 (msg + 4, features);
}

void
nfc_aio_hdr_encode (uint8_t out[NFC_AIO_HDR_SIZE], uint32_t type, uint32_t size, uint32_t opid)
{
  nfc_put32 (out, NFC_AIO_MAGIC);
  nfc_put32 (out + 4, type);
  nfc_put32 (out + 8, size);
  nfc_put32 (out + 12, opid);
}

int
nfc_aio_hdr_decode (const uint8_t in[NFC_AIO_HDR_SIZE], struct nfc_aio_hdr *h,
                    char *why, size_t why_len)
{
  uint32_t magic = nfc_get32 (in);

  h->type = nfc_get32 (in + 4);
  h->size = nfc_get32 (in + 8);
  h->opid = nfc_get32 (in + 12);
  if (magic != NFC_AIO_MAGIC) {
    snprintf (why, why_len, "an AIO header with magic 0x%08x, not 0x%08x", magic,
              NFC_AIO_MAGIC);
    return -1;
  }
  if (h->size > NFC_AIO_MAX_PAYLOAD) {
    snprintf (why, why_len, "an AIO %s message of %u payload bytes (at most %u expected)",
              nfc_aio_type_name (h->type), h->size, NFC_AIO_MAX_PAYLOAD);
    return -1;
  }
  return 0;
}

const char *
nfc_aio_type_name (uint32_t type)
{
  switch (type) {
  case NFC_AIO_ERROR: return "ERROR";
  case NFC_AIO_OPEN_SESSION: return "OPEN_SESSION";
  case NFC_AIO_CLOSE_SESSION: return "CLOSE_SESSION";
  case NFC_AIO_OPEN_FILE: return "OPEN_FILE";
  case NFC_AIO_CLOSE_FILE: return "CLOSE_FILE";
  case NFC_AIO_IO: return "IO";
  case NFC_AIO_SET_SOCK_OPTS: return "SET_SOCK_OPTS";
  case NFC_AIO_SET_RES_POOL: return "SET_RES_POOL";
  default: return "unknown-type";
  }
}

/* nfc_open.md "OPEN_FILE": path length at 0, file type at 16, flags at
 * 20, the rest zero. */
void
nfc_open_file_encode (uint8_t out[NFC_OPEN_FILE_SIZE], uint32_t path_len, uint32_t flags)
{
  memset (out, 0, NFC_OPEN_FILE_SIZE);
  nfc_put32 (out, path_len);
  nfc_put32 (out + 16, NFC_FILE_DISK);
  nfc_put32 (out + 20, flags);
}

/* The reply: handle at 8, file type at 16, flags at 20, sector size at 36. */
int
nfc_open_file_reply_decode (const uint8_t *p, size_t len, struct nfc_open_reply *r,
                            char *why, size_t why_len)
{
  if (len < 40) {
    snprintf (why, why_len, "an OPEN_FILE reply of %zu bytes (60 expected)", len);
    return -1;
  }
  r->handle = nfc_get64 (p + 8);
  r->file_type = nfc_get32 (p + 16);
  r->flags = nfc_get32 (p + 20);
  r->sector_size = nfc_get32 (p + 36);
  if (r->file_type != NFC_FILE_DISK) {
    snprintf (why, why_len, "an OPEN_FILE reply for a file of type %u, not a disk (%u)",
              r->file_type, NFC_FILE_DISK);
    return -1;
  }
  /* A power of two between 512 and 64 KiB: anything else is no sector. */
  if (r->sector_size < 512 || r->sector_size > NFC_FRAGMENT_MAX
      || (r->sector_size & (r->sector_size - 1)) != 0) {
    snprintf (why, why_len, "an OPEN_FILE reply with a sector size of %u bytes", r->sector_size);
    return -1;
  }
  return 0;
}

/* nfc_read.md "Request (44 bytes)": handle, opcode (read, no
 * compression), byte offset, byte length as uint64, then the length twice
 * more as uint32 and a zero. */
void
nfc_io_read_encode (uint8_t out[NFC_IO_SIZE], uint64_t handle, uint64_t offset, uint32_t length)
{
  memset (out, 0, NFC_IO_SIZE);
  nfc_put64 (out, handle);
  nfc_put64 (out + 8, NFC_IO_READ);
  nfc_put64 (out + 16, offset);
  nfc_put64 (out + 24, length);
  nfc_put32 (out + 32, length);
  nfc_put32 (out + 36, length);
}

/* nfc_read.md "Reply": opcode at 8, the request's offset at 16, its
 * length at 24, this fragment's offset at 28 and length at 32. */
void
nfc_io_reply_decode (const uint8_t p[NFC_IO_SIZE], struct nfc_io_frag *f)
{
  f->opcode = nfc_get64 (p + 8);
  f->req_offset = nfc_get64 (p + 16);
  f->total = nfc_get32 (p + 24);
  f->frag_offset = nfc_get32 (p + 28);
  f->frag_len = nfc_get32 (p + 32);
}

uint32_t
nfc_aio_error_code (const uint8_t *p, size_t len)
{
  return len >= 4 ? nfc_get32 (p) : 0;
}

const char *
nfc_vix_name (uint32_t code)
{
  static const char *const names[] = {
    "", " (VIX_E_FAIL)", " (VIX_E_OUT_OF_MEMORY)", " (VIX_E_INVALID_ARG)",
    " (VIX_E_FILE_NOT_FOUND)", " (VIX_E_OBJECT_IS_BUSY)", " (VIX_E_NOT_SUPPORTED)",
    " (VIX_E_FILE_ERROR)", " (VIX_E_DISK_FULL)", " (VIX_E_INCORRECT_FILE_TYPE)",
    " (VIX_E_CANCELLED)", " (VIX_E_FILE_READ_ONLY)", " (VIX_E_FILE_ALREADY_EXISTS)",
    " (VIX_E_FILE_ACCESS_ERROR)",
  };
  return code < sizeof names / sizeof names[0] ? names[code] : "";
}

int
nfc_reasm_init (struct nfc_reasm *a, uint64_t offset, uint32_t length)
{
  memset (a, 0, sizeof *a);
  a->offset = offset;
  a->length = length;
  /* Fragments of up to 64 KiB (nfc_read.md) arriving in any order leave
   * at most one gap between two of them: half the fragment count, plus
   * room for servers that send smaller pieces.  Past that the reply is
   * refused, so a server can't make the list grow with the data. */
  a->cap = length / NFC_FRAGMENT_MAX + 16;
  a->r = malloc (a->cap * sizeof *a->r);
  return a->r ? 0 : -1;
}

void
nfc_reasm_free (struct nfc_reasm *a)
{
  free (a->r);
  a->r = NULL;
  a->n = a->cap = 0;
}

int
nfc_reasm_accept (struct nfc_reasm *a, const struct nfc_io_frag *f, char *why, size_t why_len)
{
  uint32_t start = f->frag_offset, end;
  size_t i;

  if ((f->opcode & 0xffffffffu) != NFC_IO_READ || (f->opcode >> 32) != 0) {
    snprintf (why, why_len, "a read fragment with opcode 0x%llx (a plain read, 0x1, was asked)",
              (unsigned long long) f->opcode);
    return -1;
  }
  if (f->req_offset != a->offset || f->total != a->length) {
    snprintf (why, why_len, "a read fragment for offset %llu length %u, but the request was "
              "offset %llu length %u", (unsigned long long) f->req_offset, f->total,
              (unsigned long long) a->offset, a->length);
    return -1;
  }
  if (f->frag_len == 0 || f->frag_len > NFC_FRAGMENT_MAX) {
    snprintf (why, why_len, "a read fragment of %u bytes (1 to %u expected)", f->frag_len,
              NFC_FRAGMENT_MAX);
    return -1;
  }
  if (start >= a->length || f->frag_len > a->length - start) {
    snprintf (why, why_len, "a read fragment at %u+%u, past the end of the %u bytes asked",
              start, f->frag_len, a->length);
    return -1;
  }
  end = start + f->frag_len;
  /* The first range that ends after this fragment's start. */
  for (i = 0; i < a->n && a->r[i].end <= start; i++)
    ;
  if (i < a->n && a->r[i].start < end) {
    snprintf (why, why_len, "a read fragment at %u+%u overlapping data already received (%u-%u)",
              start, f->frag_len, a->r[i].start, a->r[i].end);
    return -1;
  }
  /* Merge with the neighbours it touches, or insert at i. */
  if (i > 0 && a->r[i - 1].end == start) {
    a->r[i - 1].end = end;
    if (i < a->n && a->r[i].start == end) {
      a->r[i - 1].end = a->r[i].end;
      memmove (&a->r[i], &a->r[i + 1], (a->n - i - 1) * sizeof *a->r);
      a->n--;
    }
  }
  else if (i < a->n && a->r[i].start == end)
    a->r[i].start = start;
  else {
    if (a->n == a->cap) {
      snprintf (why, why_len, "a read of %u bytes split into more than %zu scattered fragments",
                a->length, a->cap);
      return -1;
    }
    memmove (&a->r[i + 1], &a->r[i], (a->n - i) * sizeof *a->r);
    a->r[i] = (struct nfc_range) { start, end };
    a->n++;
  }
  a->received += f->frag_len;
  return 0;
}

char *
nfc_thumbprint_normalise (const char *s)
{
  char hex[65];
  size_t n = 0, bytes;
  char *out;

  if (s == NULL)
    return NULL;
  for (const char *p = s; *p; p++) {
    if (*p == ':')
      continue;
    if (!isxdigit ((unsigned char) *p) || n >= 64)
      return NULL;
    hex[n++] = toupper ((unsigned char) *p);
  }
  if (n != 40 && n != 64)
    return NULL;
  bytes = n / 2;
  out = malloc (bytes * 3);
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < bytes; i++) {
    out[i * 3] = hex[i * 2];
    out[i * 3 + 1] = hex[i * 2 + 1];
    out[i * 3 + 2] = i + 1 < bytes ? ':' : '\0';
  }
  return out;
}

bool
nfc_safe_token (const char *s, size_t max)
{
  size_t n = 0;

  if (s == NULL || *s == '\0')
    return false;
  for (; *s; s++, n++)
    if (n >= max || *s <= ' ' || *s > '~')
      return false;
  return true;
}
