/* ferry: deploying the conversion host, see conversion-host.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conversion-host/conversion-host.h"
#include "workflow/plan.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/net.h"
#include "common/util.h"

/* Seconds deploy waits for ACTIVE and delete for the server to go. */
#define SERVER_TIMEOUT_S 600

struct conversion_host_size
conversion_host_size (long parallel, long long min_disk_gb)
{
  struct conversion_host_size s;

  if (parallel < 1)
    parallel = 1;
  /* The seeds' rule: 1 vCPU and 2 GB per migration, at least 2/4/16. */
  s.vcpus = parallel < 2 ? 2 : (int) parallel;
  s.ram_mb = parallel * 2048 < 4096 ? 4096 : parallel * 2048;
  s.disk_gb = min_disk_gb < 16 ? 16 : min_disk_gb;
  return s;
}

const char *
conversion_host_image_distro (const json_t *image)
{
  static const char *const distros[] = { "centos", "rhel", "fedora", "debian", "ubuntu", NULL };
  const char *d = json_string_value (json_object_get (image, "os_distro"));
  const char *name = json_string_value (json_object_get (image, "name"));

  for (int pass = 0; pass < 2; pass++) {
    const char *s = pass == 0 ? d : name;
    if (s == NULL)
      continue;
    for (size_t i = 0; distros[i]; i++)
      if (strcasestr (s, distros[i]))
        return distros[i];
    if (strcasestr (s, "redhat") || strcasestr (s, "red hat"))
      return "rhel";
  }
  return NULL;
}

static const char *
default_user (const char *distro)
{
  if (distro == NULL || !strcmp (distro, "centos") || !strcmp (distro, "rhel"))
    return "cloud-user";
  return distro;                /* fedora, debian, ubuntu: the user is the name */
}

char *
conversion_host_user_data (const struct config *cfg, const char *name)
{
  const char *pkg = config_get_string (cfg, "conversion_host_ferry_package_url");
  const char *git = config_get_string (cfg, "conversion_host_ferry_git_url");
  const char *ref = config_get_string (cfg, "conversion_host_ferry_git_ref");
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);

  if (f == NULL)
    return NULL;
  fprintf (f,
           "#!/bin/sh\n"
           "# ferry conversion host '%s': cloud-init user data written by\n"
           "# 'ferry conversion-host deploy'.  Installs the migration's data path\n"
           "# (nbdkit, libnbd/nbdcopy, qemu-img, virt-v2v, virtio-win where the\n"
           "# distribution has it) and ferry, then writes ferry's configuration\n"
           "# with this instance's own id.  Log: /var/log/ferry-conversion-host.log\n"
           "set -u\n"
           "exec >>/var/log/ferry-conversion-host.log 2>&1\n"
           "echo \"ferry conversion host setup: start $(date -u +%%FT%%TZ)\"\n"
           "ID=; ID_LIKE=\n"
           ". /etc/os-release\n"
           "FAMILY=unknown\n"
           "case \" $ID $ID_LIKE \" in\n"
           "  *\" debian \"*|*\" ubuntu \"*) FAMILY=debian ;;\n"
           "  *\" fedora \"*|*\" rhel \"*|*\" centos \"*) FAMILY=redhat ;;\n"
           "esac\n"
           "case $FAMILY in\n"
           "debian)\n"
           "  export DEBIAN_FRONTEND=noninteractive\n"
           "  apt-get update\n"
           "  apt-get install -y --no-install-recommends nbdkit libnbd-bin qemu-utils \\\n"
           "    virt-v2v guestfs-tools curl ca-certificates\n"
           "  echo 'virtio-win: not packaged by this distribution (Windows guests need it)'\n"
           "  ;;\n"
           "redhat)\n"
           "  dnf install -y nbdkit nbdkit-curl-plugin libnbd qemu-img virt-v2v curl\n"
           "  dnf install -y nbdkit-vddk-plugin || echo 'nbdkit-vddk-plugin: not available'\n"
           "  dnf install -y virtio-win || echo 'virtio-win: not in the enabled repositories'\n"
           "  ;;\n"
           "*)\n"
           "  echo \"distribution '$ID' not known: install nbdkit, libnbd, qemu-img and virt-v2v\"\n"
           "  ;;\n"
           "esac\n"
           "# virt-v2v-in-place lives in /usr/libexec on some distributions.\n"
           "if ! command -v virt-v2v-in-place >/dev/null 2>&1 && [ -x /usr/libexec/virt-v2v-in-place ]; then\n"
           "  ln -sf /usr/libexec/virt-v2v-in-place /usr/local/bin/virt-v2v-in-place\n"
           "fi\n", name);
  if (pkg && *pkg) {
    CLEANUP_FREE char *q = shell_quote (pkg);
    fprintf (f,
             "# ferry, from conversion_host_ferry_package_url.\n"
             "FERRY_URL=%s\n"
             "case $FERRY_URL in\n"
             "  *.deb) curl -fsSL -o /tmp/ferry.deb \"$FERRY_URL\" && apt-get install -y /tmp/ferry.deb ;;\n"
             "  *.rpm) dnf install -y \"$FERRY_URL\" ;;\n"
             "  *) curl -fsSL \"$FERRY_URL\" | tar -xz -C /usr/local ;;\n"
             "esac\n", q);
  }
  else if (git && *git) {
    CLEANUP_FREE char *qg = shell_quote (git);
    CLEANUP_FREE char *qr = shell_quote (ref ? ref : "main");
    fprintf (f,
             "# ferry, built from conversion_host_ferry_git_url.\n"
             "case $FAMILY in\n"
             "debian) apt-get install -y --no-install-recommends git meson ninja-build gcc \\\n"
             "    pkg-config libcurl4-openssl-dev libjansson-dev libyaml-dev libxml2-dev \\\n"
             "    libnbd-dev libguestfs-dev zlib1g-dev libssl-dev ;;\n"
             "redhat) dnf install -y git meson ninja-build gcc pkgconf libcurl-devel jansson-devel \\\n"
             "    libyaml-devel libxml2-devel libnbd-devel libguestfs-devel zlib-devel openssl-devel ;;\n"
             "esac\n"
             "rm -rf /usr/local/src/ferry\n"
             "git clone --depth 1 --branch %s %s /usr/local/src/ferry &&\n"
             "  meson setup /usr/local/src/ferry/build /usr/local/src/ferry --prefix=/usr/local \\\n"
             "    -Dtests=false &&\n"
             "  ninja -C /usr/local/src/ferry/build install\n", qr, qg);
  }
  else
    fprintf (f, "echo 'no conversion_host_ferry_package_url or conversion_host_ferry_git_url: "
             "install ferry by hand'\n");
  fprintf (f,
           "# ferry's configuration: this instance's own id, from the metadata service.\n"
           "UUID=\n"
           "for i in $(seq 30); do\n"
           "  UUID=$(curl -fsS http://169.254.169.254/openstack/latest/meta_data.json |\n"
           "         sed -n 's/.*\"uuid\": *\"\\([0-9a-fA-F-]*\\)\".*/\\1/p')\n"
           "  [ -n \"$UUID\" ] && break\n"
           "  sleep 2\n"
           "done\n"
           "mkdir -p /etc/ferry /opt/os-migrate\n"
           "cat >/etc/ferry/conversion-host.yml <<EOF\n"
           "# Written at first boot by ferry conversion-host deploy (host '%s').\n"
           "# Give it last: ferry migrate -e @secrets.yml -e @vars.yml -e @/etc/ferry/conversion-host.yml\n"
           "import_workloads_instance_uuid: $UUID\n"
           "already_deploy_conversion_host: true\n"
           "os_migrate_vmw_data_dir: /opt/os-migrate\n"
           "EOF\n"
           "echo \"ferry conversion host setup: done $(date -u +%%FT%%TZ), instance $UUID\"\n",
           name);
  if (fclose (f) != 0) {
    free (out);
    return NULL;
  }
  return out;
}

