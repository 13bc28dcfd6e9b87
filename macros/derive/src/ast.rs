//! Stage 1: the struct a `#[derive(Template)]` is on, as the later stages need it.

use syn::ext::IdentExt;
use syn::{
    Attribute, Data, DeriveInput, Error, Fields, GenericArgument, Generics, Ident, PathArguments,
    Result, Type,
};

/// A struct deriving `Template`, borrowed from the parsed input.
pub(crate) struct Input<'a> {
    /// The type's name.
    pub(crate) ident: &'a Ident,
    /// Its generics, copied onto the impl.
    pub(crate) generics: &'a Generics,
    /// The type's own attributes, where `#[template(...)]` sits.
    pub(crate) attrs: &'a [Attribute],
    /// The names of its fields: `title` for a named field (raw identifiers unraw'd), `0`, `1`,
    /// ... for a tuple struct, none for a unit struct.
    pub(crate) fields: Vec<String>,
    /// The fields whose serde form loses what askama's code reads: `Option<Option<_>>` and
    /// `Option<()>`, whose `Some(None)` / `Some(())` serde writes as it writes `None`.
    pub(crate) lossy: Vec<String>,
}

impl<'a> Input<'a> {
    /// Accepts structs only; enums and unions get an error on their keyword.
    pub(crate) fn from_syn(node: &'a DeriveInput) -> Result<Self> {
        let fields = match &node.data {
            Data::Struct(data) => &data.fields,
            Data::Enum(data) => {
                return Err(Error::new(
                    data.enum_token.span,
                    "#[derive(Template)] is for structs only: the struct's fields are the \
                     template's context",
                ));
            }
            Data::Union(data) => {
                return Err(Error::new(
                    data.union_token.span,
                    "#[derive(Template)] is for structs only: the struct's fields are the \
                     template's context",
                ));
            }
        };
        for field in fields {
            for ours in ["template", "shipwright"] {
                if let Some(attr) = field.attrs.iter().find(|attr| attr.path().is_ident(ours)) {
                    return Err(Error::new_spanned(
                        attr,
                        format!("#[{ours}(...)] belongs on the struct, not on a field"),
                    ));
                }
            }
        }
        let names = names(fields);
        let lossy = fields
            .iter()
            .zip(&names)
            .filter(|(field, _)| loses_some(&field.ty))
            .map(|(_, name)| name.clone())
            .collect();
        Ok(Input {
            ident: &node.ident,
            generics: &node.generics,
            attrs: &node.attrs,
            fields: names,
            lossy,
        })
    }
}

/// The fields' names: `title` for a named field (raw identifiers unraw'd), `0`, `1`, ... for a
/// tuple struct.
fn names(fields: &Fields) -> Vec<String> {
    match fields {
        Fields::Named(named) => named
            .named
            .iter()
            .filter_map(|field| field.ident.as_ref())
            .map(|ident| ident.unraw().to_string())
            .collect(),
        Fields::Unnamed(unnamed) => (0..unnamed.unnamed.len()).map(|i| i.to_string()).collect(),
        Fields::Unit => Vec::new(),
    }
}

/// `Option<Option<_>>` or `Option<()>`, by the last segment of the path as written.
fn loses_some(ty: &Type) -> bool {
    option_of(ty).is_some_and(|inner| {
        option_of(inner).is_some() || matches!(inner, Type::Tuple(t) if t.elems.is_empty())
    })
}

/// `T` of `Option<T>` (any path ending in `Option`).
fn option_of(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn fields_of(tokens: proc_macro2::TokenStream) -> Result<Vec<String>> {
        let node: DeriveInput = syn::parse2(tokens).unwrap();
        Input::from_syn(&node).map(|input| input.fields)
    }

    #[test]
    fn finds_the_fields_whose_serde_form_loses_some() {
        let node: DeriveInput = syn::parse2(quote! {
            struct Page {
                a: Option<Option<String>>,
                b: Option<String>,
                c: std::option::Option<()>,
                d: Vec<Option<Option<u8>>>,
                r#e: core::option::Option<Option<u8>>,
                f: Option<(u8,)>,
            }
        })
        .unwrap();
        assert_eq!(Input::from_syn(&node).unwrap().lossy, ["a", "c", "e"]);
    }

    #[test]
    fn collects_field_names() {
        assert_eq!(
            fields_of(quote!(
                struct A {
                    title: String,
                    r#type: u8,
                }
            ))
            .unwrap(),
            ["title", "type"]
        );
        assert_eq!(
            fields_of(quote!(
                struct B(u8, u16);
            ))
            .unwrap(),
            ["0", "1"]
        );
        assert!(
            fields_of(quote!(
                struct C;
            ))
            .unwrap()
            .is_empty()
        );
    }

    #[test]
    fn rejects_enums_unions_and_field_attributes() {
        let err = fields_of(quote!(
            enum E {
                A,
            }
        ))
        .unwrap_err();
        assert!(err.to_string().contains("structs only"), "{err}");
        let err = fields_of(quote!(union U { a: u8 })).unwrap_err();
        assert!(err.to_string().contains("structs only"), "{err}");
        let err = fields_of(quote!(
            struct S {
                #[template(path = "x")]
                a: u8,
            }
        ))
        .unwrap_err();
        assert!(err.to_string().contains("not on a field"), "{err}");
        let err = fields_of(quote!(
            struct S {
                #[shipwright(globals(a))]
                a: u8,
            }
        ))
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("#[shipwright(...)] belongs on the struct"),
            "{err}"
        );
    }
}
