/**
 * From an address to a Store: `s3://bucket/prefix` → S3Store, anything else → a folder (FsStore).
 * Every command opens archives through here, so each one takes both.
 */
import { DEFAULT_CONFIG } from "../config/model.js";
import type { Logger } from "../log.js";
import type { Store } from "./contract.js";
import { S3Store } from "../s3/store.js";
import { s3Session, type S3Settings } from "../s3/session.js";
import { isS3Url } from "../s3/url.js";
import { FsStore } from "./store.js";
import { parseJsonExt, stringifyJsonExt } from "../json.js";
import { sortKeys } from "./archive.js";
import path from "node:path";

export interface StoreOptions {
  s3?: S3Settings;
  log?: Logger;
}

export function openStore(location: string, options: StoreOptions = {}): Store {
  if (isS3Url(location)) return new S3Store(location, s3Session(options.s3 ?? DEFAULT_CONFIG.s3, options.log));
  return new FsStore(location);
}

/**
 * An archive written as a group of another (a folder like `archive.zarr/sub`, where xarray's
 * `to_zarr(group="sub")` puts it): every enclosing Zarr group that keeps consolidated metadata
 * gets this group's entries in it replaced by the group's own consolidated metadata (just
 * written), since readers that open the enclosing archive (`open_zarr("archive.zarr",
 * group="sub")`) read the group's shapes from there. Nothing else of the enclosing archive is
 * read or listed. Folders only; returns the enclosing archives updated.
 */
export async function consolidateEnclosing(location: string, log?: Logger): Promise<string[]> {
  if (isS3Url(location)) return [];
  const child = path.resolve(location);
  const own = new FsStore(child);
  const done: string[] = [];
  for (let dir = path.dirname(child); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const parent = new FsStore(dir);
    const rel = path.relative(dir, child).split(path.sep).join("/");
    const v3 = await readJson(parent, "zarr.json");
    if (v3) {
      const cm = v3.consolidated_metadata as Record<string, unknown> | null | undefined;
      const mine = await readJson(own, "zarr.json");
      if (cm && typeof cm.metadata === "object" && mine) {
        const entries = { ...(cm.metadata as Record<string, unknown>) };
        for (const key of Object.keys(entries)) if (key === rel || key.startsWith(`${rel}/`)) delete entries[key];
        entries[rel] = { zarr_format: 3, node_type: "group", attributes: mine.attributes ?? {} };
        const inner = ((mine.consolidated_metadata as Record<string, unknown> | null)?.metadata ?? {}) as Record<string, unknown>;
        for (const [key, doc] of Object.entries(inner)) entries[`${rel}/${key}`] = doc;
        await parent.set("zarr.json", new TextEncoder().encode(stringifyJsonExt({ ...v3, consolidated_metadata: { ...cm, metadata: sortKeys(entries) } })));
        done.push(dir);
      }
      continue;
    }
    if (!(await parent.has(".zgroup"))) break;
    const zm = await readJson(parent, ".zmetadata");
    const mine = await readJson(own, ".zmetadata");
    if (zm && typeof zm.metadata === "object" && mine) {
      const entries = { ...(zm.metadata as Record<string, unknown>) };
      for (const key of Object.keys(entries)) if (key.startsWith(`${rel}/`)) delete entries[key];
      for (const [key, doc] of Object.entries((mine.metadata ?? {}) as Record<string, unknown>)) entries[`${rel}/${key}`] = doc;
      await parent.set(".zmetadata", new TextEncoder().encode(stringifyJsonExt({ ...zm, metadata: sortKeys(entries) })));
      done.push(dir);
    }
  }
  for (const dir of done) log?.info(`${dir}: the consolidated metadata it keeps of ${location} brought up to date`);
  return done;
}

async function readJson(store: FsStore, key: string): Promise<Record<string, unknown> | undefined> {
  const bytes = await store.get(key);
  return bytes && (parseJsonExt(new TextDecoder().decode(bytes)) as Record<string, unknown>);
}
