/* ferry: the HTTP layer, see http.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/evp.h>

#include "common/http.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/redact.h"
#include "common/util.h"

struct http {
  CURL *curl;
  char *service;
  bool insecure;
  char *cacert;
  char *pin;                  /* normalised thumbprint, or NULL */
  char peer_tp[60];           /* last seen, "AA:BB:..." */
  bool pin_mismatch;
  int max_attempts;
  long first_delay_ms;
  long connect_s, stall_s;
  size_t max_body;            /* bytes, 0: no cap */
  long timeout_s;             /* one call, 0: none */
};

/* The limits handles get when made (http_set_limits). */
static size_t default_max_body = (size_t) HTTP_DEFAULT_MAX_BODY_MIB << 20;
static long default_timeout_s = HTTP_DEFAULT_TIMEOUT_S;

void
http_global_init (void)
{
  curl_global_init (CURL_GLOBAL_DEFAULT);
}

void
http_global_cleanup (void)
{
  curl_global_cleanup ();
}

struct http *
http_new (const char *service)
{
  struct http *h = calloc (1, sizeof *h);

  if (h == NULL)
    return NULL;
  h->curl = curl_easy_init ();
  h->service = strdup (service ? service : "server");
  if (h->curl == NULL || h->service == NULL) {
    http_free (h);
    return NULL;
  }
  h->max_attempts = 5;
  h->first_delay_ms = 500;
  h->connect_s = 30;
  h->stall_s = 300;
  h->max_body = default_max_body;
  h->timeout_s = default_timeout_s;
  /* The cookie engine (the vSphere session lives in a cookie) is turned on
   * by each request, after its curl_easy_reset.  Not here: the reset
   * before the first request would lose (leak) the pending file list. */
  return h;
}

void
http_free (struct http *h)
{
  if (h == NULL)
    return;
  if (h->curl)
    curl_easy_cleanup (h->curl);
  free (h->service);
  free (h->cacert);
  free (h->pin);
  free (h);
}

char *
http_normalise_thumbprint (const char *s)
{
  char hex[41];
  size_t n = 0;
  char *out;

  for (const char *p = s; *p; p++) {
    if (*p == ':' || *p == ' ')
      continue;
    if (!isxdigit ((unsigned char) *p) || n >= 40)
      return NULL;
    hex[n++] = toupper ((unsigned char) *p);
  }
  if (n != 40)
    return NULL;
  out = malloc (60);
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < 20; i++) {
    out[i*3] = hex[i*2];
    out[i*3+1] = hex[i*2+1];
    out[i*3+2] = i < 19 ? ':' : '\0';
  }
  return out;
}

int
http_set_tls (struct http *h, const struct http_tls *tls)
{
  free (h->cacert);
  free (h->pin);
  h->cacert = NULL;
  h->pin = NULL;
  h->insecure = tls->insecure;
  if (tls->cacert && *tls->cacert) {
    h->cacert = strdup (tls->cacert);
    if (h->cacert == NULL)
      return -1;
  }
  if (tls->thumbprint && *tls->thumbprint) {
    h->pin = http_normalise_thumbprint (tls->thumbprint);
    if (h->pin == NULL) {
      log_error ("%s: thumbprint '%s' is not a SHA-1 fingerprint (20 hex bytes, "
                 "e.g. 2C:11:ED:...); get it with 'openssl s_client -connect HOST:443 "
                 "</dev/null | openssl x509 -fingerprint -sha1 -noout'",
                 h->service, tls->thumbprint);
      return -1;
    }
  }
  return 0;
}

void
http_set_retries (struct http *h, int max_attempts, long first_delay_ms)
{
  h->max_attempts = max_attempts < 1 ? 1 : max_attempts;
  h->first_delay_ms = first_delay_ms;
}

void
http_set_timeouts (struct http *h, long connect_s, long stall_s)
{
  h->connect_s = connect_s;
  h->stall_s = stall_s;
}

