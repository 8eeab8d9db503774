/* ferry: reachability checks (DNS resolution, TCP connect with a timeout). */
#ifndef FERRY_NET_H
#define FERRY_NET_H

/* Resolve host; 0 and the first address as text in addr (size n), or -1
 * and a message in addr. */
int net_resolve (const char *host, char *addr, size_t n);
/* Connect to host:port within timeout_ms; 0 or -1 with a message in err. */
int net_tcp_check (const char *host, int port, int timeout_ms, char *err, size_t n);
/* Split "host:port" (or "[v6]:port"); port is dflt when absent.  Returns a
 * malloc'd host. */
char *net_split_host_port (const char *hp, int dflt, int *port);
/* The local address this machine uses to reach host (a UDP "connect": no
 * packet is sent).  0 and the address as text in addr, or -1. */
int net_local_address (const char *host, char *addr, size_t n);
/* Connect to host:port within timeout_ms and read the first line the server
 * sends (an SSH banner: "SSH-2.0-..."); 0 and the line in line, or -1 with
 * a message in line. */
int net_read_banner (const char *host, int port, int timeout_ms, char *line, size_t n);

#endif