char *
conversion_host_inventory (const struct config *cfg, const char *address, const char *distro)
{
  const char *user = config_get_string (cfg, "conversion_host_ssh_user");
  const char *key = config_get_string (cfg, "conversion_host_ssh_private_key_file");
  const char *pair = config_get_string (cfg, "ssh_key_name");

  return xasprintf ("migrator:\n"
                    "  hosts:\n"
                    "    localhost:\n"
                    "      ansible_connection: local\n"
                    "      ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n"
                    "conversion_host:\n"
                    "  hosts:\n"
                    "    %s:\n"
                    "      ansible_ssh_user: %s\n"
                    "      ansible_ssh_private_key_file: %s%s%s\n",
                    address ? address : "ADDRESS",
                    user && *user ? user : default_user (distro),
                    key && *key ? key : "key",
                    key && *key ? "" : "   # the private key of key pair ",
                    key && *key ? "" : (pair && *pair ? pair : "(none set: ssh_key_name)"));
}

/* ---- finding what deploy made ---- */

static char *
server_name (const char *name)
{
  return xasprintf (CONVERSION_HOST_PREFIX "%s", name);
}

static char *
mark (const char *name)
{
  return xasprintf (CONVERSION_HOST_MARK " %s", name);
}

static bool
has_mark (const json_t *obj, const char *name)
{
  CLEANUP_FREE char *m = mark (name);
  const char *d = json_string_value (json_object_get (obj, "description"));
  return d && m && strcmp (d, m) == 0;
}

/* The server deploy made for name: 0 and *out, 1 none, -1 error. */
static int
find_server (struct os_client *os, const char *name, json_t **out)
{
  CLEANUP_FREE char *sname = server_name (name);
  CLEANUP_FREE char *re = xasprintf ("^%s$", sname);
  CLEANUP_FREE char *ere = os_url_escape (re);
  CLEANUP_FREE char *q = xasprintf ("name=%s", ere);
  CLEANUP_JSON json_t *list = os_server_list (os, q);
  size_t i;
  json_t *s;

  *out = NULL;
  if (list == NULL)
    return -1;
  json_array_foreach (list, i, s) {
    const json_t *md = json_object_get (s, "metadata");
    const char *by = json_string_value (json_object_get (md, "ferry-created"));
    const char *n = json_string_value (json_object_get (md, "ferry-conversion-host"));
    if (by && !strcmp (by, "conversion-host") && n && !strcmp (n, name)
        && !strcmp (json_string_value (json_object_get (s, "name")) ?: "", sname)) {
      *out = json_incref (s);
      return 0;
    }
  }
  return 1;
}

