/* ferry: where the OpenStack credentials come from.
 *
 * As the openstack client and openstacksdk do:
 *  1. dst_cloud as a mapping (os-migrate's secrets.yml): used as given;
 *     missing auth fields are taken from OS_* variables.
 *  2. dst_cloud as a string, else os_cloud_environ, else OS_CLOUD: the
 *     cloud of that name in clouds.yaml (OS_CLIENT_CONFIG_FILE,
 *     ./clouds.yaml, $XDG_CONFIG_HOME/openstack/clouds.yaml or
 *     ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml), merged
 *     with the same cloud in secure.yaml.
 *  3. Otherwise OS_* environment variables (OS_AUTH_URL, OS_USERNAME, ...).
 * The result is normalised: {cloud, source, auth_type, auth{...},
 * region_name, interface, identity_api_version, insecure, cacert}. */
#ifndef FERRY_CLOUDS_H
#define FERRY_CLOUDS_H

#include <jansson.h>
#include "config/config.h"

/* NULL with *err == NULL: no destination configured at all.
 * NULL with *err set: an error (malloc'd message). */
json_t *clouds_resolve (const struct config *cfg, char **err);

/* Find clouds.yaml as openstacksdk does; returns a malloc'd path or NULL. */
char *clouds_find_file (const char *basename);

#endif
