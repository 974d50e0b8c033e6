#!/usr/bin/env bash
# Makes the npm tarballs, napi-rs style, into .pack/ (git-ignored):
#   zarrio-<v>.tgz                 the main package: dist/ (ESM, CommonJS entry, .d.ts), the WebAssembly
#                                  build (the fallback, and zarrio/web), README; the platform packages
#                                  are its optionalDependencies, written into its package.json here
#   zarrio-<triple>-<v>.tgz        @zarrio/<triple>: one stripped .node, for every npm/<triple>/ whose
#                                  addon is built (bindings/napi/zarrio.<triple>.node)
# and checks them: the main package holds what it must and nothing heavy or private; a Linux .node
# needs no shared library beyond libc/libm/libgcc_s (NetCDF, HDF5, blosc, szip and libstdc++ are
# linked in); all versions agree. Also writes .pack/packages.json (what was packed, with sizes).
#
#   bash scripts/pack.sh             build what is out of date (scripts/build.sh native wasm), then pack
#   bash scripts/pack.sh --no-build  pack the artifacts as they are (fails if one is missing)
#   bash scripts/pack.sh --out DIR   into DIR instead of .pack/ (the install test packs into its own)
#
# Addons for the other targets are built on machines with their toolchains:
#   npx napi build --cwd bindings/napi --platform --release --no-js --output-dir . --target <rust triple>
# puts bindings/napi/zarrio.<triple>.node where this script finds it.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
ZARRIO_CACHE="${ZARRIO_CACHE:-$HOME/.cache/zarrio}"
# shellcheck disable=SC1091
[[ -f "$ZARRIO_CACHE/env.sh" ]] && . "$ZARRIO_CACHE/env.sh"
OUT="$REPO/.pack"
log() { printf '[pack] %s\n' "$*" >&2; }
die() { printf '[pack] ERROR: %s\n' "$*" >&2; exit 1; }

build=1
while (($#)); do
  case "$1" in
    --no-build) build=0 ;;
    --out) OUT="$(mkdir -p "${2:?--out needs a directory}" && cd "$2" && pwd)"; shift ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
STAGE="$OUT/stage"
((build)) && bash scripts/build.sh native wasm

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

# ---------------------------------------------------------------- the addon's shared libraries
# Allowed: the C runtime every Linux has. Anything else (libnetcdf, libhdf5, libblosc, libsz,
# libstdc++, libz, ...) would make the prebuilt addon fail on a machine without it.
ALLOWED_NEEDED='^(libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux[-a-z0-9_.]*\.so\.[0-9]+)$'
check_links() { # file name-in-messages
  local f="$1" name="$2" needed bad glibc
  needed="$(objdump -p "$f" | awk '$1 == "NEEDED" {print $2}')"
  bad="$(grep -Ev "$ALLOWED_NEEDED" <<<"$needed" || true)"
  [[ -z "$bad" ]] || die "$name needs shared libraries that are not on every machine: $(echo $bad)"
  if ldd "$f" >/dev/null 2>&1; then   # ldd only works for the host's architecture
    ! ldd "$f" | grep -q 'not found' || die "$name: ldd reports a missing library: $(ldd "$f" | grep 'not found')"
  fi
  glibc="$(objdump -T "$f" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
  log "$name: NEEDED $(echo $needed); newest symbol version ${glibc:-none}"
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
    strip --strip-unneeded "$shipped.tmp.$$" 2>/dev/null || log "strip cannot read $built (another architecture); shipped as built"
    check_links "$shipped.tmp.$$" "$shipped"
  fi
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
node - "$results" "$OUT/packages.json" <<'EOF'
const fs = require("node:fs");
const [results, out] = process.argv.slice(2);
const packs = fs.readFileSync(results, "utf8").trim().split("\n").map((l) => JSON.parse(l));
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
fs.writeFileSync(out, JSON.stringify(packs.map(({ name, version, filename, size, unpackedSize, entryCount }) => ({ name, version, filename, size, unpackedSize, entryCount })), null, 2) + "\n");
if (problems.length) {
  for (const p of problems) console.error(`[pack] ERROR: ${p}`);
  process.exit(1);
}
EOF
rm -f "$results" "$OUT/npm-pack.log"
log "tarballs in $OUT (list: $OUT/packages.json)"
