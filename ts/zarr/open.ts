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
import { Archive } from "./archive.js";
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
 * gets it written again, since readers that open the enclosing archive
 * (`open_zarr("archive.zarr", group="sub")`) read the group's shapes from there. Folders only;
 * returns the enclosing archives rewritten.
 */
export async function consolidateEnclosing(location: string, log?: Logger): Promise<string[]> {
  if (isS3Url(location)) return [];
  const done: string[] = [];
  for (let dir = path.dirname(path.resolve(location)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const store = new FsStore(dir);
    const v3 = await store.get("zarr.json");
    if (!v3 && !(await store.has(".zgroup"))) break;
    const consolidated = v3 ? /"consolidated_metadata"\s*:\s*\{/.test(new TextDecoder().decode(v3)) : await store.has(".zmetadata");
    if (!consolidated) continue;
    await (await Archive.open(store)).consolidate();
    log?.info(`${dir}: its consolidated metadata, which lists ${location}, written again`);
    done.push(dir);
  }
  return done;
}