/* Security groups of the project named sname. */
static json_t *
find_security_groups (struct os_client *os, const char *sname)
{
  CLEANUP_FREE char *en = os_url_escape (sname);
  CLEANUP_FREE char *q = xasprintf ("name=%s&project_id=%s", en, os_project_id (os));
  return os_neutron_list (os, "security-groups", q);
}

/* ---- deploy ---- */

/* The flavor: conversion_host_flavor, else an existing one that fits
 * (use_existing_flavor), else ferry's for the size (found or created). */
static json_t *
choose_flavor (const struct config *cfg, struct os_client *os, const char *name,
               struct conversion_host_size sz, bool *created)
{
  const char *forced = config_get_string (cfg, "conversion_host_flavor");
  CLEANUP_JSON json_t *flavors = os_flavor_list (os);
  CLEANUP_JSON json_t *fits = json_array ();
  CLEANUP_FREE char *fname = xasprintf (CONVERSION_HOST_PREFIX "%dcpu-%lldmb-%lldgb",
                                        sz.vcpus, sz.ram_mb, sz.disk_gb);
  CLEANUP_FREE char *m = mark (name);
  size_t i;
  json_t *f;

  *created = false;
  if (flavors == NULL)
    return NULL;
  if (forced && *forced) {
    json_array_foreach (flavors, i, f)
      if (!strcmp (json_string_value (json_object_get (f, "id")) ?: "", forced)
          || !strcmp (json_string_value (json_object_get (f, "name")) ?: "", forced))
        return json_incref (f);
    log_error ("conversion host %s: conversion_host_flavor '%s' is not a flavor visible to "
               "project %s: fix it or leave it unset to let ferry size the host", name, forced,
               os_project_name (os));
    return NULL;
  }
  if (config_get_bool (cfg, "use_existing_flavor")) {
    const json_t *best;
    json_array_foreach (flavors, i, f)
      if (json_integer_value (json_object_get (f, "disk")) >= sz.disk_gb)
        json_array_append (fits, f);
    best = plan_pick_flavor (fits, sz.vcpus, sz.ram_mb);
    if (best)
      return json_incref ((json_t *) best);
    log_info ("conversion host %s: no existing flavor has %d vCPU, %lld MiB and %lld GB: "
              "creating %s", name, sz.vcpus, sz.ram_mb, sz.disk_gb, fname);
  }
  json_array_foreach (flavors, i, f)
    if (!strcmp (json_string_value (json_object_get (f, "name")) ?: "", fname))
      return json_incref (f);
  f = os_flavor_create_described (os, fname, sz.vcpus, sz.ram_mb, sz.disk_gb, true, m);
  if (f == NULL) {
    log_error ("conversion host %s: cannot create flavor %s (creating flavors usually needs "
               "the admin role): ask an administrator for a flavor with %d vCPU, %lld MiB and "
               "%lld GB and set conversion_host_flavor, or set use_existing_flavor: true",
               name, fname, sz.vcpus, sz.ram_mb, sz.disk_gb);
    return NULL;
  }
  *created = true;
  log_info ("conversion host %s: created flavor %s", name, fname);
  return f;
}

/* Who may SSH to the host: conversion_host_ssh_cidr, else this machine's
 * address (towards the cloud's API) /32. */
static char *
ssh_cidr (const struct config *cfg, struct os_client *os)
{
  const char *c = config_get_string (cfg, "conversion_host_ssh_cidr");
  const char *ep = os_endpoint (os, OS_COMPUTE);
  char addr[64];

  if (c && *c)
    return strdup (c);
  if (ep) {
    const char *h = strstr (ep, "://");
    CLEANUP_FREE char *hp = strndup (h ? h + 3 : ep, strcspn (h ? h + 3 : ep, "/"));
    int port;
    CLEANUP_FREE char *host = hp ? net_split_host_port (hp, 443, &port) : NULL;
    if (host && net_local_address (host, addr, sizeof addr) == 0)
      return xasprintf ("%s/%s", addr, strchr (addr, ':') ? "128" : "32");
  }
  log_error ("cannot tell this machine's address: set conversion_host_ssh_cidr to the "
             "address (CIDR) SSH to the conversion host comes from");
  return NULL;
}

