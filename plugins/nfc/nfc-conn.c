/* nbdkit nfc plugin: one NFC connection, see nfc-conn.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "nfc-conn.h"
#include "nfc-proto.h"
#include "common/log.h"

#define MSG_LEN 512
#define LINE_MAX_LEN 1024             /* an authd line longer than this is no authd line */
/* What we tell the server we are (nfc_open.md: type 54's two raw strings). */
static const char client_name[] = "ferry";
static const char client_opid[] = "nbdkit-nfc";

/* One request in flight: an IO read, or a control message (close). */
struct slot {
  bool busy, done;
  enum nfc_fail fail;
  uint32_t opid, type;
  /* IO */
  uint8_t *buf;
  uint64_t offset;
  uint32_t count;
  struct nfc_reasm ra;
  /* control */
  uint8_t reply[64];
  uint32_t reply_len;
  char why[MSG_LEN];
};

struct nfc_conn {
  int fd;
  SSL_CTX *ctx;
  SSL *ssl;                   /* the NFC data's TLS session (nbdssl), or NULL */
  char *host;
  int port;
  char *path;
  char *name;
  int timeout_s;
  uint64_t handle;
  uint32_t sector_size;
  uint32_t server_version;

  pthread_mutex_t io_lock;    /* one SSL_* call at a time on ssl */
  pthread_mutex_t send_lock;  /* one frame at a time */
  pthread_mutex_t lock;       /* what follows */
  pthread_cond_t cond;
  struct slot *slots;
  unsigned nslots;
  unsigned pending;
  uint32_t next_opid;
  int64_t last_activity_ms;   /* last byte received, or first request sent when idle */
  bool broken, stopping;
  pthread_t rx;
  bool rx_running;
  int64_t deadline_ms;        /* setup phase: the current operation's limit */
};

void
nfc_ticket_free (struct nfc_ticket *t)
{
  if (t == NULL)
    return;
  free (t->host);
  free (t->thumbprint);
  free (t->service);
  if (t->session)
    OPENSSL_cleanse (t->session, strlen (t->session));
  free (t->session);
  memset (t, 0, sizeof *t);
}

/* snprintf for messages built from other messages (which may be cut). */
static void __attribute__ ((format (printf, 3, 4)))
setwhy (char *why, size_t n, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (why, n, fmt, ap);
  va_end (ap);
}

/* OpenSSL writes with write(2), also from SSL_read and SSL_connect (alerts):
 * a peer that went away must give EPIPE there, not kill nbdkit with
 * SIGPIPE.  Blocked around each SSL call, a SIGPIPE it left pending
 * taken back before the mask is restored. */
static void
pipe_block (sigset_t *old)
{
  sigset_t pipe;
  sigemptyset (&pipe);
  sigaddset (&pipe, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe, old);
}

static void
pipe_restore (const sigset_t *old)
{
  sigset_t pipe;
  struct timespec zero = { 0, 0 };
  sigemptyset (&pipe);
  sigaddset (&pipe, SIGPIPE);
  if (!sigismember (old, SIGPIPE))
    while (sigtimedwait (&pipe, NULL, &zero) == SIGPIPE)
      ;
  pthread_sigmask (SIG_SETMASK, old, NULL);
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A server's line made safe to show: printable, at most 200 characters. */
static void
show_line (const char *in, char *out, size_t n)
{
  size_t j = 0;

  for (size_t i = 0; in[i] && j + 4 < n && i < 200; i++)
    out[j++] = in[i] >= ' ' && in[i] <= '~' ? in[i] : '?';
  if (strlen (in) > 200 && j + 4 < n) {
    memcpy (out + j, "...", 3);
    j += 3;
  }
  out[j] = '\0';
}

/* The OpenSSL error queue as text (or errno's). */
static void
ssl_why (char *out, size_t n, const char *what, int ssl_err)
{
  unsigned long e = ERR_get_error ();
  char buf[256];

  if (e) {
    ERR_error_string_n (e, buf, sizeof buf);
    snprintf (out, n, "%s: %s", what, buf);
  }
  else if (ssl_err == SSL_ERROR_SYSCALL && errno)
    snprintf (out, n, "%s: %s", what, strerror (errno));
  else if (ssl_err == SSL_ERROR_ZERO_RETURN || ssl_err == SSL_ERROR_SYSCALL)
    snprintf (out, n, "%s: the server closed the connection", what);
  else
    snprintf (out, n, "%s: TLS error %d", what, ssl_err);
  ERR_clear_error ();
}

/* Wait until fd is ready for ev.  rx: the receiver thread, which may wait
 * as long as nothing is asked, and stops when asked to; others wait until
 * c->deadline_ms. */
static int
io_wait (struct nfc_conn *c, short ev, bool rx, char *why, size_t n)
{
  for (;;) {
    struct pollfd p = { .fd = c->fd, .events = ev };
    int r = poll (&p, 1, 500);
    int64_t t;

    if (r > 0)
      return 0;                         /* readable, writable, or an error to find */
    if (r < 0 && errno != EINTR) {
      snprintf (why, n, "poll: %s", strerror (errno));
      return -1;
    }
    t = now_ms ();
    if (rx) {
      bool stop, late;
      pthread_mutex_lock (&c->lock);
      stop = c->stopping || c->broken;
      late = c->pending > 0 && t - c->last_activity_ms > (int64_t) c->timeout_s * 1000;
      pthread_mutex_unlock (&c->lock);
      if (stop) {
        snprintf (why, n, "the connection is being closed");
        return -1;
      }
      if (late) {
        snprintf (why, n, "no answer for %d s (timeout)", c->timeout_s);
        return -1;
      }
    }
    else if (t > c->deadline_ms) {
      snprintf (why, n, "no answer for %d s (timeout)", c->timeout_s);
      return -1;
    }
  }
}

/* Read exactly n bytes, through ssl when not NULL.  0, or -1 with why. */
static int
xread (struct nfc_conn *c, SSL *ssl, void *buf, size_t n, bool rx, char *why, size_t wn)
{
  uint8_t *p = buf;

  while (n > 0) {
    size_t want = n > INT_MAX ? INT_MAX : n;
    ssize_t r;

    if (ssl) {
      int e = 0;
      sigset_t old;
      pipe_block (&old);
      pthread_mutex_lock (&c->io_lock);
      ERR_clear_error ();
      r = SSL_read (ssl, p, (int) want);
      if (r <= 0)
        e = SSL_get_error (ssl, (int) r);
      if (r <= 0 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        ssl_why (why, wn, "TLS read", e);
      pthread_mutex_unlock (&c->io_lock);
      pipe_restore (&old);
      if (r <= 0) {
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
          if (io_wait (c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, rx, why, wn) == -1)
            return -1;
          continue;
        }
        return -1;
      }
    }
    else {
      r = recv (c->fd, p, want, 0);
      if (r == 0) {
        snprintf (why, wn, "the server closed the connection");
        return -1;
      }
      if (r < 0) {
        if (errno == EINTR)
          continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          if (io_wait (c, POLLIN, rx, why, wn) == -1)
            return -1;
          continue;
        }
        snprintf (why, wn, "read: %s", strerror (errno));
        return -1;
      }
    }
    p += r;
    n -= (size_t) r;
    if (rx) {
      pthread_mutex_lock (&c->lock);
      c->last_activity_ms = now_ms ();
      pthread_mutex_unlock (&c->lock);
    }
  }
  return 0;
}

