//! Implementation detail of `shipwright-runtime`, which re-exports these macros and documents
//! them. The code generation lives in the plain library `shipwright-derive`.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

/// `#[derive(Template)]` with `#[template(path = "...")]` (and optionally
/// `#[shipwright(globals(...))]`): binds the struct to a template of the crate's BuildCache and
/// checks that it provides every variable the template reads. See
/// `shipwright_runtime::Template`.
#[proc_macro_derive(Template, attributes(template, shipwright))]
pub fn derive_template(input: TokenStream) -> TokenStream {
    shipwright_derive::derive(input.into()).into()
}

/// `template!("pages/home.html")`: the template's record as a `&'static TemplateInfo`. See
/// `shipwright_runtime::template!`.
#[proc_macro]
pub fn template(input: TokenStream) -> TokenStream {
    shipwright_derive::template(input.into()).into()
}
