//! Configuration from `Cargo.toml`: `[package.metadata.shipwright]`, over
//! `[workspace.metadata.shipwright]`, read with `cargo metadata --no-deps --offline`.
//!
//! ```toml
//! [package.metadata.shipwright]
//! # Searched in order. A table names a directory of another member of the workspace, such as
//! # a `ui` crate that holds the shared layouts.
//! roots = ["templates", { package = "ui", path = "templates" }]
//! extensions = ["html", "txt"]
//! # Names every template may read without a struct providing them.
//! globals = ["app_name", "csrf_token"]
//! ```
//!
//! Each key of the package's table replaces the workspace's; a setting made on the
//! [`Builder`](crate::Builder) in `build.rs` replaces both.

use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

/// The keys of a `shipwright` metadata table; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Settings {
    pub(crate) roots: Option<Vec<RootSpec>>,
    pub(crate) extensions: Option<Vec<String>>,
    pub(crate) globals: Option<Vec<String>>,
}

/// A template root: a directory of this crate, or of another member of the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum RootSpec {
    /// Relative to this crate's manifest directory.
    Dir(PathBuf),
    /// Relative to the manifest directory of the workspace member `package`.
    Member {
        package: String,
        #[serde(default = "default_root")]
        path: PathBuf,
    },
}

fn default_root() -> PathBuf {
    PathBuf::from("templates")
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `cargo metadata` failed.
    #[error("cannot read the configuration of {}: cargo metadata: {message}", manifest.display())]
    Metadata {
        /// The manifest asked about.
        manifest: PathBuf,
        /// What cargo said.
        message: String,
    },
    /// A `shipwright` table has a key or value it should not.
    #[error("{}: [{table}.metadata.shipwright]: {message}", manifest.display())]
    Invalid {
        /// The manifest holding the table.
        manifest: PathBuf,
        /// `package` or `workspace`.
        table: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A root names a package that is not a member of the workspace.
    #[error(
        "{}: [package.metadata.shipwright] roots: no workspace member named {package:?} (members: {members})",
        manifest.display()
    )]
    UnknownPackage {
        /// The manifest holding the table.
        manifest: PathBuf,
        /// The name it gave.
        package: String,
        /// The members there are.
        members: String,
    },
}

/// The crate's settings, and the manifests they came from (for `rerun-if-changed`).
pub(crate) struct Loaded {
    pub(crate) settings: Settings,
    /// Roots as directories on disk (members resolved), when configured.
    pub(crate) roots: Option<Vec<PathBuf>>,
    pub(crate) manifests: Vec<PathBuf>,
}

/// Reads the settings of the package whose manifest directory is `manifest_dir`.
pub(crate) fn load(manifest_dir: &Path) -> Result<Loaded, ConfigError> {
    let manifest = manifest_dir.join("Cargo.toml");
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(&manifest)
        .no_deps()
        .other_options(vec!["--offline".to_string()])
        .exec()
        .map_err(|e| ConfigError::Metadata {
            manifest: manifest.clone(),
            message: e.to_string(),
        })?;
    let real_manifest = manifest.canonicalize().unwrap_or(manifest.clone());
    let package = metadata
        .packages
        .iter()
        .find(|p| {
            p.manifest_path.as_std_path().canonicalize().ok().as_deref() == Some(&*real_manifest)
        })
        .ok_or_else(|| ConfigError::Metadata {
            manifest: manifest.clone(),
            message: "the package is not in its own metadata".into(),
        })?;
    let workspace_manifest = metadata.workspace_root.as_std_path().join("Cargo.toml");
    let workspace = table(
        &metadata.workspace_metadata,
        &workspace_manifest,
        "workspace",
    )?;
    let own = table(&package.metadata, &manifest, "package")?;
    let settings = Settings {
        roots: own.roots.or(workspace.roots),
        extensions: own.extensions.or(workspace.extensions),
        globals: own.globals.or(workspace.globals),
    };
    let roots = match &settings.roots {
        None => None,
        Some(specs) => Some(
            specs
                .iter()
                .map(|spec| match spec {
                    RootSpec::Dir(dir) => Ok(dir.clone()),
                    RootSpec::Member { package, path } => {
                        let member = metadata
                            .workspace_packages()
                            .into_iter()
                            .find(|p| p.name.as_str() == package)
                            .ok_or_else(|| ConfigError::UnknownPackage {
                                manifest: manifest.clone(),
                                package: package.clone(),
                                members: metadata
                                    .workspace_packages()
                                    .iter()
                                    .map(|p| p.name.to_string())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                            })?;
                        let dir = member
                            .manifest_path
                            .as_std_path()
                            .parent()
                            .unwrap_or(Path::new("."));
                        Ok(relative_to(manifest_dir, &dir.join(path)))
                    }
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let mut manifests = vec![manifest];
    if workspace_manifest.is_file() && !manifests.contains(&workspace_manifest) {
        manifests.push(workspace_manifest);
    }
    Ok(Loaded {
        settings,
        roots,
        manifests,
    })
}

/// The `shipwright` table of a `metadata` value (`null` or a table without it: no settings).
fn table(
    metadata: &serde_json::Value,
    manifest: &Path,
    table: &'static str,
) -> Result<Settings, ConfigError> {
    match metadata.get("shipwright") {
        None | Some(serde_json::Value::Null) => Ok(Settings::default()),
        Some(value) => Settings::deserialize(value).map_err(|e| ConfigError::Invalid {
            manifest: manifest.to_path_buf(),
            table,
            message: e.to_string(),
        }),
    }
}

/// `target` relative to `base` (both absolute, or both relative to one place), `..` where
/// needed: the BuildCache names roots relative to the manifest directory, never absolute.
fn relative_to(base: &Path, target: &Path) -> PathBuf {
    let base = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    let target = target
        .canonicalize()
        .unwrap_or_else(|_| target.to_path_buf());
    let (b, t): (Vec<Component<'_>>, Vec<Component<'_>>) =
        (base.components().collect(), target.components().collect());
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for part in &t[common..] {
        out.push(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_out_of_the_manifest_directory() {
        assert_eq!(
            relative_to(Path::new("/w/app"), Path::new("/w/ui/templates")),
            Path::new("../ui/templates")
        );
        assert_eq!(
            relative_to(Path::new("/w/app"), Path::new("/w/app/templates")),
            Path::new("templates")
        );
    }

    #[test]
    fn a_table_is_read_strictly() {
        let value = serde_json::json!({ "shipwright": {
            "roots": ["templates", { "package": "ui" }],
            "globals": ["app_name"],
        }});
        let settings = table(&value, Path::new("Cargo.toml"), "package").unwrap();
        assert_eq!(
            settings.roots.unwrap(),
            [
                RootSpec::Dir("templates".into()),
                RootSpec::Member {
                    package: "ui".into(),
                    path: "templates".into()
                }
            ]
        );
        assert_eq!(settings.extensions, None);
        let typo = serde_json::json!({ "shipwright": { "root": ["t"] } });
        let err = table(&typo, Path::new("app/Cargo.toml"), "package").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("app/Cargo.toml: [package.metadata.shipwright]: unknown field `root`"),
            "{err}"
        );
        assert_eq!(
            table(&serde_json::Value::Null, Path::new("x"), "package").unwrap(),
            Settings::default()
        );
    }
}
