//! What an expansion that failed emits: the error, plus a stub that satisfies the trait, so that
//! code using the type compiles on and the error stands alone.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Error, Generics, Ident};

/// `compile_error!` and an `impl Template` whose record is `__private::UNBOUND`.
pub(crate) fn derive(ident: &Ident, generics: &Generics, fields: &[String], error: Error) -> TokenStream {
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
pub(crate) fn template(error: Error) -> TokenStream {
    let error = error.into_compile_error();
    quote! {
        {
            #error
            &::shipwright_runtime::__private::UNBOUND
        }
    }
}
