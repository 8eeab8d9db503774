/* ferry: the allowed values of the configuration keys, see validate.h.
 *
 * One row per key that takes less than any value of its type, keyed by the
 * key's canonical name (keys.c).  The ranges keep every value ferry casts
 * (config_get_int into an int) within that int, and every enum lists what
 * the code that reads the key compares it with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <arpa/inet.h>
#include <wordexp.h>

#include "config/validate.h"
#include "common/cleanup.h"
#include "common/util.h"

enum kind {
  K_INT,            /* an integer in [min, max] */
  K_ENUM,           /* one of values */
  K_LINE,           /* one line: no control characters */
  K_NAME,           /* conversion_host_name: a short name that goes into server names */
  K_USER,           /* a POSIX user name (or empty: the default) */
  K_HOST,           /* HOST[:PORT], [IPv6][:PORT] or http(s)://HOST[:PORT][/PATH] */
  K_URL,            /* http(s)://HOST[:PORT][/PATH] */
  K_GIT_URL,        /* what git clone takes from a fresh host */
  K_GIT_REF,        /* a branch or tag name */
  K_THUMBPRINT,     /* SHA-1 fingerprint: 20 hex bytes */
  K_CIDR,           /* IPv4 or IPv6 address, optionally /PREFIX */
  K_WORDS,          /* options split as a shell would, without running anything */
  K_NAMES,          /* a string ("a,b") or a list of one-line names */
  K_VMS,            /* a list of VM names: non-empty, one line each */
  K_NETWORK_MAP,    /* {port group: "network[,subnet]"} */
  K_SUBNETS,        /* {port group: CIDR or [CIDR, ...]} */
  K_SG_RULES,       /* [{protocol, port, port_max, remote_ip_prefix}] */
  K_VOLUME_TYPES,   /* [{vmware_datastore, openstack_type}] */
  K_IMAGE_METADATA, /* {property: scalar} or ["property=value", ...] */
  K_CLOUD,          /* dst_cloud: a clouds.yaml name or a dict of auth settings */
};

struct domain {
  const char *key;
  enum kind kind;
  long long min, max;           /* K_INT */
  const char *const *values;    /* K_ENUM, NULL-terminated */
  const char *unit;             /* K_INT: "seconds", ... or NULL */
};

static const char *const disk_sources[] = { "auto", "vddk", "nfc", "https", "export", "local", NULL };

#define INT(k, lo, hi, u) { .key = k, .kind = K_INT, .min = lo, .max = hi, .unit = u }
#define ENUM(k, v) { .key = k, .kind = K_ENUM, .values = v }
#define OF(k, kd) { .key = k, .kind = kd }

static const struct domain domains[] = {
  /* Integers: bounded so that the (int) casts of their readers can't wrap. */
  INT ("shutdown_timeout", 0, 86400, "seconds"),
  INT ("verify_boot_timeout", 30, 86400, "seconds"),
  INT ("sync_interval", 1, 604800, "seconds"),
  INT ("ferry_parallel", 1, 1000, NULL),
  INT ("ferry_max_disks", 1, 1000, NULL),
  INT ("ferry_max_disks_per_host", 1, 1000, NULL),
  INT ("conversion_host_disk_gb", 16, 65536, "GB"),
  INT ("conversion_host_ssh_timeout", 0, 86400, "seconds"),
  INT ("conversion_host_max_volumes", 1, 1000, NULL),
  INT ("networks_prefix_length", 8, 32, NULL),
  INT ("http_max_body_mib", 0, 1048576, "MiB; 0: no limit"),
  INT ("http_timeout", 0, 86400, "seconds; 0: no limit"),

  /* Sets of words (src/migrate/disk-source.c compares with these). */
  ENUM ("disk_source", disk_sources),

  /* Hosts, URLs, addresses. */
  OF ("vcenter_hostname", K_HOST),
  OF ("esxi_hostname", K_HOST),
  OF ("vddk_thumbprint", K_THUMBPRINT),
  OF ("conversion_host_ssh_cidr", K_CIDR),
  OF ("conversion_host_ferry_package_url", K_URL),
  OF ("conversion_host_ferry_git_url", K_GIT_URL),
  OF ("conversion_host_ferry_git_ref", K_GIT_REF),
  OF ("conversion_host_name", K_NAME),
  OF ("conversion_host_ssh_user", K_USER),
  OF ("dst_cloud", K_CLOUD),

  /* Structured values: what their readers look for. */
  OF ("vms_list", K_VMS),
  OF ("security_groups", K_NAMES),
  OF ("network_map", K_NETWORK_MAP),
  OF ("volume_type_mapping", K_VOLUME_TYPES),
  OF ("image_metadata", K_IMAGE_METADATA),
  OF ("networks_subnets", K_SUBNETS),
  OF ("networks_security_group_rules", K_SG_RULES),
  OF ("extra_opts", K_WORDS),

  /* Names, ids and paths: one line each (they end up in URLs, file names,
   * argv, YAML and shell scripts ferry writes). */
  OF ("os_migrate_vmw_data_dir", K_LINE),
  OF ("vcenter_username", K_LINE),
  OF ("vcenter_datacenter", K_LINE),
  OF ("vcenter_cluster", K_LINE),
  OF ("vcenter_cacert", K_LINE),
  OF ("os_cloud_environ", K_LINE),
  OF ("instance_uuid", K_LINE),
  OF ("conversion_host_virtio_version", K_LINE),
  OF ("openstack_private_network", K_LINE),
  OF ("export_metadata_subnet_uuid", K_LINE),
  OF ("ssh_key_name", K_LINE),
  OF ("flavor_uuid", K_LINE),
  OF ("fixed_ip_subnet_uuid", K_LINE),
  OF ("cinder_volume_type", K_LINE),
  OF ("availability_zone", K_LINE),
  OF ("cinder_az", K_LINE),
  OF ("nova_az", K_LINE),
  OF ("hw_machine_type", K_LINE),
  OF ("local_disk_path", K_LINE),
  OF ("libdir", K_LINE),
  OF ("boot_script_path", K_LINE),
  OF ("conversion_host_image", K_LINE),
  OF ("conversion_host_flavor", K_LINE),
  OF ("conversion_host_network", K_LINE),
  OF ("conversion_host_external_network", K_LINE),
  OF ("conversion_host_ssh_private_key_file", K_LINE),
  OF ("networks_name_prefix", K_LINE),
  OF ("networks_physical_network", K_LINE),
};

