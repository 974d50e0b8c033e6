#!/usr/bin/env bash
# Makes the npm tarballs, napi-rs style, into .pack/ (git-ignored):
#   zarrio-<v>.tgz                 the main package: dist/ (ESM, CommonJS entry, .d.ts), the WebAssembly
#                                  build (the fallback, and zarrio/web), README; the platform packages
#                                  are its optionalDependencies, written into its package.json here
#   zarrio-<triple>-<v>.tgz        @zarrio/<triple>: one stripped .node, for every npm/<triple>/ whose
#                                  addon is built (bindings/napi/zarrio.<triple>.node)
# and checks them: the main package holds what it must and nothing heavy or private; every addon is
# the right format and CPU for its platform (ELF/Mach-O/PE), exports napi_register_module_v1, needs
# no shared library beyond the platform's C runtime (NetCDF, HDF5, blosc, szip and libstdc++ are
# linked in), at most GLIBC_2.17 on linux-*-gnu, at most macOS 10.13 (x64) / 11.0 (arm64); all
# versions agree. Any failed check fails the pack. Also writes .pack/packages.json (what was packed,
# with sizes, and what each addon needs).
#
#   bash scripts/pack.sh             build what is out of date (the wasm module, the glibc 2.17 linux-x64-gnu
#                                    addon: scripts/build.sh wasm, --targets linux-x64-gnu), then pack
#   bash scripts/pack.sh --no-build  pack the artifacts as they are (fails if one is missing)
#   bash scripts/pack.sh --out DIR   into DIR instead of .pack/ (the install test packs into its own)
#   bash scripts/pack.sh --glibc-max host   a pack for this machine only (tests, a Docker image of the same
#                                    Debian): builds and packs the host build (scripts/build.sh native),
#                                    which needs this machine's glibc; never publish it. Default 2.17.
#
# The addons for every platform package are cross-built on this Linux x64 machine with
#   bash scripts/setup.sh --for platforms && bash scripts/build.sh --targets all
# which puts bindings/napi/zarrio.<triple>.node where this script finds them.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
ZARRIO_CACHE="${ZARRIO_CACHE:-$HOME/.cache/zarrio}"
# A CARGO_TARGET_DIR given by the caller wins over the shared one in env.sh (two builds at once).
_caller_target="${CARGO_TARGET_DIR:-}"
# shellcheck disable=SC1091
[[ -f "$ZARRIO_CACHE/env.sh" ]] && . "$ZARRIO_CACHE/env.sh"
[[ -n "$_caller_target" ]] && export CARGO_TARGET_DIR="$_caller_target"
OUT="$REPO/.pack"
log() { printf '[pack] %s\n' "$*" >&2; }
die() { printf '[pack] ERROR: %s\n' "$*" >&2; exit 1; }

GLIBC_MAX=2.17
build=1
while (($#)); do
  case "$1" in
    --no-build) build=0 ;;
    --out) OUT="$(mkdir -p "${2:?--out needs a directory}" && cd "$2" && pwd)"; shift ;;
    --glibc-max) GLIBC_MAX="${2:?--glibc-max needs a version or host}"; shift ;;
    -h|--help) sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
mkdir -p "$OUT"
STAGE="$OUT/stage"
if ((build)); then
  if [[ "$GLIBC_MAX" == host ]]; then
    bash scripts/build.sh native wasm          # the host build: for this machine
  else
    # What is published for linux-x64-gnu is the glibc 2.17 build (its toolchain: setup.sh --for platforms).
    [[ -x "$ZARRIO_CACHE/platforms/bin/zig" ]] || die "the linux-x64-gnu addon to publish is the glibc 2.17 build, and its toolchain is not installed:
  run bash scripts/setup.sh --for platforms first, or pack the host build for this machine only: bash scripts/pack.sh --glibc-max host"
    bash scripts/build.sh wasm
    bash scripts/build.sh --targets linux-x64-gnu
  fi
fi

WASM=bindings/wasm/pkg
[[ -f $WASM/zarrio_wasm.js && -f $WASM/zarrio_wasm_bg.wasm ]] || die "$WASM is not built (run without --no-build)"

