# ferry lab: Cinder's NFS driver with snapshots a conversion host can use.
#
# The NFS driver keeps volumes as plain sparse raw files (what the lab's
# attach emulation exposes as loop devices), but its snapshots turn the
# volume into a qcow2 chain and, for an attached volume, ask Nova's
# hypervisor to switch files -- which the fake virt driver cannot do.  On a
# real cloud (Ceph, LVM, most arrays) snapshots of attached volumes work, and
# ferry relies on them before converting a guest.  This driver gives the lab
# the same behaviour with full sparse copies:
#
#   snapshot  = cp --sparse=always volume-<id> snapshot-<snapshot id>
#   revert    = copy the snapshot file back over the (detached) volume
#   delete    = remove the snapshot file
#   volume from snapshot = a sparse copy of the snapshot file
#
# Everything else (create, delete, attach, extend, copy to image) is the
# upstream NFS driver's.
import os
import subprocess

from oslo_log import log as logging

from cinder.volume.drivers import nfs

LOG = logging.getLogger(__name__)


def _copy(src, dst):
    tmp = dst + ".tmp"
    subprocess.run(["cp", "--sparse=always", "--", src, tmp], check=True)
    os.rename(tmp, dst)


class LabNfsDriver(nfs.NfsDriver):
    """NFS volumes, full-copy snapshots (attached or not)."""

    def _snapshot_path(self, snapshot):
        return os.path.join(os.path.dirname(self.local_path(snapshot.volume)),
                            "snapshot-" + snapshot.id)

    def create_snapshot(self, snapshot):
        src = self.local_path(snapshot.volume)
        LOG.info("ferry lab: snapshot %s of %s (full sparse copy)", snapshot.id, src)
        _copy(src, self._snapshot_path(snapshot))

    def delete_snapshot(self, snapshot):
        try:
            os.unlink(self._snapshot_path(snapshot))
        except FileNotFoundError:
            pass

    def snapshot_revert_use_temp_snapshot(self):
        return False

    def revert_to_snapshot(self, context, volume, snapshot):
        dst = self.local_path(volume)
        LOG.info("ferry lab: revert %s to snapshot %s", dst, snapshot.id)
        _copy(self._snapshot_path(snapshot), dst)

    def create_volume_from_snapshot(self, volume, snapshot):
        self._ensure_shares_mounted()
        volume.provider_location = snapshot.volume.provider_location
        _copy(self._snapshot_path(snapshot), self.local_path(volume))
        size = volume.size * (1 << 30)
        if os.path.getsize(self.local_path(volume)) < size:
            os.truncate(self.local_path(volume), size)
        return {"provider_location": volume.provider_location}
