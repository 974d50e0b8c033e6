#!/usr/bin/env bash
# npm run test:platforms: the prebuilt addons of the platform packages, cross-built here and run.
#   1. scripts/setup.sh --for platforms: zig + cargo-zigbuild, the Rust targets, MinGW, qemu-user-static,
#      wine, arm64 glibc/libstdc++, Node for arm64 and Windows (cached under $ZARRIO_CACHE/platforms;
#      ~1 s once there).
#   2. scripts/build.sh wasm ts, then --targets linux-x64-gnu,linux-arm64-gnu,win32-x64-gnu (the linux
#      ones against glibc 2.17; the x64 one replaces the host build in bindings/napi/ and loads here too).
#   3. test/platforms/*.test.ts: pack.sh's release checks, the tarballs installed into empty directories,
#      the sample converted with the x64 addon here, with the arm64 addon under qemu and the Windows
#      one under wine, multi-file create-template + write-region under qemu, all read back by xarray.
# .ci/run runs it after npm test (ZARRIO_TEST_PLATFORMS=0 skips it there).
#
#   bash scripts/test-platforms.sh              all of the above
#   bash scripts/test-platforms.sh --no-build   test the addons as they are in bindings/napi/
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
ZARRIO_CACHE="${ZARRIO_CACHE:-$HOME/.cache/zarrio}"
build=1
[[ "${1:-}" == --no-build ]] && build=0
step() { printf '\n[test:platforms] == %s\n' "$*"; }
t0=$SECONDS

caller_target="${CARGO_TARGET_DIR:-}"
if ((build)); then
  step "setup --for platforms"
  # Without the caller's CARGO_TARGET_DIR: setup writes the shared env.sh, whose target dir stays the shared one.
  env -u CARGO_TARGET_DIR bash scripts/setup.sh --for platforms
fi
# shellcheck disable=SC1091
. "$ZARRIO_CACHE/env.sh"
[[ -n "$caller_target" ]] && export CARGO_TARGET_DIR="$caller_target"
[[ -f "$ZARRIO_CACHE/platforms/env.sh" ]] || { echo "[test:platforms] run bash scripts/setup.sh --for platforms first" >&2; exit 1; }
# shellcheck disable=SC1091
. "$ZARRIO_CACHE/platforms/env.sh"
export ZARRIO_FIXTURES="${ZARRIO_FIXTURES:-$REPO/test/.fixtures}"

if ((build)); then
  step "build: wasm + TypeScript (the main package), then the linux-x64-gnu and linux-arm64-gnu (glibc 2.17) and win32-x64-gnu addons"
  s=$SECONDS
  bash scripts/build.sh wasm ts
  bash scripts/build.sh --targets linux-x64-gnu,linux-arm64-gnu,win32-x64-gnu
  echo "[test:platforms] built in $((SECONDS - s))s"
fi

if [[ ! -f "$ZARRIO_FIXTURES/series_03.nc" ]]; then
  step "fixtures → $ZARRIO_FIXTURES"
  mkdir -p "$ZARRIO_FIXTURES"
  "$ZARRIO_PYTHON" test/fixtures/make_fixtures.py "$ZARRIO_FIXTURES"
fi

step "installed packages: linux-x64-gnu here, linux-arm64-gnu under qemu, win32-x64-gnu under wine"
status=0
node --import tsx --test --test-concurrency=1 test/platforms/*.test.ts || status=$?
echo "[test:platforms] $( ((status == 0)) && echo passed || echo FAILED ) in $((SECONDS - t0))s"
exit "$status"
