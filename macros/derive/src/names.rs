//! Stage 2b: the names the struct gives its template's context. The context is the struct as
//! serde serializes it, so these are the serde names: `#[serde(rename = "...")]` on a field,
//! `#[serde(rename_all = "...")]` on the struct (every case serde knows), no name for a field
//! that is `#[serde(skip)]` or `#[serde(skip_serializing)]`, the tag of
//! `#[serde(tag = "...")]`.
//!
//! Some structs serialize to names that only another type knows: a `#[serde(flatten)]` field,
//! `#[serde(transparent)]`, `#[serde(into = "...")]`, a newtype struct (`struct Page(Context)`,
//! which serializes as its field). Their names are unknown at expansion, so the derive checks
//! no variable of theirs ([`Provided::Unknown`]); so does a `#[serde(...)]` attribute this
//! stage cannot read (serde itself reports a malformed one).
//!
//! A field with `#[serde(skip_serializing_if = "...")]` counts as provided: whether it is there
//! is decided per value, at run time.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr, Result, Token};

use syn::ext::IdentExt;

/// What the struct provides to its template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Provided {
    /// Exactly these names.
    Names(Names),
    /// Names only another type knows; why, for the documentation of the decision.
    Unknown(&'static str),
}

/// The names a struct provides, as serde gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Names {
    /// The names, in field order.
    pub(crate) names: Vec<String>,
    /// Whether serde renames any field (so that messages say "as serde names them").
    pub(crate) renamed: bool,
    /// The fields that serde renames (with the name it gives them) or skips (`None`), by
    /// their Rust name, so that a message can say why a field's own name is missing.
    pub(crate) hidden: Vec<(String, Option<String>)>,
}

/// The names `node` (a struct: stage 1 checked) provides.
pub(crate) fn provided(node: &DeriveInput) -> Provided {
    match read(node) {
        Ok(provided) => provided,
        Err(_) => Provided::Unknown("a #[serde(...)] attribute this derive cannot read"),
    }
}

fn read(node: &DeriveInput) -> Result<Provided> {
    let Data::Struct(data) = &node.data else {
        return Ok(Provided::Names(Names::default()));
    };
    let container = Container::of(&node.attrs)?;
    if let Some(why) = container.unknown {
        return Ok(Provided::Unknown(why));
    }
    let named = match &data.fields {
        Fields::Named(named) => &named.named,
        // A newtype struct serializes as its one field; another tuple struct as a sequence,
        // and a unit struct as nothing: no names.
        Fields::Unnamed(unnamed) if unnamed.unnamed.len() == 1 => {
            return Ok(Provided::Unknown(
                "a newtype struct serializes as its field",
            ));
        }
        Fields::Unnamed(_) | Fields::Unit => {
            return Ok(Provided::Names(Names {
                names: container.tag.into_iter().collect(),
                ..Names::default()
            }));
        }
    };
    let mut names = Vec::with_capacity(named.len() + 1);
    let mut hidden = Vec::new();
    let mut renamed = container.tag.is_some();
    names.extend(container.tag);
    for field in named {
        let Some(ident) = &field.ident else { continue };
        let attrs = FieldAttrs::of(&field.attrs)?;
        if attrs.flatten {
            return Ok(Provided::Unknown(
                "a #[serde(flatten)] field's names are its type's",
            ));
        }
        let rust = ident.unraw().to_string();
        if attrs.skip {
            renamed = true;
            hidden.push((rust, None));
            continue;
        }
        let name = match attrs.rename {
            Some(name) => name,
            None => container.rename_all.apply(&rust),
        };
        if name != rust {
            renamed = true;
            hidden.push((rust, Some(name.clone())));
        }
        names.push(name);
    }
    Ok(Provided::Names(Names {
        names,
        renamed,
        hidden,
    }))
}

