//! The shared browser support, and this app started as a process over a copy of its
//! templates.
#![allow(dead_code, unreachable_pub)]

#[path = "../../../support/browser.rs"]
mod browser;

use std::ffi::OsStr;
use std::path::PathBuf;

pub use browser::*;

/// A copy of the app's templates in a temporary directory the test may edit.
pub struct Templates {
    site: Site,
    pub root: PathBuf,
}

impl Templates {
    pub fn copy() -> Templates {
        let site = Site::copy(env!("CARGO_MANIFEST_DIR"), &["templates"]);
        let root = site.path("templates");
        Templates { site, root }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    /// Saves as many editors do (a temporary file renamed over the template).
    pub fn write(&self, name: &str, text: &str) {
        self.site.write(&format!("templates/{name}"), text);
    }
}

/// The app's binary, serving `templates` on a free loopback port.
pub async fn start(templates: &Templates, extra: &[&str]) -> App {
    let mut args: Vec<&OsStr> = vec![
        "--addr".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--templates".as_ref(),
        templates.root.as_os_str(),
    ];
    args.extend(extra.iter().map(|a| OsStr::new(*a)));
    App::start(env!("CARGO_BIN_EXE_liveview-app"), &args, &[]).await
}
