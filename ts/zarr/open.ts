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

export interface StoreOptions {
  s3?: S3Settings;
  log?: Logger;
}

export function openStore(location: string, options: StoreOptions = {}): Store {
  if (isS3Url(location)) return new S3Store(location, s3Session(options.s3 ?? DEFAULT_CONFIG.s3, options.log));
  return new FsStore(location);
}
