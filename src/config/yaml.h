/* ferry: YAML (and JSON) into the one data model, jansson's json_t.
 *
 * The configuration is read from YAML files (an os-migrate user's
 * vars.yaml, secrets.yml), JSON files and `-e key=value` scalars; all of
 * them become json_t trees so that the rest of ferry sees one model.
 * Scalars are resolved as PyYAML (and so Ansible) resolves them: plain
 * `true`/`yes`/`on` are booleans, `10` an integer, `~` null; quoted
 * scalars are always strings. */
#ifndef FERRY_YAML_H
#define FERRY_YAML_H

#include <stddef.h>
#include <stdbool.h>
#include <jansson.h>

/* Parse YAML text.  name is used in error messages (a file path).
 * Returns a new reference, or NULL with *err set to a malloc'd message
 * "NAME:LINE:COLUMN: what" (1-based line and column).
 * An empty document gives an empty object. */
json_t *yaml_parse_string (const char *text, size_t len, const char *name, char **err);

/* Read and parse a file (YAML, or JSON by content). */
json_t *yaml_parse_file (const char *path, char **err);

/* Resolve one plain (unquoted) scalar as YAML 1.1 would. */
json_t *yaml_resolve_plain (const char *value, size_t len);

/* Emit j as a YAML document.  Returns a malloc'd string or NULL. */
char *yaml_dump (const json_t *j);

#endif
