/* ferry: the reference kit's args.json (its Go `migrate` module's
 * arguments, used to run a migration outside Ansible), read as ferry
 * configuration.  See config.h and docs/ansible.md for the key table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include "config/config.h"
#include "config/yaml.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/redact.h"
#include "common/util.h"

enum how {
  MAP,            /* same value, ferry's key */
  VDDKPATH,       /* "/DC/vm/..." -> vcenter_datacenter */
  IGNORED,        /* accepted, no effect in ferry (said once, at info level) */
  UNSUPPORTED,    /* refused when set to a true/non-empty value */
};

static const struct {
  const char *arg;        /* the Go module's argument (matched ignoring case) */
  enum how how;
  const char *key;        /* ferry's key (MAP), or why (IGNORED, UNSUPPORTED) */
} args_keys[] = {
  { "user", MAP, "vcenter_username" },
  { "password", MAP, "vcenter_password" },
  { "server", MAP, "vcenter_hostname" },
  { "vmname", MAP, "vms_list" },
  { "dst_cloud", MAP, "dst_cloud" },
  { "osmdatadir", MAP, "os_migrate_vmw_data_dir" },
  { "libdir", MAP, "libdir" },
  { "instanceuuid", MAP, "instance_uuid" },
  { "bootscript", MAP, "boot_script_path" },
  { "extraopts", MAP, "extra_opts" },
  { "volumeaz", MAP, "cinder_az" },
  { "volumetype", MAP, "cinder_volume_type" },
  { "volume_type_mapping", MAP, "volume_type_mapping" },
  { "assumezero", MAP, "destination_assume_zeroed" },
  { "cbtsync", MAP, "cbt_sync" },
  { "cutover", MAP, "cutover" },
  { "skipconversion", MAP, "skip_conversion" },
  { "usesocks", MAP, "use_socks" },
  { "debug", MAP, "debug" },
  { "vmware_insecure", MAP, "vmware_insecure" },
  { "localdiskpath", MAP, "local_disk_path" },
  { "multidiskfs", MAP, "multidiskfs" },
  { "vddkpath", VDDKPATH, "vcenter_datacenter" },
  { "compression", IGNORED, "ferry reads disks over a local NBD socket, uncompressed" },
  { "convhostname", IGNORED, "ferry finds the conversion host from the metadata service "
                              "or instanceuuid" },
  { "runscript", UNSUPPORTED, "virt-v2v-in-place --run is not offered; use bootscript "
                              "(a first-boot script) instead" },
  { "externalvolume", UNSUPPORTED, "Cinder manage of existing backend volumes is not "
                                   "offered; migrate the disk instead" },
  { "volumename", UNSUPPORTED, "only used with externalvolume" },
  { "hostpool", UNSUPPORTED, "only used with externalvolume" },
};
#define N_ARGS_KEYS (sizeof args_keys / sizeof args_keys[0])

static bool
is_set (const json_t *v)
{
  if (json_is_string (v))
    return json_string_length (v) > 0;
  return !json_is_null (v) && !json_is_false (v);
}

/* "/DC0/vm/" or "/DC0/vm/folder/" -> "DC0"; the ESXi default
 * "/ha-datacenter/vm/" says nothing ferry needs. */
static json_t *
datacenter_of (const char *path)
{
  const char *p = path, *e;

  while (*p == '/')
    p++;
  e = strchr (p, '/');
  if (e == NULL)
    e = p + strlen (p);
  if (e == p || ((size_t) (e - p) == strlen ("ha-datacenter")
                  && strncmp (p, "ha-datacenter", e - p) == 0))
    return NULL;
  return json_stringn (p, e - p);
}

int
config_add_args_json (struct config *cfg, const json_t *args, const char *origin)
{
  CLEANUP_JSON json_t *vars = json_object ();
  const char *names[N_ARGS_KEYS];
  const char *key;
  json_t *v;
  int r = 0;

  if (!json_is_object (args)) {
    log_error ("%s: expected a JSON object of the migrate module's arguments (user, "
               "password, server, vmname, ...)", origin);
    cfg->errors++;
    return -1;
  }
  for (size_t i = 0; i < N_ARGS_KEYS; i++)
    names[i] = args_keys[i].arg;
  redact_add_secrets_from_json (args);
  /* The reference's migrate module makes the volumes only; its roles make
   * the ports and the instance.  Same here, unless asked (-e or the file). */
  json_object_set_new (vars, "os_migrate_create_network_port", json_false ());
  json_object_set_new (vars, "os_migrate_create_os_instance", json_false ());

  json_object_foreach ((json_t *) args, key, v) {
    size_t i;
    for (i = 0; i < N_ARGS_KEYS; i++)
      if (strcasecmp (key, args_keys[i].arg) == 0)
        break;
    if (i == N_ARGS_KEYS) {
      /* ferry's own variable names are welcome in the same file. */
      if (config_lookup_key (key)) {
        json_object_set (vars, key, v);
        continue;
      }
      const char *near = closest_word (key, names, N_ARGS_KEYS);
      if (near)
        log_warn ("%s: unknown key '%s' (did you mean '%s'?); it is ignored", origin, key, near);
      else
        log_warn ("%s: unknown key '%s'; it is ignored", origin, key);
      continue;
    }
    switch (args_keys[i].how) {
    case MAP:
      json_object_set (vars, args_keys[i].key, v);
      break;
    case VDDKPATH:
      if (json_is_string (v)) {
        json_t *dc = datacenter_of (json_string_value (v));
        if (dc)
          json_object_set_new (vars, "vcenter_datacenter", dc);
      }
      break;
    case IGNORED:
      if (is_set (v))
        log_info ("%s: '%s' has no effect: %s", origin, key, args_keys[i].key);
      break;
    case UNSUPPORTED:
      if (is_set (v)) {
        log_error ("%s: '%s' is not supported by ferry: %s", origin, key, args_keys[i].key);
        cfg->errors++;
        r = -1;
      }
      break;
    }
  }
  if (config_add_json (cfg, vars, origin) == -1)
    r = -1;
  return r;
}

int
config_add_args_file (struct config *cfg, const char *path)
{
  CLEANUP_FREE char *err = NULL;
  CLEANUP_JSON json_t *j = yaml_parse_file (path, &err);

  if (j == NULL) {
    log_error ("%s", err ? err : "cannot read the args file");
    cfg->errors++;
    return -1;
  }
  return config_add_args_json (cfg, j, path);
}
