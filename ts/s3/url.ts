/** `s3://bucket/key/prefix` addresses: the one parser every command uses. */
import { ConfigError } from "../errors.js";

export interface S3Location {
  bucket: string;
  /** The key prefix (no leading or trailing slash; "" for the bucket's root). */
  prefix: string;
}

export const isS3Url = (s: string): boolean => /^s3:\/\//i.test(s);

export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(url);
  if (!m || !m[1]) throw new ConfigError(`'${url}' is not an s3://bucket/key address`, "s3");
  return { bucket: m[1], prefix: m[2]!.replace(/\/+$/, "") };
}

export const s3Url = (loc: S3Location, key = ""): string => `s3://${loc.bucket}/${[loc.prefix, key].filter(Boolean).join("/")}`;
