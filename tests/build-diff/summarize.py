#!/usr/bin/env python3
"""Summarises an image for the differential build tests, the same code for Docker's images and
minirun's, so that both sides are compared on equal terms.

  summarize.py prepare CASE_DIR OUT_DIR         copy CASE_DIR/context to OUT_DIR (the build
                                                context), modes made as CASE_DIR/modes says
  summarize.py image ARCHIVE [--builder NAME] [--base-history N]
                                                a `docker save` / `minirun save` archive of one
                                                image -> JSON summary on stdout
  summarize.py compare EXPECTED.json ARCHIVE [KNOWN]
                                                summarise ARCHIVE and compare it with EXPECTED,
                                                field by field; prints the differences, exit 1
                                                when there are any but the lines of the file
                                                KNOWN (a case's known-differences: minirun's
                                                differences from Docker that docs/build.md
                                                lists, each line one difference as printed), or
                                                when a line of KNOWN is no longer seen

The summary holds:
- "config": the image config fields a Dockerfile sets (Env, Cmd, Entrypoint, WorkingDir, User,
  Labels, ExposedPorts, Volumes, StopSignal, Shell, Healthcheck, OnBuild);
- "history": one {"created_by", "empty_layer"} per history entry, created_by normalised (below);
- "root": the root file system the layers make (whiteouts and opaque directories applied, hard
  links followed), one entry per path: type, mode (permission bits with setuid/setgid/sticky),
  uid, gid, and size + sha256 for files, target for symlinks, "links" (the other paths of the
  same inode) for hard-linked files.

Normalisations, each because the two builders legitimately write different text or values:
- Times (file mtimes, "created") and IDs (image, layer and config digests) are never compared:
  they depend on when the image was made.
- History text: minirun writes BuildKit's created_by; Docker here may be the classic builder
  (DOCKER_BUILDKIT=0, see "builder" in expected.json), which writes the same instructions in
  other words. Both are reduced to one form: the classic prefix "/bin/sh -c #(nop) " and
  BuildKit's suffix " # buildkit" are dropped; a classic RUN ("/bin/sh -c cmd", "|1 A=b /bin/sh
  -c cmd") gets BuildKit's "RUN " in front; COPY/ADD keep only the instruction name (the classic
  builder names the sources by a content hash, "COPY file:3a… in /dst", BuildKit by the words
  of the Dockerfile); EXPOSE keeps its ports sorted ("EXPOSE 80 443/udp" and BuildKit's
  "EXPOSE map[80/tcp:{} 443/udp:{}]" both become "EXPOSE 443/udp 80/tcp").
- The base image's own history entries (before the first instruction of the Dockerfile) come
  from `docker import` / `minirun import`, not from the builder: only the count is compared.
- The empty directories /dev, /proc and /sys that only Docker's image has: BuildKit (that of
  Docker 20.10 at least) keeps in a RUN step's layer the mount points runc made for the
  container; minirun's RUN layers hold what the command wrote, not its mount points.
- A config field that is missing and one that is null are the same.
- bin/busybox of the base image is the host's static busybox (base_rootfs.py): its size and
  digest are written as "host-busybox" when they are those of this machine's /bin/busybox, so
  the expected files do not depend on the machine that made them.
"""
import hashlib
import json
import os
import re
import shutil
import sys
import tarfile

CONFIG_FIELDS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels", "ExposedPorts", "Volumes",
                 "StopSignal", "Shell", "Healthcheck", "OnBuild"]

MOUNT_POINTS = ("dev", "proc", "sys")


def host_busybox():
    try:
        with open("/bin/busybox", "rb") as f:
            d = f.read()
        return len(d), hashlib.sha256(d).hexdigest()
    except OSError:
        return None


def norm_created_by(s):
    s = s.strip()
    if s.endswith("# buildkit"):
        s = s[: -len("# buildkit")].rstrip()
    m = re.match(r"^/bin/sh -c #\(nop\)\s+(.*)$", s, re.S)
    if m:
        s = m.group(1).strip()
    elif re.match(r"^(\|\d+ .*)?/bin/sh -c ", s, re.S) or re.match(r"^\|\d+ ", s):
        s = "RUN " + s
    word = s.split(" ", 1)[0]
    if word == "HEALTHCHECK":
        # BuildKit since v0.12 (Docker 25) writes a fourth duration, --start-interval; the
        # BuildKit of Docker 20.10 that made the expected files has three. A zero one is left
        # out so that both forms compare; a set one stays (and differs, as it should).
        s = re.sub(r'^(HEALTHCHECK &\{\[.*\] "[^"]*" "[^"]*" "[^"]*") "0s" (\S+\})$', r"\1 \2", s, flags=re.S)
    if word in ("COPY", "ADD"):
        return word
    if word == "EXPOSE":
        rest = s[len("EXPOSE"):].strip()
        if rest.startswith("map[") and rest.endswith("]"):
            ports = [p.split(":", 1)[0] for p in rest[4:-1].split()]
        else:
            ports = rest.split()
        ports = [p if "/" in p else p + "/tcp" for p in ports]
        return "EXPOSE " + " ".join(sorted(ports))
    return s


