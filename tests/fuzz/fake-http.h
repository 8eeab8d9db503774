/* A stand-in for src/common/http.c in the OpenStack fuzz targets: every
 * request is answered from the fuzz input, no network involved, so that
 * ferry's real OpenStack client code (src/openstack/) parses the answers.
 *
 * The input is a list of answers, given in order to the requests made,
 * separated by lines "%%".  An answer's first line is its HTTP status when
 * it is 3 digits (followed by " -" for a Keystone answer without an
 * X-Subject-Token header); the rest is the body.  An answer without a
 * status line is a 200 (a 201 for Keystone) whose body is all of it.
 * When the answers run out, requests get no answer (a network failure).
 *
 * Linked with -Wl,--wrap=sleep_ms: the retries and waits of the client
 * (409 retries, polling) don't sleep. */
#ifndef FERRY_FUZZ_FAKE_HTTP_H
#define FERRY_FUZZ_FAKE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openstack/openstack.h"

/* Answer the next requests from these bytes (copied).  With
 * canned_keystone, Keystone authentications get a fixed valid token
 * (catalog: compute, volumev3, network, image in RegionOne) instead. */
void fake_http_load (const uint8_t *data, size_t size, bool canned_keystone);
/* Requests made since the last load. */
unsigned fake_http_requests (void);
/* Forget the answers and everything the run left behind (registered
 * secrets, plain-http endpoints). */
void fake_http_done (void);

/* os_connect to a password-authenticated cloud in RegionOne (its
 * authentication is the first request).  NULL if it failed. */
struct os_client *fake_os_connect (void);

#endif
