/**
 * An archive as one ZIP file: the layout of zarr-python's `ZipStore` (every key a file at the
 * root of the ZIP, stored uncompressed: chunks are compressed already), which zarr-python and
 * xarray open with `zarr.storage.ZipStore(path, mode="r")`. ZIP64 records are written when the
 * ZIP needs them (more than 65,535 keys, or offsets and sizes past 4 GiB).
 *
 * The ZIP comes out as parts (headers and the stored values themselves, never joined), so a
 * browser saves it with `new Blob(parts)` and Node writes them one after another, without a
 * second copy of the archive in memory. Free of Node built-ins (`zarrio/web` uses it).
 */
import type { ReadableStore } from "./contract.js";
import { pushAll } from "../lists.js";

/** CRC-32 (ZIP's, reflected 0xEDB88320), table-driven. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const U32 = 0xffffffff;
const U16 = 0xffff;
/** General-purpose flag bit 11: file names are UTF-8. */
const UTF8 = 0x0800;

/** Little-endian fields of a ZIP record. */
class Record {
  private readonly view: DataView;
  readonly bytes: Uint8Array;
  private at = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u16(v: number): this {
    this.view.setUint16(this.at, v, true);
    this.at += 2;
    return this;
  }
  u32(v: number): this {
    this.view.setUint32(this.at, v >>> 0, true);
    this.at += 4;
    return this;
  }
  u64(v: number): this {
    this.view.setBigUint64(this.at, BigInt(v), true);
    this.at += 8;
    return this;
  }
  raw(b: Uint8Array): this {
    this.bytes.set(b, this.at);
    this.at += b.length;
    return this;
  }
}

export interface ZipOptions {
  /** Only keys under this prefix, stored without it (default: every key). */
  prefix?: string;
  /** Write ZIP64 records even when the ZIP does not need them (tests). */
  zip64?: boolean;
  /** The entries' modification time (default: now). */
  date?: Date;
}

/** A ZIP of every key of `store` (or of those under `options.prefix`), as parts to write in order. */
export async function zipParts(store: ReadableStore, options: ZipOptions = {}): Promise<Uint8Array[]> {
  const prefix = options.prefix ? options.prefix.replace(/\/?$/, "/") : "";
  const keys = (await store.list(prefix.replace(/\/$/, ""))).filter((k) => k.startsWith(prefix)).sort();
  const { time, date } = dosTime(options.date ?? new Date());
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const key of keys) {
    const value = await store.get(key);
    if (value === undefined) continue; // deleted since the listing
    const name = encoder.encode(key.slice(prefix.length));
    const crc = crc32(value);
    const big = options.zip64 || value.length >= U32 || offset >= U32;
    const version = big ? 45 : 20;
    // Local header: sizes in its ZIP64 extra field when big.
    const local = new Record(30 + name.length + (big ? 20 : 0))
      .u32(0x04034b50).u16(version).u16(UTF8).u16(0).u16(time).u16(date).u32(crc)
      .u32(big ? U32 : value.length).u32(big ? U32 : value.length).u16(name.length).u16(big ? 20 : 0)
      .raw(name);
    if (big) local.u16(0x0001).u16(16).u64(value.length).u64(value.length);
    parts.push(local.bytes, value);
    // Central directory entry: sizes and the local header's offset in ZIP64 when big.
    const entry = new Record(46 + name.length + (big ? 28 : 0))
      .u32(0x02014b50).u16(version).u16(version).u16(UTF8).u16(0).u16(time).u16(date).u32(crc)
      .u32(big ? U32 : value.length).u32(big ? U32 : value.length).u16(name.length).u16(big ? 28 : 0)
      .u16(0).u16(0).u16(0).u32(0).u32(big ? U32 : offset)
      .raw(name);
    if (big) entry.u16(0x0001).u16(24).u64(value.length).u64(value.length).u64(offset);
    central.push(entry.bytes);
    offset += local.bytes.length + value.length;
  }
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  const count = central.length;
  pushAll(parts, central);
  const big = options.zip64 || count >= U16 || offset >= U32 || cdSize >= U32;
  if (big) {
    // ZIP64 end of central directory record, then its locator.
    parts.push(
      new Record(56).u32(0x06064b50).u64(44).u16(45).u16(45).u32(0).u32(0).u64(count).u64(count).u64(cdSize).u64(offset).bytes,
      new Record(20).u32(0x07064b50).u32(0).u64(offset + cdSize).u32(1).bytes,
    );
  }
  parts.push(
    new Record(22)
      .u32(0x06054b50).u16(0).u16(0)
      .u16(big ? U16 : count).u16(big ? U16 : count)
      .u32(big ? U32 : cdSize).u32(big ? U32 : offset)
      .u16(0).bytes,
  );
  return parts;
}

/** MS-DOS time and date fields (local time, two-second steps, years from 1980). */
function dosTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}
