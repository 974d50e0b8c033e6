/**
 * NetCDF inputs at s3:// addresses. A NetCDF-4 file is HDF5, read by seeking all over it, so the
 * object is streamed whole (one GET, retried from the start if cut) into a temporary file, which
 * the readers then open like any local file. Memory stays at the stream's buffers (about 64 KiB),
 * whatever the file's size; the disk holds one temporary file per open input, in TMPDIR (or
 * ZARRIO_TMPDIR), unlinked as soon as the reader has it open.
 */
import { createWriteStream, promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";

import { SourceReadError } from "../errors.js";
import { segmentRegex } from "../glob.js";
import { listKeys, NOT_HANDLED, type S3Session } from "./session.js";
import { parseS3Url } from "./url.js";

export interface FetchedInput {
  /** The temporary file. */
  path: string;
  bytes: number;
  /** Unlink it (open readers keep their handle). */
  remove(): Promise<void>;
}

export async function fetchInput(url: string, session: S3Session): Promise<FetchedInput> {
  const loc = parseS3Url(url);
  const dir = process.env.ZARRIO_TMPDIR ?? tmpdir();
  const file = path.join(dir, `zarrio-input-${process.pid}-${randomBytes(6).toString("hex")}${path.extname(loc.prefix)}`);
  const remove = () => fs.rm(file, { force: true });
  try {
    const bytes = await session.send<number | undefined>({
      op: "GET",
      what: url,
      command: (sdk) => new sdk.GetObjectCommand({ Bucket: loc.bucket, Key: loc.prefix }),
      consume: async (out) => {
        // Each attempt starts the file again.
        await pipeline(out.Body as Readable, createWriteStream(file));
        const { size } = await fs.stat(file);
        if (typeof out.ContentLength === "number" && size !== out.ContentLength) {
          throw Object.assign(new Error(`body cut short: ${size} of ${out.ContentLength} bytes`), { name: "TruncatedBody" });
        }
        session.counts.bytesDown += size;
        return size;
      },
      answer: (e) => ((e as Error)?.name === "NoSuchKey" ? undefined : NOT_HANDLED),
    });
    if (bytes === undefined) throw new SourceReadError("no such object", { file: url });
    return { path: file, bytes, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

/** Every object under an s3:// prefix whose name matches `pattern` (`*`, `?`), sorted: the glob of s3:// inputs. */
export async function listInputs(pattern: string, session: S3Session): Promise<string[]> {
  const loc = parseS3Url(pattern);
  const firstGlob = loc.prefix.search(/[*?[]/);
  const fixed = firstGlob < 0 ? loc.prefix : loc.prefix.slice(0, firstGlob);
  const re = segmentRegex(loc.prefix);
  const keys = await listKeys(session, loc.bucket, fixed, `s3://${loc.bucket}/${fixed}`);
  return keys.filter((k) => re.test(k)).sort().map((k) => `s3://${loc.bucket}/${k}`);
}
