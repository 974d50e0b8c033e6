#!/usr/bin/env bash
# Builds everything the package runs: the Node-API addon (release, netcdf-c/HDF5/c-blosc linked
# statically), the WebAssembly module (wasm-bindgen `web` target, optimised with binaryen), and
# the TypeScript. Incremental: cargo and tsc skip what is up to date.
#
#   bash scripts/build.sh            all three (ts: tsc, then the CLI and the browser page bundled by
#                                    scripts/bundle.mjs)
#   bash scripts/build.sh native     only the addon (also: wasm, ts)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
ZARRIO_CACHE="${ZARRIO_CACHE:-$HOME/.cache/zarrio}"
# shellcheck disable=SC1091
[[ -f "$ZARRIO_CACHE/env.sh" ]] && . "$ZARRIO_CACHE/env.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ZARRIO_CACHE/target}"
parts=("${@:-native wasm ts}")
read -r -a parts <<<"${parts[*]}"
step() { printf '[build] %s\n' "$*" >&2; }
t0=$SECONDS

for part in "${parts[@]}"; do
  case "$part" in
    native)
      step "native addon (napi-rs, release)"
      s=$SECONDS
      npx --no-install napi build --cwd bindings/napi --platform --release --no-js \
        --dts addon.d.ts --output-dir . >&2
      step "native addon built in $((SECONDS - s))s: $(ls bindings/napi/*.node)"
      ;;
    wasm)
      step "wasm module (wasm32-unknown-unknown, release)"
      s=$SECONDS
      cargo build -p zarrio-wasm --release --target wasm32-unknown-unknown >&2
      out=bindings/wasm/pkg
      mkdir -p "$out"
      "${ZARRIO_WASM_BINDGEN:-wasm-bindgen}" --target web --weak-refs --out-dir "$out" --out-name zarrio_wasm \
        "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/zarrio_wasm.wasm"
      if [[ -x node_modules/.bin/wasm-opt ]]; then
        node_modules/.bin/wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
          "$out/zarrio_wasm_bg.wasm" -o "$out/zarrio_wasm_bg.wasm"
      fi
      step "wasm module built in $((SECONDS - s))s: $(du -h "$out/zarrio_wasm_bg.wasm" | cut -f1)"
      ;;
    ts)
      step "typescript"
      npx --no-install tsc -p tsconfig.json
      npx --no-install tsc -p web/tsconfig.json   # the browser page (type-checked only; bundled below)
      node scripts/bundle.mjs
      chmod +x dist/cli.js
      ;;
    *) echo "unknown part '$part' (native, wasm, ts)" >&2; exit 2 ;;
  esac
done
step "done in $((SECONDS - t0))s"
