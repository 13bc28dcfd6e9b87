//! Stage 4: the generated code. The only stage that writes tokens; on error, the compile error
//! plus a stub that satisfies the trait, so that code using the type compiles on and the error
//! stands alone.
//!
//! Files are named through `concat!(env!("CARGO_MANIFEST_DIR"), "/<root>/<name>")`: the tokens
//! carry no absolute path, so where the crate is built does not change what rustc hashes
//! (askama-rs #461), and, unlike a path relative to the calling file (askama-rs #546), it stays
//! right when the derive is written inside another macro.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Error, Generics, Ident};

use crate::ast::Input;
use crate::valid::Bound;

/// `impl Template for Struct`.
pub(crate) fn derive(input: &Input<'_>, bound: &Bound) -> TokenStream {
    let ident = input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let fields = &input.fields;
    let (tracking, info) = info(bound);
    quote! {
        #[automatically_derived]
        impl #impl_generics ::shipwright_runtime::__private::Template
            for #ident #ty_generics #where_clause
        {
            const INFO: &'static ::shipwright_runtime::__private::TemplateInfo = {
                #tracking
                &#info
            };
            const FIELDS: &'static [&'static str] = &[#(#fields),*];
        }
    }
}

/// `template!("...")`: a `&'static TemplateInfo` expression, usable in a `const` too.
pub(crate) fn template(bound: &Bound) -> TokenStream {
    let (tracking, info) = info(bound);
    quote! {
        {
            #tracking
            const __SHIPWRIGHT_TEMPLATE: &::shipwright_runtime::__private::TemplateInfo = &#info;
            __SHIPWRIGHT_TEMPLATE
        }
    }
}

/// The `include_bytes!` items that make rustc track the transitive dependencies not tracked yet
/// (the template itself is tracked by the `include_str!` of its source), and the record's
/// literal.
fn info(bound: &Bound) -> (TokenStream, TokenStream) {
    let record = &bound.record;
    let tracking = bound.track.iter().map(|path| {
        let file = manifest_file(path);
        quote!(
            const _: &[u8] = ::core::include_bytes!(#file);
        )
    });
    let tracking = quote!(#(#tracking)*);
    let (id, name, root, path) = (&record.id, &bound.name, &bound.root, &bound.path);
    let (hash, static_hash, interface_hash, tree_hash) = (
        &record.hash,
        &record.static_hash,
        &record.interface_hash,
        &bound.tree_hash,
    );
    let size = record.size;
    let (deps, transitive, vars) = (&record.deps, &record.transitive, &record.vars);
    let dynamic = record.dynamic.iter().map(|dynamic| {
        let (line, expr) = (dynamic.line, &dynamic.expr);
        quote!(::shipwright_runtime::__private::DynamicRef { line: #line, expr: #expr })
    });
    let source = manifest_file(path);
    let info = quote! {
        ::shipwright_runtime::__private::TemplateInfo {
            id: #id,
            name: #name,
            root: #root,
            path: #path,
            hash: #hash,
            static_hash: #static_hash,
            interface_hash: #interface_hash,
            tree_hash: #tree_hash,
            size: #size,
            deps: &[#(#deps),*],
            transitive: &[#(#transitive),*],
            vars: &[#(#vars),*],
            dynamic: &[#(#dynamic),*],
            source: ::core::include_str!(#source),
        }
    };
    (tracking, info)
}

/// `compile_error!` and an `impl Template` whose record is `__private::UNBOUND`.
pub(crate) fn fallback_derive(
    ident: &Ident,
    generics: &Generics,
    fields: &[String],
    error: Error,
) -> TokenStream {
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let error = error.into_compile_error();
    quote! {
        #error
        #[automatically_derived]
        impl #impl_generics ::shipwright_runtime::__private::Template
            for #ident #ty_generics #where_clause
        {
            const INFO: &'static ::shipwright_runtime::__private::TemplateInfo =
                &::shipwright_runtime::__private::UNBOUND;
            const FIELDS: &'static [&'static str] = &[#(#fields),*];
        }
    }
}

/// `compile_error!` in a block whose value is `&__private::UNBOUND`.
pub(crate) fn fallback_template(error: Error) -> TokenStream {
    let error = error.into_compile_error();
    quote! {
        {
            #error
            &::shipwright_runtime::__private::UNBOUND
        }
    }
}

/// `concat!(env!("CARGO_MANIFEST_DIR"), "/templates/pages/home.html")`.
fn manifest_file(relative: &str) -> TokenStream {
    let tail = format!("/{relative}");
    quote!(::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), #tail))
}