#define NDOMAINS (sizeof domains / sizeof domains[0])

static const struct domain *
domain_of (const char *key)
{
  for (size_t i = 0; i < NDOMAINS; i++)
    if (strcmp (domains[i].key, key) == 0)
      return &domains[i];
  return NULL;
}

const char *
config_restricted_key (size_t i)
{
  return i < NDOMAINS ? domains[i].key : NULL;
}

/* ---- what each kind allows, in words ---- */

#define HOST_FORMS "HOST, HOST:PORT, [IPv6]:PORT or https://HOST[:PORT][/PATH] " \
  "(PORT from 1 to 65535; no spaces or control characters)"
#define NAME_FORMS "1 to 63 letters, digits, '-', '_' or '.', starting with a letter or digit"
#define USER_FORMS "a user name: 1 to 32 letters, digits, '-', '_' or '.', not starting with '-'"
#define URL_FORMS "an https:// or http:// URL: SCHEME://HOST[:PORT][/PATH], without spaces"
#define GIT_URL_FORMS "a git URL: https://HOST/PATH, ssh://[USER@]HOST/PATH, git://HOST/PATH " \
  "or [USER@]HOST:PATH, without spaces"
#define GIT_REF_FORMS "a branch or tag name: letters, digits, '.', '_', '-', '+' and '/', " \
  "not starting with '-', '.' or '/', without '..' or '//'"
#define THUMBPRINT_FORMS "a SHA-1 fingerprint: 20 hex bytes, e.g. 2C:11:ED:...; get it " \
  "with 'openssl s_client -connect HOST:443 </dev/null | openssl x509 -fingerprint " \
  "-sha1 -noout'"
#define CIDR_FORMS "an IPv4 or IPv6 address with an optional /PREFIX (10.0.0.0/24, 192.0.2.7)"
#define SUBNET_FORMS "an IPv4 CIDR with a prefix from 8 to 32 (10.0.0.0/24), or a list of them"
#define LINE_FORMS "one line of text (no newlines or other control characters)"
#define PROTOCOLS "tcp, udp, icmp, icmpv6, sctp, dccp, udplite, any, another protocol name " \
  "Neutron knows (gre, esp, ah, vrrp, ...) or a quoted number from 0 to 255"
#define CLOUD_FORMS "a clouds.yaml cloud name (one line) or a mapping {auth: {auth_url, ...}, " \
  "region_name, interface, ...}"

static char *
enum_words (const char *const *values)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);

  if (f == NULL)
    return NULL;
  for (size_t i = 0; values[i]; i++)
    fprintf (f, "%s%s", i == 0 ? "" : values[i + 1] ? ", " : " or ", values[i]);
  if (fclose (f) != 0) {
    free (out);
    return NULL;
  }
  return out;
}

static char *
allowed_of (const struct domain *d)
{
  switch (d->kind) {
  case K_INT:
    return xasprintf ("an integer from %lld to %lld%s%s%s", d->min, d->max,
                      d->unit ? " (" : "", d->unit ? d->unit : "", d->unit ? ")" : "");
  case K_ENUM: {
    CLEANUP_FREE char *w = enum_words (d->values);
    return xasprintf ("one of %s", w ? w : "?");
  }
  case K_LINE: return strdup (LINE_FORMS);
  case K_NAME: return strdup (NAME_FORMS);
  case K_USER: return strdup (USER_FORMS " (or empty: the image's default user)");
  case K_HOST: return strdup (HOST_FORMS);
  case K_URL: return strdup (URL_FORMS);
  case K_GIT_URL: return strdup (GIT_URL_FORMS);
  case K_GIT_REF: return strdup (GIT_REF_FORMS);
  case K_THUMBPRINT: return strdup (THUMBPRINT_FORMS);
  case K_CIDR: return strdup (CIDR_FORMS);
  case K_WORDS:
    return strdup ("options as a shell would split them (quotes balanced; no $(...) or "
                   "`...`, no undefined $VARIABLES)");
  case K_NAMES: return strdup ("a name or id, \"a,b\", or a list of them, one line each");
  case K_VMS: return strdup ("a list of VM names, each non-empty and one line");
  case K_NETWORK_MAP:
    return strdup ("a mapping of port group key or network name to \"NEUTRON_NETWORK\" or "
                   "\"NEUTRON_NETWORK,SUBNET\" (non-empty text, one line)");
  case K_SUBNETS:
    return strdup ("a mapping of port group key or name to " SUBNET_FORMS);
  case K_SG_RULES:
    return strdup ("a list of {protocol, port, port_max, remote_ip_prefix}: protocol "
                   PROTOCOLS " (default tcp); port and port_max from 1 to 65535 with "
                   "port_max >= port (ICMP: type and code from 0 to 255); remote_ip_prefix "
                   CIDR_FORMS);
  case K_VOLUME_TYPES:
    return strdup ("a list of {vmware_datastore: NAME, openstack_type: TYPE}, both "
                   "non-empty text");
  case K_IMAGE_METADATA:
    return strdup ("a mapping of image property to a text, number or boolean value, or a "
                   "list of \"property=value\" strings");
  case K_CLOUD: return strdup (CLOUD_FORMS);
  }
  return NULL;
}

