/**
 * The loader's choice of platform package: the names it looks for are the packages in npm/, each
 * declared for the os/cpu/libc it is built for, and the C library is told apart from the process's
 * memory map (glibc vs musl).
 */
import test, { describe } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

import { libcFromMaps, platformTriple, PREBUILT_TRIPLES } from "../dist/backend/index.js";
import { ROOT } from "./helpers.js";

describe("loader", () => {
  test("every prebuilt triple has a package in npm/ whose os, cpu and libc are that triple's", () => {
    assert.deepEqual(readdirSync(path.join(ROOT, "npm")).sort(), [...PREBUILT_TRIPLES].sort());
    for (const t of PREBUILT_TRIPLES) {
      const pkg = JSON.parse(readFileSync(path.join(ROOT, "npm", t, "package.json"), "utf8"));
      const [os, cpu, abi] = t.split("-");
      assert.equal(pkg.name, `@zarrio/${t}`);
      assert.deepEqual(pkg.os, [os], `${t}: os`);
      assert.deepEqual(pkg.cpu, [cpu], `${t}: cpu`);
      if (os === "linux") assert.deepEqual(pkg.libc, [abi === "musl" ? "musl" : "glibc"], `${t}: libc`);
      else assert.equal(pkg.libc, undefined, `${t}: libc is for Linux only`);
      assert.equal(pkg.main, `zarrio.${t}.node`);
      assert.deepEqual(pkg.files, [pkg.main]);
    }
    // The Windows package is the MinGW build, and that is the one the loader asks for on Windows.
    assert.ok(PREBUILT_TRIPLES.includes("win32-x64-gnu"));
    assert.ok(!PREBUILT_TRIPLES.some((t) => t.endsWith("-msvc")));
  });

  test("glibc and musl are told apart by the libraries mapped into the process", () => {
    const glibc = "7f1c2a000000-7f1c2a028000 r--p 00000000 08:01 1234 /usr/lib/x86_64-linux-gnu/libc.so.6\n";
    const muslAlpine = "7f00aa000000-7f00aa014000 r--p 00000000 00:2f 99 /lib/ld-musl-x86_64.so.1\n";
    const muslVoid = "7f00aa000000-7f00aa014000 r--p 00000000 00:2f 99 /usr/lib/libc.musl-x86_64.so.1\n";
    assert.equal(libcFromMaps(glibc), "gnu");
    assert.equal(libcFromMaps(muslAlpine), "musl");
    assert.equal(libcFromMaps(muslVoid), "musl");
    assert.equal(libcFromMaps("00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/node\n"), undefined);
  });

  test("this machine's triple is one with a package", () => {
    const t = platformTriple();
    if (process.platform === "linux") assert.match(t, /^linux-(x64|arm64)-(gnu|musl)$/);
    assert.ok(PREBUILT_TRIPLES.includes(t), `${t} has no platform package`);
  });
});