class Root:
    """The merged root file system of a list of layer tars."""

    def __init__(self):
        self.entries = {}  # path -> dict(type, mode, uid, gid, inode or target)
        self.inodes = {}   # inode id -> (size, sha256)
        self.next_inode = 0

    def remove(self, path):
        self.entries.pop(path, None)
        prefix = path + "/"
        for p in [p for p in self.entries if p.startswith(prefix)]:
            del self.entries[p]

    def apply(self, tf):
        members = tf.getmembers()
        # Opaque directories first: they hide what the lower layers had there.
        for m in members:
            name = os.path.normpath(m.name).lstrip("./") if m.name not in (".", "./") else ""
            if os.path.basename(name) == ".wh..wh..opq":
                d = os.path.dirname(name)
                prefix = d + "/" if d else ""
                for p in [p for p in self.entries if p.startswith(prefix) and p != d]:
                    del self.entries[p]
        for m in members:
            name = os.path.normpath(m.name)
            if name in (".", "/"):
                continue
            name = name.lstrip("/")
            if name.startswith("./"):
                name = name[2:]
            base = os.path.basename(name)
            if base == ".wh..wh..opq":
                continue
            if base.startswith(".wh."):
                self.remove(os.path.join(os.path.dirname(name), base[4:]))
                continue
            e = {"mode": "%04o" % (m.mode & 0o7777), "uid": m.uid, "gid": m.gid}
            if m.isdir():
                e["type"] = "dir"
                old = self.entries.get(name)
                if old is not None and old["type"] != "dir":
                    self.remove(name)
            else:
                self.remove(name)
                if m.islnk():
                    target = os.path.normpath(m.linkname).lstrip("/")
                    t = self.entries.get(target)
                    if t is None or t["type"] != "file":
                        raise SystemExit("hard link %s to %s: no such file" % (name, target))
                    e = dict(t)
                    e.update({"mode": "%04o" % (m.mode & 0o7777), "uid": m.uid, "gid": m.gid})
                    # The later header's metadata applies to the inode (as Docker's applier).
                    for p, o in self.entries.items():
                        if o.get("inode") == t["inode"]:
                            o.update({"mode": e["mode"], "uid": e["uid"], "gid": e["gid"]})
                elif m.isfile():
                    data = tf.extractfile(m).read()
                    self.next_inode += 1
                    self.inodes[self.next_inode] = (len(data), hashlib.sha256(data).hexdigest())
                    e.update({"type": "file", "inode": self.next_inode})
                elif m.issym():
                    e.update({"type": "symlink", "target": m.linkname})
                elif m.isfifo():
                    e["type"] = "fifo"
                elif m.ischr() or m.isblk():
                    e.update({"type": "char" if m.ischr() else "block", "dev": "%d:%d" % (m.devmajor, m.devminor)})
                else:
                    e["type"] = "other:%s" % m.type
            self.entries[name] = e

    def summary(self):
        hb = host_busybox()
        by_inode = {}
        for p, e in self.entries.items():
            if e["type"] == "file":
                by_inode.setdefault(e["inode"], []).append(p)
        out = {}
        for p in sorted(self.entries):
            e = dict(self.entries[p])
            if e["type"] == "file":
                ino = e.pop("inode")
                e["size"], e["sha256"] = self.inodes[ino]
                if p == "bin/busybox" and hb and (e["size"], e["sha256"]) == hb:
                    e["size"], e["sha256"] = "host-busybox", "host-busybox"
                others = sorted(q for q in by_inode[ino] if q != p)
                if others:
                    e["links"] = others
            out[p] = e
        return out


