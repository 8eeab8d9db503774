/* ferry: reachability checks, see net.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "common/net.h"

int
net_resolve (const char *host, char *addr, size_t n)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
  int r = getaddrinfo (host, NULL, &hints, &res);

  if (r != 0) {
    snprintf (addr, n, "%s", gai_strerror (r));
    return -1;
  }
  if (getnameinfo (res->ai_addr, res->ai_addrlen, addr, n, NULL, 0, NI_NUMERICHOST) != 0)
    snprintf (addr, n, "?");
  freeaddrinfo (res);
  return 0;
}

int
net_tcp_check (const char *host, int port, int timeout_ms, char *err, size_t n)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
  char ps[16];
  int r, last = 0;

  snprintf (ps, sizeof ps, "%d", port);
  r = getaddrinfo (host, ps, &hints, &res);
  if (r != 0) {
    snprintf (err, n, "cannot resolve %s: %s", host, gai_strerror (r));
    return -1;
  }
  for (ai = res; ai; ai = ai->ai_next) {
    int fd = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                     ai->ai_protocol);
    if (fd == -1) {
      last = errno;
      continue;
    }
    if (connect (fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      close (fd);
      freeaddrinfo (res);
      return 0;
    }
    if (errno == EINPROGRESS) {
      struct pollfd p = { .fd = fd, .events = POLLOUT };
      int pr = poll (&p, 1, timeout_ms);
      if (pr == 1) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        getsockopt (fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr == 0) {
          close (fd);
          freeaddrinfo (res);
          return 0;
        }
        last = soerr;
      }
      else
        last = pr == 0 ? ETIMEDOUT : errno;
    }
    else
      last = errno;
    close (fd);
  }
  freeaddrinfo (res);
  snprintf (err, n, "TCP %s:%d: %s", host, port, strerror (last ? last : ECONNREFUSED));
  return -1;
}

char *
net_split_host_port (const char *hp, int dflt, int *port)
{
  const char *colon;

  *port = dflt;
  if (hp[0] == '[') {
    const char *e = strchr (hp, ']');
    if (e == NULL)
      return strdup (hp);
    if (e[1] == ':')
      *port = atoi (e + 2);
    return strndup (hp + 1, e - hp - 1);
  }
  colon = strchr (hp, ':');
  if (colon && strchr (colon + 1, ':') == NULL) {
    *port = atoi (colon + 1);
    return strndup (hp, colon - hp);
  }
  return strdup (hp);
}

int
net_local_address (const char *host, char *addr, size_t n)
{
  struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int fd, r = -1;

  if (getaddrinfo (host, "9", &hints, &res) != 0)
    return -1;
  fd = socket (res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd != -1 && connect (fd, res->ai_addr, res->ai_addrlen) == 0
      && getsockname (fd, (struct sockaddr *) &ss, &sl) == 0
      && getnameinfo ((struct sockaddr *) &ss, sl, addr, n, NULL, 0, NI_NUMERICHOST) == 0)
    r = 0;
  if (fd != -1)
    close (fd);
  freeaddrinfo (res);
  return r;
}

int
net_read_banner (const char *host, int port, int timeout_ms, char *line, size_t n)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
  char ps[16];
  size_t len = 0;
  int fd, r;

  snprintf (ps, sizeof ps, "%d", port);
  if ((r = getaddrinfo (host, ps, &hints, &res)) != 0) {
    snprintf (line, n, "cannot resolve %s: %s", host, gai_strerror (r));
    return -1;
  }
  fd = socket (res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd == -1 || (connect (fd, res->ai_addr, res->ai_addrlen) == -1 && errno != EINPROGRESS)) {
    snprintf (line, n, "TCP %s:%d: %s", host, port, strerror (errno));
    goto fail;
  }
  while (len + 1 < n) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    ssize_t got;
    if (poll (&p, 1, timeout_ms) != 1) {
      snprintf (line, n, "TCP %s:%d: no answer within %d ms", host, port, timeout_ms);
      goto fail;
    }
    got = read (fd, line + len, 1);
    if (got <= 0) {
      snprintf (line, n, "TCP %s:%d: %s", host, port,
                got == 0 ? "closed without a banner" : strerror (errno));
      goto fail;
    }
    if (line[len] == '\n' || line[len] == '\r')
      break;
    len++;
  }
  line[len] = '\0';
  close (fd);
  freeaddrinfo (res);
  return 0;
 fail:
  if (fd != -1)
    close (fd);
  freeaddrinfo (res);
  return -1;
}
