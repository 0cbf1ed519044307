#!/usr/bin/env python3
"""The images' runtime stages carry every shared library their binaries need (issue 8).

There is no container engine here to build the Dockerfile, so this test reads it: for
each runtime stage (a stage that copies binaries out of the build stage) it collects the
apt packages the stage and its parent stages install, and for every binary it copies it
runs `ldd` on the built binary (--bin-dir) and asks `dpkg -S` which package owns each
library. That package must be one of the stage's packages, a package they depend on
(apt installs Depends and Pre-Depends; the closure is read from this machine's dpkg
database, which is Debian 12 like the image), or a package debian:12-slim already has.

Also checked: every package named in a runtime stage exists in Debian; the build stage
installs every -dev package scripts/install-deps installs (or the image would not
build); the controller and CLI stages run as uid 65532; and the check itself reports a
library whose package was left out.
"""
import functools
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from checks import check, finish, test_args  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCKERFILE = os.path.join(REPO, "Dockerfile")
INSTALL_DEPS = os.path.join(REPO, "scripts", "install-deps")

# Binary packages of debian:bookworm-slim (= debian:12-slim), from the image's package
# manifest published by docker-library (repo-info, repos/debian/local/bookworm-slim.md,
# image of 2026-09-18). It was read there, not measured: no container engine runs here.
SLIM_PACKAGES = set("""
adduser apt base-files base-passwd bash bsdutils coreutils dash debconf
debian-archive-keyring debianutils diffutils dpkg e2fsprogs findutils gcc-12-base gpgv
grep gzip hostname init-system-helpers libacl1 libapt-pkg6.0 libattr1 libaudit-common
libaudit1 libblkid1 libbz2-1.0 libc-bin libc6 libcap-ng0 libcap2 libcom-err2 libcrypt1
libdb5.3 libdebconfclient0 libext2fs2 libffi8 libgcc-s1 libgcrypt20 libgmp10 libgnutls30
libgpg-error0 libhogweed6 libidn2-0 liblz4-1 liblzma5 libmd0 libmount1 libnettle8
libp11-kit0 libpam-modules libpam-modules-bin libpam-runtime libpam0g libpcre2-8-0
libseccomp2 libselinux1 libsemanage-common libsemanage2 libsepol2 libsmartcols1 libss2
libstdc++6 libsystemd0 libtasn1-6 libtinfo6 libudev1 libunistring2 libuuid1 libxxhash0
libzstd1 login logsave mawk mount ncurses-base ncurses-bin passwd perl-base sed
sysvinit-utils tar tzdata usr-is-merged util-linux util-linux-extra zlib1g
""".split())


def parse_dockerfile(path):
    """Returns {stage: {"from": str, "packages": [..], "copies": [(src, dst)], "user": str}}."""
    with open(path) as f:
        text = re.sub(r"\\\n", " ", f.read())  # join continuation lines
    stages, order, cur = {}, [], None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
        if m:
            cur = m.group(2) or f"stage{len(order)}"
            stages[cur] = {"from": m.group(1), "packages": [], "copies": [], "user": None}
            order.append(cur)
            continue
        if cur is None:
            continue
        for cmd in re.findall(r"apt-get install ([^&;]*)", line):
            stages[cur]["packages"] += [t for t in cmd.split() if not t.startswith("-")]
        m = re.match(r"COPY\s+--from=(\S+)\s+(\S+)\s+(\S+)", line, re.I)
        if m:
            stages[cur]["copies"].append((m.group(1), m.group(2), m.group(3)))
        m = re.match(r"USER\s+(\S+)", line, re.I)
        if m:
            stages[cur]["user"] = m.group(1)
    return stages


def stage_packages(stages, name):
    """Packages of a stage and every stage it is built FROM."""
    pkgs = []
    while name in stages:
        pkgs += stages[name]["packages"]
        name = stages[name]["from"]
    return pkgs


def installed_depends(pkg):
    """Names of installed packages satisfying pkg's Depends and Pre-Depends."""
    p = subprocess.run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", pkg],
                       capture_output=True, text=True)
    out = []
    for clause in p.stdout.split(","):
        for alt in clause.split("|"):
            name = re.sub(r"\(.*?\)|:any|:amd64", "", alt).strip()
            if name and (is_installed(name) or providers(name)):
                out.append(name if is_installed(name) else providers(name)[0])
                break
    return out


_installed_cache = {}


def is_installed(pkg):
    if pkg not in _installed_cache:
        p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
        _installed_cache[pkg] = p.returncode == 0 and "install ok installed" in p.stdout
    return _installed_cache[pkg]


