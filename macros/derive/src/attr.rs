//! Stage 2: the template name, from `#[template(path = "...")]` or from `template!("...")`, and
//! the struct's `#[shipwright(...)]` options.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Attribute, Error, LitStr, Meta, Result, Token};

use crate::valid::closest;

const USAGE: &str = "#[template(path = \"pages/home.html\")]";

/// The keys askama's derive reads from the same `#[template(...)]` attribute: accepted, so that
/// one struct can derive both, and checked by askama's own derive.
const ASKAMA_KEYS: [&str; 11] = [
    "askama",
    "block",
    "blocks",
    "config",
    "escape",
    "ext",
    "in_doc",
    "print",
    "source",
    "syntax",
    "whitespace",
];

/// What the struct's `#[template(...)]` attributes say.
#[derive(Clone)]
pub(crate) struct TemplateArgs {
    /// The one `path = "..."`.
    pub(crate) path: LitStr,
    /// askama's keys that change what the template renders, for its dev renderer.
    pub(crate) askama: AskamaArgs,
}

/// askama's `#[template(...)]` keys that change its output, as written (askama's derive checks
/// their values).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AskamaArgs {
    /// `escape = "html"` / `"none"`: the escaper.
    pub(crate) escape: Option<String>,
    /// `ext = "html"`: the extension that picks the escaper, if `escape` does not.
    pub(crate) ext: Option<String>,
    /// `syntax = "name"`: a syntax of the crate's `askama.toml`.
    pub(crate) syntax: Option<String>,
    /// `whitespace = "suppress"`: the whitespace control of every tag.
    pub(crate) whitespace: Option<String>,
    /// `block = "name"`: only that block is rendered.
    pub(crate) block: Option<String>,
    /// `config = "askama.toml"`: another configuration file.
    pub(crate) config: Option<String>,
}

/// The struct's `#[template(...)]` attributes: the one `path = "..."`, askama's keys (an unknown
/// key is an error naming the closest known one). `missing` is where to point when there is no
/// path (the struct's name).
pub(crate) fn template_args(attrs: &[Attribute], missing: Span) -> Result<TemplateArgs> {
    let mut path: Option<LitStr> = None;
    let mut askama = AskamaArgs::default();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("template")) {
        let Meta::List(list) = &attr.meta else {
            return Err(Error::new(attr.span(), format!("expected {USAGE}")));
        };
        list.parse_nested_meta(|meta| {
            let name = meta
                .path
                .get_ident()
                .map_or_else(|| "?".to_string(), |i| i.to_string());
            if name == "path" {
                let lit = string_literal(meta.value()?)?;
                if path.is_some() {
                    return Err(Error::new(
                        lit.span(),
                        "duplicate #[template(path = ...)]: a struct binds exactly one template",
                    ));
                }
                path = Some(lit);
                return Ok(());
            }
            if !ASKAMA_KEYS.contains(&name.as_str()) {
                return Err(Error::new(meta.path.span(), unknown_key(&name)));
            }
            if name == "source" || name == "in_doc" {
                return Err(Error::new(
                    meta.path.span(),
                    format!(
                        "#[template({name} = ...)]: #[derive(shipwright_runtime::Template)] binds \
                         a template file of the BuildCache: use {USAGE}"
                    ),
                ));
            }
            // A string for the keys that change the page; any other value (`askama = ::askama`,
            // `blocks = [...]`) is askama's derive's to check.
            let value = meta.value()?;
            let text = if value.peek(LitStr) {
                Some(value.parse::<LitStr>()?.value())
            } else {
                while !value.is_empty() && !value.peek(Token![,]) {
                    value.parse::<TokenTree>()?;
                }
                None
            };
            let slot = match name.as_str() {
                "escape" => &mut askama.escape,
                "ext" => &mut askama.ext,
                "syntax" => &mut askama.syntax,
                "whitespace" => &mut askama.whitespace,
                "block" => &mut askama.block,
                "config" => &mut askama.config,
                // `askama = path`, `blocks = [...]`, `print = "..."`: no change to the page.
                _ => return Ok(()),
            };
            *slot = text;
            Ok(())
        })?;
    }
    let path =
        path.ok_or_else(
            || match attrs.iter().find(|attr| attr.path().is_ident("template")) {
                Some(attr) => Error::new(attr.span(), format!("missing `path`: expected {USAGE}")),
                None => Error::new(
                    missing,
                    format!("#[derive(Template)] needs the template to bind: add {USAGE}"),
                ),
            },
        )?;
    Ok(TemplateArgs { path, askama })
}