/* Write all n bytes.  0, or -1 with why. */
static int
xwrite (struct nfc_conn *c, SSL *ssl, const void *buf, size_t n, char *why, size_t wn)
{
  const uint8_t *p = buf;
  int64_t deadline = now_ms () + (int64_t) c->timeout_s * 1000;

  while (n > 0) {
    size_t want = n > INT_MAX ? INT_MAX : n;
    ssize_t r;

    if (ssl) {
      int e = 0;
      sigset_t old;
      pipe_block (&old);
      pthread_mutex_lock (&c->io_lock);
      ERR_clear_error ();
      r = SSL_write (ssl, p, (int) want);
      if (r <= 0)
        e = SSL_get_error (ssl, (int) r);
      pipe_restore (&old);
      if (r <= 0 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        ssl_why (why, wn, "TLS write", e);
      pthread_mutex_unlock (&c->io_lock);
      if (r <= 0) {
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
          /* WANT_READ: the receiver thread reads what TLS needs. */
          struct pollfd pf = { .fd = c->fd, .events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0 };
          if (now_ms () > deadline) {
            snprintf (why, wn, "could not send for %d s (timeout)", c->timeout_s);
            return -1;
          }
          poll (&pf, 1, e == SSL_ERROR_WANT_WRITE ? 500 : 10);
          continue;
        }
        return -1;
      }
    }
    else {
      r = send (c->fd, p, want, MSG_NOSIGNAL);
      if (r < 0) {
        if (errno == EINTR)
          continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          struct pollfd pf = { .fd = c->fd, .events = POLLOUT };
          if (now_ms () > deadline) {
            snprintf (why, wn, "could not send for %d s (timeout)", c->timeout_s);
            return -1;
          }
          poll (&pf, 1, 500);
          continue;
        }
        snprintf (why, wn, "write: %s", strerror (errno));
        return -1;
      }
    }
    p += r;
    n -= (size_t) r;
  }
  return 0;
}