/* The security group: ours (found by name and mark) or made now. */
static json_t *
ensure_security_group (const struct config *cfg, struct os_client *os, const char *name,
                       bool *created)
{
  CLEANUP_FREE char *sname = server_name (name);
  CLEANUP_FREE char *m = mark (name);
  CLEANUP_JSON json_t *list = find_security_groups (os, sname);
  CLEANUP_FREE char *cidr = NULL;
  CLEANUP_FREE char *what = NULL;
  CLEANUP_JSON json_t *attrs = NULL;
  CLEANUP_JSON json_t *rule = NULL;
  json_t *sg, *r;

  *created = false;
  if (list == NULL)
    return NULL;
  if (json_array_size (list) > 0) {
    sg = json_array_get (list, 0);
    if (!has_mark (sg, name))
      log_warn ("conversion host %s: using the existing security group %s, which ferry did "
                "not create (its rules are left as they are; delete will keep it)", name, sname);
    return json_incref (sg);
  }
  cidr = ssh_cidr (cfg, os);
  if (cidr == NULL)
    return NULL;
  what = xasprintf ("Neutron create security group '%s'", sname);
  attrs = json_pack ("{s:s, s:s}", "name", sname, "description", m);
  sg = os_neutron_create (os, "security-groups", attrs, what);
  if (sg == NULL)
    return NULL;
  free (what);
  what = xasprintf ("Neutron allow SSH from %s in security group '%s'", cidr, sname);
  rule = json_pack ("{s:s, s:s, s:s, s:s, s:i, s:i, s:s}",
                    "security_group_id", json_string_value (json_object_get (sg, "id")),
                    "direction", "ingress", "ethertype", strchr (cidr, ':') ? "IPv6" : "IPv4",
                    "protocol", "tcp", "port_range_min", 22, "port_range_max", 22,
                    "remote_ip_prefix", cidr);
  r = os_neutron_create (os, "security-group-rules", rule, what);
  if (r == NULL) {
    os_neutron_delete (os, "security-groups", json_string_value (json_object_get (sg, "id")));
    json_decref (sg);
    return NULL;
  }
  json_decref (r);
  *created = true;
  log_info ("conversion host %s: created security group %s (SSH from %s)", name, sname, cidr);
  return sg;
}

/* The floating IP of the server's port, found or made. */
static json_t *
ensure_floating_ip (const struct config *cfg, struct os_client *os, const char *name,
                    const char *server_id, bool *created)
{
  const char *ext = config_get_string (cfg, "conversion_host_external_network");
  CLEANUP_FREE char *q = xasprintf ("device_id=%s", server_id);
  CLEANUP_JSON json_t *ports = os_port_list (os, q);
  CLEANUP_JSON json_t *net = NULL;
  CLEANUP_JSON json_t *fips = NULL;
  CLEANUP_JSON json_t *attrs = NULL;
  CLEANUP_FREE char *why = NULL;
  CLEANUP_FREE char *m = mark (name);
  CLEANUP_FREE char *fq = NULL;
  CLEANUP_FREE char *what = NULL;
  const char *port;
  json_t *fip;

  *created = false;
  if (ports == NULL)
    return NULL;
  port = json_string_value (json_object_get (json_array_get (ports, 0), "id"));
  if (port == NULL) {
    log_error ("conversion host %s: server %s has no port: cannot give it a floating IP",
               name, server_id);
    return NULL;
  }
  fq = xasprintf ("port_id=%s", port);
  fips = os_neutron_list (os, "floatingips", fq);
  if (fips == NULL)
    return NULL;
  if (json_array_size (fips))
    return json_incref (json_array_get (fips, 0));
  if (ext == NULL || *ext == '\0') {
    log_error ("conversion host %s: conversion_host_floating_ip is true but "
               "conversion_host_external_network is not set: name the external network", name);
    return NULL;
  }
  if (os_network_find (os, ext, &net, &why) != 0) {
    if (why)
      log_error ("conversion host %s: conversion_host_external_network: %s", name, why);
    return NULL;
  }
  attrs = json_pack ("{s:O, s:s, s:s}", "floating_network_id", json_object_get (net, "id"),
                     "port_id", port, "description", m);
  what = xasprintf ("Neutron create floating IP on '%s' for server %s (a router must join "
                    "'%s' to the server's subnet)", ext, server_id, ext);
  fip = os_neutron_create (os, "floatingips", attrs, what);
  if (fip)
    *created = true;
  return fip;
}

/* The first fixed IPv4 address of a server. */
static const char *
fixed_address (const json_t *srv)
{
  const char *k;
  json_t *list, *a;
  size_t i;

  json_object_foreach ((json_t *) json_object_get (srv, "addresses"), k, list)
    json_array_foreach (list, i, a) {
      const char *type = json_string_value (json_object_get (a, "OS-EXT-IPS:type"));
      if ((type == NULL || !strcmp (type, "fixed"))
          && json_integer_value (json_object_get (a, "version")) == 4)
        return json_string_value (json_object_get (a, "addr"));
    }
  return NULL;
}

/* Wait for the SSH banner: "ok", "timeout" (with *detail). */
static const char *
wait_ssh (const char *address, int timeout_s, char *detail, size_t n)
{
  time_t end = time (NULL) + timeout_s;

  for (;;) {
    long left = (long) (end - time (NULL));
    if (net_read_banner (address, 22, left > 5 ? 5000 : (left > 0 ? (int) left * 1000 : 1),
                         detail, n) == 0 && strncmp (detail, "SSH-", 4) == 0)
      return "ok";
    if (time (NULL) >= end)
      return "timeout";
    sleep_ms (2000);
  }
}

static const char *
host_name_of (const struct config *cfg, const struct conversion_host_opts *o)
{
  return o && o->name && *o->name ? o->name : config_get_string (cfg, "conversion_host_name");
}