char *
config_allowed (const char *key)
{
  const struct domain *d = domain_of (key);
  return d ? allowed_of (d) : NULL;
}

/* ---- scalar checks: NULL if fine, else a malloc'd reason ---- */

static bool
has_control (const char *s)
{
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      return true;
  return false;
}

static bool
has_space_or_control (const char *s)
{
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    if (*p <= 0x20 || *p == 0x7f)
      return true;
  return false;
}

static char *
line_why (const char *s)
{
  if (has_control (s))
    return xasprintf ("it has a newline or another control character; expected " LINE_FORMS);
  return NULL;
}

/* A DNS name or an IPv4 address: dot-separated labels of letters, digits,
 * '-' and '_', none starting or ending with '-', at most 63 characters each
 * and 253 in all (a final dot allowed). */
static bool
host_name_ok (const char *s, size_t len)
{
  size_t label = 0;

  if (len == 0 || len > 254 || (len == 254 && s[253] != '.'))
    return false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c == '.') {
      if (label == 0 || s[i - 1] == '-')
        return false;
      label = 0;
      continue;
    }
    if (!isalnum ((unsigned char) c) && c != '-' && c != '_')
      return false;
    if (c == '-' && label == 0)
      return false;
    if (++label > 63)
      return false;
  }
  return s[len - 1] != '-';
}

static bool
ipv6_ok (const char *s, size_t len)
{
  char buf[INET6_ADDRSTRLEN + 1];
  struct in6_addr a;

  if (len == 0 || len >= sizeof buf)
    return false;
  memcpy (buf, s, len);
  buf[len] = '\0';
  return inet_pton (AF_INET6, buf, &a) == 1;
}

/* PORT: 1 to 5 digits, 1 to 65535. */
static char *
port_why (const char *p, size_t len)
{
  long v = 0;

  if (len == 0)
    return strdup ("the port after ':' is missing");
  for (size_t i = 0; i < len; i++) {
    if (!isdigit ((unsigned char) p[i]))
      return xasprintf ("port '%.*s' is not a number", (int) len, p);
    if (v <= 65535)
      v = v * 10 + (p[i] - '0');
  }
  if (v < 1 || v > 65535)
    return xasprintf ("port %.*s is not from 1 to 65535", (int) len, p);
  return NULL;
}

/* HOST[:PORT] or [IPv6][:PORT], len bytes at hp. */
static char *
host_port_why (const char *hp, size_t len, bool port_ok)
{
  const char *colon;
  size_t hl;

  if (len == 0)
    return strdup ("there is no host name");
  if (memchr (hp, '@', len))
    return strdup ("it has a user name in it (give users and passwords in their own keys)");
  if (hp[0] == '[') {
    const char *e = memchr (hp, ']', len);
    if (e == NULL || !ipv6_ok (hp + 1, e - hp - 1))
      return strdup ("what is in [brackets] is not an IPv6 address");
    hl = e + 1 - hp;
    if (hl == len)
      return NULL;
    if (hp[hl] != ':')
      return xasprintf ("'%.*s' after the address is neither :PORT nor a /PATH",
                        (int) (len - hl), hp + hl);
    if (!port_ok)
      return strdup ("it has a port, which is not used here");
    return port_why (hp + hl + 1, len - hl - 1);
  }
  colon = memchr (hp, ':', len);
  if (colon && memchr (colon + 1, ':', len - (colon + 1 - hp))) {
    if (ipv6_ok (hp, len))
      return strdup ("an IPv6 address is written in brackets: [ADDRESS] or [ADDRESS]:PORT");
    return strdup ("it has more than one ':'");
  }
  hl = colon ? (size_t) (colon - hp) : len;
  if (!host_name_ok (hp, hl))
    return xasprintf ("'%.*s' is not a host name or address (letters, digits, '-', '_' and "
                      "'.'; no label starting or ending with '-')", (int) hl, hp);
  if (colon) {
    if (!port_ok)
      return strdup ("it has a port, which is not used here");
    return port_why (colon + 1, len - hl - 1);
  }
  return NULL;
}

/* SCHEME://AUTHORITY[/PATH]: *auth and *alen the authority, NULL if s has
 * no "://" or a scheme not in schemes. */
