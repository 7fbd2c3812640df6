#!/usr/bin/env python3
"""Writes the base image of the differential build tests as a root file-system tar: the same
layout as the root tests' busybox image (tests/support/testutil.cpp, busybox_rootfs()): the
host's static /bin/busybox with its applets as symlinks, /etc/passwd and /etc/group (root,
app:1000, wheel:10 with app), /tmp (1777), /root (0700), /home/app (1000:1000).

Usage: base_rootfs.py OUT.tar   (imported as t/bbdiff by `docker import` and `minirun import`)
"""
import io
import sys
import tarfile

MTIME = 1700000000
APPLETS = ["sh", "echo", "cat", "ls", "id", "hostname", "touch", "mknod", "chroot", "mount", "grep", "ip",
           "ifconfig", "pwd", "sleep", "head", "dd", "wc", "true", "vi", "rm", "mkdir", "chmod", "mv"]


def main():
    with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
        def add(name, kind, mode, data=b"", link="", uid=0, gid=0):
            i = tarfile.TarInfo(name)
            i.type, i.mode, i.uid, i.gid, i.mtime, i.linkname = kind, mode, uid, gid, MTIME, link
            i.size = len(data) if kind == tarfile.REGTYPE else 0
            t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
        add("bin", tarfile.DIRTYPE, 0o755)
        add("etc", tarfile.DIRTYPE, 0o755)
        add("tmp", tarfile.DIRTYPE, 0o1777)
        add("root", tarfile.DIRTYPE, 0o700)
        add("home", tarfile.DIRTYPE, 0o755)
        add("home/app", tarfile.DIRTYPE, 0o755, uid=1000, gid=1000)
        with open("/bin/busybox", "rb") as f:
            add("bin/busybox", tarfile.REGTYPE, 0o755, f.read())
        for a in APPLETS:
            add("bin/" + a, tarfile.SYMTYPE, 0o777, link="busybox")
        add("etc/passwd", tarfile.REGTYPE, 0o644, b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n")
        add("etc/group", tarfile.REGTYPE, 0o644, b"root:x:0:\napp:x:1000:\nwheel:x:10:app\n")


if __name__ == "__main__":
    main()
