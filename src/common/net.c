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
