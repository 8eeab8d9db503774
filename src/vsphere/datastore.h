/* ferry: datastore file access over HTTPS (/folder/<path>?dcPath=&dsName=),
 * authenticated with the vSphere session cookie. */
#ifndef FERRY_VSPHERE_DATASTORE_H
#define FERRY_VSPHERE_DATASTORE_H

#include "vsphere/vsphere.h"

/* "[LocalDS_0] dir/disk.vmdk" -> https://host/folder/dir/disk.vmdk?dcPath=DC&dsName=LocalDS_0
 * (malloc'd), or NULL if file is not in that form. */
char *vs_datastore_url (const struct vsphere *vs, const char *datacenter, const char *file);

/* GET a (small) datastore file, e.g. a VMDK descriptor.  Returns the body
 * (malloc'd, NUL-terminated) or NULL after logging. */
char *vs_datastore_get (struct vsphere *vs, const char *datacenter, const char *file,
                        size_t max_bytes);

/* "https://host/folder/dir/f.vmdk?dcPath=DC&dsName=DS" -> "[DS] dir/f.vmdk"
 * (malloc'd), or a copy of url if it is not in that form; NULL: no memory. */
char *vs_datastore_path_of_url (const char *url);

/* Datastore reads on other threads (ferry's copy engine reading a disk
 * over HTTPS with the cookie of the session that made the URL) whose
 * session vCenter ended -- an idle timeout, an administrator's
 * TerminateSession, a vCenter restart -- get HTTP 401.
 *
 * vs_datastore_url notes its session as one that can log in again for the
 * readers of that host.  vs_datastore_renew_cookie, for a reader whose
 * cookie value `stale` was refused: if another reader already renewed it,
 * returns that cookie with *fresh false; else logs in once more (a new
 * session made like the noted one, with its own keep-alive, shared by
 * every reader of the host) and returns its cookie with *fresh true.
 * Returns the cookie value (malloc'd), or NULL after logging when no
 * session was noted for the host or the login failed.  Thread-safe:
 * concurrent readers wait for one login. */
char *vs_datastore_renew_cookie (const char *url, const char *stale, bool *fresh);

/* vs is going away (vs_disconnect calls it): it renews nothing any more;
 * the readers' session goes when the last noted session of its host does. */
void vs_datastore_forget (const struct vsphere *vs);

#endif
