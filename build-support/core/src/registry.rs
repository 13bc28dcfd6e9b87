//! The template registry: the source of every template, written into
//! `$OUT_DIR/shipwright/sources.bin`, that `shipwright_runtime::embedded_templates!()` embeds
//! with one `include_bytes!` beside the BuildCache file itself.
//!
//! ```
//! use shipwright_core::format::{BuildCache, TemplateRecord};
//! use shipwright_core::registry::{encode, split};
//!
//! let mut cache = BuildCache::new(vec!["templates".into()]);
//! for (name, source) in [("a.html", "<p>{{ a }}</p>"), ("b.html", "{% include 'a.html' %}")] {
//!     let mut record = TemplateRecord::including(name, &[]);
//!     record.size = source.len() as u64;
//!     cache.templates.insert(name.into(), record);
//! }
//! let file = encode(["<p>{{ a }}</p>", "{% include 'a.html' %}"].map(str::as_bytes));
//! assert_eq!(split(&cache, &file)?, ["<p>{{ a }}</p>", "{% include 'a.html' %}"]);
//! # Ok::<(), shipwright_core::registry::RegistryError>(())
//! ```
//!
//! The file is a header and the sources one after another, in the BuildCache's (name) order,
//! with nothing between them: each record's `size` is its source's length, so the BuildCache
//! locates every source and the registry follows the record's one definition
//! ([`crate::format::TemplateRecord`]). rustc reads one file, however many templates there are.
//! The header's first byte is not UTF-8, so rustc takes the file as binary and does not index it
//! as source text (for 10,000 templates of 2 KiB: 0.1 s of expansion instead of 0.45 s); the
//! rest of the header carries the format's version. The bytes are the files' own: no absolute
//! path, nothing that differs between two builds of the same tree.
//!
//! Why one generated file rather than an `include_str!` per template (the registry before) or
//! `linkme`/`inventory`: each `include_str!` costs rustc a macro expansion, a path lookup and a
//! source file of its own, about 1.4 s more than this file for 10,000 templates (BENCHMARKS.md,
//! "Registry compile time"); the file is deterministic, needs no linker support, and lists the
//! templates of the crate even where no Rust code binds them. The build script reruns whenever a
//! file under a root changes (`cargo:rerun-if-changed` on the root) and writes the file again, so
//! rustc needs to track only this file.

use crate::format::BuildCache;

/// Where the registry sits under `OUT_DIR`.
pub const FILE_NAME: &str = "shipwright/sources.bin";

/// The first bytes of the file: a byte that is never UTF-8, then the format and its version.
const HEADER: &[u8] = b"\xFFshipwright-sources 1\n";

/// Why the registry does not fit its BuildCache.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The file does not start with this version's header.
    #[error("not a shipwright sources file of this version")]
    Header,
    /// The records' sizes do not add up to the file's length.
    #[error("the BuildCache's templates hold {expected} bytes, the sources file {found}")]
    Length {
        /// The sum of the records' sizes.
        expected: u64,
        /// The bytes after the header.
        found: u64,
    },
    /// A template's bytes are not UTF-8 (the build reads only UTF-8 files).
    #[error("the source of {template} is not UTF-8")]
    NotUtf8 {
        /// The template's name.
        template: String,
    },
}

/// The registry holding `sources`, each the source of one template, in the BuildCache's order.
pub fn encode<'a>(sources: impl IntoIterator<Item = &'a [u8]> + Clone) -> Vec<u8> {
    let total: usize = parts(sources.clone()).map(<[u8]>::len).sum();
    let mut out = Vec::with_capacity(total);
    for part in parts(sources) {
        out.extend_from_slice(part);
    }
    out
}

/// The bytes of the registry holding `sources` (see [`encode`]) as the pieces they are laid
/// end to end from, for a writer that writes them as they are instead of copying them into one
/// buffer first.
///
/// ```
/// use shipwright_core::registry::{encode, parts};
///
/// let sources = ["<p>a</p>", "b"].map(str::as_bytes);
/// assert_eq!(parts(sources).collect::<Vec<_>>().concat(), encode(sources));
/// ```
pub fn parts<'a>(sources: impl IntoIterator<Item = &'a [u8]>) -> impl Iterator<Item = &'a [u8]> {
    std::iter::once(HEADER).chain(sources)
}

/// The source of every template of `cache`, in its order, from the registry `file` that was
/// written with it.
pub fn split<'a>(cache: &BuildCache, file: &'a [u8]) -> Result<Vec<&'a str>, RegistryError> {
    let body = file.strip_prefix(HEADER).ok_or(RegistryError::Header)?;
    let expected: u64 = cache.templates.values().map(|r| r.size).sum();
    if expected != body.len() as u64 {
        return Err(RegistryError::Length {
            expected,
            found: body.len() as u64,
        });
    }
    let mut at = 0;
    cache
        .templates
        .iter()
        .map(|(name, record)| {
            // The sizes add up to the body's length: each fits in `usize`.
            let end = at + record.size as usize;
            let source = std::str::from_utf8(&body[at..end]).map_err(|_| RegistryError::NotUtf8 {
                template: name.clone(),
            });
            at = end;
            source
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::TemplateRecord;

    fn cache(sizes: &[(&str, u64)]) -> BuildCache {
        let mut cache = BuildCache::new(vec!["templates".into()]);
        for &(name, size) in sizes {
            let mut record = TemplateRecord::including(name, &[]);
            record.size = size;
            cache.templates.insert(name.into(), record);
        }
        cache
    }

    #[test]
    fn sources_come_back_in_name_order_and_empty_ones_too() {
        let cache = cache(&[("a", 2), ("b", 0), ("c", 3)]);
        let file = encode([&b"aa"[..], b"", "é!".as_bytes()]);
        assert_eq!(file[0], 0xFF, "never UTF-8: rustc takes it as binary");
        assert_eq!(split(&cache, &file).unwrap(), ["aa", "", "é!"]);
        assert_eq!(
            split(&BuildCache::new(vec![]), &encode([])).unwrap(),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn a_file_that_does_not_fit_its_build_cache_is_refused() {
        let file = encode([&b"aa"[..], b"bbb"]);
        assert_eq!(
            split(&cache(&[("a", 2), ("b", 2)]), &file),
            Err(RegistryError::Length {
                expected: 4,
                found: 5
            })
        );
        assert_eq!(
            split(&cache(&[("a", 5)]), &file[1..]),
            Err(RegistryError::Header)
        );
        let cut = encode([&[b'a', 0xC3][..], b"\xA9"]);
        assert_eq!(
            split(&cache(&[("a", 2), ("b", 1)]), &cut),
            Err(RegistryError::NotUtf8 {
                template: "a".into()
            })
        );
    }
}
