//! The code generation behind `shipwright-macros` (`#[derive(Template)]` and `template!`), as a
//! plain library that tests call without a compiler. Applications use the macros through
//! `shipwright-runtime`; nothing here is meant for them.
//!
//! ```
//! use quote::quote;
//! use shipwright_derive::{Env, derive_with};
//!
//! let input = quote! {
//!     #[template(path = "pages/home.html")]
//!     struct Home { title: String }
//! };
//! // This "crate" has no build script, so no BuildCache: the expansion is the error, plus a
//! // stub impl so that uses of `Home` raise no second error.
//! let output = derive_with(input, &Env::default()).to_string();
//! assert!(output.contains("compile_error"));
//! assert!(output.contains("no BuildCache for this crate"));
//! assert!(output.contains("Template for Home"));
//! ```
//!
//! # Stages
//!
//! One file each, as in thiserror: `ast` (the struct), `attr` (`#[template(path = "...")]`,
//! `#[shipwright(globals(...))]`), `names` (the names serde gives the fields: the template's
//! context), `valid` (the name against the BuildCache and the files), `context` (every
//! variable the template's closure reads is provided: a field, a global, or defined by the
//! templates), `expand` (the only one that writes tokens, also the output on error). The BuildCache comes from the file the build
//! script exported in `SHIPWRIGHT_BUILD_CACHE` and is parsed once per process (`cache`).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod ast;
mod attr;
mod cache;
mod context;
mod expand;
mod names;
mod valid;

use proc_macro2::TokenStream;
use syn::DeriveInput;

pub use cache::Env;

/// `#[derive(Template)]`, reading the environment of the crate being compiled.
pub fn derive(input: TokenStream) -> TokenStream {
    derive_with(input, &Env::from_process())
}

/// `#[derive(Template)]` in a given environment.
pub fn derive_with(input: TokenStream, env: &Env) -> TokenStream {
    let node: DeriveInput = match syn::parse2(input) {
        Ok(node) => node,
        Err(err) => return err.into_compile_error(),
    };
    let input = match ast::Input::from_syn(&node) {
        Ok(input) => input,
        Err(err) => return expand::fallback_derive(&node.ident, &node.generics, &[], err),
    };
    let bound = attr::template_args(input.attrs, input.ident.span()).and_then(|args| {
        let options = attr::options(input.attrs)?;
        let lit = &args.path;
        let bound = valid::bind(lit, env)?;
        context::check(lit, env, input.ident, &names::provided(&node), &options)?;
        Ok((bound, args.askama))
    });
    match bound {
        Ok((bound, askama)) => expand::derive(&input, &bound, &askama),
        Err(err) => {
            let err = cache::failed(env, err);
            expand::fallback_derive(input.ident, input.generics, &input.fields, err)
        }
    }
}

/// `template!("pages/home.html")`, reading the environment of the crate being compiled.
pub fn template(input: TokenStream) -> TokenStream {
    template_with(input, &Env::from_process())
}

