//! Stage 4: the generated code. The only stage that writes tokens; on error, the compile error
//! plus a stub that satisfies the trait, so that code using the type compiles on and the error
//! stands alone.
//!
//! Files are named through `concat!(env!("CARGO_MANIFEST_DIR"), "/<root>/<name>")`: the tokens
//! carry no absolute path, so where the crate is built does not change what rustc hashes
//! (askama-rs #461), and, unlike a path relative to the calling file (askama-rs #546), it stays
//! right when the derive is written inside another macro.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{Error, Generics, Ident};

use crate::ast::Input;
use crate::attr::AskamaArgs;
use crate::valid::Bound;

/// `impl Template for Struct`, and what askama's dev renderer needs of the struct
/// (`impl DevContext`: the struct serialized, its askama keys, the build's hashes).
pub(crate) fn derive(input: &Input<'_>, bound: &Bound, askama: &AskamaArgs) -> TokenStream {
    let ident = input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let fields = &input.fields;
    let name = &bound.name;
    let (tracking, info) = info(bound);
    let dev = dev_context(input, bound, askama);
    quote! {
        #[automatically_derived]
        impl #impl_generics ::shipwright_runtime::__private::Template
            for #ident #ty_generics #where_clause
        {
            const NAME: &'static str = #name;
            const FIELDS: &'static [&'static str] = &[#(#fields),*];
            fn info() -> &'static ::shipwright_runtime::__private::TemplateInfo {
                #tracking
                #info
            }
            fn __dev_refusal() -> ::core::option::Option<::std::string::String> {
                <Self as ::shipwright_runtime::__private::DevContext>::refusal()
            }
        }
        #dev
    }
}

/// `impl DevContext`: the struct's askama keys, where its templates are, the build's hashes.
fn dev_context(input: &Input<'_>, bound: &Bound, askama: &AskamaArgs) -> TokenStream {
    let ident = input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let option = |value: &Option<String>| match value {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    };
    let (escape, ext, syntax) = (
        option(&askama.escape),
        option(&askama.ext),
        option(&askama.syntax),
    );
    let (whitespace, block, config) = (
        option(&askama.whitespace),
        option(&askama.block),
        option(&askama.config),
    );
    let hashes = bound
        .hashes
        .iter()
        .map(|(name, hash)| quote!((#name, #hash)));
    let roots = &bound.roots;
    let lossy = &input.lossy;
    // A generic struct is checked where it is rendered (`askama::render`'s bound) instead.
    let serialize =
        input.generics.params.is_empty().then(
            || quote_spanned!(ident.span()=> ::shipwright_runtime::__askama_dev_check!(#ident);),
        );
    quote! {
        #serialize
        #[automatically_derived]
        impl #impl_generics ::shipwright_runtime::__private::DevContext
            for #ident #ty_generics #where_clause
        {
            const ASKAMA: ::shipwright_runtime::askama::AskamaArgs =
                ::shipwright_runtime::askama::AskamaArgs {
                    escape: #escape,
                    ext: #ext,
                    syntax: #syntax,
                    whitespace: #whitespace,
                    block: #block,
                    config: #config,
                };
            const MANIFEST_DIR: &'static str = ::core::env!("CARGO_MANIFEST_DIR");
            const ROOTS: &'static [&'static str] = &[#(#roots),*];
            const HASHES: &'static [(&'static str, &'static str)] = &[#(#hashes),*];
            const LOSSY: &'static [&'static str] = &[#(#lossy),*];
        }
    }
}

/// `template!("...")`: a `&'static TemplateInfo` expression.
pub(crate) fn template(bound: &Bound) -> TokenStream {
    let (tracking, info) = info(bound);
    quote! {
        {
            #tracking
            #info
        }
    }
}

/// The `include_bytes!` items that make rustc track the templates of the closure not tracked
/// yet (the template itself is tracked by the `include_str!` of its source), and an expression
/// of the record: a `static` that decodes the record's JSON on first use. The JSON is the
/// record's serde form, so no field of it is spelled out here. In a dev build rustc reads no
/// template: no `include_bytes!`, and the source is read from the file at run time.
fn info(bound: &Bound) -> (TokenStream, TokenStream) {
    let tracking = bound.track.iter().map(|path| {
        let file = manifest_file(path);
        quote!(
            const _: &[u8] = ::core::include_bytes!(#file);
        )
    });
    let tracking = quote!(#(#tracking)*);
    let (name, root) = (&bound.name, &bound.root);
    let record = serde_json::to_string(&bound.record).expect("a record always serializes");
    let bound = if bound.dev_build {
        quote! {
            ::shipwright_runtime::__private::Bound::from_disk(
                #root,
                #name,
                #record,
                ::core::env!("CARGO_MANIFEST_DIR"),
            )
        }
    } else {
        let source = manifest_file(&bound.path);
        quote! {
            ::shipwright_runtime::__private::Bound::new(
                #root,
                #name,
                #record,
                ::core::include_str!(#source),
            )
        }
    };
    let info = quote! {
        static __SHIPWRIGHT_TEMPLATE: ::shipwright_runtime::__private::Bound = #bound;
        __SHIPWRIGHT_TEMPLATE.info()
    };
    (tracking, info)
}

/// `compile_error!` and an `impl Template` whose record is `__private::unbound()`.
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
            const NAME: &'static str = "";
            const FIELDS: &'static [&'static str] = &[#(#fields),*];
            fn info() -> &'static ::shipwright_runtime::__private::TemplateInfo {
                ::shipwright_runtime::__private::unbound()
            }
        }
        #[automatically_derived]
        impl #impl_generics ::shipwright_runtime::__private::DevContext
            for #ident #ty_generics #where_clause
        {}
    }
}

/// `compile_error!` in a block whose value is `__private::unbound()`.
pub(crate) fn fallback_template(error: Error) -> TokenStream {
    let error = error.into_compile_error();
    quote! {
        {
            #error
            ::shipwright_runtime::__private::unbound()
        }
    }
}

/// `concat!(env!("CARGO_MANIFEST_DIR"), "/templates/pages/home.html")`.
fn manifest_file(relative: &str) -> TokenStream {
    let tail = format!("/{relative}");
    quote!(::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), #tail))
}