/* conversion_host_image and the network to deploy on
 * (conversion_host_network, else openstack_private_network). */
static int
find_image_and_network (const struct config *cfg, struct os_client *os, const char *name,
                        json_t **image, json_t **net)
{
  const char *img = config_get_string (cfg, "conversion_host_image");
  const char *netref = config_get_string (cfg, "conversion_host_network");
  CLEANUP_FREE char *why = NULL;
  int r;

  if (netref == NULL || *netref == '\0')
    netref = config_get_string (cfg, "openstack_private_network");
  if (img == NULL || *img == '\0' || netref == NULL || *netref == '\0') {
    log_error ("conversion host %s: set %s%s%s to deploy it", name,
               img && *img ? "" : "conversion_host_image (a Glance image: CentOS Stream 10, "
               "RHEL 9.5+, Fedora for btrfs guests, or Debian/Ubuntu)",
               (img && *img) || (netref && *netref) ? "" : " and ",
               netref && *netref ? "" : "conversion_host_network (or openstack_private_network)");
    return FERRY_EXIT_USAGE;
  }
  r = os_image_find (os, img, image, &why);
  if (r != 0) {
    if (why)
      log_error ("conversion host %s: conversion_host_image: %s", name, why);
    return r == 1 ? FERRY_EXIT_USAGE : FERRY_EXIT_DEST;
  }
  r = os_network_find (os, netref, net, &why);
  if (r != 0) {
    if (why)
      log_error ("conversion host %s: network: %s", name, why);
    return r == 1 ? FERRY_EXIT_USAGE : FERRY_EXIT_DEST;
  }
  return 0;
}

/* The key pair ssh_key_name, if set: it must exist (*key_name, else NULL). */
static int
check_key_pair (const struct config *cfg, struct os_client *os, const char *name,
                const char **key_name)
{
  const char *key = config_get_string (cfg, "ssh_key_name");
  CLEANUP_JSON json_t *kp = NULL;
  bool gone = false;

  if (key == NULL || *key == '\0')
    return 0;
  kp = os_keypair_get (os, key, true, &gone);
  if (kp == NULL) {
    if (gone)
      log_error ("conversion host %s: key pair '%s' (ssh_key_name) does not exist for "
                 "user %s: create it or fix ssh_key_name", name, key, os_user_id (os));
    return gone ? FERRY_EXIT_USAGE : FERRY_EXIT_DEST;
  }
  *key_name = key;
  return 0;
}

/* The server's metadata: what deploy made, for delete and status. */
static json_t *
server_metadata (const char *name, long parallel, const json_t *flavor, bool fl_made,
                 const json_t *sg, bool sg_made)
{
  json_t *md = json_pack ("{s:s, s:s}", "ferry-created", "conversion-host",
                          "ferry-conversion-host", name);

  json_object_set_new (md, "ferry-parallel", json_sprintf ("%ld", parallel < 1 ? 1 : parallel));
  if (fl_made)
    json_object_set (md, "ferry-created-flavor", json_object_get (flavor, "id"));
  if (sg_made)
    json_object_set (md, "ferry-created-security-group", json_object_get (sg, "id"));
  return md;
}

/* A new server sname for the conversion host name: its image (*image,
 * whose distribution is *distro), flavor and security group found or
 * made (said in created). */
static int
create_server (const struct config *cfg, struct os_client *os, const char *name,
               const char *sname, long parallel, json_t *created, json_t **srv,
               json_t **image, const char **distro)
{
  CLEANUP_FREE char *ud = NULL;
  CLEANUP_JSON json_t *flavor = NULL;
  CLEANUP_JSON json_t *net = NULL;
  CLEANUP_JSON json_t *sg = NULL;
  CLEANUP_JSON json_t *md = NULL;
  CLEANUP_JSON json_t *nets = NULL;
  CLEANUP_JSON json_t *sgs = NULL;
  CLEANUP_JSON json_t *tags = json_pack ("[s]", "ferry-conversion-host");
  const char *az = config_get_string (cfg, "nova_az");
  bool fl_made = false, sg_made = false;
  struct os_server_spec spec = { .name = sname };
  struct conversion_host_size sz;
  int r;

  if ((r = find_image_and_network (cfg, os, name, image, &net)) != 0
      || (r = check_key_pair (cfg, os, name, &spec.key_name)) != 0)
    return r;
  *distro = conversion_host_image_distro (*image);
  {
    long long min_disk = json_integer_value (json_object_get (*image, "min_disk"));
    long long want = config_get_int (cfg, "conversion_host_disk_gb");
    sz = conversion_host_size (parallel, min_disk > want ? min_disk : want);
  }
  flavor = choose_flavor (cfg, os, name, sz, &fl_made);
  if (flavor == NULL)
    return FERRY_EXIT_DEST;
  sg = ensure_security_group (cfg, os, name, &sg_made);
  if (sg == NULL)
    return FERRY_EXIT_DEST;
  ud = conversion_host_user_data (cfg, name);
  md = server_metadata (name, parallel, flavor, fl_made, sg, sg_made);
  nets = json_pack ("[O]", json_object_get (net, "id"));
  sgs = json_pack ("[O]", json_object_get (sg, "id"));
  spec.image_ref = json_string_value (json_object_get (*image, "id"));
  spec.flavor_id = json_string_value (json_object_get (flavor, "id"));
  spec.networks = nets;
  spec.security_groups = sgs;
  spec.user_data = ud;
  spec.metadata = md;
  spec.tags = tags;
  spec.availability_zone = az && *az ? az : config_get_string (cfg, "availability_zone");
  *srv = os_server_create (os, &spec);
  if (*srv == NULL) {
    log_error ("conversion host %s: the server was not created; the flavor and security "
               "group stay for the next deploy (ferry conversion-host delete removes them)",
               name);
    return FERRY_EXIT_DEST;
  }
  log_info ("conversion host %s: created server %s (%s, flavor %s, network %s)", name,
            json_string_value (json_object_get (*srv, "id")), sname,
            json_string_value (json_object_get (flavor, "name")),
            json_string_value (json_object_get (net, "name")));
  json_object_set_new (created, "flavor", json_boolean (fl_made));
  json_object_set_new (created, "security_group", json_boolean (sg_made));
  return 0;
}