static const char *
url_authority (const char *s, const char *const *schemes, size_t *alen)
{
  for (size_t i = 0; schemes[i]; i++) {
    size_t n = strlen (schemes[i]);
    if (strncmp (s, schemes[i], n) == 0 && strncmp (s + n, "://", 3) == 0) {
      const char *a = s + n + 3;
      *alen = strcspn (a, "/?#");
      return a;
    }
  }
  return NULL;
}

static const char *const http_schemes[] = { "https", "http", NULL };

static char *
vcenter_host_why (const char *s)
{
  const char *a;
  size_t alen;
  char *why;

  if (*s == '\0')
    return NULL;                  /* not set */
  if (has_space_or_control (s))
    return strdup ("it has a space, a newline or another control character; expected "
                   HOST_FORMS);
  a = url_authority (s, http_schemes, &alen);
  if (a == NULL) {
    if (strstr (s, "://"))
      return strdup ("only https:// (or http:// with allow_insecure_http) URLs are "
                     "accepted; expected " HOST_FORMS);
    if (s[strcspn (s, "/?#")])
      return strdup ("a path needs the https:// form; expected " HOST_FORMS);
    a = s;
    alen = strlen (s);
  }
  why = host_port_why (a, alen, true);
  if (why) {
    char *w = xasprintf ("%s; expected " HOST_FORMS, why);
    free (why);
    return w;
  }
  return NULL;
}

static char *
url_why (const char *s, const char *const *schemes, const char *forms)
{
  const char *a;
  size_t alen;
  char *why;

  if (*s == '\0')
    return NULL;
  if (has_space_or_control (s))
    return xasprintf ("it has a space, a newline or another control character; expected %s",
                      forms);
  a = url_authority (s, schemes, &alen);
  if (a == NULL)
    return xasprintf ("it is not one; expected %s", forms);
  why = host_port_why (a, alen, true);
  if (why) {
    char *w = xasprintf ("%s; expected %s", why, forms);
    free (why);
    return w;
  }
  return NULL;
}

static char *
git_url_why (const char *s)
{
  static const char *const plain[] = { "https", "http", "git", NULL };
  static const char *const ssh[] = { "ssh", "git+ssh", NULL };
  const char *a, *colon;
  size_t alen;

  if (*s == '\0')
    return NULL;
  if (has_space_or_control (s))
    return strdup ("it has a space, a newline or another control character; expected "
                   GIT_URL_FORMS);
  if (s[0] == '-')
    return strdup ("it starts with '-' (git would read an option); expected " GIT_URL_FORMS);
  if ((a = url_authority (s, plain, &alen)) || (a = url_authority (s, ssh, &alen))) {
    char *why;
    /* ssh://git@host/...: a user, never a password. */
    const char *at = memchr (a, '@', alen);
    if (at && !url_authority (s, ssh, &(size_t){ 0 }))
      return strdup ("user names go in ssh:// or USER@HOST:PATH forms only; expected "
                     GIT_URL_FORMS);
    if (at) {
      if (memchr (a, ':', at - a))
        return strdup ("it has a password in it; expected " GIT_URL_FORMS);
      alen -= at + 1 - a;
      a = at + 1;
    }
    why = host_port_why (a, alen, true);
    if (why == NULL && a[alen] != '/')
      why = strdup ("there is no /PATH after the host");
    if (why) {
      char *w = xasprintf ("%s; expected " GIT_URL_FORMS, why);
      free (why);
      return w;
    }
    return NULL;
  }
  if (strstr (s, "://"))
    return strdup ("its scheme is not https, http, git or ssh; expected " GIT_URL_FORMS);
  /* scp-like: [USER@]HOST:PATH */
  colon = strchr (s, ':');
  if (colon && colon[1]) {
    const char *h = s;
    const char *at = memchr (s, '@', colon - s);
    if (at)
      h = at + 1;
    if (host_name_ok (h, colon - h) && (at == NULL || at > s))
      return NULL;
  }
  return strdup ("it is not one; expected " GIT_URL_FORMS);
}

static char *
git_ref_why (const char *s)
{
  size_t n = strlen (s);

  if (n == 0 || n > 255)
    return strdup ("expected " GIT_REF_FORMS " (1 to 255 characters)");
  for (size_t i = 0; i < n; i++)
    if (!isalnum ((unsigned char) s[i]) && !strchr ("._-+/", s[i]))
      return xasprintf ("'%c' is not allowed in it; expected " GIT_REF_FORMS,
                        isprint ((unsigned char) s[i]) ? s[i] : '?');
  if (s[0] == '-' || s[0] == '.' || s[0] == '/' || s[n - 1] == '/' || s[n - 1] == '.'
      || strstr (s, "..") || strstr (s, "//") || strstr (s, "/.")
      || (n >= 5 && strcmp (s + n - 5, ".lock") == 0))
    return strdup ("expected " GIT_REF_FORMS " (and not ending with '/', '.' or '.lock')");
  return NULL;
}

static char *
thumbprint_why (const char *s)
{
  size_t n = 0;

  if (*s == '\0')
    return NULL;                  /* not pinned */
  for (const char *p = s; *p; p++) {
    if (*p == ':' || *p == ' ')
      continue;
    if (!isxdigit ((unsigned char) *p))
      return strdup ("it is not a SHA-1 fingerprint (it has a character that is not a hex "
                     "digit or ':'); expected " THUMBPRINT_FORMS);
    n++;
  }
  if (n != 40)
    return xasprintf ("it is not a SHA-1 fingerprint (%zu hex digits, not 40); expected "
                      THUMBPRINT_FORMS, n);
  return NULL;
}

