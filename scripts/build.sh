#!/usr/bin/env bash
# Builds everything the package runs: the Node-API addon (release, netcdf-c/HDF5/c-blosc linked
# statically), the WebAssembly module (wasm-bindgen `web` target, optimised with binaryen), and
# the TypeScript. Incremental: cargo and tsc skip what is up to date.
#
#   bash scripts/build.sh            all three (ts: tsc, then the CLI and the browser page bundled by
#                                    scripts/bundle.mjs)
#   bash scripts/build.sh native     only the addon (also: wasm, ts)
#   bash scripts/build.sh --targets linux-x64-gnu,linux-arm64-gnu   (or --targets all)
#                                    the prebuilt addons of the platform packages (npm/<triple>/), cross-built
#                                    from this Linux x64 machine, into bindings/napi/zarrio.<triple>.node where
#                                    scripts/pack.sh finds them. The toolchains come from
#                                    `bash scripts/setup.sh --for platforms` (zig + cargo-zigbuild, MinGW).
#                                    linux-*-gnu are built against glibc 2.17, darwin-x64 for macOS 10.13,
#                                    darwin-arm64 for 11.0. The linux-x64-gnu one replaces the host build
#                                    (it loads here too); `build.sh native` puts the host build back.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
ZARRIO_CACHE="${ZARRIO_CACHE:-$HOME/.cache/zarrio}"
# A CARGO_TARGET_DIR given by the caller wins over the shared one in env.sh (two builds at once).
_caller_target="${CARGO_TARGET_DIR:-}"
# shellcheck disable=SC1091
[[ -f "$ZARRIO_CACHE/env.sh" ]] && . "$ZARRIO_CACHE/env.sh"
[[ -n "$_caller_target" ]] && export CARGO_TARGET_DIR="$_caller_target"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ZARRIO_CACHE/target}"
step() { printf '[build] %s\n' "$*" >&2; }
t0=$SECONDS

# ---------------------------------------------------------------- prebuilt addons for other platforms
# npm triple (npm/<triple>/) -> Rust target as the build is asked for it, and how it is built.
# zig: cargo-zigbuild through `napi build -x` (a `.2.17` suffix picks zig's glibc 2.17 stubs);
# mingw: Debian's MinGW-w64 GCC, napi-rs's symbols loaded from the node.exe at run time.
ALL_TARGETS=(linux-x64-gnu linux-arm64-gnu linux-x64-musl darwin-x64 darwin-arm64 win32-x64-gnu)
target_spec() { # npm triple -> "rust-target how"
  case "$1" in
    linux-x64-gnu) echo "x86_64-unknown-linux-gnu.2.17 zig" ;;
    linux-arm64-gnu) echo "aarch64-unknown-linux-gnu.2.17 zig" ;;
    linux-x64-musl) echo "x86_64-unknown-linux-musl zig" ;;
    darwin-x64) echo "x86_64-apple-darwin zig" ;;
    darwin-arm64) echo "aarch64-apple-darwin zig" ;;
    win32-x64-gnu) echo "x86_64-pc-windows-gnu mingw" ;;
    *) return 1 ;;
  esac
}

build_target() { # npm triple
  local triple="$1" spec rust how out s
  spec="$(target_spec "$triple")" || { echo "[build] unknown target '$triple' (known: ${ALL_TARGETS[*]}, or all)" >&2; exit 2; }
  read -r rust how <<<"$spec"
  out="bindings/napi/zarrio.$triple.node"
  local napi=(npx --no-install napi build --cwd bindings/napi --platform --release --no-js --dts addon.d.ts --output-dir .)
  s=$SECONDS
  step "addon for $triple ($rust, $how)"
  rm -f "$out"
  case "$how" in
    zig)
      local zig_triple="${rust%%.*}"
      # Without a deployment target zig marks a macOS binary as needing the SDK's own version (macOS 15).
      case "$rust" in
        x86_64-apple-darwin) export MACOSX_DEPLOYMENT_TARGET=10.13 ;;
        aarch64-apple-darwin) export MACOSX_DEPLOYMENT_TARGET=11.0 ;;
        *) unset MACOSX_DEPLOYMENT_TARGET ;;
      esac
      # A cdylib needs musl linked dynamically (Node's own libc), not musl's default static C runtime.
      [[ "$zig_triple" == *-musl ]] && export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=-crt-static"
      nice -n "${ZARRIO_BUILD_NICE:-0}" "${napi[@]}" -x --target "$rust" >&2
      ;;
    mingw)
      # napi-build links `-lnode` for windows-gnu; an empty libnode.dll satisfies it, since the addon
      # takes Node-API's functions from the running node.exe (napi's dyn-symbols, Cargo.toml).
      local stub="$PLATFORM_TOOLS/libnode-stub"
      [[ -f "$stub/libnode.dll" ]] || die_tool "$stub/libnode.dll"
      LIBNODE_PATH="$stub" \
        CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc CXX_x86_64_pc_windows_gnu=x86_64-w64-mingw32-g++ \
        AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
        nice -n "${ZARRIO_BUILD_NICE:-0}" "${napi[@]}" --target "$rust" >&2
      ;;
  esac
  [[ -f "$out" ]] || { echo "[build] ERROR: napi build for $rust finished but wrote no $out" >&2; exit 1; }
  step "addon for $triple built in $((SECONDS - s))s: $out, $(du -h "$out" | cut -f1)"
}