/* The server's floating IP (conversion_host_floating_ip), made if it has
 * none (said in created). */
static int
attach_floating_ip (const struct config *cfg, struct os_client *os, const char *name,
                    const json_t *srv, json_t *created, json_t **fip)
{
  const char *sid = json_string_value (json_object_get (srv, "id"));
  bool made;

  *fip = ensure_floating_ip (cfg, os, name, sid, &made);
  if (*fip == NULL)
    return FERRY_EXIT_DEST;
  json_object_set_new (created, "floating_ip", json_boolean (made));
  if (made) {
    CLEANUP_JSON json_t *md = json_pack ("{s:O}", "ferry-created-floating-ip",
                                         json_object_get (*fip, "id"));
    os_server_set_metadata (os, sid, md);
    log_info ("conversion host %s: floating IP %s", name,
              json_string_value (json_object_get (*fip, "floating_ip_address")));
  }
  return 0;
}

/* With conversion_host_wait_ssh: "ok", "timeout" (why in detail) or "no
 * address"; "skipped" without. */
static const char *
check_ssh (const struct config *cfg, const char *name, bool want_ssh, const char *address,
           char *detail, size_t n)
{
  const char *ssh;
  int t;

  if (!want_ssh)
    return "skipped";
  if (address == NULL)
    return "no address";
  t = (int) config_get_int (cfg, "conversion_host_ssh_timeout");
  log_info ("conversion host %s: waiting up to %d s for SSH on %s", name, t, address);
  ssh = wait_ssh (address, t, detail, n);
  if (strcmp (ssh, "ok"))
    log_warn ("conversion host %s: no SSH answer from %s within %d s (%s): the instance "
              "may still be installing, or %s is not reachable from here (floating IP, "
              "security group, routing); deploy goes on", name, address, t, detail, address);
  return ssh;
}

/* What deploy reports: the server, what was made, how to reach it. */
static json_t *
deploy_report (const struct config *cfg, const char *name, const json_t *srv, bool reused,
               json_t *created, const char *distro, const json_t *fip, const char *address,
               const char *ssh, const char *detail)
{
  CLEANUP_FREE char *inv = conversion_host_inventory (cfg, address, distro);
  json_t *report = json_object ();

  json_object_set_new (report, "name", json_string (name));
  json_object_set_new (report, "server", json_pack ("{s:O, s:O, s:O}", "id",
                                                    json_object_get (srv, "id"), "name",
                                                    json_object_get (srv, "name"), "status",
                                                    json_object_get (srv, "status")));
  json_object_set_new (report, "reused", json_boolean (reused));
  json_object_set (report, "created", created);
  json_object_set_new (report, "flavor", json_deep_copy (json_object_get (srv, "flavor")));
  json_object_set_new (report, "distro", distro ? json_string (distro) : json_null ());
  json_object_set_new (report, "key_name", json_deep_copy (json_object_get (srv, "key_name")));
  json_object_set_new (report, "security_groups",
                       json_deep_copy (json_object_get (srv, "security_groups")));
  json_object_set_new (report, "addresses", json_deep_copy (json_object_get (srv, "addresses")));
  json_object_set_new (report, "floating_ip", fip ? json_pack ("{s:O, s:O}", "id",
                                                               json_object_get (fip, "id"),
                                                               "address",
                                                               json_object_get (fip, "floating_ip_address"))
                       : json_null ());
  json_object_set_new (report, "address", address ? json_string (address) : json_null ());
  json_object_set_new (report, "ssh", json_string (ssh));
  if (*detail && strcmp (ssh, "ok"))
    json_object_set_new (report, "ssh_detail", json_string (detail));
  json_object_set_new (report, "inventory", json_string (inv));
  return report;
}

