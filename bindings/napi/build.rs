fn main() {
    napi_build::setup();
    // HDF5 (built from source by hdf5-metno-src) calls shlwapi's StrStrIA on Windows, and links it
    // only for MSVC: the MinGW build (x86_64-pc-windows-gnu) names it at the end of the link line.
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "windows" && env == "gnu" {
        println!("cargo:rustc-link-arg=-lshlwapi");
    }
}