void
http_set_limits (long long max_body_mib, long long timeout_s)
{
  if (max_body_mib > 1 << 20)           /* 1 TiB: no cap in practice, no overflow */
    max_body_mib = 1 << 20;
  if (timeout_s > 1 << 20)              /* 12 days: in a long as milliseconds */
    timeout_s = 1 << 20;
  default_max_body = max_body_mib > 0 ? (size_t) max_body_mib << 20 : 0;
  default_timeout_s = timeout_s > 0 ? (long) timeout_s : 0;
}

const char *
http_peer_thumbprint (const struct http *h)
{
  return h->peer_tp[0] ? h->peer_tp : NULL;
}

/* Called by OpenSSL for the server's chain: record the leaf's SHA-1 and
 * decide.  With a pin, the pin alone decides (the chain and the name don't
 * matter, as with VDDK's thumbprint); else the normal verification. */
static int
verify_cb (X509_STORE_CTX *xs, void *arg)
{
  struct http *h = arg;
  X509 *cert = X509_STORE_CTX_get0_cert (xs);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;

  if (cert && X509_digest (cert, EVP_sha1 (), md, &n) && n == 20) {
    for (unsigned i = 0; i < n; i++)
      snprintf (h->peer_tp + i * 3, 4, i < n - 1 ? "%02X:" : "%02X", md[i]);
  }
  if (h->pin) {
    h->pin_mismatch = strcmp (h->pin, h->peer_tp) != 0;
    if (h->pin_mismatch)
      X509_STORE_CTX_set_error (xs, X509_V_ERR_CERT_REJECTED);
    return !h->pin_mismatch;
  }
  if (h->insecure)
    return 1;
  return X509_verify_cert (xs);
}

static CURLcode
ssl_ctx_cb (CURL *curl, void *sslctx, void *arg)
{
  (void) curl;
  SSL_CTX_set_cert_verify_callback ((SSL_CTX *) sslctx, verify_cb, arg);
  return CURLE_OK;
}

struct sink {
  char *p;
  size_t len, cap;
  size_t max;                 /* http_max_body_mib in bytes, 0: no cap */
  size_t *received;           /* bytes of this attempt, headers and body */
  const struct http_body_stream *stream; /* the body goes there instead, or NULL */
  bool oom, too_big, stopped;
};

static size_t
sink_add (struct sink *s, const char *data, size_t n)
{
  *s->received += n;
  /* Stop reading (the transfer fails with CURLE_WRITE_ERROR) rather than
   * hold whatever a broken or hostile server sends. */
  if (s->max && n > s->max - s->len) {
    s->too_big = true;
    return 0;
  }
  if (s->stream) {            /* counted, handed over, not kept */
    s->len += n;
    if (!s->stream->write (s->stream->arg, data, n)) {
      s->stopped = true;
      return 0;
    }
    return n;
  }
  if (s->len + n + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 4096;
    char *np;
    while (cap < s->len + n + 1)
      cap *= 2;
    np = realloc (s->p, cap);
    if (np == NULL) {
      s->oom = true;
      return 0;
    }
    s->p = np;
    s->cap = cap;
  }
  memcpy (s->p + s->len, data, n);
  s->len += n;
  s->p[s->len] = '\0';
  return n;
}

static size_t
body_cb (char *data, size_t size, size_t nmemb, void *arg)
{
  return sink_add (arg, data, size * nmemb);
}

static size_t
header_cb (char *data, size_t size, size_t nmemb, void *arg)
{
  struct sink *s = arg;
  size_t n = size * nmemb;

  /* A new status line starts a new answer (after 100 Continue, redirects). */
  if (n >= 5 && strncmp (data, "HTTP/", 5) == 0)
    s->len = 0;
  return sink_add (s, data, n);
}