#[cold]
fn unknown_key(name: &str) -> String {
    let known = std::iter::once("path").chain(ASKAMA_KEYS);
    let mut message = format!("unknown #[template] argument `{name}`: expected {USAGE}");
    if let Some(near) = closest(name, known).first() {
        message.push_str(&format!("; the closest key is `{near}`"));
    }
    message
}

const OPTIONS: &str = "#[shipwright(globals(app_name, \"name\"))]";

/// What `#[shipwright(...)]` on the struct says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Options {
    /// `globals(...)`: names the app provides to the template besides the struct (as
    /// identifiers or string literals), in order, from every such attribute.
    pub(crate) globals: Vec<String>,
}

/// The struct's `#[shipwright(...)]` attributes, merged.
pub(crate) fn options(attrs: &[Attribute]) -> Result<Options> {
    let mut options = Options::default();
    for attr in attrs
        .iter()
        .filter(|attr| attr.path().is_ident("shipwright"))
    {
        let Meta::List(list) = &attr.meta else {
            return Err(Error::new(attr.span(), format!("expected {OPTIONS}")));
        };
        list.parse_nested_meta(|meta| {
            if !meta.path.is_ident("globals") {
                let name = meta
                    .path
                    .get_ident()
                    .map_or_else(|| "?".to_string(), |i| i.to_string());
                return Err(Error::new(
                    meta.path.span(),
                    format!("unknown #[shipwright] argument `{name}`: expected {OPTIONS}"),
                ));
            }
            if !meta.input.peek(syn::token::Paren) {
                return Err(meta.error(format!("expected a list of names: {OPTIONS}")));
            }
            let content;
            syn::parenthesized!(content in meta.input);
            while !content.is_empty() {
                if content.peek(LitStr) {
                    options.globals.push(content.parse::<LitStr>()?.value());
                } else if content.peek(syn::Ident::peek_any) {
                    let ident = content.call(syn::Ident::parse_any)?;
                    options.globals.push(ident.unraw().to_string());
                } else {
                    return Err(content.error(format!(
                        "expected a global's name, an identifier or a string: {OPTIONS}"
                    )));
                }
                if !content.is_empty() {
                    content.parse::<Token![,]>()?;
                }
            }
            Ok(())
        })?;
    }
    Ok(options)
}

/// The single string literal of `template!("pages/home.html")`.
pub(crate) fn macro_argument(tokens: TokenStream) -> Result<LitStr> {
    let span = tokens.span();
    let parser = |input: ParseStream<'_>| {
        if input.is_empty() {
            return Err(Error::new(
                span,
                "template! needs a template name: template!(\"pages/home.html\")",
            ));
        }
        let lit = string_literal(input)?;
        input.parse::<Option<Token![,]>>()?;
        if !input.is_empty() {
            let rest: TokenStream = input.parse()?;
            return Err(Error::new_spanned(
                rest,
                "template! takes one template name",
            ));
        }
        Ok(lit)
    };
    parser.parse2(tokens)
}