int
conversion_host_deploy (const struct config *cfg, struct os_client *os,
                        const struct conversion_host_opts *o, json_t **result)
{
  const char *name = host_name_of (cfg, o);
  long parallel = o && o->parallel > 0 ? o->parallel : config_get_int (cfg, "ferry_parallel");
  bool want_ssh = o && o->wait_ssh >= 0 ? o->wait_ssh : config_get_bool (cfg, "conversion_host_wait_ssh");
  CLEANUP_FREE char *sname = server_name (name);
  CLEANUP_JSON json_t *srv = NULL;
  CLEANUP_JSON json_t *image = NULL;
  CLEANUP_JSON json_t *fip = NULL;
  CLEANUP_JSON json_t *created = json_object ();
  const char *distro = NULL, *address, *ssh;
  char detail[256] = "";
  bool reused;
  int r;

  *result = NULL;
  if (name == NULL || *name == '\0' || strpbrk (name, "/ \t")) {
    log_error ("conversion host name '%s' is not usable: set conversion_host_name (or "
               "--name) to a word without spaces or slashes", name ? name : "");
    return FERRY_EXIT_USAGE;
  }
  r = find_server (os, name, &srv);
  if (r == -1)
    return FERRY_EXIT_DEST;
  reused = r == 0;
  if (reused) {
    log_info ("conversion host %s: reusing server %s (%s)", name,
              json_string_value (json_object_get (srv, "id")), sname);
    image = json_incref (json_object_get (srv, "image"));
  }
  else if ((r = create_server (cfg, os, name, sname, parallel, created, &srv, &image,
                               &distro)) != 0)
    return r;
  json_object_set_new (created, "server", json_boolean (!reused));

  /* ACTIVE (an existing one too: it may still be building). */
  {
    json_t *active = os_server_wait_active (os, json_string_value (json_object_get (srv, "id")),
                                            SERVER_TIMEOUT_S);
    if (active == NULL)
      return FERRY_EXIT_DEST;
    json_decref (srv);
    srv = active;
  }
  if (config_get_bool (cfg, "conversion_host_floating_ip")
      && (r = attach_floating_ip (cfg, os, name, srv, created, &fip)) != 0)
    return r;
  address = fip ? json_string_value (json_object_get (fip, "floating_ip_address"))
    : fixed_address (srv);
  if (distro == NULL && image && json_object_get (image, "id")) {
    /* A reused server: its image says which distribution it runs. */
    CLEANUP_JSON json_t *img = os_image_get (os, json_string_value (json_object_get (image, "id")),
                                             true, NULL);
    distro = conversion_host_image_distro (img);
  }
  ssh = check_ssh (cfg, name, want_ssh, address, detail, sizeof detail);
  *result = deploy_report (cfg, name, srv, reused, created, distro, fip, address, ssh, detail);
  return 0;
}

/* ---- status ---- */

int
conversion_host_status (const struct config *cfg, struct os_client *os,
                        const struct conversion_host_opts *o, json_t **result)
{
  const char *name = host_name_of (cfg, o);
  const char *configured = config_get_string (cfg, "instance_uuid");
  CLEANUP_JSON json_t *srv = NULL;
  CLEANUP_JSON json_t *att = NULL;
  long long limit = config_get_int (cfg, "conversion_host_max_volumes");
  const json_t *fl;
  long long vcpus, ram, cap;
  int r = find_server (os, name, &srv);

  *result = NULL;
  if (r == -1)
    return FERRY_EXIT_DEST;
  if (r == 1 && configured && *configured) {
    bool gone = false;
    srv = os_server_get (os, configured, true, &gone);
    if (srv == NULL && !gone)
      return FERRY_EXIT_DEST;
  }
  if (srv == NULL) {
    log_error ("no conversion host: none deployed as %s%s%s and instance_uuid %s; deploy one "
               "with ferry conversion-host deploy", CONVERSION_HOST_PREFIX, name,
               configured && *configured ? "" : "",
               configured && *configured ? "names no server" : "is not set");
    return FERRY_EXIT_FAILED;
  }
  att = os_server_attachments (os, json_string_value (json_object_get (srv, "id")));
  if (att == NULL)
    return FERRY_EXIT_DEST;
  fl = json_object_get (srv, "flavor");
  vcpus = json_integer_value (json_object_get (fl, "vcpus"));
  ram = json_integer_value (json_object_get (fl, "ram"));
  /* Migrations it can hold at once: 1 vCPU and 2 GiB each. */
  cap = vcpus < ram / 2048 ? vcpus : ram / 2048;
  *result = json_pack ("{s:s, s:b, s:O, s:O, s:O, s:O?, s:O, s:O?, s:O?, s:{s:I, s:I}, s:I}",
                       "name", name,
                       "deployed_by_ferry", r == 0,
                       "id", json_object_get (srv, "id"),
                       "server_name", json_object_get (srv, "name"),
                       "status", json_object_get (srv, "status"),
                       "flavor", fl,
                       "addresses", json_object_get (srv, "addresses"),
                       "key_name", json_object_get (srv, "key_name"),
                       "security_groups", json_object_get (srv, "security_groups"),
                       "volumes", "attached", (json_int_t) json_array_size (att),
                       "limit", (json_int_t) limit,
                       "parallel_capacity", (json_int_t) cap);
  return 0;
}

/* ---- delete ---- */

/* The flavor ferry made for name, unless another of ferry's conversion
 * hosts still runs on it. */