version="$(node -p 'require("./package.json").version')"
triples=()
for dir in npm/*/; do
  t="$(basename "$dir")"
  v="$(node -p "require('./npm/$t/package.json').version")"
  [[ "$v" == "$version" ]] || die "npm/$t/package.json has version $v, package.json $version: make them equal"
  triples+=("$t")
done
((${#triples[@]})) || die "no platform packages under npm/"

# ---------------------------------------------------------------- the addon, checked for its platform
# Read with LLVM's tools (they read ELF, Mach-O and PE alike, whatever this machine is) and `file`.
# Each platform's addon must be: the right format and CPU; a Node-API module (exports
# napi_register_module_v1); needing only what every machine of that platform has (the C runtime:
# NetCDF, HDF5, blosc, szip, zlib and libstdc++ are linked in); for glibc, no symbol version newer
# than GLIBC_MAX (2.17: RHEL/CentOS 7, Amazon Linux 2 and everything newer); for macOS, no newer
# minimum macOS than the platform package promises, and an intact code signature (Apple silicon
# loads nothing else; scripts/lib/macho-codesign.mjs). Any miss fails the pack.
llvm_tool() { # name -> path of llvm-<name>[-NN]
  local c
  for c in "llvm-$1" "llvm-$1-22" "llvm-$1-21" "llvm-$1-20" "llvm-$1-19"; do
    command -v "$c" >/dev/null && { command -v "$c"; return; }
  done
  die "llvm-$1 is needed to check the addons (Debian: apt-get install llvm-22; scripts/setup.sh installs it)"
}
command -v file >/dev/null || die "'file' is needed to check the addons (Debian: apt-get install file)"
READOBJ="$(llvm_tool readobj)"
OBJDUMP="$(llvm_tool objdump)"
NM="$(llvm_tool nm)"
STRIP="$(llvm_tool strip)"

if [[ "$GLIBC_MAX" == host ]]; then
  GLIBC_MAX="$(getconf GNU_LIBC_VERSION | awk '{print $2}')"
  log "--glibc-max host: linux-*-gnu addons may need glibc $GLIBC_MAX (this machine's): for tests here, not for publishing"
fi
[[ "$GLIBC_MAX" =~ ^[0-9]+\.[0-9]+$ ]] || die "--glibc-max must be a version like 2.17, or host (got '$GLIBC_MAX')"
# Linux: the C runtime. musl's loader resolves libc.so itself.
ALLOWED_ELF='^(libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux[-a-z0-9_.]*\.so\.[0-9]+)$'
ALLOWED_MUSL='^(libc\.so|libc\.musl-[a-z0-9_]+\.so\.1|libgcc_s\.so\.1)$'
# macOS: the system library (libc, libm, pthread...) and libiconv/libcharset (Rust's libc crate links
# them on Apple targets), libc++, libresolv: all in every macOS.
ALLOWED_MACHO='^(/usr/lib/libSystem\.B\.dylib|/usr/lib/libiconv\.2\.dylib|/usr/lib/libcharset\.1\.dylib|/usr/lib/libc\+\+\.1\.dylib|/usr/lib/libresolv\.9\.dylib|/System/Library/Frameworks/(CoreFoundation|Security)\.framework/.*)$'
# Windows: DLLs of Windows itself (never MinGW's libgcc_s/libwinpthread/libstdc++, nor libnode.dll).
ALLOWED_PE='^(kernel32|ntdll|advapi32|bcrypt|bcryptprimitives|ws2_32|userenv|msvcrt|ucrtbase|shell32|shlwapi|ole32|oleaut32|user32|crypt32|secur32|api-ms-win-[a-z0-9-]+)\.dll$'
ADDONS="$OUT/addons.jsonl"
: >"$ADDONS"

vle() { [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" == "$2" ]]; }   # version $1 <= $2
json_list() { local x first=1; printf '['; for x in "$@"; do ((first)) || printf ','; first=0; printf '"%s"' "$x"; done; printf ']'; }

check_addon() { # triple file
  local t="$1" f="$2" name="zarrio.$1.node" desc want_file libs=() bad=() glibc="" minos="" extra="" l exports
  desc="$(file -b "$f")"
  case "$t" in
    linux-x64-*) want_file='^ELF 64-bit LSB shared object, x86-64' ;;
    linux-arm64-*) want_file='^ELF 64-bit LSB shared object, ARM aarch64' ;;
    darwin-x64) want_file='^Mach-O 64-bit .*(x86_64|dynamically linked shared library x86_64)' ;;
    darwin-arm64) want_file='^Mach-O 64-bit .*arm64' ;;
    win32-x64-*) want_file='^PE32\+ executable \(DLL\).*x86-64' ;;
    *) die "$name: no check is defined for platform $t (add one to check_addon in scripts/pack.sh)" ;;
  esac
  [[ "$desc" =~ $want_file ]] || die "$name is not a $t addon: file says '$desc'"
  case "$t" in
    linux-*)
      mapfile -t libs < <("$READOBJ" --needed-libs "$f" | sed -n '/^NeededLibraries \[/,/^\]/{/^ /p}' | tr -d ' ')
      local allowed="$ALLOWED_ELF"
      [[ "$t" == *-musl ]] && allowed="$ALLOWED_MUSL"
      for l in "${libs[@]}"; do [[ "$l" =~ $allowed ]] || bad+=("$l"); done
      glibc="$("$OBJDUMP" -T "$f" | { grep -o 'GLIBC_[0-9.]*' || true; } | sed 's/GLIBC_//' | sort -uV | tail -1)"
      if [[ "$t" == *-gnu ]]; then
        [[ -n "$glibc" ]] || die "$name: no GLIBC symbol versions at all: not a glibc build"
        vle "$glibc" "$GLIBC_MAX" || die "$name needs GLIBC_$glibc, newer than the GLIBC_$GLIBC_MAX it must run on (build it with: bash scripts/build.sh --targets $t)"
      else
        [[ -z "$glibc" ]] || die "$name is a musl addon but references GLIBC_$glibc symbols"
      fi
      if [[ "$(uname -m)" == x86_64 && "$t" == linux-x64-gnu ]] && ldd "$f" 2>&1 | grep -q 'not found'; then
        die "$name: ldd reports a missing library: $(ldd "$f" | grep 'not found' | tr -s ' \t' ' ')"
      fi
      exports="$("$NM" -D --defined-only "$f" 2>/dev/null)"
      ;;
    darwin-*)
      # --dylibs-used lists the addon's own install name (LC_ID_DYLIB) too: left out.
      local id
      id="$("$OBJDUMP" --macho --dylib-id "$f" | tail -n +2 | sed 's/^[[:space:]]*//')"
      mapfile -t libs < <("$OBJDUMP" --macho --dylibs-used "$f" | tail -n +2 | sed 's/^[[:space:]]*//; s/ (compatibility.*//' | { grep -vxF "$id" || true; })
      for l in "${libs[@]}"; do [[ "$l" =~ $ALLOWED_MACHO ]] || bad+=("$l"); done
      # LC_BUILD_VERSION's minos (LC_VERSION_MIN_MACOSX's version on older linkers).
      minos="$("$OBJDUMP" --macho --private-headers "$f" | awk '/cmd LC_BUILD_VERSION/ {b=1} /cmd LC_VERSION_MIN_MACOSX/ {m=1} b && $1=="minos" {print $2; exit} m && $1=="version" {print $2; exit}')"
      local promised
      promised="$([[ "$t" == darwin-x64 ]] && echo 10.13 || echo 11.0)"
      [[ -n "$minos" ]] || die "$name: no minimum macOS version in its load commands"
      vle "$minos" "$promised" || die "$name needs macOS $minos, newer than the $promised it must run on (set MACOSX_DEPLOYMENT_TARGET; scripts/build.sh --targets $t does)"
      exports="$("$NM" -gU "$f" 2>/dev/null | sed 's/ _napi_register/ napi_register/')"
      # Apple silicon loads only code whose (ad-hoc) signature matches its bytes; Intel Macs load
      # unsigned code too, but not code whose signature does not match.
      local signed
      signed="$(node scripts/lib/macho-codesign.mjs $([[ "$t" == darwin-x64 ]] && echo --optional) "$f" 2>&1)" || die "$name: code signature: $signed"
      extra=", code signature: $signed"
      ;;
    win32-*)
      mapfile -t libs < <("$READOBJ" --coff-imports "$f" | awk '$1=="Name:" && $2 ~ /\.[dD][lL][lL]$/ {print $2}' | sort -fu)
      for l in "${libs[@]}"; do [[ "${l,,}" =~ $ALLOWED_PE ]] || bad+=("$l"); done
      exports="$("$READOBJ" --coff-exports "$f" | awk '$1=="Name:" {print "T " $2}')"
      ;;
  esac
  ((${#bad[@]} == 0)) || die "$name needs libraries that are not on every $t machine: ${bad[*]} (all: ${libs[*]})"
  grep -Eq '(^|[[:space:]])napi_register_module_v1$' <<<"$exports" || die "$name does not export napi_register_module_v1: not a Node-API addon"
  log "$name: ${desc%%,*}${glibc:+, newest glibc symbol GLIBC_$glibc}${minos:+, macOS $minos or newer}$extra; needs $(IFS=' '; echo "${libs[*]}"); exports napi_register_module_v1"
  printf '{"triple":"%s","file":"%s","bytes":%d,"format":"%s","glibc":"%s","macos":"%s","needs":%s}\n' \
    "$t" "$name" "$(stat -c %s "$f")" "${desc//\"/}" "$glibc" "$minos" "$(json_list "${libs[@]}")" >>"$ADDONS"
}

# ---------------------------------------------------------------- platform packages
# Only what this script makes is removed: DIR may hold other things.
rm -rf "$STAGE" "$OUT"/zarrio-*.tgz "$OUT/packages.json"
mkdir -p "$STAGE"
packed=()   # triples with a tarball
trap 'rm -f npm/*/*.tmp.$$' EXIT   # a copy left by a failed check
for t in "${triples[@]}"; do
  built="bindings/napi/zarrio.$t.node"
  shipped="npm/$t/zarrio.$t.node"
  if [[ ! -f "$built" ]]; then
    rm -f "$shipped"
    log "@zarrio/$t: no $built on this machine, not packed (declared as an optional dependency all the same)"
    continue
  fi
  # Prepared beside the target and renamed into place: a pack running at the same time never
  # reads a half-copied addon.
  cp "$built" "$shipped.tmp.$$"
  if [[ "$t" == linux-* ]]; then
    # napi strips release builds already; strip again so a debug-symbol build can never ship.
    "$STRIP" --strip-unneeded "$shipped.tmp.$$" || die "$STRIP cannot read $built"
  fi
  check_addon "$t" "$shipped.tmp.$$"
  mv -f "$shipped.tmp.$$" "$shipped"
  packed+=("$t")
done
((${#packed[@]})) || die "no addon built for any of: ${triples[*]}"

# ---------------------------------------------------------------- main package, staged
# Staged rather than packed from the repo root: dist/ here is compiled fresh (no files left over
# from renamed sources, no source maps), and package.json gets the optionalDependencies that the
# repo's own must not carry (npm ci fails on optional packages the registry does not have yet).
log "staging zarrio $version (fresh TypeScript build)"
npx --no-install tsc -p tsconfig.json --outDir "$STAGE/dist" --sourceMap false --incremental false
node scripts/bundle.mjs "$STAGE/dist" --no-sourcemap
chmod +x "$STAGE/dist/cli.js"
mkdir -p "$STAGE/$WASM"
cp $WASM/*.js $WASM/*.d.ts $WASM/*.wasm "$STAGE/$WASM/"
cp README.md "$STAGE/"
node - "$STAGE/package.json" "${triples[@]}" <<'EOF'
const fs = require("node:fs");
const [out, ...triples] = process.argv.slice(2);
const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
// Development-only fields: the published package has no build, test or dev tooling.
delete pkg.scripts;
delete pkg.devDependencies;
pkg.optionalDependencies = Object.fromEntries(triples.map((t) => [`@zarrio/${t}`, pkg.version]));
fs.writeFileSync(out, JSON.stringify(pkg, null, 2) + "\n");
EOF

npm_pack() { # dir -> JSON of npm pack --json, tarball into $OUT
  (cd "$1" && npm pack --json --pack-destination "$OUT" 2>"$OUT/npm-pack.log") \
    || { cat "$OUT/npm-pack.log" >&2; die "npm pack $1 failed"; }
}
results="$OUT/results.jsonl"
: >"$results"
npm_pack "$STAGE" | node -e 'process.stdout.write(JSON.stringify(JSON.parse(require("fs").readFileSync(0, "utf8"))[0]) + "\n")' >>"$results"
for t in "${packed[@]}"; do
  npm_pack "npm/$t" | node -e 'process.stdout.write(JSON.stringify(JSON.parse(require("fs").readFileSync(0, "utf8"))[0]) + "\n")' >>"$results"
done

# ---------------------------------------------------------------- checks and report
node - "$results" "$OUT/packages.json" "$ADDONS" <<'EOF'
const fs = require("node:fs");
const [results, out, addonsFile] = process.argv.slice(2);
const packs = fs.readFileSync(results, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const addons = fs.readFileSync(addonsFile, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const main = packs.find((p) => p.name === "zarrio");
const paths = main.files.map((f) => f.path);
const problems = [];
const must = [
  "package.json", "README.md",
  "dist/index.js", "dist/index.d.ts", "dist/index.cjs", "dist/index.d.cts", "dist/cli.js", "dist/write-region-worker.js", "dist/web.js", "dist/web.d.ts",
  "bindings/wasm/pkg/zarrio_wasm.js", "bindings/wasm/pkg/zarrio_wasm_bg.wasm",
  // The browser page `zarrio serve-web` serves (and any static host can).
  "dist/web-page/index.html", "dist/web-page/page.js", "dist/web-page/worker.js", "dist/web-page/zarrio_wasm_bg.wasm", "dist/web-page/style.css",
];
for (const p of must) if (!paths.includes(p)) problems.push(`zarrio is missing ${p}`);
// Sources, tests, maps, native builds and caches have no place in the main package.
const unwanted = /(^|\/)(ts|test|crates|bench|node_modules|samples|examples|npm)\/|\.map$|\.node$|\.tsbuildinfo$|(^|\/)\.|(?<!\.d)\.c?ts$/;
for (const p of paths) if (unwanted.test(p)) problems.push(`zarrio should not ship ${p}`);
for (const p of packs.filter((x) => x !== main)) {
  const names = p.files.map((f) => f.path).sort();
  const triple = p.name.replace("@zarrio/", "");
  const want = ["package.json", `zarrio.${triple}.node`];
  if (names.join() !== want.join()) problems.push(`${p.name} holds ${names.join(", ")}, expected ${want.join(", ")}`);
}
const mb = (n) => (n / 2 ** 20).toFixed(2) + " MiB";
for (const p of packs) {
  console.error(`[pack] ${p.filename.padEnd(34)} ${mb(p.size).padStart(10)} packed, ${mb(p.unpackedSize).padStart(10)} unpacked, ${p.entryCount} files`);
}
fs.writeFileSync(out, JSON.stringify(packs.map(({ name, version, filename, size, unpackedSize, entryCount }) => {
  const addon = addons.find((a) => `@zarrio/${a.triple}` === name);
  return { name, version, filename, size, unpackedSize, entryCount, ...(addon ? { addon } : {}) };
}), null, 2) + "\n");
if (problems.length) {
  for (const p of problems) console.error(`[pack] ERROR: ${p}`);
  process.exit(1);
}
EOF
rm -f "$results" "$ADDONS" "$OUT/npm-pack.log"
log "tarballs in $OUT (list: $OUT/packages.json)"