die_tool() {
  echo "[build] ERROR: $1 is missing: the cross toolchains are installed by 'bash scripts/setup.sh --for platforms'" >&2
  exit 1
}

targets=()
parts=()
while (($#)); do
  case "$1" in
    --targets) targets+=(${2//,/ }); shift ;;
    --targets=*) v="${1#--targets=}"; targets+=(${v//,/ }) ;;
    -*) echo "unknown option '$1' (see the top of $0)" >&2; exit 2 ;;
    *) parts+=("$1") ;;
  esac
  shift
done
if ((${#targets[@]})); then
  [[ " ${targets[*]} " == *" all "* ]] && targets=("${ALL_TARGETS[@]}")
  PLATFORM_TOOLS="$ZARRIO_CACHE/platforms"
  for tool in zig cargo-zigbuild; do [[ -x "$PLATFORM_TOOLS/bin/$tool" ]] || die_tool "$PLATFORM_TOOLS/bin/$tool"; done
  export PATH="$PLATFORM_TOOLS/bin:$PATH"
  if [[ " ${targets[*]} " == *" win32-x64-gnu "* ]]; then
    for tool in x86_64-w64-mingw32-gcc x86_64-w64-mingw32-g++; do command -v "$tool" >/dev/null || die_tool "$tool"; done
  fi
  for t in "${targets[@]}"; do target_spec "$t" >/dev/null || { echo "[build] unknown target '$t' (known: ${ALL_TARGETS[*]}, or all)" >&2; exit 2; }; done
  for t in "${targets[@]}"; do build_target "$t"; done
  ((${#parts[@]})) || { step "done in $((SECONDS - t0))s"; exit 0; }
fi
((${#parts[@]})) || parts=(native wasm ts)
read -r -a parts <<<"${parts[*]}"   # "native wasm" as one word works too

for part in "${parts[@]}"; do
  case "$part" in
    native)
      step "native addon (napi-rs, release)"
      s=$SECONDS
      npx --no-install napi build --cwd bindings/napi --platform --release --no-js \
        --dts addon.d.ts --output-dir . >&2
      step "native addon built in $((SECONDS - s))s: $(ls -t bindings/napi/*.node | head -1)"
      ;;
    wasm)
      step "wasm module (wasm32-unknown-unknown, release)"
      s=$SECONDS
      cargo build -p zarrio-wasm --release --target wasm32-unknown-unknown >&2
      out=bindings/wasm/pkg
      mkdir -p "$out"
      built="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/zarrio_wasm.wasm"
      # wasm-bindgen + wasm-opt (minutes) only when cargo wrote a newer module than the one in pkg/.
      if [[ -f "$out/zarrio_wasm_bg.wasm" && -f "$out/zarrio_wasm.js" && "$out/zarrio_wasm_bg.wasm" -nt "$built" ]]; then
        step "wasm module up to date in $out"
      else
        "${ZARRIO_WASM_BINDGEN:-wasm-bindgen}" --target web --weak-refs --out-dir "$out" --out-name zarrio_wasm "$built"
        if [[ -x node_modules/.bin/wasm-opt ]]; then
          node_modules/.bin/wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
            "$out/zarrio_wasm_bg.wasm" -o "$out/zarrio_wasm_bg.wasm"
        fi
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