/// serde's `rename_all` rules, for field names (which serde takes to be snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Case {
    /// No rule; also `lowercase` and `snake_case`, which leave a field name as it is.
    #[default]
    Keep,
    Upper,
    Pascal,
    Camel,
    Kebab,
    ScreamingKebab,
}

impl Case {
    fn parse(rule: &str) -> Option<Case> {
        Some(match rule {
            "lowercase" | "snake_case" => Case::Keep,
            "UPPERCASE" | "SCREAMING_SNAKE_CASE" => Case::Upper,
            "PascalCase" => Case::Pascal,
            "camelCase" => Case::Camel,
            "kebab-case" => Case::Kebab,
            "SCREAMING-KEBAB-CASE" => Case::ScreamingKebab,
            _ => return None,
        })
    }

    fn apply(self, field: &str) -> String {
        match self {
            Case::Keep => field.to_string(),
            Case::Upper => field.to_ascii_uppercase(),
            Case::Pascal => field
                .split('_')
                .flat_map(|word| {
                    let mut chars = word.chars();
                    chars
                        .next()
                        .map(|first| first.to_ascii_uppercase())
                        .into_iter()
                        .chain(chars)
                })
                .collect(),
            Case::Camel => {
                let pascal = Case::Pascal.apply(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => pascal,
                }
            }
            Case::Kebab => field.replace('_', "-"),
            Case::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

/// The struct's `#[serde(...)]` options that change the names.
#[derive(Default)]
struct Container {
    rename_all: Case,
    tag: Option<String>,
    unknown: Option<&'static str>,
}

impl Container {
    fn of(attrs: &[Attribute]) -> Result<Container> {
        let mut out = Container::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename_all") {
                    if let Some(rule) = serialize_value(&meta)? {
                        out.rename_all = Case::parse(&rule)
                            .ok_or_else(|| meta.error("unknown rename_all rule"))?;
                    }
                } else if meta.path.is_ident("tag") {
                    out.tag = Some(meta.value()?.parse::<LitStr>()?.value());
                } else if meta.path.is_ident("transparent") {
                    out.unknown = Some("#[serde(transparent)] serializes as the one field");
                } else if meta.path.is_ident("into") {
                    skip(&meta)?;
                    out.unknown = Some("#[serde(into = \"...\")] serializes as another type");
                } else {
                    skip(&meta)?;
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}

/// A field's `#[serde(...)]` options that change its name.
#[derive(Default)]
struct FieldAttrs {
    rename: Option<String>,
    skip: bool,
    flatten: bool,
}

impl FieldAttrs {
    fn of(attrs: &[Attribute]) -> Result<FieldAttrs> {
        let mut out = FieldAttrs::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    if let Some(name) = serialize_value(&meta)? {
                        out.rename = Some(name);
                    }
                } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
                    out.skip = true;
                } else if meta.path.is_ident("flatten") {
                    out.flatten = true;
                } else {
                    skip(&meta)?;
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}

/// The serialization value of `name = "..."` or `name(serialize = "...", deserialize = "...")`;
/// `None` when only `deserialize` is given.
fn serialize_value(meta: &ParseNestedMeta<'_>) -> Result<Option<String>> {
    if meta.input.peek(Token![=]) {
        return Ok(Some(meta.value()?.parse::<LitStr>()?.value()));
    }
    let mut found = None;
    meta.parse_nested_meta(|inner| {
        let value = inner.value()?.parse::<LitStr>()?.value();
        if inner.path.is_ident("serialize") {
            found = Some(value);
        }
        Ok(())
    })?;
    Ok(found)
}

/// Consumes an option this stage does not need: `name`, `name = value`, `name(...)`.
fn skip(meta: &ParseNestedMeta<'_>) -> Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn of(tokens: TokenStream) -> Provided {
        provided(&syn::parse2(tokens).unwrap())
    }

    fn names(tokens: TokenStream) -> Vec<String> {
        match of(tokens) {
            Provided::Names(names) => names.names,
            Provided::Unknown(why) => panic!("unknown: {why}"),
        }
    }

    #[test]
    fn field_names_as_serde_gives_them() {
        assert_eq!(
            names(quote! { struct A { title: String, r#type: u8 } }),
            ["title", "type"]
        );
        assert_eq!(
            names(quote! {
                #[derive(Serialize)]
                struct A {
                    #[serde(rename = "userName")]
                    user_name: String,
                    #[serde(rename(serialize = "out", deserialize = "in"))]
                    both: u8,
                    #[serde(rename(deserialize = "in"))]
                    kept: u8,
                    #[serde(skip)]
                    cache: u8,
                    #[serde(skip_serializing, default)]
                    secret: u8,
                    #[serde(skip_serializing_if = "Option::is_none", with = "x")]
                    maybe: Option<u8>,
                    #[serde(default = "path::to", alias = "old", borrow)]
                    plain: u8,
                }
            }),
            ["userName", "out", "kept", "maybe", "plain"]
        );
        assert_eq!(
            names(quote! { #[serde(tag = "kind", deny_unknown_fields)] struct A { a: u8 } }),
            ["kind", "a"]
        );
        // Options that do not change names are read past, whatever their form.
        assert_eq!(
            names(quote! {
                #[serde(crate = "other_serde", default, deny_unknown_fields)]
                #[serde(bound(serialize = "T: Serialize"), expecting = "a page")]
                struct A<T> { a: T }
            }),
            ["a"]
        );
        assert!(names(quote! { struct Unit; }).is_empty());
        assert!(names(quote! { struct Pair(u8, u8); }).is_empty());
    }

    #[test]
    fn renamed_and_skipped_fields_are_listed() {
        let Provided::Names(Names { hidden, .. }) = of(quote! {
            #[serde(rename_all = "camelCase")]
            struct A { user_name: u8, #[serde(skip)] links: u8, title: u8 }
        }) else {
            panic!()
        };
        assert_eq!(
            hidden,
            [
                ("user_name".to_string(), Some("userName".to_string())),
                ("links".to_string(), None)
            ]
        );
    }

    #[test]
    fn rename_all_follows_every_serde_rule() {
        let field = "user_id_2";
        let cases = [
            ("lowercase", "user_id_2"),
            ("UPPERCASE", "USER_ID_2"),
            ("PascalCase", "UserId2"),
            ("camelCase", "userId2"),
            ("snake_case", "user_id_2"),
            ("SCREAMING_SNAKE_CASE", "USER_ID_2"),
            ("kebab-case", "user-id-2"),
            ("SCREAMING-KEBAB-CASE", "USER-ID-2"),
        ];
        for (rule, expected) in cases {
            assert_eq!(Case::parse(rule).unwrap().apply(field), expected, "{rule}");
            let tokens: TokenStream = format!(
                "#[serde(rename_all = \"{rule}\")] struct A {{ {field}: u8, #[serde(rename = \"x\")] b: u8 }}"
            )
            .parse()
            .unwrap();
            assert_eq!(names(tokens), [expected, "x"], "{rule}");
        }
        assert_eq!(
            names(quote! {
                #[serde(rename_all(deserialize = "UPPERCASE", serialize = "camelCase"))]
                struct A { first_name: u8 }
            }),
            ["firstName"]
        );
        assert_eq!(Case::Camel.apply("_private"), "private");
    }

    #[test]
    fn names_only_another_type_knows_are_unknown() {
        for tokens in [
            quote! { struct A { a: u8, #[serde(flatten)] rest: Map } },
            quote! { #[serde(transparent)] struct A { a: u8 } },
            quote! { #[serde(into = "Other")] struct A { a: u8 } },
            quote! { struct A(Context); },
            quote! { #[serde(rename_all = "Sentence case")] struct A { a: u8 } },
            quote! { #[serde(rename = )] struct A { a: u8 } },
        ] {
            assert!(
                matches!(of(tokens.clone()), Provided::Unknown(_)),
                "{tokens}"
            );
        }
    }
}
