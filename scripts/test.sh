#!/usr/bin/env bash
# The whole test suite (README's test command runs it after setup and build):
#   1. Rust: cargo test of the core (codecs, packing, grid, encode, both NetCDF readers).
#   1b. Boundary: napi's generated declarations (bindings/napi/addon.d.ts) are the ones committed.
#   2. Fixtures: test/fixtures/make_fixtures.py writes the NetCDF test files.
#   3. Python: self-tests of the reference comparison (test/python).
#   4. TypeScript: node's test runner over test/*.test.ts, once per backend (native, then wasm).
#   5. Packages: test/package/*.test.ts packs the npm tarballs, installs them into empty directories
#      and runs them (both backends), and runs the serverless example without a filesystem.
#   6. Browser: test/browser/*.test.ts drives the page (web/) in headless Chromium (Debian's chromium).
# Every step runs even if an earlier one failed; the exit status is non-zero if any failed.
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
ZARRIO_CACHE="${ZARRIO_CACHE:-$HOME/.cache/zarrio}"
# shellcheck disable=SC1091
[[ -f "$ZARRIO_CACHE/env.sh" ]] && . "$ZARRIO_CACHE/env.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ZARRIO_CACHE/target}"
export ZARRIO_PYTHON="${ZARRIO_PYTHON:-$ZARRIO_CACHE/venv/bin/python}"
export ZARRIO_FIXTURES="$REPO/test/.fixtures"
failed=()
step() { printf '\n[test] == %s\n' "$*"; }

step "rust: cargo test (zarrio-core, with the libnetcdf reader)"
cargo test --release -p zarrio-core --features libnetcdf || failed+=("cargo test")

step "boundary: the checked-in declarations are what the build generated (napi's addon.d.ts; core-types.ts by cargo test)"
if git rev-parse --git-dir >/dev/null 2>&1; then
  git diff --exit-code -- bindings/napi/addon.d.ts || failed+=("addon.d.ts stale: commit what scripts/build.sh native generated")
fi

step "fixtures → $ZARRIO_FIXTURES"
mkdir -p "$ZARRIO_FIXTURES"
"$ZARRIO_PYTHON" test/fixtures/make_fixtures.py "$ZARRIO_FIXTURES" || failed+=("fixtures")

step "python: reference comparison self-tests"
"$ZARRIO_PYTHON" -m pytest -q test/python || failed+=("pytest")

backends=(${ZARRIO_TEST_BACKENDS:-native wasm})
for b in "${backends[@]}"; do
  step "typescript suite, backend=$b"
  ZARRIO_BACKEND="$b" node --import tsx --test --test-concurrency=1 test/*.test.ts || failed+=("node --test ($b)")
done

step "packages: pack.sh's tarballs installed and run (native, wasm, ESM, CommonJS, types); the serverless example"
node --import tsx --test --test-concurrency=1 test/package/*.test.ts || failed+=("node --test (packages)")

step "browser: the page in headless Chromium (convert, quick-look, .zarr.zip checked with xarray)"
node --import tsx --test --test-concurrency=1 test/browser/*.test.ts || failed+=("node --test (browser)")

if ((${#failed[@]})); then
  printf '\n[test] FAILED: %s\n' "${failed[*]}"
  exit 1
fi
printf '\n[test] all steps passed (rust, python, typescript on: %s, packages, browser)\n' "${backends[*]}"