static int
debug_cb (CURL *curl, curl_infotype type, char *data, size_t size, void *arg)
{
  const char *prefix;
  size_t shown = size;
  char *copy;

  (void) curl;
  (void) arg;
  switch (type) {
  case CURLINFO_HEADER_OUT: prefix = "> "; break;
  case CURLINFO_HEADER_IN: prefix = "< "; break;
  case CURLINFO_DATA_OUT: prefix = ">> "; break;
  case CURLINFO_DATA_IN: prefix = "<< "; break;
  case CURLINFO_TEXT: prefix = "* "; break;
  default: return 0;
  }
  if (shown > 4096)
    shown = 4096;
  copy = strndup (data, shown);
  if (copy == NULL)
    return 0;
  /* One log line per line of the exchange, so line-anchored masking
   * (Cookie:, X-Auth-Token:) applies. */
  for (char *save = NULL, *line = strtok_r (copy, "\r\n", &save); line;
       line = strtok_r (NULL, "\r\n", &save))
    log_debug ("%s%s", prefix, line);
  if (shown < size)
    log_debug ("%s... (%zu more bytes)", prefix, size - shown);
  free (copy);
  return 0;
}

struct upload_state {
  const struct http_upload *up;
  long long pos;
  int err;                    /* errno of a failed read, or 0 */
};

static size_t
upload_cb (char *buf, size_t size, size_t nmemb, void *arg)
{
  struct upload_state *u = arg;
  size_t want = size * nmemb;
  ssize_t n;

  if (u->up->size >= 0) {
    if (u->pos >= u->up->size)
      return 0;
    if ((long long) want > u->up->size - u->pos)
      want = u->up->size - u->pos;
    do
      n = pread (u->up->fd, buf, want, u->up->offset + u->pos);
    while (n == -1 && errno == EINTR);
    if (n == 0) {             /* the file is shorter than announced */
      u->err = EIO;
      return CURL_READFUNC_ABORT;
    }
  }
  else {
    do
      n = read (u->up->fd, buf, want);
    while (n == -1 && errno == EINTR);
  }
  if (n < 0) {
    u->err = errno;
    return CURL_READFUNC_ABORT;
  }
  u->pos += n;
  return n;
}

/* Is it worth trying again, and has the request possibly been processed? */
static bool
transient (CURLcode c, bool idempotent)
{
  switch (c) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
    return true;             /* never reached the server */
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
    return idempotent;
  default:
    return false;
  }
}

static const char *
advice (CURLcode c)
{
  switch (c) {
  case CURLE_COULDNT_RESOLVE_HOST:
    return "check the host name and DNS";
  case CURLE_COULDNT_CONNECT:
    return "check the host name, the port and that a firewall lets TCP through";
  case CURLE_OPERATION_TIMEDOUT:
    return "the server did not answer in time; check the network path";
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
    return "the certificate is not trusted: give its CA (cacert), pin its thumbprint, "
      "or set insecure (not recommended)";
  default:
    return "check the network path to the server";
  }
}


static long long
mono_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Below this many bytes per second for the stall time, a transfer is cut
 * (curl counts both directions: an upload in progress is not "slow"). */
#define LOW_SPEED_BPS 1024L

/* Why an attempt got no (complete) answer, for the messages: the limits'
 * own words and the key to raise, else libcurl's. */
static char *
failure_text (const struct http *h, CURLcode c, const char *errbuf, size_t received,
              long long elapsed_ms, long long attempt_ms)
{
  bool deadline = attempt_ms > 0 && elapsed_ms + 250 >= attempt_ms;

  if (c == CURLE_FILESIZE_EXCEEDED)
    return xasprintf ("answer larger than %zu MiB: stopped reading it; raise "
                      "http_max_body_mib if the server is right to send that much",
                      h->max_body >> 20);
  if (c == CURLE_OPERATION_TIMEDOUT && deadline && received == 0)
    return xasprintf ("no answer within %lld s; raise http_timeout if the server is only "
                      "slow, else check it and the network path", (elapsed_ms + 500) / 1000);
  if (c == CURLE_OPERATION_TIMEDOUT && deadline)
    return xasprintf ("answer not complete within %lld s (%zu bytes came); raise "
                      "http_timeout if the server is only slow, else check it",
                      (elapsed_ms + 500) / 1000, received);
  /* The low-speed limit (the connect timeout says "Connection timed out"). */
  if (c == CURLE_OPERATION_TIMEDOUT && elapsed_ms + 250 >= h->stall_s * 1000LL)
    return xasprintf ("answer slower than %ld bytes/s for %ld s (%zu bytes came); check "
                      "the server and the network path", LOW_SPEED_BPS, h->stall_s, received);
  return xasprintf ("%s; %s", errbuf[0] ? errbuf : curl_easy_strerror (c), advice (c));
}

