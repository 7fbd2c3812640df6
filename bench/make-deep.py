#!/usr/bin/env python3
"""Writes a docker-save archive of a busybox image with N layers (layer 1: /bin/busybox and
links; each further layer one small file), for the layer-count benchmarks.
usage: make-deep.py OUT.tar N"""
import hashlib, io, json, os, sys, tarfile

out, n = sys.argv[1], int(sys.argv[2])

def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            elif kind == "link":
                ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, data, 0o777
                t.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o755
                t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()

busybox = open("/bin/busybox", "rb").read()
base = [("bin", "dir", None), ("bin/busybox", "file", busybox), ("etc", "dir", None), ("tmp", "dir", None),
        ("proc", "dir", None), ("dev", "dir", None), ("sys", "dir", None)]
base += [("bin/" + a, "link", "busybox") for a in ("sh", "true", "echo", "cat", "ls")]
layers = [tar_bytes(base)] + [tar_bytes([("etc", "dir", None), ("etc/layer-%d" % i, "file", b"%d\n" % i)]) for i in range(1, n)]
diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
config = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                     "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids},
                     "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "layer %d" % i} for i in range(n)]}).encode()
cid = hashlib.sha256(config).hexdigest()
with tarfile.open(out, "w") as t:
    def add(name, data):
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1700000000
        t.addfile(ti, io.BytesIO(data))
    paths = []
    for d, l in zip(diff_ids, layers):
        add(d[7:] + "/layer.tar", l); paths.append(d[7:] + "/layer.tar")
    add(cid + ".json", config)
    add("manifest.json", json.dumps([{"Config": cid + ".json", "RepoTags": ["bench/deep:%d" % n], "Layers": paths}]).encode())
