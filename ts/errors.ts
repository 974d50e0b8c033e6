/**
 * Typed errors: one class per failure kind, each carrying what a user needs to fix the problem
 * (the file, the variable, the key path) and a distinct CLI exit code (documented in README).
 */
import { CORE_ERROR_PREFIX, type CoreErrorKind } from "./backend/core-types.js";

export interface ErrorContext {
  /** The NetCDF file or archive the problem is in. */
  file?: string;
  /** The variable concerned. */
  variable?: string;
  /** The underlying error. */
  cause?: unknown;
}

export class ZarrioError extends Error {
  /** Process exit code the CLI uses for this kind. */
  readonly exitCode: number = 1;
  readonly file?: string;
  readonly variable?: string;

  constructor(message: string, context: ErrorContext = {}) {
    super(ZarrioError.compose(message, context), context.cause === undefined ? undefined : { cause: context.cause });
    this.name = new.target.name;
    this.file = context.file;
    this.variable = context.variable;
  }

  private static compose(message: string, { file, variable }: ErrorContext): string {
    const where = [file, variable && `variable '${variable}'`].filter(Boolean).join(", ");
    return where ? `${where}: ${message}` : message;
  }
}

/** Invalid configuration or flags: refused before any file is touched. Exit 2. */
export class ConfigError extends ZarrioError {
  override readonly exitCode = 2;
  /** The configuration key path, e.g. `chunking.time` or `compression.clevel`. */
  readonly key?: string;
  constructor(message: string, key?: string, context: ErrorContext = {}) {
    super(key ? `${key}: ${message}` : message, context);
    this.key = key;
  }
}

/** A NetCDF source that cannot be read (missing, corrupt, truncated, not NetCDF). Exit 3. */
export class SourceReadError extends ZarrioError {
  override readonly exitCode = 3;
}

/** A source that does not fit the archive (variables, dims, shapes, dtypes, units). Exit 4. */
export class IncompatibleSourceError extends ZarrioError {
  override readonly exitCode = 4;
}

/** A region that cannot be placed (times missing, outside, irregular; bad manual region). Exit 5. */
export class RegionError extends ZarrioError {
  override readonly exitCode = 5;
}

/** Values outside a packing range under the `error` policy. Exit 6. */
export class PackingRangeError extends ZarrioError {
  override readonly exitCode = 6;
}

/** Data still missing after every retry of a write. Exit 7. */
export class RetryLimitExceededError extends ZarrioError {
  override readonly exitCode = 7;
}

/** The archive or its store cannot be read or written (permissions, missing, malformed). Exit 8. */
export class StoreError extends ZarrioError {
  override readonly exitCode = 8;
}

/** A failure during conversion that fits no other kind. Exit 9. */
export class ConversionError extends ZarrioError {
  override readonly exitCode = 9;
}

/** A finished archive that fails validation. Exit 10. */
export class ValidationError extends ZarrioError {
  override readonly exitCode = 10;
}

/**
 * A variable of a type zarrio does not store (a NetCDF-4 vlen, a compound with text, array or
 * nested fields):
 * refused by name rather than left out, unless the user drops it (`--drop-variables`). Exit 11.
 */
export class UnsupportedTypeError extends ZarrioError {
  override readonly exitCode = 11;
}

/** The error class each kind of core error becomes (the core's `ErrorKind`; complete by type). */
const CORE_ERRORS: Record<CoreErrorKind, new (message: string, context: ErrorContext) => ZarrioError> = {
  read: SourceReadError,
  not_found: SourceReadError,
  range_exceeded: PackingRangeError,
  invalid: IncompatibleSourceError,
  codec: ConversionError,
  unsupported: ConversionError,
};

/**
 * Turn an error thrown by the Rust core (its text `[zarrio:<kind>] message`, see the core's
 * `api::error_text`) into the class for its kind, adding the file and variable the caller knows.
 * Anything else thrown while calling the core becomes a ConversionError.
 */
export function fromCore(error: unknown, context: ErrorContext = {}): ZarrioError {
  if (error instanceof ZarrioError) return error;
  const text = error instanceof Error ? error.message : String(error);
  const ctx = { ...context, cause: error };
  if (text.startsWith(CORE_ERROR_PREFIX)) {
    const end = text.indexOf("] ", CORE_ERROR_PREFIX.length);
    const kind = text.slice(CORE_ERROR_PREFIX.length, end) as CoreErrorKind;
    const Class = end > 0 ? CORE_ERRORS[kind] : undefined;
    if (Class) return new Class(text.slice(end + 2), ctx);
  }
  return new ConversionError(text, ctx);
}

/** A CF time problem found in a source file, as an IncompatibleSourceError naming the file. */
export function timeProblem(error: unknown, file: string): ZarrioError {
  if (error instanceof ZarrioError) return error;
  return new IncompatibleSourceError((error as Error).message, { file, cause: error });
}