def summarise(archive):
    with tarfile.open(archive, "r:*") as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        if len(manifest) != 1:
            raise SystemExit("%s: expected one image, found %d" % (archive, len(manifest)))
        config = json.load(outer.extractfile(manifest[0]["Config"]))
        root = Root()
        for layer in manifest[0]["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(layer), mode="r:*") as tf:
                root.apply(tf)
    cfg = config.get("config") or {}
    return {
        "config": {k: cfg[k] for k in CONFIG_FIELDS if cfg.get(k) is not None},
        "history": [{"created_by": norm_created_by(h.get("created_by", "")),
                     "empty_layer": bool(h.get("empty_layer", False))} for h in config.get("history", [])],
        "root": root.summary(),
    }


def compare(expected, actual):
    """Differences as readable lines; none when the image matches."""
    diffs = []
    for k in CONFIG_FIELDS:
        e, a = expected["config"].get(k), actual["config"].get(k)
        if e != a:
            diffs.append("config %s: docker %s, minirun %s" % (k, json.dumps(e), json.dumps(a)))
    nb = expected.get("base_history", 0)
    eh, ah = expected["history"], actual["history"]
    if len(ah) < nb:
        diffs.append("history: %d entries, fewer than the base image's %d" % (len(ah), nb))
    else:
        eh, ah = eh[nb:], ah[nb:]
        for i in range(max(len(eh), len(ah))):
            e = eh[i] if i < len(eh) else None
            a = ah[i] if i < len(ah) else None
            if e != a:
                diffs.append("history[%d]: docker %s, minirun %s" % (nb + i, json.dumps(e), json.dumps(a)))
    er, ar = expected["root"], actual["root"]
    for p in sorted(set(er) | set(ar)):
        e, a = er.get(p), ar.get(p)
        if e == a:
            continue
        if a is None and p in MOUNT_POINTS and e["type"] == "dir" and not any(q.startswith(p + "/") for q in er):
            continue
        if e is None:
            diffs.append("root /%s: only in minirun's image %s" % (p, json.dumps(a, sort_keys=True)))
        elif a is None:
            diffs.append("root /%s: only in docker's image %s" % (p, json.dumps(e, sort_keys=True)))
        else:
            for k in sorted(set(e) | set(a)):
                if e.get(k) != a.get(k):
                    diffs.append("root /%s: %s docker %s, minirun %s" % (p, k, json.dumps(e.get(k)), json.dumps(a.get(k))))
    return diffs


def prepare(case_dir, out_dir):
    """The build context of a case. Git keeps only a file's executable bit, and the checkout's
    umask decides the rest, so every mode is set here: directories 0755, files 0755 when git
    has them executable else 0644, then the lines "MODE PATH" of CASE_DIR/modes; everything
    owned by 0:0. Symbolic links are copied as links."""
    src = os.path.join(case_dir, "context")
    shutil.copytree(src, out_dir, symlinks=True)
    for d, dirs, files in os.walk(out_dir):
        for n in dirs + files:
            p = os.path.join(d, n)
            os.lchown(p, 0, 0)
            if os.path.islink(p):
                continue
            if os.path.isdir(p):
                os.chmod(p, 0o755)
            else:
                os.chmod(p, 0o755 if os.stat(p).st_mode & 0o111 else 0o644)
    os.lchown(out_dir, 0, 0)
    os.chmod(out_dir, 0o755)
    modes = os.path.join(case_dir, "modes")
    if os.path.exists(modes):
        with open(modes) as f:
            for line in f:
                if line.strip():
                    mode, path = line.split(None, 1)
                    os.chmod(os.path.join(out_dir, path.strip()), int(mode, 8))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "image":
        s = summarise(sys.argv[2])
        args = sys.argv[3:]
        while len(args) >= 2:
            if args[0] == "--builder":
                s["builder"] = args[1]
            elif args[0] == "--base-history":
                s["base_history"] = int(args[1])
            else:
                break
            args = args[2:]
        if args:
            sys.stderr.write(__doc__)
            sys.exit(2)
        json.dump(s, sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "compare":
        with open(sys.argv[2]) as f:
            expected = json.load(f)
        known = set()
        if len(sys.argv) == 5 and os.path.exists(sys.argv[4]):
            with open(sys.argv[4]) as f:
                known = {l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")}
        diffs = compare(expected, summarise(sys.argv[3]))
        failed = False
        for d in diffs:
            if d in known:
                print("known difference (docs/build.md): " + d)
            else:
                print(d)
                failed = True
        for k in sorted(known - set(diffs)):
            print("listed in known-differences but not seen (remove it): " + k)
            failed = True
        sys.exit(1 if failed else 0)
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