static int
delete_flavor (struct os_client *os, const char *name, json_t *deleted)
{
  CLEANUP_JSON json_t *flavors = os_flavor_list (os);
  CLEANUP_JSON json_t *servers = NULL;
  size_t i, j;
  json_t *f, *s;
  int rc = 0;

  if (flavors == NULL)
    return -1;
  json_array_foreach (flavors, i, f) {
    const char *fname = json_string_value (json_object_get (f, "name"));
    bool used = false;
    if (!has_mark (f, name))
      continue;
    if (servers == NULL) {
      CLEANUP_FREE char *q = os_url_escape ("^" CONVERSION_HOST_PREFIX);
      CLEANUP_FREE char *qq = xasprintf ("name=%s", q);
      if ((servers = os_server_list (os, qq)) == NULL)
        return -1;
    }
    json_array_foreach (servers, j, s)
      if (!strcmp (json_string_value (json_object_get (json_object_get (s, "flavor"),
                                                       "original_name")) ?: "", fname ?: ""))
        used = true;
    if (used) {
      log_warn ("conversion host %s: flavor %s is still used by another conversion host: kept",
                name, fname);
      continue;
    }
    if (os_flavor_delete (os, json_string_value (json_object_get (f, "id"))) == -1)
      rc = -1;
    else
      json_array_append_new (json_object_get (deleted, "flavors"), json_string (fname));
  }
  return rc;
}

int
conversion_host_delete (const struct config *cfg, struct os_client *os,
                        const struct conversion_host_opts *o, json_t **result)
{
  const char *name = host_name_of (cfg, o);
  CLEANUP_FREE char *sname = server_name (name);
  CLEANUP_JSON json_t *srv = NULL;
  CLEANUP_JSON json_t *fips = NULL;
  CLEANUP_JSON json_t *sgs = NULL;
  CLEANUP_FREE char *q = xasprintf ("project_id=%s", os_project_id (os));
  CLEANUP_JSON json_t *deleted = json_pack ("{s:n, s:[], s:[], s:[]}", "server",
                                            "floating_ips", "security_groups", "flavors");
  size_t i;
  json_t *e;
  int r, rc = 0;

  *result = NULL;
  r = find_server (os, name, &srv);
  if (r == -1)
    return FERRY_EXIT_DEST;
  /* Floating IPs first: they point at the server's port. */
  fips = os_neutron_list (os, "floatingips", q);
  if (fips == NULL)
    return FERRY_EXIT_DEST;
  json_array_foreach (fips, i, e)
    if (has_mark (e, name)) {
      if (os_neutron_delete (os, "floatingips", json_string_value (json_object_get (e, "id"))))
        rc = FERRY_EXIT_DEST;
      else
        json_array_append (json_object_get (deleted, "floating_ips"),
                           json_object_get (e, "floating_ip_address"));
    }
  if (srv) {
    const char *sid = json_string_value (json_object_get (srv, "id"));
    if (os_server_delete (os, sid) == -1 || os_server_wait_gone (os, sid, SERVER_TIMEOUT_S) == -1)
      return FERRY_EXIT_DEST;
    json_object_set_new (deleted, "server", json_pack ("{s:s, s:s}", "id", sid, "name", sname));
    log_info ("conversion host %s: deleted server %s", name, sid);
  }
  /* The security group, once the server's port is gone (Neutron refuses
   * to delete a group in use: retry for a while). */
  sgs = find_security_groups (os, sname);
  if (sgs == NULL)
    return FERRY_EXIT_DEST;
  json_array_foreach (sgs, i, e) {
    const char *id = json_string_value (json_object_get (e, "id"));
    int tries = 0;
    if (!has_mark (e, name))
      continue;
    while (os_neutron_delete (os, "security-groups", id) == -1) {
      if (++tries >= 15) {
        rc = FERRY_EXIT_DEST;
        break;
      }
      sleep_ms (2000);
    }
    if (tries < 15)
      json_array_append (json_object_get (deleted, "security_groups"), json_object_get (e, "name"));
  }
  if (delete_flavor (os, name, deleted) == -1)
    rc = FERRY_EXIT_DEST;
  (void) cfg;
  *result = TAKE_PTR (deleted);
  return rc;
}

/* ---- the migrate hook ---- */

int
conversion_host_auto (const struct config *cfg, struct os_client *os)
{
  const json_t *v = config_get (cfg, "already_deploy_conversion_host");
  CLEANUP_JSON json_t *rep = NULL;
  int rc;

  if (!json_is_false (v))
    return 0;
  log_info ("already_deploy_conversion_host is false: deploying (or reusing) the conversion "
            "host first");
  rc = conversion_host_deploy (cfg, os, NULL, &rep);
  if (rc == 0)
    log_info ("conversion host %s: server %s %s at %s; ferry migrates from the machine it "
              "runs on: run it there for volumes to attach to it",
              json_string_value (json_object_get (rep, "name")),
              json_string_value (json_object_get (json_object_get (rep, "server"), "id")),
              json_is_true (json_object_get (rep, "reused")) ? "reused" : "deployed",
              json_string_value (json_object_get (rep, "address")) ?: "(no address)");
  return rc;
}