/* ADDRESS[/PREFIX]; v4only: IPv4 only; need_prefix: /PREFIX required,
 * then within [minp, 32] for IPv4. */
static char *
cidr_why (const char *s, bool v4only, bool need_prefix, int minp)
{
  const char *forms = v4only ? SUBNET_FORMS : CIDR_FORMS;
  const char *slash = strchr (s, '/');
  size_t alen = slash ? (size_t) (slash - s) : strlen (s);
  char buf[INET6_ADDRSTRLEN + 1];
  unsigned char a[sizeof (struct in6_addr)];
  int maxp;
  long long p;

  if (has_space_or_control (s))
    return xasprintf ("it has a space or a control character; expected %s", forms);
  if (alen == 0 || alen >= sizeof buf)
    return xasprintf ("it is not an address; expected %s", forms);
  memcpy (buf, s, alen);
  buf[alen] = '\0';
  if (inet_pton (AF_INET, buf, a) == 1)
    maxp = 32;
  else if (!v4only && inet_pton (AF_INET6, buf, a) == 1)
    maxp = 128;
  else
    return xasprintf ("'%s' is not an %saddress; expected %s", buf, v4only ? "IPv4 " : "IP ",
                      forms);
  if (slash == NULL)
    return need_prefix ? xasprintf ("it has no /PREFIX; expected %s", forms) : NULL;
  if (parse_int_range (slash + 1, maxp == 32 ? minp : 0, maxp, &p) == -1)
    return xasprintf ("the prefix '/%s' is not from %d to %d; expected %s", slash + 1,
                      maxp == 32 ? minp : 0, maxp, forms);
  return NULL;
}

static char *
name_why (const char *s)
{
  size_t n = strlen (s);

  if (n == 0 || n > 63 || !isalnum ((unsigned char) s[0]))
    return strdup ("expected " NAME_FORMS);
  for (size_t i = 0; i < n; i++)
    if (!isalnum ((unsigned char) s[i]) && !strchr ("-_.", s[i]))
      return strdup ("expected " NAME_FORMS);
  return NULL;
}

static char *
user_why (const char *s)
{
  size_t n = strlen (s);

  if (n == 0)
    return NULL;
  if (n > 32 || s[0] == '-')
    return strdup ("expected " USER_FORMS);
  for (size_t i = 0; i < n; i++)
    if (!isalnum ((unsigned char) s[i]) && !strchr ("-_.", s[i]))
      return strdup ("expected " USER_FORMS);
  return NULL;
}

static char *
words_why (const char *s)
{
  wordexp_t we;
  int r;

  if (*s == '\0')
    return NULL;
  r = wordexp (s, &we, WRDE_NOCMD | WRDE_UNDEF);
  if (r == 0 || r == WRDE_NOSPACE)
    wordfree (&we);
  switch (r) {
  case 0: return NULL;
  case WRDE_BADCHAR:
    return strdup ("it has a character a shell would treat specially (newline, |, &, ;, <, "
                   ">, (, ), {, }) unquoted; quote it");
  case WRDE_BADVAL: return strdup ("it names an undefined shell variable");
  case WRDE_CMDSUB: return strdup ("it has a command substitution ($(...) or `...`)");
  case WRDE_SYNTAX: return strdup ("its quotes are not balanced");
  default: return strdup ("it can't be split into options");
  }
}

/* ---- the value, with its path inside the key ---- */

struct ctx {
  const char *given;            /* the key as written */
  char *msg;                    /* the first failure */
};

static char *
shown (const json_t *v)
{
  char *j = json_dumps (v, JSON_ENCODE_ANY | JSON_COMPACT);
  char *out;

  if (j == NULL)
    return strdup ("(this value)");
  if (strlen (j) <= 60)
    return j;
  out = xasprintf ("%.57s...", j);
  free (j);
  return out;
}

/* Record the failure (the first one wins); why is taken.  v NULL: the
 * value is not shown (it may hold a secret).  Returns -1. */
static int
fail (struct ctx *c, const char *path, const json_t *v, char *why)
{
  if (c->msg == NULL) {
    CLEANUP_FREE char *s = v ? shown (v) : strdup ("(value hidden)");
    c->msg = xasprintf ("key '%s%s': %s is not allowed: %s", c->given, path ? path : "", s,
                        why ? why : "?");
  }
  free (why);
  return -1;
}

/* One-line strings: the common case. */
static int
check_line (struct ctx *c, const char *path, const json_t *v, bool nonempty)
{
  const char *s = json_string_value (v);
  char *why;

  if (s == NULL)
    return fail (c, path, v, strdup ("expected text (one line)"));
  if (nonempty && *s == '\0')
    return fail (c, path, v, strdup ("it is empty; expected " LINE_FORMS));
  why = line_why (s);
  return why ? fail (c, path, v, why) : 0;
}

static int
check_vms (struct ctx *c, const json_t *v)
{
  size_t i;
  json_t *e;

  json_array_foreach (v, i, e) {
    char path[32];
    snprintf (path, sizeof path, "[%zu]", i);
    if (check_line (c, path, e, true) == -1)
      return -1;
  }
  return 0;
}

