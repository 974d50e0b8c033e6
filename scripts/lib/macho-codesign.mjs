// Checks a Mach-O file's ad-hoc code signature: macOS on Apple silicon refuses to load code whose
// signature is missing or does not match the bytes (a strip after linking breaks it). Reads the
// LC_CODE_SIGNATURE blob, finds the CodeDirectory and compares each page's hash with the file.
//   node scripts/lib/macho-codesign.mjs FILE              -> prints "signed, N pages, sha256" or exits 1 with why
//   node scripts/lib/macho-codesign.mjs --optional FILE   an unsigned file passes ("unsigned"): Intel Macs
//                                                         load unsigned code; a signature present must match
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";

const optional = process.argv[2] === "--optional";
const file = process.argv[optional ? 3 : 2];
const b = readFileSync(file);
const fail = (why) => {
  console.error(`${file}: ${why}`);
  process.exit(1);
};
if (b.readUInt32LE(0) !== 0xfeedfacf) fail("not a 64-bit little-endian Mach-O file");
const ncmds = b.readUInt32LE(16);
let off = 32;
let sig;
for (let i = 0; i < ncmds; i++) {
  const cmd = b.readUInt32LE(off);
  const size = b.readUInt32LE(off + 4);
  if (cmd === 0x1d) sig = { dataoff: b.readUInt32LE(off + 8), datasize: b.readUInt32LE(off + 12) };
  off += size;
}
if (!sig) {
  if (optional) {
    console.log("unsigned");
    process.exit(0);
  }
  fail("no LC_CODE_SIGNATURE (macOS on arm64 will not load it)");
}
if (sig.dataoff + sig.datasize > b.length) fail("the signature runs past the end of the file");
// SuperBlob (big-endian): magic 0xfade0cc0, length, count, then (type, offset) pairs.
const sb = sig.dataoff;
if (b.readUInt32BE(sb) !== 0xfade0cc0) fail("the signature is not a code-signing SuperBlob");
const count = b.readUInt32BE(sb + 8);
let cd;
for (let i = 0; i < count; i++) {
  const type = b.readUInt32BE(sb + 12 + i * 8);
  const o = b.readUInt32BE(sb + 16 + i * 8);
  if (type === 0 && b.readUInt32BE(sb + o) === 0xfade0c02) cd = sb + o;
}
if (cd === undefined) fail("the signature has no CodeDirectory");
const hashOffset = b.readUInt32BE(cd + 16);
const nCodeSlots = b.readUInt32BE(cd + 28);
const codeLimit = b.readUInt32BE(cd + 32);
const hashSize = b[cd + 36];
const hashType = b[cd + 37];
const pageSize = 2 ** b[cd + 39];
const algo = { 1: "sha1", 2: "sha256" }[hashType];
if (!algo) fail(`unknown hash type ${hashType}`);
if (codeLimit !== sig.dataoff) fail(`the signature covers ${codeLimit} bytes, the code ends at ${sig.dataoff}`);
for (let i = 0; i < nCodeSlots; i++) {
  const page = b.subarray(i * pageSize, Math.min((i + 1) * pageSize, codeLimit));
  const want = b.subarray(cd + hashOffset + i * hashSize, cd + hashOffset + (i + 1) * hashSize);
  const got = createHash(algo).update(page).digest().subarray(0, hashSize);
  if (!got.equals(want)) fail(`page ${i} does not match its signed hash (modified after signing)`);
}
console.log(`signed, ${nCodeSlots} pages, ${algo}`);
