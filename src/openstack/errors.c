/* ferry: reading OpenStack error answers: the message, quota refusals,
 * transient conflicts, advice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <regex.h>

#include "openstack/internal.h"
#include "common/cleanup.h"
#include "common/util.h"

const char *
os_service_label (const char *service)
{
  if (service == NULL) return "OpenStack";
  if (strcmp (service, OS_IDENTITY) == 0) return "Keystone";
  if (strcmp (service, OS_COMPUTE) == 0) return "Nova";
  if (strcmp (service, OS_VOLUME) == 0) return "Cinder";
  if (strcmp (service, OS_NETWORK) == 0) return "Neutron";
  if (strcmp (service, OS_IMAGE) == 0) return "Glance";
  return service;
}

/* Text of an HTML or plain answer: tags dropped, blanks collapsed. */
static char *
plain_text (const char *body)
{
  size_t n = strlen (body);
  char *out = malloc (n + 1), *o = out;
  bool in_tag = false, space = true;

  if (out == NULL)
    return NULL;
  for (const char *p = body; *p; p++) {
    if (*p == '<') { in_tag = true; continue; }
    if (in_tag) { if (*p == '>') in_tag = false; continue; }
    if (isspace ((unsigned char) *p)) {
      if (!space) *o++ = ' ';
      space = true;
      continue;
    }
    *o++ = *p;
    space = false;
  }
  while (o > out && o[-1] == ' ')
    o--;
  *o = '\0';
  if (o - out > 600)
    strcpy (out + 597, "...");
  return out;
}

static const char *
member_message (const json_t *o)
{
  const char *m = json_string_value (json_object_get (o, "message"));
  if (m == NULL)
    m = json_string_value (json_object_get (o, "detail"));
  return m;
}

char *
os_error_text (const char *body)
{
  CLEANUP_JSON json_t *j = NULL;
  const char *k;
  json_t *v;

  if (body == NULL || *body == '\0')
    return strdup ("(no message)");
  j = json_loads (body, JSON_DECODE_ANY, NULL);
  if (json_is_object (j)) {
    const char *m;
    json_t *ne = json_object_get (j, "NeutronError");
    if (json_is_object (ne)) {           /* Neutron: {NeutronError: {type, message}} */
      const char *t = json_string_value (json_object_get (ne, "type"));
      m = member_message (ne);
      if (t && m)
        return xasprintf ("%s: %s", t, m);
    }
    if ((m = member_message (j)))      /* Glance, Placement */
      return strdup (m);
    json_object_foreach (j, k, v) {
      /* Keystone {error: {message}}, Nova/Cinder {badRequest: {message}},
       * {errors: [{detail}]} */
      if (json_is_array (v))
        v = json_array_get (v, 0);
      if (json_is_object (v) && (m = member_message (v))) {
        if (strcmp (k, "error") && strcmp (k, "errors"))
          return xasprintf ("%s: %s", k, m);
        return strdup (m);
      }
    }
  }
  if (json_is_string (j))
    return strdup (json_string_value (j));
  {
    char *t = plain_text (body);
    if (t && *t == '\0') {
      free (t);
      t = strdup ("(no message)");
    }
    return t;
  }
}

/* The first capture of pattern in s, or NULL. */
static char *
capture (const char *s, const char *pattern)
{
  regex_t re;
  regmatch_t m[2];
  char *out = NULL;

  if (regcomp (&re, pattern, REG_EXTENDED | REG_ICASE) != 0)
    return NULL;
  if (regexec (&re, s, 2, m, 0) == 0 && m[1].rm_so >= 0)
    out = strndup (s + m[1].rm_so, m[1].rm_eo - m[1].rm_so);
  regfree (&re);
  return out;
}

char *
os_quota_explain (long status, const char *message)
{
  CLEANUP_FREE char *res = NULL;
  CLEANUP_FREE char *asked = NULL;
  CLEANUP_FREE char *limit = NULL;
  CLEANUP_FREE char *used = NULL;
  CLEANUP_FREE char *parts = NULL;

  if (message == NULL)
    return NULL;
  if (status != 413 && strcasestr (message, "quota") == NULL)
    return NULL;
  if (status != 413 && status != 403 && status != 409 && status != 400)
    return NULL;
  /* A refusal for being over a quota, not e.g. an invalid quota setting. */
  if (status != 413 && !strcasestr (message, "exceed") && !strcasestr (message, "overquota")
      && !strcasestr (message, "over quota"))
    return NULL;

  /* Nova: "Quota exceeded for cores: Requested 4, but already used 0 of 1 cores"
   * Cinder: "Requested volume or snapshot exceeds allowed gigabytes quota.
   *   Requested 10G, quota is 1G and 0G has been consumed."
   * Cinder: "Maximum number of volumes allowed (1) exceeded for quota 'volumes'."
   * Neutron: "OverQuota: Quota exceeded for resources: ['port']." */
  res = capture (message, "quota exceeded for resources: \\[?'?([A-Za-z_-]+)");
  if (!res) res = capture (message, "quota exceeded for ([A-Za-z_-]+)");
  if (!res) res = capture (message, "for quota '([A-Za-z_-]+)'");
  if (!res) res = capture (message, "allowed ([A-Za-z_-]+) quota");
  if (!res) res = capture (message, "([A-Za-z_-]+) quota exceeded");
  asked = capture (message, "requested ([0-9]+[A-Za-z]*)");
  limit = capture (message, "quota is ([0-9]+[A-Za-z]*)");
  if (!limit) limit = capture (message, "already used [0-9]+[A-Za-z]* of ([0-9]+[A-Za-z]*)");
  if (!limit) limit = capture (message, "allowed \\(([0-9]+)\\)");
  used = capture (message, "already used ([0-9]+[A-Za-z]*)");
  if (!used) used = capture (message, "([0-9]+[A-Za-z]*) has been consumed");

  parts = xasprintf ("%s%s%s%s%s%s%s",
                     asked ? "asked " : "", asked ? asked : "",
                     limit ? (asked ? ", quota " : "quota ") : "", limit ? limit : "",
                     used ? (asked || limit ? ", in use " : "in use ") : "", used ? used : "",
                     "");
  return xasprintf ("over quota%s%s%s%s%s: ask the cloud administrator to raise the "
                    "project's %s quota (openstack quota set --%s N PROJECT), or free "
                    "some of it",
                    res ? " for " : "", res ? res : "",
                    parts && *parts ? " (" : "", parts ? parts : "",
                    parts && *parts ? ")" : "",
                    res ? res : "", res ? res : "RESOURCE");
}

int
os_conflict_is_transient (const char *message)
{
  static const char *const words[] = {
    "task_state", "task state", "vm_state", "is locked", "try again", "retry",
    "concurrent", "in progress", "currently", "busy", "pending", "transition", NULL
  };

  if (message == NULL || strcasestr (message, "quota"))
    return 0;
  for (size_t i = 0; words[i]; i++)
    if (strcasestr (message, words[i]))
      return 1;
  return 0;
}

const char *
os_status_advice (long status)
{
  switch (status) {
  case 400: return "the request was refused as invalid: check the values the message names";
  case 401: return "check the credentials (user, password or application credential, "
      "domains, project) and that the token was not revoked";
  case 403: return "the user lacks the role or policy for this: ask the cloud administrator";
  case 404: return "check that it exists in this project and region (names and ids are "
      "case-sensitive)";
  case 409: return "it conflicts with the current state of the resource (or a name, MAC "
      "or address already in use)";
  case 413: return "a limit was exceeded";
  default:
    if (status >= 500)
      return "the service failed: see its logs on the cloud side, then retry";
    return "see the message";
  }
}