static int
check_names (struct ctx *c, const json_t *v)
{
  size_t i;
  json_t *e;

  if (json_is_string (v))
    return check_line (c, NULL, v, false);
  json_array_foreach (v, i, e) {
    char path[32];
    snprintf (path, sizeof path, "[%zu]", i);
    if (check_line (c, path, e, true) == -1)
      return -1;
  }
  return 0;
}

static char *
key_path (const char *k)
{
  return xasprintf ("['%s']", k);
}

static int
check_network_map (struct ctx *c, const json_t *v)
{
  const char *k;
  json_t *e;

  json_object_foreach ((json_t *) v, k, e) {
    CLEANUP_FREE char *path = key_path (k);
    if (!json_is_string (e))
      return fail (c, path, e, strdup ("expected the Neutron network as text (quote a number "
                                       "or a boolean-looking name): \"NETWORK\" or "
                                       "\"NETWORK,SUBNET\""));
    if (check_line (c, path, e, true) == -1)
      return -1;
    if (json_string_value (e)[0] == ',')
      return fail (c, path, e, strdup ("there is no network before the ','; expected "
                                       "\"NETWORK\" or \"NETWORK,SUBNET\""));
  }
  return 0;
}

static int
check_subnet (struct ctx *c, const char *path, const json_t *e)
{
  if (!json_is_string (e))
    return fail (c, path, e, strdup ("expected " SUBNET_FORMS));
  char *why = cidr_why (json_string_value (e), true, true, 8);
  return why ? fail (c, path, e, why) : 0;
}

static int
check_subnets (struct ctx *c, const json_t *v)
{
  const char *k;
  json_t *e, *x;
  size_t i;

  json_object_foreach ((json_t *) v, k, e) {
    CLEANUP_FREE char *path = key_path (k);
    if (json_is_array (e)) {
      if (json_array_size (e) == 0)
        return fail (c, path, e, strdup ("the list is empty; expected " SUBNET_FORMS));
      json_array_foreach (e, i, x) {
        CLEANUP_FREE char *p2 = xasprintf ("%s[%zu]", path, i);
        if (check_subnet (c, p2, x) == -1)
          return -1;
      }
    }
    else if (check_subnet (c, path, e) == -1)
      return -1;
  }
  return 0;
}

static bool
in_list (const char *s, const char *const *list)
{
  for (size_t i = 0; list[i]; i++)
    if (strcmp (s, list[i]) == 0)
      return true;
  return false;
}

/* Neutron's protocol names (neutron-lib's IP_PROTOCOL_MAP, plus any). */
static const char *const neutron_protocols[] = {
  "any", "ah", "dccp", "egp", "esp", "gre", "hopopt", "icmp", "igmp", "ipip", "ipv6-encap",
  "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route", "ospf", "pgm",
  "rsvp", "sctp", "tcp", "udp", "udplite", "vrrp", NULL
};
/* Those with port ranges (by name or number), and ICMP (type and code). */
static const char *const port_protocols[] = { "tcp", "udp", "sctp", "dccp", "udplite",
                                              "6", "17", "132", "33", "136", NULL };
static const char *const icmp_protocols[] = { "icmp", "icmpv6", "ipv6-icmp", "1", "58", NULL };

static int
check_rule (struct ctx *c, size_t n, const json_t *r)
{
  static const char *const fields[] = { "protocol", "port", "port_max", "remote_ip_prefix",
                                        NULL };
  CLEANUP_FREE char *path = xasprintf ("[%zu]", n);
  const json_t *proto = json_object_get (r, "protocol");
  const json_t *port = json_object_get (r, "port");
  const json_t *pmax = json_object_get (r, "port_max");
  const json_t *prefix = json_object_get (r, "remote_ip_prefix");
  const char *pname = "tcp";
  const char *k;
  json_t *e;
  long long lo = 1, hi = 65535;
  long long dummy;

  if (!json_is_object (r))
    return fail (c, path, r, strdup ("expected a mapping {protocol, port, port_max, "
                                     "remote_ip_prefix}"));
  json_object_foreach ((json_t *) r, k, e)
    if (!in_list (k, fields)) {
      CLEANUP_FREE char *p2 = xasprintf ("%s.%s", path, k);
      return fail (c, p2, e, strdup ("this field is not known (a misspelt port would open "
                                     "every port); expected protocol, port, port_max or "
                                     "remote_ip_prefix"));
    }
  if (proto && !json_is_null (proto)) {
    CLEANUP_FREE char *p2 = xasprintf ("%s.protocol", path);
    pname = json_string_value (proto);
    if (pname == NULL
        || !(in_list (pname, neutron_protocols) || parse_int_range (pname, 0, 255, &dummy) == 0))
      return fail (c, p2, proto, strdup ("expected " PROTOCOLS));
  }
  if (in_list (pname, icmp_protocols))
    lo = 0, hi = 255;
  else if (!in_list (pname, port_protocols) && (port || pmax))
    return fail (c, path, r, xasprintf ("protocol %s has no ports; port and port_max are for "
                                        "tcp, udp, sctp, dccp, udplite (and icmp: type and "
                                        "code)", pname));
  if (port && !json_is_null (port)) {
    CLEANUP_FREE char *p2 = xasprintf ("%s.port", path);
    if (!json_is_integer (port) || json_integer_value (port) < lo
        || json_integer_value (port) > hi)
      return fail (c, p2, port, xasprintf ("expected an integer from %lld to %lld", lo, hi));
  }
  if (pmax && !json_is_null (pmax)) {
    CLEANUP_FREE char *p2 = xasprintf ("%s.port_max", path);
    long long min = lo;
    if (!port || json_is_null (port))
      return fail (c, p2, pmax, strdup ("port_max needs port (the start of the range)"));
    if (hi == 65535)
      min = json_integer_value (port);
    if (!json_is_integer (pmax) || json_integer_value (pmax) < min
        || json_integer_value (pmax) > hi)
      return fail (c, p2, pmax, xasprintf ("expected an integer from %lld to %lld", min, hi));
  }
  if (prefix && !json_is_null (prefix)) {
    CLEANUP_FREE char *p2 = xasprintf ("%s.remote_ip_prefix", path);
    char *why = json_is_string (prefix) ? cidr_why (json_string_value (prefix), false, false, 0)
      : strdup ("expected " CIDR_FORMS);
    if (why)
      return fail (c, p2, prefix, why);
  }
  return 0;
}

