//! The TypeScript description of everything that crosses the boundary, generated from the Rust
//! types (ts-rs reads their serde attributes). `ts/backend/core-types.ts` is this module's
//! output; `tests/ts_types.rs` fails when it is stale, and `ZARRIO_WRITE_TYPES=1` rewrites it:
//!
//! ```sh
//! ZARRIO_WRITE_TYPES=1 cargo test -p zarrio-core --test ts_types
//! ```

use ts_rs::{Config, TS};

use crate::api::{BuildInfo, ChunksInRegion, ERROR_PREFIX};
use crate::codec::{BloscCname, Compressor, Pipeline, Shuffle};
use crate::encode::ArraySpec;
use crate::error::ErrorKind;
use crate::netcdf::{
    Attr, AttrValue, DimMeta, FileMeta, GroupMeta, JsonFloat, ReaderKind, SourceEncoding,
    UnsupportedVar, VarMeta,
};
use crate::pack::{Decoding, OutOfRange, PackParams, PackReport};
use crate::record::RecordField;
use crate::stats::Stats;
use crate::DType;

/// A type whose serde form is a string (or number) of its own making: declared by hand here,
/// next to the generated ones.
macro_rules! declared {
    ($ty:ty, $name:literal, $doc:literal, $ts:literal) => {
        impl TS for $ty {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;
            fn name(_: &Config) -> String {
                $name.into()
            }
            fn inline(_: &Config) -> String {
                $ts.into()
            }
            fn decl(_: &Config) -> String {
                format!("type {} = {};", $name, $ts)
            }
            fn decl_concrete(cfg: &Config) -> String {
                Self::decl(cfg)
            }
            fn docs() -> Option<String> {
                Some(format!("/** {} */\n", $doc))
            }
        }
    };
}

declared!(
    DType,
    "DType",
    "An element type: a number, text (\"str\") or a record of N bytes (\"record16\"), see `crate::dtype`.",
    "NumericType | \"str\" | `record${number}`"
);
declared!(
    JsonFloat,
    "JsonFloat",
    "A float that survives JSON: finite values as numbers, others as strings.",
    "number | \"NaN\" | \"Infinity\" | \"-Infinity\""
);

/// Every declaration, in one TypeScript module.
pub fn declarations() -> String {
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the Rust types in crates/core by crates/core/src/ts_types.rs: do not edit.\n\
         // Regenerate: ZARRIO_WRITE_TYPES=1 cargo test -p zarrio-core --test ts_types\n\n",
    );
    out.push_str(
        "/** The numeric element types (`DType` without text and records). */\n\
         export type NumericType =\n  | \"int8\" | \"uint8\" | \"int16\" | \"uint16\" | \"int32\" | \"uint32\" | \"int64\" | \"uint64\"\n  | \"float32\" | \"float64\";\n\n",
    );
    out.push_str(&format!(
        "/** What starts the text of every error the core throws (`api::error_text`): `{ERROR_PREFIX}<kind>] message`. */\nexport const CORE_ERROR_PREFIX = {ERROR_PREFIX:?};\n\n"
    ));
    macro_rules! emit {
        ($($t:ty),* $(,)?) => {$(
            if let Some(docs) = <$t as TS>::docs() {
                out.push_str(&docs);
            }
            out.push_str("export ");
            out.push_str(&<$t as TS>::decl(&cfg));
            out.push_str("\n\n");
        )*};
    }
    emit!(
        DType,
        JsonFloat,
        RecordField,
        AttrValue,
        Attr,
        DimMeta,
        SourceEncoding,
        VarMeta,
        UnsupportedVar,
        GroupMeta,
        FileMeta,
        ReaderKind,
        Stats,
        BloscCname,
        Shuffle,
        Compressor,
        Pipeline,
        ArraySpec,
        PackParams,
        Decoding,
        OutOfRange,
        PackReport,
        ChunksInRegion,
        BuildInfo,
        ErrorKind,
    );
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}
