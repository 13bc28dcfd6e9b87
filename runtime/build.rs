//! Tells the build scripts of the crates that depend on this one whether its `dev` feature is on
//! (`DEP_SHIPWRIGHT_RUNTIME_DEV=1`): `shipwright_build::Builder` reads it to know a dev build,
//! in which it does not track the template roots (see `shipwright_core::devbuild`).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_DEV").is_some() {
        println!("cargo::metadata=dev=1");
    }
}