static int
check_sg_rules (struct ctx *c, const json_t *v)
{
  size_t i;
  json_t *r;

  json_array_foreach (v, i, r)
    if (check_rule (c, i, r) == -1)
      return -1;
  return 0;
}

static int
check_volume_types (struct ctx *c, const json_t *v)
{
  static const char *const fields[] = { "vmware_datastore", "openstack_type", NULL };
  size_t i;
  json_t *m;

  json_array_foreach (v, i, m) {
    CLEANUP_FREE char *path = xasprintf ("[%zu]", i);
    const char *k;
    json_t *e;
    if (!json_is_object (m))
      return fail (c, path, m, strdup ("expected a mapping {vmware_datastore: NAME, "
                                       "openstack_type: TYPE}"));
    json_object_foreach (m, k, e) {
      CLEANUP_FREE char *p2 = xasprintf ("%s.%s", path, k);
      if (!in_list (k, fields))
        return fail (c, p2, e, strdup ("this field is not known; expected vmware_datastore "
                                       "and openstack_type"));
    }
    for (size_t f = 0; fields[f]; f++) {
      CLEANUP_FREE char *p2 = xasprintf ("%s.%s", path, fields[f]);
      e = json_object_get (m, fields[f]);
      if (e == NULL)
        return fail (c, path, m, xasprintf ("%s is missing; expected {vmware_datastore: NAME, "
                                            "openstack_type: TYPE}", fields[f]));
      if (check_line (c, p2, e, true) == -1)
        return -1;
    }
  }
  return 0;
}

static int
check_image_metadata (struct ctx *c, const json_t *v)
{
  const char *k;
  json_t *e;
  size_t i;

  if (json_is_object (v)) {
    json_object_foreach ((json_t *) v, k, e) {
      CLEANUP_FREE char *path = key_path (k);
      if (!json_is_string (e) && !json_is_number (e) && !json_is_boolean (e))
        return fail (c, path, e, strdup ("expected a text, number or boolean value"));
    }
    return 0;
  }
  if (json_is_array (v)) {
    json_array_foreach (v, i, e) {
      CLEANUP_FREE char *path = xasprintf ("[%zu]", i);
      const char *s = json_string_value (e);
      if (s == NULL || s[0] == '=' || strchr (s, '=') == NULL)
        return fail (c, path, e, strdup ("expected a \"property=value\" string"));
    }
    return 0;
  }
  return fail (c, NULL, v, strdup ("expected a mapping of image properties or a list of "
                                   "\"property=value\" strings"));
}

static const char *const interfaces[] = { "public", "internal", "admin", "publicURL",
                                           "internalURL", "adminURL", NULL };
static const char *const auth_types[] = { "password", "v3password", "v3applicationcredential",
                                          "token", "v3token", NULL };