@functools.lru_cache(maxsize=None)
def provided_by():
    """{virtual package: [installed packages that Provide it]}."""
    p = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Provides}\n"], capture_output=True, text=True)
    out = {}
    for line in p.stdout.splitlines():
        name, _, provides = line.partition(" ")
        for x in provides.split(","):
            v = re.sub(r"\(.*?\)", "", x).strip()
            if v:
                out.setdefault(v, []).append(name)
    return out


def providers(virtual):
    return provided_by().get(virtual, [])


@functools.lru_cache(maxsize=None)
def depends_cached(pkg):
    return tuple(installed_depends(pkg))


def closure(pkgs):
    seen, todo = set(), [p for p in pkgs]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        todo += depends_cached(p)
    return seen


def ldd_libs(binary):
    p = subprocess.run(["ldd", binary], capture_output=True, text=True)
    libs = []
    for line in p.stdout.splitlines():
        m = re.search(r"=>\s+(/\S+)", line)
        if m:
            libs.append(m.group(1))
        elif line.strip().startswith("/"):
            libs.append(line.split()[0])  # the dynamic loader
    return p.returncode, libs


@functools.lru_cache(maxsize=None)
def owner(path):
    """The package that ships `path` (trying its merged-/usr spellings)."""
    real = os.path.realpath(path)
    candidates = {path, real}
    for c in list(candidates):
        if c.startswith("/usr/"):
            candidates.add(c[4:])
        else:
            candidates.add("/usr" + c)
    for c in candidates:
        p = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
        if p.returncode == 0:
            return p.stdout.split(":")[0].strip()
    return None


def missing_libs(binary, allowed):
    """Libraries of `binary` whose package is not in `allowed`: [(lib, package)]."""
    rc, libs = ldd_libs(binary)
    return [(lib, pkg) for lib in libs for pkg in [owner(lib)] if pkg not in allowed]


def main():
    args = test_args()
    bin_dir = os.path.join(os.path.abspath(args.bin_dir), "bin")
    stages = parse_dockerfile(DOCKERFILE)
    check("build" in stages, f"Dockerfile has a build stage: {list(stages)}")
    roots = {s["from"] for s in stages.values() if s["from"] not in stages}
    check(roots == {"${DEBIAN_IMAGE}"}, f"every stage starts from ${{DEBIAN_IMAGE}} or a stage {roots}")
    with open(DOCKERFILE) as f:
        check("ARG DEBIAN_IMAGE=debian:12-slim" in f.read(), "the base image is debian:12-slim")

    runtime = {n: s for n, s in stages.items() if any(c[0] == "build" for c in s["copies"])}
    check({"controller", "agent", "cli"} <= set(runtime), f"runtime stages {sorted(runtime)}")
    for name, stage in sorted(runtime.items()):
        pkgs = stage_packages(stages, name)
        for p in pkgs:
            known = is_installed(p) or subprocess.run(["apt-cache", "show", p],
                                                      capture_output=True).returncode == 0
            check(known, f"{name}: package {p} exists in Debian")
        allowed = closure(pkgs) | SLIM_PACKAGES
        for _, src, dst in stage["copies"]:
            binary = os.path.join(bin_dir, os.path.basename(src))
            if not check(os.access(binary, os.X_OK), f"{name}: {binary} is built"):
                continue
            rc, libs = ldd_libs(binary)
            missing = missing_libs(binary, allowed)
            check(rc == 0 and libs and not missing,
                  f"{name}: all {len(libs)} libraries of {os.path.basename(src)} come from "
                  f"{sorted(set(pkgs))} or debian:12-slim {missing}")

    check(runtime.get("controller", {}).get("user") == "65532:65532", "controller runs as uid 65532")
    check(runtime.get("cli", {}).get("user") == "65532:65532", "cli runs as uid 65532")
    check(runtime.get("agent", {}).get("user") == "0:0", "agent runs as root (hostPath ownership)")

    with open(INSTALL_DEPS) as f:
        text = f.read()
    m = re.search(r"PACKAGES=\((.*?)\)", text, re.S)
    dev = [p for p in (m.group(1).split() if m else []) if p.endswith("-dev")]
    build_pkgs = set(stages.get("build", {}).get("packages", []))
    check(dev and set(dev) <= build_pkgs,
          f"the build stage installs install-deps' -dev packages {sorted(set(dev) - build_pkgs)}")

    # The check can fail: without libcpprest2.10 the controller's libcpprest is reported.
    ctrl = os.path.join(bin_dir, "shardcast-controller")
    if os.access(ctrl, os.X_OK):
        pkgs = [p for p in stage_packages(stages, "controller") if p != "libcpprest2.10"]
        missing = missing_libs(ctrl, closure(pkgs) | SLIM_PACKAGES)
        check(any("libcpprest" in lib for lib, _ in missing),
              f"without libcpprest2.10 the controller's libcpprest is reported {missing}")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