/// A string literal, or an error that spans whatever stands in its place (up to a comma).
fn string_literal(input: ParseStream<'_>) -> Result<LitStr> {
    if input.peek(LitStr) {
        return input.parse();
    }
    let mut found = TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        found.extend([input.parse::<TokenTree>()?]);
    }
    Err(Error::new_spanned(
        found,
        "expected the template name as a string literal, relative to the template root: \
         \"pages/home.html\"",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn path_of(tokens: TokenStream) -> Result<String> {
        let node: syn::DeriveInput = syn::parse2(tokens).unwrap();
        template_args(&node.attrs, Span::call_site()).map(|args| args.path.value())
    }

    #[test]
    fn accepts_askamas_keys_and_keeps_those_that_change_the_page() {
        let node: syn::DeriveInput = syn::parse2(quote!(
            #[template(path = "a.html", escape = "none", ext = "txt", print = "code")]
            #[template(syntax = "mine", whitespace = "suppress", block = "body")]
            #[template(blocks = ["a", "b"], askama = ::askama, config = "askama.toml")]
            struct A;
        ))
        .unwrap();
        let args = template_args(&node.attrs, Span::call_site()).unwrap();
        assert_eq!(args.path.value(), "a.html");
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            args.askama,
            AskamaArgs {
                escape: some("none"),
                ext: some("txt"),
                syntax: some("mine"),
                whitespace: some("suppress"),
                block: some("body"),
                config: some("askama.toml"),
            }
        );
    }

    #[test]
    fn reads_the_path() {
        let path = path_of(quote!(
            #[template(path = "pages/home.html")]
            struct A;
        ))
        .unwrap();
        assert_eq!(path, "pages/home.html");
        let path = path_of(quote!(
            #[derive(Debug)]
            #[template(path = "a.html")]
            struct A;
        ));
        assert_eq!(path.unwrap(), "a.html");
    }

    #[test]
    fn rejects_malformed_attributes() {
        let cases = [
            (
                quote!(
                    struct A;
                ),
                "needs the template to bind",
            ),
            (
                quote!(
                    #[template]
                    struct A;
                ),
                "expected #[template(path",
            ),
            (
                quote!(
                    #[template = "a.html"]
                    struct A;
                ),
                "expected #[template(path",
            ),
            (
                quote!(
                    #[template()]
                    struct A;
                ),
                "missing `path`",
            ),
            (
                quote!(
                    #[template(pth = "a.html")]
                    struct A;
                ),
                "unknown #[template] argument `pth`: expected #[template(path = \"pages/home.html\")]; \
                 the closest key is `path`",
            ),
            (
                quote!(
                    #[template(path = "a.html", excape = "none")]
                    struct A;
                ),
                "the closest key is `escape`",
            ),
            (
                quote!(
                    #[template(source = "{{ a }}")]
                    struct A;
                ),
                "binds a template file of the BuildCache",
            ),
            (
                quote!(
                    #[template(path = 3)]
                    struct A;
                ),
                "as a string literal",
            ),
            (
                quote!(
                    #[template(path = a::b)]
                    struct A;
                ),
                "as a string literal",
            ),
            (
                quote!(
                    #[template(path = "a", path = "b")]
                    struct A;
                ),
                "duplicate",
            ),
            (
                quote!(
                    #[template(path = "a")]
                    #[template(path = "b")]
                    struct A;
                ),
                "duplicate",
            ),
        ];
        for (tokens, expected) in cases {
            let err = path_of(tokens.clone()).unwrap_err().to_string();
            assert!(err.contains(expected), "{tokens}: {err}");
        }
    }

    fn options_of(tokens: TokenStream) -> Result<Options> {
        let node: syn::DeriveInput = syn::parse2(tokens).unwrap();
        options(&node.attrs)
    }

    #[test]
    fn reads_the_globals() {
        let read = options_of(quote!(
            #[shipwright(globals(app_name, "csrf-token", r#type))]
            #[shipwright(globals())]
            #[shipwright(globals(user,))]
            struct A;
        ))
        .unwrap();
        assert_eq!(read.globals, ["app_name", "csrf-token", "type", "user"]);
        assert_eq!(
            options_of(quote!(
                struct A;
            ))
            .unwrap(),
            Options::default()
        );
        for (tokens, expected) in [
            (
                quote!(
                    #[shipwright]
                    struct A;
                ),
                "expected #[shipwright(globals(",
            ),
            (
                quote!(
                    #[shipwright(global(a))]
                    struct A;
                ),
                "unknown #[shipwright] argument `global`",
            ),
            (
                quote!(
                    #[shipwright(globals = "a")]
                    struct A;
                ),
                "expected a list of names",
            ),
            (
                quote!(
                    #[shipwright(globals(1))]
                    struct A;
                ),
                "expected a global's name",
            ),
            (
                quote!(
                    #[shipwright(globals(a b))]
                    struct A;
                ),
                "expected `,`",
            ),
        ] {
            let err = options_of(tokens.clone()).unwrap_err().to_string();
            assert!(err.contains(expected), "{tokens}: {err}");
        }
    }

    #[test]
    fn reads_the_macro_argument() {
        assert_eq!(macro_argument(quote!("a.html")).unwrap().value(), "a.html");
        assert_eq!(macro_argument(quote!("a.html",)).unwrap().value(), "a.html");
        for (tokens, expected) in [
            (quote!(), "needs a template name"),
            (quote!(a_name), "as a string literal"),
            (quote!("a.html", "b.html"), "one template name"),
        ] {
            let err = macro_argument(tokens.clone())
                .map(|lit| lit.value())
                .unwrap_err();
            assert!(err.to_string().contains(expected), "{tokens}: {err}");
        }
    }
}
