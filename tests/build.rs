//! The BuildCache of `templates/`, as any application's build script makes it.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let built = shipwright_build::Builder::new().root("templates").build()?;
    // Until the Builder writes the registry itself.
    let cache = shipwright_build::format::BuildCache::load(&built.path)?;
    let out_dir = std::path::PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    std::fs::write(out_dir.join(shipwright_build::registry::FILE_NAME), shipwright_build::registry::render(&cache))?;
    Ok(())
}
