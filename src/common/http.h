/* ferry: the one HTTP layer, under both the vSphere SOAP client and the
 * OpenStack REST client.
 *
 * libcurl, one easy handle (so one kept-alive connection and one cookie
 * jar) per struct http; a struct http is used by one thread at a time.
 * - TLS: verified against the system CA store (or a CA file); `insecure`
 *   disables verification (the caller warns); a pinned SHA-1 thumbprint
 *   (vSphere's vddk_thumbprint form, AA:BB:...) is checked during the
 *   handshake, before any request -- and so any password -- is sent.
 * - Retries with exponential backoff on connection errors, and on 5xx
 *   answers for requests marked idempotent (502/503/504 for all).
 * - Limits, so that a broken or hostile server can't hold ferry or its
 *   memory: an answer larger than http_max_body_mib is not read; a call
 *   (each attempt) gets http_timeout seconds, its retries together twice
 *   that; a transfer slower than 1 KiB/s for the stall time is cut.  An
 *   upload (Glance image data) has no overall deadline, only the stall
 *   time.  Connect timeout apart.
 * - Debug output (log level debug) shows requests and answers with
 *   cookies, tokens and passwords masked by redact.h. */
#ifndef FERRY_HTTP_H
#define FERRY_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct http;

struct http_tls {
  bool insecure;              /* don't verify the certificate */
  const char *cacert;         /* CA bundle file, or NULL for the system store */
  const char *thumbprint;     /* SHA-1 fingerprint to pin, or NULL */
};

/* A request body streamed from a file descriptor (Glance image data).
 * size >= 0: that many bytes read with pread() from offset, so the request
 * can be sent again after a lost answer or a 5xx; size < 0: read() until
 * end of file, sent chunked, never resent. */
struct http_upload {
  int fd;
  long long offset;
  long long size;
};

/* An answer body handed over piece by piece as it arrives instead of
 * being kept (a large SOAP answer parsed while it streams in).  begin is
 * called before each attempt: what an earlier attempt handed over is void.
 * write returns false to stop reading (the request then fails).
 * http_max_body_mib still caps the body. */
struct http_body_stream {
  void (*begin) (void *arg);
  bool (*write) (void *arg, const char *data, size_t len);
  void *arg;
};

struct http_request {
  const char *method;         /* "GET", "POST", ... */
  const char *url;
  const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
  const char *body;           /* or NULL */
  size_t body_len;
  bool idempotent;            /* safe to resend after a 5xx or a lost answer */
  bool error_is_answer;       /* HTTP 500 is a normal answer (a SOAP fault): never retried */
  const char *what;           /* names the call in messages ("vCenter Login") */
  const struct http_upload *upload; /* stream the body from a file instead, or NULL */
  bool quiet;                 /* no answer is not an error here: log it at debug level */
  const struct http_body_stream *stream; /* hand the answer's body over, or NULL:
                                          * then resp->body is "" and resp->len its size */
};

struct http_response {
  long status;                /* HTTP status, 0 if no answer */
  char *body;                 /* NUL-terminated */
  size_t len;
  char *headers;              /* raw response headers of the last answer */
};

/* service names the peer in messages ("vCenter", "Keystone"). */
struct http *http_new (const char *service);
void http_free (struct http *h);

/* 0, or -1 with a message logged (bad CA file, bad thumbprint syntax). */
int http_set_tls (struct http *h, const struct http_tls *tls);
void http_set_retries (struct http *h, int max_attempts, long first_delay_ms);
void http_set_timeouts (struct http *h, long connect_s, long stall_s);

/* The limits of the handles made from now on, from the configuration
 * (http_max_body_mib, http_timeout); 0 or less: no limit.  Set once at
 * start, before any thread.  The defaults: 256 MiB, the largest a vSphere
 * RetrievePropertiesEx page of 1000 VMs (ferry's maxObjects) can grow to
 * with its hardware, guest networks and snapshot trees, also above the
 * data path's largest range read (32 MiB); 300 s, what ferry used to wait
 * on a silent connection. */
#define HTTP_DEFAULT_MAX_BODY_MIB 256
#define HTTP_DEFAULT_TIMEOUT_S 300
void http_set_limits (long long max_body_mib, long long timeout_s);

/* Perform a request.  Returns 0 when an HTTP answer arrived (any status:
 * check resp->status), -1 when none did after the retries (or it was
 * over a limit); then an error naming req->what, the URL and the cause
 * (and what to do, the key to raise for a limit) was logged.
 * resp must be zero-initialised or freed before reuse. */
int http_request (struct http *h, const struct http_request *req, struct http_response *resp);
void http_response_free (struct http_response *resp);

/* A response header's value (case-insensitive name), malloc'd, or NULL. */
char *http_response_header (const struct http_response *resp, const char *name);

/* The value of a cookie in the handle's jar, malloc'd, or NULL. */
char *http_get_cookie (struct http *h, const char *name);
/* Put a cookie into the jar for later requests to host. */
int http_set_cookie (struct http *h, const char *host, const char *name, const char *value);

/* The SHA-1 thumbprint of the last server certificate seen, "AA:BB:..",
 * or NULL if no TLS handshake happened yet.  Borrowed. */
const char *http_peer_thumbprint (const struct http *h);

/* Normalise a thumbprint given by a user (any case, ':' or none) into
 * "AA:BB:..".  Returns malloc'd string or NULL if it is not 20 hex bytes. */
char *http_normalise_thumbprint (const char *s);

/* Call once at program start (curl_global_init) and at exit. */
void http_global_init (void);
void http_global_cleanup (void);

#endif