static int
check_cloud (struct ctx *c, const json_t *v)
{
  const json_t *auth, *e;
  static const char *const lines[] = { "region_name", "cacert", NULL };

  if (json_is_string (v))
    return check_line (c, NULL, v, false);
  if ((e = json_object_get (v, "interface")) && !json_is_null (e)
      && (!json_is_string (e) || !in_list (json_string_value (e), interfaces))) {
    CLEANUP_FREE char *w = enum_words (interfaces);
    return fail (c, ".interface", e, xasprintf ("expected one of %s", w ? w : "?"));
  }
  if ((e = json_object_get (v, "auth_type")) && !json_is_null (e)
      && (!json_is_string (e) || !in_list (json_string_value (e), auth_types))) {
    CLEANUP_FREE char *w = enum_words (auth_types);
    return fail (c, ".auth_type", e, xasprintf ("expected one of %s", w ? w : "?"));
  }
  if ((e = json_object_get (v, "identity_api_version")) && !json_is_null (e)) {
    const char *s = json_string_value (e);
    bool ok = (json_is_integer (e) && json_integer_value (e) == 3)
      || (json_is_real (e) && json_real_value (e) == 3.0)
      || (s && (strcmp (s, "3") == 0 || strcmp (s, "3.0") == 0));
    if (!ok)
      return fail (c, ".identity_api_version", e,
                   strdup ("ferry speaks Keystone v3 only; expected 3"));
  }
  for (const char *const *f = (const char *const[]) { "insecure", "verify", NULL }; *f; f++)
    if ((e = json_object_get (v, *f)) && !json_is_null (e) && !json_is_boolean (e)) {
      CLEANUP_FREE char *p = xasprintf (".%s", *f);
      return fail (c, p, e, strdup ("expected a boolean (true or false)"));
    }
  for (size_t i = 0; lines[i]; i++)
    if ((e = json_object_get (v, lines[i])) && !json_is_null (e)) {
      CLEANUP_FREE char *p = xasprintf (".%s", lines[i]);
      if (check_line (c, p, e, false) == -1)
        return -1;
    }
  auth = json_object_get (v, "auth");
  if (auth && !json_is_null (auth) && !json_is_object (auth))
    return fail (c, ".auth", NULL, strdup ("expected a mapping {auth_url, username, "
                                           "password, project_name, ...}"));
  /* auth_url at the top level is accepted too (clouds.c moves it). */
  e = json_object_get (auth, "auth_url");
  if (e == NULL && auth == NULL)
    e = json_object_get (v, "auth_url");
  if (e && !json_is_null (e)) {
    const char *p = auth ? ".auth.auth_url" : ".auth_url";
    char *why = json_is_string (e) ? url_why (json_string_value (e), http_schemes,
                                              "the Keystone URL: " URL_FORMS)
      : strdup ("expected the Keystone URL: " URL_FORMS);
    if (why)
      return fail (c, p, e, why);
  }
  return 0;
}

char *
config_check_value (const char *key, const char *given, const json_t *value)
{
  const struct domain *d = domain_of (key);
  struct ctx c = { .given = given ? given : key };
  const char *s = json_string_value (value);
  char *why = NULL;

  if (d == NULL || value == NULL || json_is_null (value))
    return NULL;
  switch (d->kind) {
  case K_INT:
    if (!json_is_integer (value) || json_integer_value (value) < d->min
        || json_integer_value (value) > d->max) {
      CLEANUP_FREE char *a = allowed_of (d);
      why = xasprintf ("expected %s", a ? a : "?");
    }
    break;
  case K_ENUM:
    if (s == NULL || !in_list (s, d->values)) {
      CLEANUP_FREE char *a = allowed_of (d);
      why = xasprintf ("expected %s", a ? a : "?");
    }
    break;
  case K_LINE:
    if (s)
      why = line_why (s);
    break;
  case K_NAME:
    if (s)
      why = name_why (s);
    break;
  case K_USER:
    if (s)
      why = user_why (s);
    break;
  case K_HOST:
    if (s)
      why = vcenter_host_why (s);
    break;
  case K_URL:
    if (s)
      why = url_why (s, http_schemes, URL_FORMS);
    break;
  case K_GIT_URL:
    if (s)
      why = git_url_why (s);
    break;
  case K_GIT_REF:
    if (s)
      why = git_ref_why (s);
    break;
  case K_THUMBPRINT:
    if (s)
      why = thumbprint_why (s);
    break;
  case K_CIDR:
    if (s && *s)
      why = cidr_why (s, false, false, 0);
    break;
  case K_WORDS:
    if (s)
      why = words_why (s);
    break;
  case K_NAMES: check_names (&c, value); break;
  case K_VMS: check_vms (&c, value); break;
  case K_NETWORK_MAP: check_network_map (&c, value); break;
  case K_SUBNETS: check_subnets (&c, value); break;
  case K_SG_RULES: check_sg_rules (&c, value); break;
  case K_VOLUME_TYPES: check_volume_types (&c, value); break;
  case K_IMAGE_METADATA: check_image_metadata (&c, value); break;
  case K_CLOUD: check_cloud (&c, value); break;
  }
  if (why)
    fail (&c, NULL, value, why);
  return c.msg;
}

/* ---- command-line numbers ---- */

int
parse_int_range (const char *s, long long min, long long max, long long *out)
{
  const char *p = s;
  char *end;
  long long v;

  if (s == NULL)
    return -1;
  if (*p == '-' && min < 0)
    p++;
  if (!isdigit ((unsigned char) *p))
    return -1;
  for (const char *q = p; *q; q++)
    if (!isdigit ((unsigned char) *q))
      return -1;
  errno = 0;
  v = strtoll (s, &end, 10);
  if (errno || *end || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

int
parse_size_range (const char *s, unsigned long long min, unsigned long long max,
                  unsigned long long *out)
{
  const char *p = s;
  unsigned long long v = 0;
  unsigned shift = 0;

  if (s == NULL || !isdigit ((unsigned char) *p))
    return -1;
  for (; isdigit ((unsigned char) *p); p++) {
    unsigned d = (unsigned) (*p - '0');
    if (v > (ULLONG_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  switch (*p) {
  case 'k': case 'K': shift = 10; p++; break;
  case 'm': case 'M': shift = 20; p++; break;
  case 'g': case 'G': shift = 30; p++; break;
  case 't': case 'T': shift = 40; p++; break;
  }
  if (shift && *p == 'i')
    p++;
  if (*p == 'B' || *p == 'b')
    p++;
  if (*p)
    return -1;
  if (shift && v > (ULLONG_MAX >> shift))
    return -1;
  v <<= shift;
  if (v < min || v > max)
    return -1;
  *out = v;
  return 0;
}
