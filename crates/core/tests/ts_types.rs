//! `ts/backend/core-types.ts` is what `zarrio_core::ts_types::declarations` generates from the
//! Rust types: a change to a type that crosses the boundary must regenerate it
//! (`ZARRIO_WRITE_TYPES=1 cargo test -p zarrio-core --test ts_types`).

use std::path::PathBuf;

#[test]
fn typescript_declarations_are_current() {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ts/backend/core-types.ts");
    let generated = zarrio_core::ts_types::declarations();
    if std::env::var_os("ZARRIO_WRITE_TYPES").is_some() {
        std::fs::write(&file, &generated).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        current == generated,
        "{} is stale: the Rust types that cross the boundary changed. Regenerate it with\n  \
         ZARRIO_WRITE_TYPES=1 cargo test -p zarrio-core --test ts_types",
        file.display()
    );
}
