#!/usr/bin/python3
"""Attach emulator of the ferry lab: plays the conversion host's hypervisor.

Nova's fake virt driver attaches volumes only in its database. This daemon
watches Cinder's attachments (through the lab's MariaDB socket) and, for
every volume attached to the server `ferry-conversion-host`, exposes the
volume file as a loop device linked at
/dev/disk/by-id/virtio-<first 20 characters of the volume id>, as a KVM host
with virtio-blk would show it inside the guest. When the attachment goes away
the link is removed and, once nothing holds the device open any more, the
loop device is detached. The loop device writes through to the volume file,
so no written data is lost.

Usage: attachd.py --socket SOCK --volumes DIR --state FILE [--server NAME]
SIGTERM leaves devices in place (os-lab down cleans up; a restarted daemon
adopts them).
"""
import argparse
import json
import os
import signal
import stat
import subprocess
import sys
import time

import pymysql

BYID = "/dev/disk/by-id"
POLL = 0.5          # seconds between polls
OPEN_GRACE = 300    # seconds to wait for a still-open device before lazy detach


def log(msg):
    print(f"{time.strftime('%F %T')} attachd: {msg}", flush=True)


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True,
                          text=True).stdout.strip()


def link_path(vid):
    return os.path.join(BYID, "virtio-" + vid[:20])


def loops_over(volumes):
    """{volume id: loop device} for loop devices backed by a volume file."""
    out = {}
    try:
        lines = run("losetup", "-n", "-l", "-O", "NAME,BACK-FILE").splitlines()
    except subprocess.CalledProcessError:
        return out
    for line in lines:
        parts = line.split(None, 1)
        if len(parts) != 2:
            continue
        dev, back = parts
        back = back.strip()
        if back.endswith(" (deleted)"):
            back = back[: -len(" (deleted)")]
        name = os.path.basename(back)
        if name.startswith("volume-") and os.path.realpath(
                os.path.dirname(back)) == os.path.realpath(volumes):
            out.setdefault(name[len("volume-"):], dev)
    return out


def is_open(dev):
    """True if some process holds DEV open (scan /proc/*/fd)."""
    try:
        rdev = os.stat(dev).st_rdev
    except FileNotFoundError:
        return False
    me = str(os.getpid())
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or pid == me:
            continue
        fddir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fddir)
        except OSError:
            continue
        for fd in fds:
            try:
                st = os.stat(os.path.join(fddir, fd))
            except OSError:
                continue
            if stat.S_ISBLK(st.st_mode) and st.st_rdev == rdev:
                return True
    return False


class Emulator:
    def __init__(self, args):
        self.sock = args.socket
        self.volumes = args.volumes
        self.state_file = args.state
        self.server = args.server
        self.db = None
        self.attached = {}       # volume id -> loop device
        self.detaching = {}      # volume id -> (device, since)

    def connect(self):
        if self.db is None:
            self.db = pymysql.connect(unix_socket=self.sock, user="root",
                                      autocommit=True, connect_timeout=5)
        return self.db

    def query(self, sql, args=()):
        try:
            with self.connect().cursor() as c:
                c.execute(sql, args)
                return c.fetchall()
        except pymysql.Error:
            self.db = None
            raise

    def wanted(self):
        rows = self.query(
            "SELECT uuid FROM nova.instances WHERE display_name=%s AND deleted=0",
            (self.server,))
        uuids = [r[0] for r in rows]
        if not uuids:
            return set()
        marks = ",".join(["%s"] * len(uuids))
        rows = self.query(
            "SELECT volume_id FROM cinder.volume_attachment WHERE deleted=0 "
            f"AND attach_status='attached' AND instance_uuid IN ({marks})",
            uuids)
        return {r[0] for r in rows}

    def save(self):
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as fh:
            json.dump({"attached": self.attached,
                       "detaching": {v: d for v, (d, _) in self.detaching.items()},
                       "server": self.server, "pid": os.getpid()}, fh)
        os.replace(tmp, self.state_file)

    def link(self, vid, dev):
        os.makedirs(BYID, exist_ok=True)
        link = link_path(vid)
        tmp = link + ".ferry-lab-tmp"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.path.relpath(dev, BYID), tmp)
        os.replace(tmp, link)

    def unlink(self, vid, dev):
        link = link_path(vid)
        try:
            if os.path.realpath(link) == os.path.realpath(dev):
                os.unlink(link)
        except FileNotFoundError:
            pass

    def attach(self, vid):
        f = os.path.join(self.volumes, "volume-" + vid)
        if not os.path.exists(f):
            log(f"volume {vid}: no file {f} yet")
            return
        dev = loops_over(self.volumes).get(vid)
        if dev is None:
            try:
                dev = run("losetup", "--find", "--show", "--direct-io=on", f)
            except subprocess.CalledProcessError:
                dev = run("losetup", "--find", "--show", f)
        self.link(vid, dev)
        self.attached[vid] = dev
        log(f"attached volume {vid} as {dev} at {link_path(vid)}")

    def detach_step(self, vid):
        dev, since = self.detaching[vid]
        self.unlink(vid, dev)
        if is_open(dev) and time.time() - since < OPEN_GRACE:
            return  # try again later; the guest still uses the disk
        try:
            subprocess.run(["blockdev", "--flushbufs", dev], capture_output=True)
            back = run("losetup", "-n", "-O", "BACK-FILE", dev)
            if os.path.basename(back.replace(" (deleted)", "")) == "volume-" + vid:
                run("losetup", "-d", dev)
        except subprocess.CalledProcessError as e:
            log(f"volume {vid}: detaching {dev}: {e.stderr.strip()}")
        del self.detaching[vid]
        log(f"detached volume {vid} ({dev})")

    def adopt(self):
        """Take over loop devices left by an earlier run."""
        for vid, dev in loops_over(self.volumes).items():
            self.attached[vid] = dev
            log(f"adopted {dev} for volume {vid}")

    def step(self):
        want = self.wanted()
        changed = False
        for vid in sorted(want - set(self.attached)):
            self.detaching.pop(vid, None)
            self.attach(vid)
            changed = True
        for vid in sorted(set(self.attached) - want):
            self.detaching[vid] = (self.attached.pop(vid), time.time())
            changed = True
        for vid, dev in list(self.attached.items()):
            # the link may have been removed by someone: put it back
            if os.path.realpath(link_path(vid)) != os.path.realpath(dev):
                self.link(vid, dev)
        for vid in list(self.detaching):
            self.detach_step(vid)
            changed = changed or vid not in self.detaching
        if changed:
            self.save()

    def run(self):
        self.adopt()
        self.save()
        log(f"watching attachments of {self.server}")
        while True:
            try:
                self.step()
            except pymysql.Error as e:
                log(f"database: {e}")
                time.sleep(2)
            except Exception as e:  # keep playing the hypervisor
                log(f"error: {e!r}")
            time.sleep(POLL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--volumes", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--server", default="ferry-conversion-host")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Emulator(args).run()


if __name__ == "__main__":
    main()