/// `template!("pages/home.html")` in a given environment.
pub fn template_with(input: TokenStream, env: &Env) -> TokenStream {
    match attr::macro_argument(input).and_then(|name| valid::bind(&name, env)) {
        Ok(bound) => expand::template(&bound),
        Err(err) => expand::fallback_template(cache::failed(env, err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;
    use shipwright_core::format::{DynamicRef, Var};

    fn site() -> valid::tests::Fixture {
        let mut fixture = valid::tests::site();
        let home = fixture.cache.templates.get_mut("pages/home.html").unwrap();
        home.vars = vec![Var {
            name: "title".into(),
            line: 1,
            macros: Vec::new(),
        }];
        home.dynamic = vec![DynamicRef {
            line: 2,
            expr: "\"icons/\" ~ icon".into(),
            context: true,
            scope: Vec::new(),
        }];
        fixture
    }

    #[test]
    fn a_dev_build_makes_rustc_read_no_template() {
        let fixture = site();
        let env = fixture.env().dev_build(true);
        let output = derive_with(
            quote! {
                #[template(path = "pages/home.html")]
                struct Home { title: String }
            },
            &env,
        )
        .to_string();
        assert!(!output.contains("include_bytes"), "{output}");
        assert!(!output.contains("include_str"), "{output}");
        assert!(output.contains("Bound :: from_disk"), "{output}");
        assert!(!output.contains("compile_error"), "{output}");
        let stamp = shipwright_core::devbuild::stamp_beside(env.cache_file().unwrap());
        assert!(!stamp.exists(), "a good expansion asks for no rebuild");
    }

    #[test]
    fn a_failed_expansion_of_a_dev_build_writes_the_rebuild_stamp() {
        let fixture = site();
        let struct_without_title = quote! {
            #[template(path = "pages/home.html")]
            struct Home { name: String }
        };
        let env = fixture.env();
        let stamp = shipwright_core::devbuild::stamp_beside(env.cache_file().unwrap());
        let output = derive_with(struct_without_title.clone(), &env).to_string();
        assert!(output.contains("does not provide it"), "{output}");
        assert!(
            !stamp.exists(),
            "not a dev build: the build script tracks the templates"
        );

        let output = derive_with(struct_without_title, &env.dev_build(true)).to_string();
        assert!(output.contains("does not provide it"), "{output}");
        let text = std::fs::read_to_string(&stamp).unwrap();
        assert!(text.contains("reads `title`"), "{text}");
    }

    #[test]
    fn derive_expands_to_the_record() {
        let fixture = site();
        let env = fixture.env();
        let output = derive_with(
            quote! {
                #[template(path = "pages/home.html")]
                struct Home<'a, T: Clone> where T: Copy { title: &'a str, r#type: T }
            },
            &env,
        );
        let home = &fixture.cache.templates["pages/home.html"];
        let record = serde_json::to_string(home).unwrap();
        let hash = |name: &str| fixture.cache.templates[name].hash.clone();
        let (home_hash, layout_hash, nav_hash) = (
            hash("pages/home.html"),
            hash("layout.html"),
            hash("nav.html"),
        );
        let expected = quote! {
            #[automatically_derived]
            impl<'a, T: Clone> ::shipwright_runtime::__private::Template for Home<'a, T>
            where T: Copy
            {
                const NAME: &'static str = "pages/home.html";
                const FIELDS: &'static [&'static str] = &["title", "type"];
                fn info() -> &'static ::shipwright_runtime::__private::TemplateInfo {
                    const _: &[u8] = ::core::include_bytes!(::core::concat!(
                        ::core::env!("CARGO_MANIFEST_DIR"), "/templates/layout.html"));
                    const _: &[u8] = ::core::include_bytes!(::core::concat!(
                        ::core::env!("CARGO_MANIFEST_DIR"), "/templates/nav.html"));
                    static __SHIPWRIGHT_TEMPLATE: ::shipwright_runtime::__private::Bound =
                        ::shipwright_runtime::__private::Bound::new(
                            "templates",
                            "pages/home.html",
                            #record,
                            ::core::include_str!(::core::concat!(
                                ::core::env!("CARGO_MANIFEST_DIR"), "/templates/pages/home.html")),
                        );
                    __SHIPWRIGHT_TEMPLATE.info()
                }
                fn __dev_refusal() -> ::core::option::Option<::std::string::String> {
                    <Self as ::shipwright_runtime::__private::DevContext>::refusal()
                }
            }
            #[automatically_derived]
            impl<'a, T: Clone> ::shipwright_runtime::__private::DevContext for Home<'a, T>
            where T: Copy
            {
                const ASKAMA: ::shipwright_runtime::askama::AskamaArgs =
                    ::shipwright_runtime::askama::AskamaArgs {
                        escape: ::core::option::Option::None,
                        ext: ::core::option::Option::None,
                        syntax: ::core::option::Option::None,
                        whitespace: ::core::option::Option::None,
                        block: ::core::option::Option::None,
                        config: ::core::option::Option::None,
                    };
                const MANIFEST_DIR: &'static str = ::core::env!("CARGO_MANIFEST_DIR");
                const ROOTS: &'static [&'static str] = &["templates"];
                const HASHES: &'static [(&'static str, &'static str)] = &[
                    ("pages/home.html", #home_hash),
                    ("layout.html", #layout_hash),
                    ("nav.html", #nav_hash)
                ];
                const LOSSY: &'static [&'static str] = &[];
            }
        };
        assert_eq!(output.to_string(), expected.to_string());
        // The embedded JSON is the record, with every field (its serde form, nothing by hand).
        let back: shipwright_core::format::TemplateRecord = serde_json::from_str(&record).unwrap();
        assert_eq!(&back, home);
        assert_eq!(back.dynamic[0].expr, "\"icons/\" ~ icon");
        let manifest_dir = fixture.dir.path().to_str().unwrap();
        assert!(
            !output.to_string().contains(manifest_dir),
            "absolute path in the output"
        );

        // The files are tracked for the crate now: the next expansion leaves them out.
        let again = derive_with(
            quote!(
                #[template(path = "pages/home.html")]
                struct Again {
                    title: u8,
                }
            ),
            &env,
        );
        assert!(!again.to_string().contains("compile_error"), "{again}");
        assert!(!again.to_string().contains("include_bytes"), "{again}");
    }

    #[test]
    fn a_missing_variable_is_a_compile_error_with_a_stub() {
        let fixture = site();
        let env = fixture.env();
        let output = derive_with(
            quote! {
                #[derive(Serialize)]
                #[serde(rename_all = "camelCase")]
                #[template(path = "pages/home.html")]
                struct Home { page_title: String }
            },
            &env,
        )
        .to_string();
        assert!(
            output.contains(
                "template \\\"pages/home.html\\\" reads `title` at templates/pages/home.html:1, \
                 but `Home` does not provide it (fields, as serde names them: `pageTitle`)"
            ),
            "{output}"
        );
        assert!(output.contains("unbound"), "{output}");
        // Renamed to what the template reads, a global, a flattened field: no error.
        for tokens in [
            quote! {
                #[template(path = "pages/home.html")]
                struct Home { #[serde(rename = "title")] page_title: String }
            },
            quote! {
                #[template(path = "pages/home.html")]
                #[shipwright(globals(title))]
                struct Home;
            },
            quote! {
                #[template(path = "pages/home.html")]
                struct Home { #[serde(flatten)] rest: Rest }
            },
        ] {
            let output = derive_with(tokens.clone(), &env).to_string();
            assert!(!output.contains("compile_error"), "{tokens}: {output}");
        }
    }

    #[test]
    fn template_macro_expands_to_a_static() {
        let fixture = site();
        let output = template_with(quote!("nav.html"), &fixture.env()).to_string();
        assert!(
            output.starts_with("{ static __SHIPWRIGHT_TEMPLATE"),
            "{output}"
        );
        assert!(
            output.ends_with("__SHIPWRIGHT_TEMPLATE . info () }"),
            "{output}"
        );
        assert!(output.contains("\"nav.html\""), "{output}");
        assert!(
            !output.contains("include_bytes"),
            "nav.html has no dependency: {output}"
        );
    }

    #[test]
    fn errors_come_with_a_stub() {
        let fixture = site();
        let env = fixture.env();
        let output = derive_with(
            quote!(
                #[template(path = "nope.html")]
                struct A {
                    x: u8,
                }
            ),
            &env,
        )
        .to_string();
        assert!(
            output.contains("compile_error ! { \"no template named \\\"nope.html\\\""),
            "{output}"
        );
        assert!(output.contains("__private :: unbound ()"), "{output}");
        assert!(
            output.contains("FIELDS : & 'static [& 'static str] = & [\"x\"]"),
            "{output}"
        );
        assert!(!output.contains("include_str"), "{output}");

        let output = derive_with(
            quote!(
                enum E {
                    A,
                }
            ),
            &env,
        )
        .to_string();
        assert!(
            output.contains("structs only") && output.contains("Template for E"),
            "{output}"
        );

        let output = template_with(quote!(42), &env).to_string();
        assert!(
            output.contains("compile_error") && output.contains("unbound"),
            "{output}"
        );

        assert!(
            derive_with(
                quote!(
                    fn f() {}
                ),
                &env
            )
            .to_string()
            .contains("compile_error")
        );
    }
}
