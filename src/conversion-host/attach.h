/* ferry: volumes on the conversion host.  Attach through Nova
 * (os-volume_attachments of the conversion host's server), wait for Cinder's
 * in-use, then for the block device the hypervisor gives the guest:
 * /dev/disk/by-id/virtio-<first 20 characters of the volume id> (virtio-blk;
 * scsi-0QEMU_QEMU_HARDDISK_<id> for virtio-scsi), as udev names it. */
#ifndef FERRY_CONVERSION_HOST_ATTACH_H
#define FERRY_CONVERSION_HOST_ATTACH_H

#include "openstack/resources.h"

/* Find the conversion host: instance_uuid from the configuration, else the
 * metadata service.  malloc'd, or NULL after logging what to set. */
char *conversion_host_id (const char *configured);

/* The device path of an attached volume, waiting up to timeout_s; malloc'd
 * real path (/dev/vdb), or NULL after logging. */
char *attach_wait_device (const char *volume_id, const char *what, int timeout_s);

/* The two halves of attach_volume, so that several volumes can be asked
 * for at once and then waited for: 0 or -1 / the device path or NULL. */
int attach_volume_start (struct os_client *os, const char *server_id, const char *volume_id);
char *attach_volume_finish (struct os_client *os, const char *volume_id, const char *what);
/* The same for detach_volume; finished when the volume is no longer
 * attached to server_id (another server may hold it: an interrupted run's
 * new instance). */
int detach_volume_start (struct os_client *os, const char *server_id, const char *volume_id);
int detach_volume_finish (struct os_client *os, const char *server_id, const char *volume_id,
                          const char *what);

/* Attach (unless attached already) and return the device path, or NULL. */
char *attach_volume (struct os_client *os, const char *server_id, const char *volume_id,
                     const char *what);
/* Detach (if attached), wait until detached and the device is gone.  0 or -1. */
int detach_volume (struct os_client *os, const char *server_id, const char *volume_id,
                   const char *what);

#endif
