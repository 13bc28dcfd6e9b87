//! Stage 3b: every variable the bound template reads (through its whole closure) that the
//! struct does not provide is a compile error, pointing at the `path = "..."` literal, naming
//! the variable, the template file and line where it is read, the struct's fields and the
//! closest of them. The rule is [`shipwright_core::context::missing_reads`], the one the
//! rebuild planner uses too: the struct provides its serde names ([`crate::names`]), the app
//! its globals (`#[shipwright(globals(...))]` and the BuildCache's declared ones), the
//! templates what they define; optional reads (`|default`, `is defined`) never count.
//!
//! A struct whose names only another type knows (a `#[serde(flatten)]` field,
//! `#[serde(transparent)]`, `#[serde(into)]`, a newtype struct) is not checked.

use std::fmt::Write;

use shipwright_core::context::{MissingRead, missing_reads};
use shipwright_core::format::BuildCache;
use syn::{Error, Ident, LitStr, Result};

use crate::attr::Options;
use crate::cache::{self, Env};
use crate::names::{Names, Provided};
use crate::valid::{cache_error, closest};

/// Checks the variables of the template `lit` names against what `ident` provides.
pub(crate) fn check(
    lit: &LitStr,
    env: &Env,
    ident: &Ident,
    provided: &Provided,
    options: &Options,
) -> Result<()> {
    let Provided::Names(provided) = provided else {
        return Ok(());
    };
    let (cache, _) = cache::load(env).map_err(|err| cache_error(lit, &err))?;
    let template = lit.value();
    let missing = missing_reads(
        &cache,
        &template,
        provided.names.iter().map(String::as_str),
        options.globals.iter().map(String::as_str),
    );
    // One error per variable, at its first read, in the order the reads were found.
    let mut by_variable: Vec<(&str, Vec<&MissingRead>)> = Vec::new();
    for read in &missing {
        match by_variable.iter_mut().find(|(v, _)| *v == read.variable) {
            Some((_, reads)) => reads.push(read),
            None => by_variable.push((&read.variable, vec![read])),
        }
    }
    let mut errors = by_variable.into_iter().map(|(variable, reads)| {
        Error::new(
            lit.span(),
            message(&cache, &template, ident, provided, variable, &reads),
        )
    });
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            for error in errors {
                first.combine(error);
            }
            Err(first)
        }
    }
}

#[cold]
fn message(
    cache: &BuildCache,
    template: &str,
    ident: &Ident,
    provided: &Names,
    variable: &str,
    reads: &[&MissingRead],
) -> String {
    let at = |read: &MissingRead| {
        let file = cache
            .relative_path(&read.template)
            .unwrap_or_else(|| read.template.clone());
        format!("{file}:{}", read.line)
    };
    let mut message = format!(
        "template \"{template}\" reads `{variable}` at {}",
        at(reads[0])
    );
    if reads.len() > 1 {
        let more: Vec<String> = reads[1..].iter().take(3).map(|r| at(r)).collect();
        let _ = write!(message, " (and at {})", more.join(", "));
    }
    let _ = write!(message, ", but `{ident}` does not provide it");
    let names = &provided.names;
    if names.is_empty() {
        let _ = write!(message, " (`{ident}` has no fields)");
    } else {
        let fields: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        let what = if provided.renamed {
            "fields, as serde names them"
        } else {
            "fields"
        };
        let _ = write!(message, " ({what}: {})", fields.join(", "));
    }
    let hidden = provided.hidden.iter().find(|(rust, _)| rust == variable);
    match (
        hidden,
        closest(variable, names.iter().map(String::as_str)).first(),
    ) {
        (Some((_, Some(serde))), _) => {
            let _ = write!(message, "; serde names the field `{variable}` `{serde}`");
        }
        (Some((_, None)), _) => {
            let _ = write!(message, "; serde skips the field `{variable}`");
        }
        (None, Some(near)) => {
            let _ = write!(message, "; the closest field is `{near}`");
        }
        (None, None) => {
            let _ = write!(
                message,
                "; add the field, or, if the app provides it to every template, declare it: \
                 #[shipwright(globals({variable}))]"
            );
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::valid::tests::Fixture;
    use proc_macro2::Span;

    fn site() -> Fixture {
        Fixture::analysed(&[
            (
                "pages/home.html",
                "{% extends \"layout.html\" %}\n{% block body %}{{ user.name }}{% endblock %}",
            ),
            (
                "layout.html",
                "<title>{{ title }}</title>\n{% include \"nav.html\" %}{{ lang|default('en') }}",
            ),
            (
                "nav.html",
                "{% for link in links %}{{ link }}{% endfor %}\n{{ cart }}",
            ),
        ])
    }

    fn errors(fixture: &Fixture, names: &[&str], globals: &[&str]) -> Vec<String> {
        let provided = Provided::Names(Names {
            names: names.iter().map(|n| n.to_string()).collect(),
            ..Names::default()
        });
        let options = Options {
            globals: globals.iter().map(|g| g.to_string()).collect(),
        };
        let lit = LitStr::new("pages/home.html", Span::call_site());
        let ident = Ident::new("Home", Span::call_site());
        match check(&lit, &fixture.env(), &ident, &provided, &options) {
            Ok(()) => Vec::new(),
            Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn every_missing_variable_is_an_error_with_file_line_fields_and_the_closest() {
        let fixture = site();
        let found = errors(&fixture, &["title", "user", "link", "card"], &[]);
        assert_eq!(
            found,
            [
                "template \"pages/home.html\" reads `links` at templates/nav.html:1, but `Home` \
                 does not provide it (fields: `title`, `user`, `link`, `card`); the closest field \
                 is `link`",
                "template \"pages/home.html\" reads `cart` at templates/nav.html:2, but `Home` \
                 does not provide it (fields: `title`, `user`, `link`, `card`); the closest field \
                 is `card`",
            ]
        );
        let found = errors(&fixture, &[], &[]);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(
            found[0].starts_with("template \"pages/home.html\" reads `user` at templates/pages/home.html:2, but `Home` does not provide it (`Home` has no fields); add the field, or, if the app provides it to every template, declare it: #[shipwright(globals(user))]"),
            "{found:?}"
        );
    }

    #[test]
    fn globals_fields_and_unknown_names_pass() {
        let fixture = site();
        assert!(errors(&fixture, &["title", "user", "links"], &["cart"]).is_empty());
        let mut fixture = site();
        fixture.cache.globals = vec!["cart".into(), "links".into()];
        assert!(errors(&fixture, &["title", "user"], &[]).is_empty());
        // Names only another type knows: nothing is checked.
        let lit = LitStr::new("pages/home.html", Span::call_site());
        let ident = Ident::new("Home", Span::call_site());
        let unknown = Provided::Unknown("flatten");
        assert!(check(&lit, &fixture.env(), &ident, &unknown, &Options::default()).is_ok());
    }
}