/* TCP connect within the timeout; the socket is left non-blocking. */
static int
tcp_connect (struct nfc_conn *c, char *why, size_t wn)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
  char ps[16];
  int r, fd = -1;

  snprintf (ps, sizeof ps, "%d", c->port);
  r = getaddrinfo (c->host, ps, &hints, &res);
  if (r != 0) {
    snprintf (why, wn, "cannot resolve %s: %s", c->host, gai_strerror (r));
    return -1;
  }
  snprintf (why, wn, "no address");
  for (ai = res; ai; ai = ai->ai_next) {
    fd = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd == -1) {
      snprintf (why, wn, "socket: %s", strerror (errno));
      continue;
    }
    if (connect (fd, ai->ai_addr, ai->ai_addrlen) == 0)
      break;
    if (errno == EINPROGRESS) {
      struct pollfd p = { .fd = fd, .events = POLLOUT };
      int soerr = 0;
      socklen_t sl = sizeof soerr;
      int pr = poll (&p, 1, c->timeout_s * 1000);
      if (pr == 1 && getsockopt (fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
        break;
      snprintf (why, wn, "connect: %s", pr == 0 ? "timed out" : strerror (soerr ? soerr : errno));
    }
    else
      snprintf (why, wn, "connect: %s", strerror (errno));
    close (fd);
    fd = -1;
  }
  freeaddrinfo (res);
  if (fd == -1)
    return -1;
  {
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  c->fd = fd;
  return 0;
}

/* A line ending in \n (\r\n), through ssl or not; without its end. */
static int
read_line (struct nfc_conn *c, SSL *ssl, char *line, size_t n, char *why, size_t wn)
{
  size_t len = 0;

  for (;;) {
    char ch;
    if (xread (c, ssl, &ch, 1, false, why, wn) == -1)
      return -1;
    if (ch == '\n')
      break;
    if (len + 1 >= n) {
      snprintf (why, wn, "a line longer than %zu bytes", n - 1);
      return -1;
    }
    line[len++] = ch;
  }
  if (len > 0 && line[len - 1] == '\r')
    len--;
  line[len] = '\0';
  return 0;
}

bool
nfc_cert_matches (const unsigned char *der, int der_len, const char *thumbprint)
{
  const unsigned char *p = der;
  X509 *x = d2i_X509 (NULL, &p, der_len);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  char hex[EVP_MAX_MD_SIZE * 3 + 1];
  bool ok = false;
  size_t tl = thumbprint ? strlen (thumbprint) : 0;
  const EVP_MD *type = tl == 20 * 3 - 1 ? EVP_sha1 () : tl == 32 * 3 - 1 ? EVP_sha256 () : NULL;

  if (x && type && X509_digest (x, type, md, &mdlen) == 1) {
    for (unsigned i = 0; i < mdlen; i++)
      snprintf (hex + i * 3, 4, "%02X%s", md[i], i + 1 < mdlen ? ":" : "");
    ok = strcmp (hex, thumbprint) == 0;
  }
  X509_free (x);
  return ok;
}

/* The SHA-1 of the peer's certificate as "AA:..", for messages. */
static void
peer_sha1 (SSL *ssl, char *out, size_t n)
{
  X509 *x = SSL_get_peer_certificate (ssl);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;

  snprintf (out, n, "(none)");
  if (x && X509_digest (x, EVP_sha1 (), md, &mdlen) == 1 && n >= mdlen * 3) {
    for (unsigned i = 0; i < mdlen; i++)
      snprintf (out + i * 3, 4, "%02X%s", md[i], i + 1 < mdlen ? ":" : "");
  }
  X509_free (x);
}

/* A TLS handshake on c->fd, then the certificate checked against every
 * pin before anything else is sent (nfc_auth.md "Stage 3": authd requires
 * TLS; the ticket carries the host's thumbprint).  Returns the session, or
 * NULL with why and *fail. */
static SSL *
tls_start (struct nfc_conn *c, const struct nfc_ticket *t, const struct nfc_target *tg,
           const char *what, char *why, size_t wn, enum nfc_fail *fail)
{
  SSL *ssl = SSL_new (c->ctx);
  struct in6_addr a6;
  struct in_addr a4;
  X509 *x;
  unsigned char *der = NULL;
  int der_len;

  *fail = NFC_FAIL_RETRY;
  if (ssl == NULL || SSL_set_fd (ssl, c->fd) != 1) {
    ssl_why (why, wn, what, 0);
    SSL_free (ssl);
    return NULL;
  }
  if (inet_pton (AF_INET, t->host, &a4) != 1 && inet_pton (AF_INET6, t->host, &a6) != 1)
    SSL_set_tlsext_host_name (ssl, t->host);
  c->deadline_ms = now_ms () + (int64_t) c->timeout_s * 1000;
  for (;;) {
    int r, e;
    sigset_t old;
    pipe_block (&old);
    pthread_mutex_lock (&c->io_lock);
    ERR_clear_error ();
    r = SSL_connect (ssl);
    e = r == 1 ? 0 : SSL_get_error (ssl, r);
    if (r != 1 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
      ssl_why (why, wn, what, e);
    pthread_mutex_unlock (&c->io_lock);
    pipe_restore (&old);
    if (r == 1)
      break;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      if (io_wait (c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, false, why, wn) == -1) {
        SSL_free (ssl);
        return NULL;
      }
      continue;
    }
    SSL_free (ssl);
    return NULL;
  }
  x = SSL_get_peer_certificate (ssl);
  der_len = x ? i2d_X509 (x, &der) : -1;
  X509_free (x);
  if (der_len <= 0) {
    snprintf (why, wn, "%s: the server showed no certificate", what);
    *fail = NFC_FAIL_SECURITY;
    SSL_free (ssl);
    return NULL;
  }
  {
    const char *bad = NULL, *whose = NULL;
    if (!nfc_cert_matches (der, der_len, t->thumbprint)) {
      bad = t->thumbprint;
      whose = "the NFC ticket's";
    }
    for (size_t i = 0; bad == NULL && tg->pins && tg->pins[i]; i++)
      if (!nfc_cert_matches (der, der_len, tg->pins[i])) {
        bad = tg->pins[i];
        whose = "the pinned";
      }
    OPENSSL_free (der);
    if (bad) {
      char seen[EVP_MAX_MD_SIZE * 3 + 1];
      peer_sha1 (ssl, seen, sizeof seen);
      snprintf (why, wn, "%s: the certificate of %s:%d (SHA-1 %s) is not %s thumbprint %s: "
                "refusing to present the session ticket to it", what, t->host, t->port, seen,
                whose, bad);
      *fail = NFC_FAIL_SECURITY;
      SSL_free (ssl);
      return NULL;
    }
  }
  return ssl;
}

/* One authd command (nfc_auth.md "Sequence captured from VDDK"). */
static int
authd_send (struct nfc_conn *c, SSL *ssl, const char *cmd, const char *arg, char *why, size_t wn)
{
  char line[LINE_MAX_LEN];
  int n = snprintf (line, sizeof line, "%s%s%s\r\n", cmd, arg ? " " : "", arg ? arg : "");

  if (n < 0 || (size_t) n >= sizeof line) {
    snprintf (why, wn, "authd %s: argument too long", cmd);
    return -1;
  }
  c->deadline_ms = now_ms () + (int64_t) c->timeout_s * 1000;
  n = xwrite (c, ssl, line, (size_t) n, why, wn);
  OPENSSL_cleanse (line, sizeof line);
  return n;
}

/* authd's answer: 0 for a 2xx line, else -1 with why naming the host and
 * the line (a 4xx/5xx is a refusal). */
static int
authd_expect (struct nfc_conn *c, SSL *ssl, const char *after, char *why, size_t wn,
              enum nfc_fail *fail, char *out, size_t on)
{
  char line[LINE_MAX_LEN], shown[256];

  c->deadline_ms = now_ms () + (int64_t) c->timeout_s * 1000;
  if (read_line (c, ssl, line, sizeof line, why, wn) == -1) {
    char tmp[MSG_LEN];
    snprintf (tmp, sizeof tmp, "%s", why);
    setwhy (why, wn, "authd at %s:%d after %s: %s", c->host, c->port, after, tmp);
    *fail = NFC_FAIL_RETRY;
    return -1;
  }
  show_line (line, shown, sizeof shown);
  if (line[0] == '2' && strlen (line) >= 3) {
    if (out)
      snprintf (out, on, "%s", shown);
    return 0;
  }
  if (line[0] == '4' || line[0] == '5') {
    snprintf (why, wn, "authd at %s:%d refused %s: '%s'", c->host, c->port, after, shown);
    *fail = NFC_FAIL_TICKET;
  }
  else {
    snprintf (why, wn, "authd at %s:%d answered %s with '%s', not a 2xx line", c->host,
              c->port, after, shown);
    *fail = NFC_FAIL_PROTOCOL;
  }
  return -1;
}

static int
msg_send (struct nfc_conn *c, const uint8_t msg[NFC_MSG_SIZE], char *why, size_t wn)
{
  c->deadline_ms = now_ms () + (int64_t) c->timeout_s * 1000;
  return xwrite (c, c->ssl, msg, NFC_MSG_SIZE, why, wn);
}

/* A classic message from the server, of type want.  fail set. */
static int
msg_expect (struct nfc_conn *c, uint32_t want, uint8_t msg[NFC_MSG_SIZE], char *why, size_t wn,
            enum nfc_fail *fail)
{
  c->deadline_ms = now_ms () + (int64_t) c->timeout_s * 1000;
  if (xread (c, c->ssl, msg, NFC_MSG_SIZE, false, why, wn) == -1) {
    *fail = NFC_FAIL_RETRY;
    return -1;
  }
  if (nfc_msg_type (msg) != want) {
    snprintf (why, wn, "NFC handshake: the server sent message type %u where %u was expected",
              nfc_msg_type (msg), want);
    *fail = NFC_FAIL_PROTOCOL;
    return -1;
  }
  return 0;
}

/* nfc_open.md "Handshake order". */
static int
nfc_handshake (struct nfc_conn *c, char *why, size_t wn, enum nfc_fail *fail)
{
  uint8_t m[NFC_MSG_SIZE];
  char strings[sizeof client_name + sizeof client_opid];

  *fail = NFC_FAIL_RETRY;
  nfc_msg_handshake (m);
  if (msg_send (c, m, why, wn) == -1)
    return -1;
  nfc_msg_init (m, NFC_MSG_SESSION_PARAMS);
  if (msg_send (c, m, why, wn) == -1 ||
      msg_expect (c, NFC_MSG_SESSION_PARAMS_REPLY, m, why, wn, fail) == -1)
    return -1;
  nfc_msg_version (m, NFC_CLIENT_VERSION);
  if (msg_send (c, m, why, wn) == -1 || msg_expect (c, NFC_MSG_VERSION, m, why, wn, fail) == -1)
    return -1;
  c->server_version = nfc_get32 (m + 4);
  if (c->server_version < NFC_MIN_SERVER_VERSION) {
    snprintf (why, wn, "NFC handshake: the server speaks version %u (%u or later needed)",
              c->server_version, NFC_MIN_SERVER_VERSION);
    *fail = NFC_FAIL_PROTOCOL;
    return -1;
  }
  nfc_msg_connection_data (m, sizeof client_name - 1, sizeof client_opid - 1);
  memcpy (strings, client_name, sizeof client_name - 1);
  memcpy (strings + sizeof client_name - 1, client_opid, sizeof client_opid - 1);
  if (msg_send (c, m, why, wn) == -1 ||
      xwrite (c, c->ssl, strings, sizeof client_name + sizeof client_opid - 2, why, wn) == -1)
    return -1;
  nfc_msg_features (m, NFC_FEATURES);
  if (msg_send (c, m, why, wn) == -1)
    return -1;
  nfc_msg_init (m, NFC_MSG_AIO_SESSION_OPEN);
  if (msg_send (c, m, why, wn) == -1 ||
      msg_expect (c, NFC_MSG_AIO_SESSION_OPEN, m, why, wn, fail) == -1)
    return -1;
  return 0;
}

/* One AIO request and its answer, before the receiver thread runs.
 * reply gets up to *rlen bytes of the answer's payload; *rlen its size. */
static int
aio_call (struct nfc_conn *c, uint32_t type, const uint8_t *payload, uint32_t plen,
          const void *extra, size_t elen, uint8_t *reply, uint32_t *rlen,
          char *why, size_t wn, enum nfc_fail *fail)
{
  uint8_t hdr[NFC_AIO_HDR_SIZE], body[NFC_AIO_MAX_PAYLOAD];
  uint8_t frame[NFC_AIO_HDR_SIZE + NFC_OPEN_FILE_SIZE];
  struct nfc_aio_hdr h;
  uint32_t opid = c->next_opid++;

  *fail = NFC_FAIL_RETRY;
  nfc_aio_hdr_encode (frame, type, plen, opid);
  memcpy (frame + NFC_AIO_HDR_SIZE, payload, plen);
  c->deadline_ms = now_ms () + (int64_t) c->timeout_s * 1000;
  if (xwrite (c, c->ssl, frame, NFC_AIO_HDR_SIZE + plen, why, wn) == -1 ||
      (elen && xwrite (c, c->ssl, extra, elen, why, wn) == -1) ||
      xread (c, c->ssl, hdr, sizeof hdr, false, why, wn) == -1)
    return -1;
  if (nfc_aio_hdr_decode (hdr, &h, why, wn) == -1) {
    *fail = NFC_FAIL_PROTOCOL;
    return -1;
  }
  if (h.size && xread (c, c->ssl, body, h.size, false, why, wn) == -1)
    return -1;
  if (h.type == NFC_AIO_ERROR) {
    uint32_t code = nfc_aio_error_code (body, h.size);
    snprintf (why, wn, "the server answered %s with AIO error code 0x%x%s%s",
              nfc_aio_type_name (type), code, nfc_vix_name (code),
              type == NFC_AIO_OPEN_FILE && code == 1
              ? ": on ESXi, a running VM's current disk does not open (give snapshot=)" : "");
    *fail = NFC_FAIL_REFUSED;
    return -1;
  }
  if (h.type != type || h.opid != opid) {
    snprintf (why, wn, "the server answered %s (opId %u) with %s (opId %u)",
              nfc_aio_type_name (type), opid, nfc_aio_type_name (h.type), h.opid);
    *fail = NFC_FAIL_PROTOCOL;
    return -1;
  }
  if (reply)
    memcpy (reply, body, h.size < *rlen ? h.size : *rlen);
  if (rlen)
    *rlen = h.size;
  return 0;
}

/* nfc_open.md "OPEN_SESSION / sockopts / resource pool", "OPEN_FILE". */
static int
aio_open (struct nfc_conn *c, char *why, size_t wn, enum nfc_fail *fail)
{
  uint8_t p[NFC_OPEN_FILE_SIZE], r[NFC_OPEN_FILE_SIZE];
  uint32_t rlen;
  struct nfc_open_reply orep;
  size_t plen = strlen (c->path);

  memset (p, 0, sizeof p);
  rlen = sizeof r;
  if (aio_call (c, NFC_AIO_OPEN_SESSION, p, NFC_OPEN_SESSION_SIZE, NULL, 0, r, &rlen,
                why, wn, fail) == -1)
    return -1;
  rlen = sizeof r;
  if (aio_call (c, NFC_AIO_SET_SOCK_OPTS, p, NFC_SET_SOCK_OPTS_SIZE, NULL, 0, r, &rlen,
                why, wn, fail) == -1)
    return -1;
  nfc_put32 (p, 1);
  rlen = sizeof r;
  if (aio_call (c, NFC_AIO_SET_RES_POOL, p, NFC_SET_RES_POOL_SIZE, NULL, 0, r, &rlen,
                why, wn, fail) == -1)
    return -1;
  nfc_open_file_encode (p, (uint32_t) plen, NFC_OPEN_READ_ONLY);
  rlen = sizeof r;
  memset (r, 0, sizeof r);
  if (aio_call (c, NFC_AIO_OPEN_FILE, p, NFC_OPEN_FILE_SIZE, c->path, plen, r, &rlen,
                why, wn, fail) == -1) {
    char tmp[MSG_LEN];
    snprintf (tmp, sizeof tmp, "%s", why);
    setwhy (why, wn, "opening %s: %s", c->path, tmp);
    return -1;
  }
  if (nfc_open_file_reply_decode (r, rlen, &orep, why, wn) == -1) {
    *fail = NFC_FAIL_PROTOCOL;
    return -1;
  }
  c->handle = orep.handle;
  c->sector_size = orep.sector_size;
  return 0;
}

/* The connection is broken: fail every request in flight (under c->lock). */
static unsigned
fail_all_locked (struct nfc_conn *c, enum nfc_fail fail, const char *why)
{
  unsigned n = 0;

  c->broken = true;
  for (unsigned i = 0; i < c->nslots; i++) {
    struct slot *s = &c->slots[i];
    if (s->busy && !s->done) {
      s->done = true;
      s->fail = fail;
      setwhy (s->why, sizeof s->why, "%s", why);
      n++;
    }
  }
  pthread_cond_broadcast (&c->cond);
  return n;
}

static struct slot *
slot_of (struct nfc_conn *c, uint32_t opid)
{
  for (unsigned i = 0; i < c->nslots; i++)
    if (c->slots[i].busy && !c->slots[i].done && c->slots[i].opid == opid)
      return &c->slots[i];
  return NULL;
}

/* Receive one AIO message and hand it to its request.  0, or -1 with why
 * and *fail (the connection is then broken). */
static int
rx_one (struct nfc_conn *c, uint8_t *body, char *why, size_t wn, enum nfc_fail *fail)
{
  uint8_t hdr[NFC_AIO_HDR_SIZE];
  struct nfc_aio_hdr h;
  struct nfc_io_frag f;
  struct slot *s;
  uint8_t *dst;

  *fail = NFC_FAIL_RETRY;
  if (xread (c, c->ssl, hdr, sizeof hdr, true, why, wn) == -1)
    return -1;
  if (nfc_aio_hdr_decode (hdr, &h, why, wn) == -1) {
    *fail = NFC_FAIL_PROTOCOL;
    return -1;
  }
  if (h.size && xread (c, c->ssl, body, h.size, true, why, wn) == -1)
    return -1;
  pthread_mutex_lock (&c->lock);
  s = slot_of (c, h.opid);
  if (s == NULL) {
    pthread_mutex_unlock (&c->lock);
    snprintf (why, wn, "an AIO %s message for opId %u, which no request in flight has",
              nfc_aio_type_name (h.type), h.opid);
    *fail = NFC_FAIL_PROTOCOL;
    return -1;
  }
  if (h.type == NFC_AIO_ERROR) {
    /* The server's answer to this request: the request fails, the
     * connection goes on. */
    if (s->type == NFC_AIO_IO)
      snprintf (s->why, sizeof s->why, "NFC read of %s at offset %" PRIu64 " (%u bytes) from %s "
                "failed: AIO error code 0x%x%s", c->name, s->offset, s->count, c->host,
                nfc_aio_error_code (body, h.size), nfc_vix_name (nfc_aio_error_code (body, h.size)));
    else
      snprintf (s->why, sizeof s->why, "NFC %s of %s on %s failed: AIO error code 0x%x%s",
                nfc_aio_type_name (s->type), c->name, c->host, nfc_aio_error_code (body, h.size),
                nfc_vix_name (nfc_aio_error_code (body, h.size)));
    s->fail = NFC_FAIL_REFUSED;
    s->done = true;
    pthread_cond_broadcast (&c->cond);
    pthread_mutex_unlock (&c->lock);
    return 0;
  }
  if (h.type != s->type) {
    pthread_mutex_unlock (&c->lock);
    snprintf (why, wn, "an AIO %s message answering a %s request (opId %u)",
              nfc_aio_type_name (h.type), nfc_aio_type_name (s->type), h.opid);
    *fail = NFC_FAIL_PROTOCOL;
    return -1;
  }
  if (s->type != NFC_AIO_IO) {
    memcpy (s->reply, body, h.size < sizeof s->reply ? h.size : sizeof s->reply);
    s->reply_len = h.size;
    s->fail = NFC_OK;
    s->done = true;
    pthread_cond_broadcast (&c->cond);
    pthread_mutex_unlock (&c->lock);
    return 0;
  }
  /* A read fragment: its header is checked, its range reserved, then its
   * data read straight into the caller's buffer (which stays valid: the
   * caller waits until its request is done). */
  if (h.size < NFC_IO_SIZE) {
    pthread_mutex_unlock (&c->lock);
    snprintf (why, wn, "an IO reply of %u payload bytes (%u expected)", h.size, NFC_IO_SIZE);
    *fail = NFC_FAIL_PROTOCOL;
    return -1;
  }
  nfc_io_reply_decode (body, &f);
  if (nfc_reasm_accept (&s->ra, &f, why, wn) == -1) {
    pthread_mutex_unlock (&c->lock);
    *fail = NFC_FAIL_PROTOCOL;
    return -1;
  }
  dst = s->buf + f.frag_offset;
  pthread_mutex_unlock (&c->lock);
  if (xread (c, c->ssl, dst, f.frag_len, true, why, wn) == -1)
    return -1;
  pthread_mutex_lock (&c->lock);
  if (nfc_reasm_done (&s->ra)) {
    s->fail = NFC_OK;
    s->done = true;
    pthread_cond_broadcast (&c->cond);
  }
  pthread_mutex_unlock (&c->lock);
  return 0;
}

static void *
rx_main (void *arg)
{
  struct nfc_conn *c = arg;
  uint8_t *body = malloc (NFC_AIO_MAX_PAYLOAD);
  char why[MSG_LEN] = "out of memory";
  enum nfc_fail fail = NFC_FAIL_RETRY;
  bool quiet;

  if (body)
    while (rx_one (c, body, why, sizeof why, &fail) == 0)
      ;
  free (body);
  pthread_mutex_lock (&c->lock);
  quiet = c->stopping || c->broken;
  {
    char msg[MSG_LEN + 200];
    setwhy (msg, sizeof msg, "NFC connection to %s:%d for %s: %s", c->host, c->port,
              c->name, why);
    /* The requests failed here report it; else it is said here. */
    if (fail_all_locked (c, fail, msg) > 0)
      quiet = true;
    pthread_mutex_unlock (&c->lock);
    if (!quiet) {
      if (fail == NFC_FAIL_RETRY)
        log_debug ("%s", msg);
      else
        log_error ("%s", msg);
    }
  }
  return NULL;
}

/* Break the connection from a sender's side: the receiver wakes up (its
 * socket is shut down) and fails every request in flight. */
static void
break_conn (struct nfc_conn *c, const char *why)
{
  pthread_mutex_lock (&c->lock);
  if (!c->broken)
    log_debug ("NFC connection to %s:%d for %s: %s", c->host, c->port, c->name, why);
  c->broken = true;
  pthread_mutex_unlock (&c->lock);
  shutdown (c->fd, SHUT_RDWR);
}

/* Send one request (header + payload) through a slot and wait for its
 * answer.  The slot is taken by the caller (busy, opid, type set). */
static int
slot_run (struct nfc_conn *c, struct slot *s, const uint8_t *payload, uint32_t plen,
          enum nfc_fail *fail, char *why, size_t wn)
{
  uint8_t frame[NFC_AIO_HDR_SIZE + NFC_IO_SIZE];
  int r;

  nfc_aio_hdr_encode (frame, s->type, plen, s->opid);
  memcpy (frame + NFC_AIO_HDR_SIZE, payload, plen);
  pthread_mutex_lock (&c->send_lock);
  r = xwrite (c, c->ssl, frame, NFC_AIO_HDR_SIZE + plen, why, wn);
  pthread_mutex_unlock (&c->send_lock);
  if (r == -1)
    break_conn (c, why);
  pthread_mutex_lock (&c->lock);
  while (!s->done)
    pthread_cond_wait (&c->cond, &c->lock);
  *fail = s->fail;
  if (s->fail != NFC_OK)
    setwhy (why, wn, "%s", s->why);
  nfc_reasm_free (&s->ra);
  s->busy = false;
  c->pending--;
  pthread_cond_broadcast (&c->cond);
  pthread_mutex_unlock (&c->lock);
  return *fail == NFC_OK ? 0 : -1;
}

/* Take a free slot (waiting for one); NULL if the connection is broken.
 * c->lock held. */
static struct slot *
slot_take_locked (struct nfc_conn *c, uint32_t type)
{
  for (;;) {
    if (c->broken || c->stopping)
      return NULL;
    for (unsigned i = 0; i < c->nslots; i++) {
      struct slot *s = &c->slots[i];
      if (!s->busy) {
        memset (s, 0, sizeof *s);
        s->busy = true;
        s->type = type;
        s->opid = c->next_opid++;
        if (c->pending++ == 0)
          c->last_activity_ms = now_ms ();
        return s;
      }
    }
    pthread_cond_wait (&c->cond, &c->lock);
  }
}

int
nfc_conn_pread (struct nfc_conn *c, void *buf, uint32_t count, uint64_t offset,
                enum nfc_fail *fail)
{
  uint8_t payload[NFC_IO_SIZE];
  char why[MSG_LEN];
  struct slot *s;

  if (count == 0)
    return 0;
  pthread_mutex_lock (&c->lock);
  s = slot_take_locked (c, NFC_AIO_IO);
  if (s == NULL) {
    pthread_mutex_unlock (&c->lock);
    *fail = NFC_FAIL_RETRY;
    errno = ECONNRESET;
    return -1;
  }
  s->buf = buf;
  s->offset = offset;
  s->count = count;
  if (nfc_reasm_init (&s->ra, offset, count) == -1) {
    s->busy = false;
    c->pending--;
    pthread_cond_broadcast (&c->cond);
    pthread_mutex_unlock (&c->lock);
    *fail = NFC_FAIL_REFUSED;
    errno = ENOMEM;
    log_error ("%s: out of memory", c->name);
    return -1;
  }
  pthread_mutex_unlock (&c->lock);
  nfc_io_read_encode (payload, c->handle, offset, count);
  if (slot_run (c, s, payload, NFC_IO_SIZE, fail, why, sizeof why) == -1) {
    if (*fail == NFC_FAIL_RETRY)
      log_debug ("%s", why);
    else
      log_error ("%s", why);
    errno = *fail == NFC_FAIL_RETRY ? ECONNRESET : EIO;
    return -1;
  }
  return 0;
}

bool
nfc_conn_broken (struct nfc_conn *c)
{
  bool b;
  pthread_mutex_lock (&c->lock);
  b = c->broken;
  pthread_mutex_unlock (&c->lock);
  return b;
}

uint32_t
nfc_conn_sector_size (const struct nfc_conn *c)
{
  return c->sector_size;
}

static void
conn_free (struct nfc_conn *c)
{
  if (c->ssl)
    SSL_free (c->ssl);
  if (c->ctx)
    SSL_CTX_free (c->ctx);
  if (c->fd >= 0)
    close (c->fd);
  free (c->host);
  free (c->path);
  free (c->name);
  free (c->slots);
  pthread_mutex_destroy (&c->io_lock);
  pthread_mutex_destroy (&c->send_lock);
  pthread_mutex_destroy (&c->lock);
  pthread_cond_destroy (&c->cond);
  free (c);
}

struct nfc_conn *
nfc_conn_open (const struct nfc_ticket *t, const struct nfc_target *tg, enum nfc_fail *fail)
{
  struct nfc_conn *c = calloc (1, sizeof *c);
  char why[MSG_LEN] = "", line[LINE_MAX_LEN], shown[256], proxy[128], connected[256];
  SSL *authd = NULL;
  const char *step = "connect";

  *fail = NFC_FAIL_RETRY;
  if (c == NULL)
    return NULL;
  c->fd = -1;
  pthread_mutex_init (&c->io_lock, NULL);
  pthread_mutex_init (&c->send_lock, NULL);
  pthread_mutex_init (&c->lock, NULL);
  pthread_cond_init (&c->cond, NULL);
  c->host = strdup (t->host);
  c->port = t->port;
  c->path = strdup (tg->path);
  c->name = strdup (tg->name);
  c->timeout_s = tg->timeout_s > 0 ? tg->timeout_s : 60;
  c->nslots = tg->requests > 0 ? tg->requests + 1 : 2;   /* + 1 for close */
  c->slots = calloc (c->nslots, sizeof *c->slots);
  c->ctx = SSL_CTX_new (TLS_client_method ());
  if (!c->host || !c->path || !c->name || !c->slots || !c->ctx) {
    snprintf (why, sizeof why, "out of memory");
    goto fail;
  }
  /* No CA check: ESXi's certificates are self-signed; the thumbprint
   * check after the handshake is what authenticates the host. */
  SSL_CTX_set_verify (c->ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_min_proto_version (c->ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode (c->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_AUTO_RETRY);
  if (!nfc_safe_token (t->session, 512) || !nfc_safe_token (t->service, 64)) {
    snprintf (why, sizeof why, "the ticket's session id or service is not a plain token");
    *fail = NFC_FAIL_PROTOCOL;
    goto fail;
  }
  if (tcp_connect (c, why, sizeof why) == -1)
    goto fail;

  /* authd greets in plain text and wants TLS at once (nfc_auth.md
   * "Stage 3": "SSL Required"). */
  step = "banner";
  c->deadline_ms = now_ms () + (int64_t) c->timeout_s * 1000;
  if (read_line (c, NULL, line, sizeof line, why, sizeof why) == -1)
    goto fail;
  show_line (line, shown, sizeof shown);
  if (strncmp (line, "220 ", 4) != 0) {
    snprintf (why, sizeof why, "this is no authd: its banner is '%s' (expected '220 VMware "
              "Authentication Daemon ...')", shown);
    *fail = NFC_FAIL_PROTOCOL;
    goto fail;
  }
  log_debug ("authd %s:%d: %s", c->host, c->port, shown);
  step = "TLS";
  authd = tls_start (c, t, tg, "authd TLS", why, sizeof why, fail);
  if (authd == NULL)
    goto fail;
  /* nfc_auth.md "Sequence captured from VDDK": SESSION has no answer of
   * its own; BANNER (with its trailing space) makes authd greet again. */
  step = "SESSION";
  if (authd_send (c, authd, "SESSION", t->session, why, sizeof why) == -1 ||
      authd_send (c, authd, "BANNER ", NULL, why, sizeof why) == -1 ||
      authd_expect (c, authd, "the ticket's SESSION (BANNER)", why, sizeof why, fail, NULL, 0) == -1)
    goto fail;
  step = "THUMBPRINT_SHA2";
  if (authd_send (c, authd, "THUMBPRINT_SHA2", "PlainText", why, sizeof why) == -1 ||
      authd_expect (c, authd, "THUMBPRINT_SHA2", why, sizeof why, fail, NULL, 0) == -1)
    goto fail;
  /* PROXY: the ticket's service, with "ssl" appended for nbdssl
   * (nfc_auth.md "Notes"). */
  step = "PROXY";
  {
    size_t sl = strlen (t->service);
    bool has_ssl = sl > 3 && strcmp (t->service + sl - 3, "ssl") == 0;
    if (tg->ssl && !has_ssl)
      snprintf (proxy, sizeof proxy, "%sssl", t->service);
    else if (!tg->ssl && has_ssl)
      snprintf (proxy, sizeof proxy, "%.*s", (int) (sl - 3), t->service);
    else
      snprintf (proxy, sizeof proxy, "%s", t->service);
  }
  if (authd_send (c, authd, "PROXY", proxy, why, sizeof why) == -1 ||
      authd_expect (c, authd, "PROXY", why, sizeof why, fail, connected, sizeof connected) == -1)
    goto fail;
  log_debug ("authd %s:%d: PROXY %s: %s", c->host, c->port, proxy, connected);
  /* After "200 Connect", authd's TLS session is left as it is (no
   * close_notify): nbd speaks NFC in clear on the socket, nbdssl starts a
   * new TLS session on it (nfc_open.md "After PROXY"). */
  SSL_free (authd);
  authd = NULL;
  if (tg->ssl) {
    step = "NFC TLS";
    c->ssl = tls_start (c, t, tg, "NFC TLS (nbdssl)", why, sizeof why, fail);
    if (c->ssl == NULL)
      goto fail;
  }
  step = "NFC handshake";
  if (nfc_handshake (c, why, sizeof why, fail) == -1)
    goto fail;
  step = "OPEN_FILE";
  if (aio_open (c, why, sizeof why, fail) == -1)
    goto fail;
  log_debug ("NFC %s:%d (%s, version %u): %s open, handle 0x%" PRIx64 ", %u-byte sectors",
             c->host, c->port, tg->ssl ? "nbdssl" : "nbd", c->server_version, c->path,
             c->handle, c->sector_size);
  if (pthread_create (&c->rx, NULL, rx_main, c) != 0) {
    snprintf (why, sizeof why, "cannot start a thread: %s", strerror (errno));
    goto fail;
  }
  c->rx_running = true;
  *fail = NFC_OK;
  return c;

 fail:
  {
    const char *h = t->host ? t->host : "?";
    if (*fail == NFC_FAIL_RETRY)
      log_error ("NFC %s:%d for %s (%s): %s", h, t->port, tg->name, step, why);
    else
      log_error ("NFC %s:%d for %s: %s", h, t->port, tg->name, why);
  }
  SSL_free (authd);
  conn_free (c);
  return NULL;
}

/* A control request through a slot (the receiver runs). */
static int
control (struct nfc_conn *c, uint32_t type, const uint8_t *payload, uint32_t plen)
{
  char why[MSG_LEN];
  enum nfc_fail fail;
  struct slot *s;

  pthread_mutex_lock (&c->lock);
  s = slot_take_locked (c, type);
  pthread_mutex_unlock (&c->lock);
  if (s == NULL)
    return -1;
  if (slot_run (c, s, payload, plen, &fail, why, sizeof why) == -1) {
    log_debug ("%s", why);
    return -1;
  }
  return 0;
}

void
nfc_conn_close (struct nfc_conn *c)
{
  if (c == NULL)
    return;
  /* nfc_open.md "Close": CLOSE_FILE, CLOSE_SESSION, then the classic
   * SESSION_COMPLETE -- on a healthy connection only. */
  if (!nfc_conn_broken (c)) {
    uint8_t p[NFC_CLOSE_FILE_SIZE];
    nfc_put64 (p, c->handle);
    if (control (c, NFC_AIO_CLOSE_FILE, p, NFC_CLOSE_FILE_SIZE) == 0) {
      memset (p, 0, sizeof p);
      if (control (c, NFC_AIO_CLOSE_SESSION, p, NFC_CLOSE_SESSION_SIZE) == 0) {
        uint8_t m[NFC_MSG_SIZE];
        char why[MSG_LEN];
        nfc_msg_init (m, NFC_MSG_SESSION_COMPLETE);
        pthread_mutex_lock (&c->send_lock);
        if (xwrite (c, c->ssl, m, NFC_MSG_SIZE, why, sizeof why) == -1)
          log_debug ("NFC %s: SESSION_COMPLETE: %s", c->host, why);
        pthread_mutex_unlock (&c->send_lock);
      }
    }
  }
  pthread_mutex_lock (&c->lock);
  c->stopping = true;
  pthread_mutex_unlock (&c->lock);
  shutdown (c->fd, SHUT_RDWR);
  if (c->rx_running)
    pthread_join (c->rx, NULL);
  conn_free (c);
}
