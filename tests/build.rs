//! The BuildCache of `templates/`, as any application's build script makes it; and the
//! `ui_toolchain` cfg, set when rustc is the one the UI tests' `.stderr` files were recorded on.

/// The `.stderr` files under `ui/` are this rustc's output.
const UI_TOOLCHAIN: &str = "rustc 1.95.";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    shipwright_build::Builder::new().root("templates").build()?;

    println!("cargo::rustc-check-cfg=cfg(ui_toolchain)");
    println!("cargo::rerun-if-env-changed=RUSTC");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()?;
    let version = String::from_utf8_lossy(&version.stdout);
    if version.starts_with(UI_TOOLCHAIN) {
        println!("cargo::rustc-cfg=ui_toolchain");
    } else {
        println!(
            "cargo::warning=UI tests skipped: their .stderr files are for {UI_TOOLCHAIN}x, this is {}",
            version.trim()
        );
    }
    Ok(())
}