/* The request's own headers, and no 100-continue round trip for a body. */
static struct curl_slist *
request_headers (const struct http_request *req)
{
  struct curl_slist *hdrs = NULL;

  for (size_t i = 0; req->headers && req->headers[i]; i++)
    hdrs = curl_slist_append (hdrs, req->headers[i]);
  if (req->body == NULL && req->upload == NULL && strcmp (req->method, "POST")
      && strcmp (req->method, "PUT"))
    ;
  else
    hdrs = curl_slist_append (hdrs, "Expect:");    /* no 100-continue round trip */
  return hdrs;
}

static void
set_tls_options (struct http *h, CURL *cu)
{
  curl_easy_setopt (cu, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
  curl_easy_setopt (cu, CURLOPT_SSL_CTX_DATA, h);
  if (h->pin) {
    curl_easy_setopt (cu, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt (cu, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  else if (h->insecure) {
    curl_easy_setopt (cu, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt (cu, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (h->cacert)
    curl_easy_setopt (cu, CURLOPT_CAINFO, h->cacert);
}

/* Set the handle up for one attempt of req, of at most attempt_ms. */
static void
prepare_attempt (struct http *h, const struct http_request *req, struct curl_slist *hdrs,
                 struct upload_state *ust, struct sink *body, struct sink *head,
                 char *errbuf, long long attempt_ms)
{
  CURL *cu = h->curl;

  if (req->stream)
    req->stream->begin (req->stream->arg);
  curl_easy_reset (cu);
  /* Keep the cookie engine on (the jar outlives the reset).  Not with
   * CURLOPT_COOKIEFILE "": libcurl 7.88 keeps that file list in the
   * options and loses it, a leak, at each reset.  A cookie for a domain
   * that does not exist turns the engine on and is never sent. */
  curl_easy_setopt (cu, CURLOPT_COOKIELIST,
                    "Set-Cookie: ferry_cookie_engine=on; domain=ferry.invalid");
  curl_easy_setopt (cu, CURLOPT_URL, req->url);
  curl_easy_setopt (cu, CURLOPT_CUSTOMREQUEST, req->method);
  if (strcmp (req->method, "HEAD") == 0)
    curl_easy_setopt (cu, CURLOPT_NOBODY, 1L);
  if (req->upload) {
    ust->pos = 0;
    ust->err = 0;
    curl_easy_setopt (cu, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt (cu, CURLOPT_READFUNCTION, upload_cb);
    curl_easy_setopt (cu, CURLOPT_READDATA, ust);
    curl_easy_setopt (cu, CURLOPT_INFILESIZE_LARGE,
                      (curl_off_t) (req->upload->size >= 0 ? req->upload->size : -1));
    curl_easy_setopt (cu, CURLOPT_CUSTOMREQUEST, req->method);
  }
  else if (req->body) {
    curl_easy_setopt (cu, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt (cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
  }
  curl_easy_setopt (cu, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt (cu, CURLOPT_WRITEFUNCTION, body_cb);
  curl_easy_setopt (cu, CURLOPT_WRITEDATA, body);
  curl_easy_setopt (cu, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt (cu, CURLOPT_HEADERDATA, head);
  /* An announced Content-Length over the cap fails before any of it is
   * read (not a HEAD's: no body comes); the write callbacks cut the
   * others. */
  if (h->max_body && strcmp (req->method, "HEAD") != 0)
    curl_easy_setopt (cu, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) h->max_body);
  curl_easy_setopt (cu, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (cu, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (cu, CURLOPT_CONNECTTIMEOUT, h->connect_s);
  curl_easy_setopt (cu, CURLOPT_TIMEOUT_MS, (long) attempt_ms);
  curl_easy_setopt (cu, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BPS);
  curl_easy_setopt (cu, CURLOPT_LOW_SPEED_TIME, h->stall_s);
  curl_easy_setopt (cu, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt (cu, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
  set_tls_options (h, cu);
  if (log_get_level () >= LOG_LEVEL_DEBUG) {
    curl_easy_setopt (cu, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt (cu, CURLOPT_DEBUGFUNCTION, debug_cb);
  }
  errbuf[0] = '\0';
  h->pin_mismatch = false;
}

/* Reading the answer stopped for want of memory: logged, freed. */
static bool
sink_failed (const char *what, const char *url, struct sink *body, struct sink *head)
{
  if (body->stopped) {
    free (head->p);
    log_error ("%s: %s: reading the answer stopped (out of memory)", what, url);
    return true;
  }
  if (body->oom || head->oom) {
    free (body->p);
    free (head->p);
    log_error ("%s: out of memory reading the answer from %s", what, url);
    return true;
  }
  return false;
}

/* An answer with a status worth another try. */
static bool
retry_status (const struct http_request *req, bool resendable, long status)
{
  return resendable
    && (status == 502 || status == 503 || status == 504
        || (req->idempotent && status >= 500 && !(status == 500 && req->error_is_answer)));
}

/* A failure no other attempt would change (logged). */
static bool
hopeless (const struct http *h, const struct http_request *req, const char *what,
          const struct upload_state *ust)
{
  if (h->pin_mismatch) {
    log_error ("%s: %s's certificate thumbprint is %s, not the pinned %s: refusing to "
               "talk to it (nothing was sent). If the certificate was replaced, "
               "update vddk_thumbprint", what, h->service, h->peer_tp, h->pin);
    return true;
  }
  if (ust->err) {
    log_error ("%s: %s: reading the data to send failed: %s", what, req->url,
               strerror (ust->err));
    return true;
  }
  return false;
}

static void
back_off (long *delay)
{
  sleep_ms (*delay);
  *delay = *delay * 2 > 10000 ? 10000 : *delay * 2;
}

int
http_request (struct http *h, const struct http_request *req, struct http_response *resp)
{
  struct curl_slist *hdrs = NULL;
  char errbuf[CURL_ERROR_SIZE];
  long delay = h->first_delay_ms;
  const char *what = req->what ? req->what : h->service;
  /* A body read from a pipe can't be sent twice. */
  bool resendable = !(req->upload && req->upload->size < 0);
  struct upload_state ust = { .up = req->upload };
  /* One call has http_timeout, the whole series of attempts twice that;
   * an upload (Glance image data) lasts as long as its data: only the
   * low-speed limit cuts it. */
  long long timeout_ms = req->upload ? 0 : (long long) h->timeout_s * 1000;
  long long start = mono_ms (), series_end = start + 2 * timeout_ms;
  int r = -1;

  memset (resp, 0, sizeof *resp);
  hdrs = request_headers (req);

  for (int attempt = 1; attempt <= h->max_attempts; attempt++) {
    size_t received = 0;
    struct sink body = { .max = h->max_body, .received = &received, .stream = req->stream };
    struct sink head = { .max = h->max_body, .received = &received };
    CURLcode c;
    long status = 0;
    long long attempt_ms = timeout_ms, t0 = mono_ms ();
    bool may_retry;
    CLEANUP_FREE char *why = NULL;

    if (timeout_ms && series_end - t0 < attempt_ms)
      attempt_ms = series_end - t0 > 1 ? series_end - t0 : 1;
    prepare_attempt (h, req, hdrs, &ust, &body, &head, errbuf, attempt_ms);
    c = curl_easy_perform (h->curl);
    if (c == CURLE_OK)
      curl_easy_getinfo (h->curl, CURLINFO_RESPONSE_CODE, &status);
    /* Another try only if it can start before the series' deadline. */
    may_retry = attempt < h->max_attempts
      && (timeout_ms == 0 || mono_ms () + delay < series_end);

    if (sink_failed (what, req->url, &body, &head))
      break;
    if (c == CURLE_OK) {
      if (retry_status (req, resendable, status) && may_retry) {
        log_warn ("%s: %s answered HTTP %ld; retrying in %ld ms (attempt %d of %d)",
                  what, h->service, status, delay, attempt + 1, h->max_attempts);
        free (body.p);
        free (head.p);
        back_off (&delay);
        continue;
      }
      resp->status = status;
      resp->body = body.p ? body.p : strdup ("");
      resp->len = body.len;
      resp->headers = head.p ? head.p : strdup ("");
      r = 0;
      break;
    }
    free (body.p);
    free (head.p);
    if (hopeless (h, req, what, &ust))
      break;
    why = failure_text (h, body.too_big || head.too_big ? CURLE_FILESIZE_EXCEEDED : c,
                        errbuf, received, mono_ms () - t0, attempt_ms);
    if (resendable && transient (c, req->idempotent) && may_retry) {
      log_warn ("%s: %s: %s; retrying in %ld ms (attempt %d of %d)", what, req->url,
                why ? why : curl_easy_strerror (c), delay, attempt + 1, h->max_attempts);
      back_off (&delay);
      continue;
    }
    log_msg (req->quiet ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR,
             "%s: %s: %s (after %d attempt%s, %lld s)", what, req->url,
             why ? why : curl_easy_strerror (c), attempt, attempt == 1 ? "" : "s",
             (mono_ms () - start + 500) / 1000);
    break;
  }
  curl_slist_free_all (hdrs);
  return r;
}

void
http_response_free (struct http_response *resp)
{
  free (resp->body);
  free (resp->headers);
  memset (resp, 0, sizeof *resp);
}

char *
http_response_header (const struct http_response *resp, const char *name)
{
  size_t nl = strlen (name);
  const char *p = resp->headers;

  while (p && *p) {
    const char *eol = strchr (p, '\n');
    size_t len = eol ? (size_t) (eol - p) : strlen (p);
    if (len > nl && strncasecmp (p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1;
      size_t vl = len - nl - 1;
      while (vl && (*v == ' ' || *v == '\t')) { v++; vl--; }
      while (vl && (v[vl-1] == '\r' || v[vl-1] == ' ')) vl--;
      return strndup (v, vl);
    }
    p = eol ? eol + 1 : NULL;
  }
  return NULL;
}

char *
http_get_cookie (struct http *h, const char *name)
{
  struct curl_slist *list = NULL;
  char *out = NULL;

  if (curl_easy_getinfo (h->curl, CURLINFO_COOKIELIST, &list) != CURLE_OK)
    return NULL;
  for (struct curl_slist *l = list; l; l = l->next) {
    /* domain TAB tailmatch TAB path TAB secure TAB expires TAB name TAB value */
    const char *f = l->data;
    for (int i = 0; i < 5 && f; i++) {
      f = strchr (f, '\t');
      if (f) f++;
    }
    if (f && strncmp (f, name, strlen (name)) == 0 && f[strlen (name)] == '\t') {
      free (out);
      out = strdup (f + strlen (name) + 1);
    }
  }
  curl_slist_free_all (list);
  return out;
}

int
http_set_cookie (struct http *h, const char *host, const char *name, const char *value)
{
  char *line = xasprintf ("%s\tFALSE\t/\tFALSE\t0\t%s\t%s", host, name, value);
  CURLcode c;

  if (line == NULL)
    return -1;
  c = curl_easy_setopt (h->curl, CURLOPT_COOKIELIST, line);
  free (line);
  return c == CURLE_OK ? 0 : -1;
}
