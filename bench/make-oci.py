#!/usr/bin/env python3
"""Writes an OCI image layout directory from layer tars, for bench/pull.sh.

Usage: make-oci.py OUT_DIR LAYER.tar [LAYER.tar ...]
Each layer is gzip-compressed (level 6, as Docker and skopeo do); the config lists their
DiffIDs; index.json names the manifest with an org.opencontainers.image.ref.name annotation.
"""
import gzip
import hashlib
import json
import os
import sys


def put_blob(out, data):
    d = hashlib.sha256(data).hexdigest()
    path = os.path.join(out, "blobs", "sha256", d)
    with open(path, "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)


def main():
    out, tars = sys.argv[1], sys.argv[2:]
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    layers, diff_ids = [], []
    for t in tars:
        raw = open(t, "rb").read()
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        digest, size = put_blob(out, gzip.compress(raw, compresslevel=6, mtime=0))
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size})
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2026-12-07T00:00:00Z",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2026-12-07T00:00:00Z", "created_by": "bench/make-oci.py"} for _ in tars],
    }, separators=(",", ":")).encode()
    cdigest, csize = put_blob(out, config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdigest, "size": csize},
        "layers": layers,
    }, separators=(",", ":")).encode()
    mdigest, msize = put_blob(out, manifest)
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdigest, "size": msize,
            "annotations": {"org.opencontainers.image.ref.name": "1"}}]}, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')


if __name__ == "__main__":
    main()
