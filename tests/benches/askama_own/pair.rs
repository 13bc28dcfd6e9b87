//! The pairing of one askama test file: every struct with askama's `#[derive(Template)]` gets
//! Shipwright's derive and `serde::Serialize` besides, and an inherent `render(&self)` (which the
//! test's `page.render()` calls before askama's trait method) that renders the page both ways
//! through the harness crate's `check`. A `source = "..."` template becomes a file under
//! `templates/__source/` bound by `path`. The text keeps every line where it was, so that a
//! compile error's line names the struct it came from.

use std::collections::BTreeMap;

use proc_macro2::{Delimiter, LineColumn, Span, TokenStream, TokenTree};
use quote::quote;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{
    Attribute, Fields, Generics, Ident, ItemEnum, ItemFn, ItemMod, ItemStruct, LitStr, Visibility,
};

/// The harness crate's name, as the rewritten tests call it.
pub(crate) const HARNESS: &str = "askama_own_harness";

/// One type with askama's derive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bound {
    /// Its path as `std::any::type_name` writes it (the test crate, then modules and functions).
    pub(crate) path: String,
    /// Its first line (of its attributes) and its last, 1-based; for a type a macro declares,
    /// the macro call's.
    pub(crate) lines: (usize, usize),
    /// The line that names it in `leave`: its first; for a type a macro declares, the macro's.
    pub(crate) group: usize,
    /// Why it keeps askama's derive alone; `None`: paired.
    pub(crate) unpaired: Option<String>,
}

/// A test file, paired.
#[derive(Debug)]
pub(crate) struct Paired {
    /// The rewritten text: as many lines as the original.
    pub(crate) text: String,
    pub(crate) bound: Vec<Bound>,
    /// The `source = "..."` templates: (path under the template root, text): the source and a
    /// `\n`, which askama drops from a file.
    pub(crate) sources: Vec<(String, String)>,
    /// The lines of the `macro_rules!` that declare template types: first, last.
    pub(crate) macros: Vec<(usize, usize)>,
}

/// Pairs the test file `stem`.rs of `text`; `leave` names, by first line, the structs to leave
/// with askama's derive alone and why (a previous build's errors).
pub(crate) fn pair(stem: &str, text: &str, leave: &BTreeMap<usize, String>) -> syn::Result<Paired> {
    let file = syn::parse_file(text)?;
    let mut visitor = Visitor {
        stem,
        leave,
        scope: vec![stem.replace('-', "_")],
        bound: Vec::new(),
        sources: Vec::new(),
        edits: Vec::new(),
        macros: Vec::new(),
        calls: Vec::new(),
    };
    visitor.visit_file(&file);
    visitor.macro_calls();
    let Visitor {
        bound,
        sources,
        mut edits,
        macros,
        ..
    } = visitor;
    let offsets = Offsets::new(text);
    edits.sort_by_key(|edit| std::cmp::Reverse(offsets.byte(edit.0)));
    let mut out = text.to_string();
    for (start, end, replacement) in edits {
        out.replace_range(offsets.byte(start)..offsets.byte(end), &replacement);
    }
    Ok(Paired {
        text: out,
        bound,
        sources,
        macros: macros.iter().map(|m| m.lines).collect(),
    })
}

struct Visitor<'a> {
    stem: &'a str,
    leave: &'a BTreeMap<usize, String>,
    /// The module and function names around the item being visited.
    scope: Vec<String>,
    bound: Vec<Bound>,
    sources: Vec<(String, String)>,
    /// (from, to, replacement): `from == to` inserts.
    edits: Vec<(LineColumn, LineColumn, String)>,
    macros: Vec<TemplateMacro>,
    /// The macro calls: the macro's name, the call's scope, lines and arguments.
    calls: Vec<Call>,
}

/// A macro call: the macro's name, the call's scope, its lines and its arguments.
type Call = (String, String, (usize, usize), Vec<syn::Expr>);

/// A `macro_rules!` whose one rule declares a type with askama's derive and `source = $param`.
struct TemplateMacro {
    name: String,
    lines: (usize, usize),
    /// The type's name, the index of the source among the macro's parameters, the `ext`.
    ty: String,
    param: usize,
    ext: String,
    /// The body's edits, made when every call passes a string literal.
    edits: Vec<(LineColumn, LineColumn, String)>,
}

impl<'ast> Visit<'ast> for Visitor<'_> {
    fn visit_item_mod(&mut self, item: &'ast ItemMod) {
        self.scope.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.scope.pop();
    }

    fn visit_item_fn(&mut self, item: &'ast ItemFn) {
        self.scope.push(item.sig.ident.to_string());
        syn::visit::visit_item_fn(self, item);
        self.scope.pop();
    }

    fn visit_item_enum(&mut self, item: &'ast ItemEnum) {
        if derives_template(&item.attrs) {
            let end = item.brace_token.span.close().end().line;
            self.record(&item.ident, &item.attrs, end, Some("an enum".to_string()));
        }
        syn::visit::visit_item_enum(self, item);
    }

    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        if let (true, Some(name)) = (item.mac.path.is_ident("macro_rules"), &item.ident) {
            let lines = (
                item.span().start().line,
                item.mac.delimiter.span().close().end().line,
            );
            if let Some(m) = template_macro(name, lines, item.mac.tokens.clone()) {
                self.macros.push(m);
            }
        }
        syn::visit::visit_item_macro(self, item);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if let Some(name) = mac.path.get_ident() {
            let args = mac.parse_body_with(
                syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
            );
            let lines = (
                mac.path.span().start().line,
                mac.delimiter.span().close().end().line,
            );
            if let Ok(args) = args {
                let args = args.into_iter().collect();
                self.calls
                    .push((name.to_string(), self.scope.join("::"), lines, args));
            }
        }
        syn::visit::visit_macro(self, mac);
    }

    fn visit_item_struct(&mut self, item: &'ast ItemStruct) {
        if derives_template(&item.attrs) {
            self.struct_item(item);
        }
        syn::visit::visit_item_struct(self, item);
    }
}

impl Visitor<'_> {
    /// Pairs the types the template macros declare: each call's source becomes a file, the
    /// call passes its path, the macro binds it by `path` (all the calls or none).
    fn macro_calls(&mut self) {
        for m in std::mem::take(&mut self.macros) {
            let calls: Vec<&Call> = self.calls.iter().filter(|c| c.0 == m.name).collect();
            let source = |call: &Call| match call.3.get(m.param) {
                Some(syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(lit),
                    ..
                })) => Some(lit.clone()),
                _ => None,
            };
            let unpaired = if let Some(reason) = self.leave.get(&m.lines.0) {
                Some(reason.clone())
            } else if calls.iter().any(|c| source(c).is_none()) {
                Some("a macro called with a source that is not a string literal".to_string())
            } else {
                None
            };
            for call in &calls {
                self.bound.push(Bound {
                    path: format!("{}::{}", call.1, m.ty),
                    lines: call.2,
                    group: m.lines.0,
                    unpaired: unpaired.clone(),
                });
                if unpaired.is_some() {
                    continue;
                }
                let lit = source(call).expect("checked");
                let path = format!("__source/{}/{}-{}.{}", self.stem, m.ty, call.2.0, m.ext);
                let lines = lit.token().to_string().matches('\n').count();
                let replacement = format!("{path:?}{}", "\n".repeat(lines));
                self.edits
                    .push((lit.span().start(), lit.span().end(), replacement));
                self.sources.push((path, format!("{}\n", lit.value())));
            }
            if unpaired.is_none() && !calls.is_empty() {
                self.edits.extend(m.edits.iter().cloned());
            }
            self.macros.push(m);
        }
    }

    fn record(&mut self, ident: &Ident, attrs: &[Attribute], end: usize, unpaired: Option<String>) {
        let first = attrs.first().map_or(ident.span(), |a| a.span());
        self.bound.push(Bound {
            path: format!("{}::{ident}", self.scope.join("::")),
            lines: (first.start().line, end),
            group: first.start().line,
            unpaired,
        });
    }

    fn struct_item(&mut self, item: &ItemStruct) {
        let end = match &item.fields {
            Fields::Named(fields) => fields.brace_token.span.close().end(),
            _ => item.semi_token.map_or(item.span(), |s| s.span).end(),
        };
        let first = item.attrs[0].span().start().line;
        let keys = match template_keys(&item.attrs) {
            Ok(keys) => keys,
            Err(error) => {
                let reason = format!("its #[template] does not parse: {error}");
                return self.record(&item.ident, &item.attrs, end.line, Some(reason));
            }
        };
        let unpaired = if let Some(reason) = self.leave.get(&first) {
            Some(reason.clone())
        } else if keys.in_doc {
            Some("#[template(in_doc = true)]".to_string())
        } else if keys.path.is_none() && keys.source.is_none() {
            Some("no template path or source".to_string())
        } else if keys.source.is_some() && keys.ext.is_none() {
            Some("a source without `ext`".to_string())
        } else {
            None
        };
        self.record(&item.ident, &item.attrs, end.line, unpaired.clone());
        if unpaired.is_some() {
            return;
        }
        if let (Some(source), Some(ext)) = (&keys.source, &keys.ext) {
            let path = format!("__source/{}/{}-{first}.{ext}", self.stem, item.ident);
            let lines = source.2.matches('\n').count();
            let replacement = format!("path = {path:?}{}", "\n".repeat(lines));
            self.edits.push((source.0, source.1, replacement));
            self.sources.push((path, format!("{}\n", source.3)));
        }
        // Before `pub struct` (after the last attribute could be inside a `///` comment).
        let at = match &item.vis {
            Visibility::Inherited => item.struct_token.span.start(),
            vis => vis.span().start(),
        };
        self.edits.push((
            at,
            at,
            "#[derive(::serde::Serialize, ::shipwright_runtime::Template)] ".to_string(),
        ));
        self.edits
            .push((end, end, inherent_render(&item.ident, &item.generics)));
    }
}

/// The template type a `macro_rules!` of one rule declares with `source = $param`, and the
/// edits that bind it by `path = $param` with both derives and the inherent `render`.
fn template_macro(
    name: &Ident,
    lines: (usize, usize),
    tokens: TokenStream,
) -> Option<TemplateMacro> {
    let rule: Vec<TokenTree> = tokens.into_iter().collect();
    if rule.len() > 5 {
        return None; // more than one rule
    }
    let (TokenTree::Group(matcher), TokenTree::Group(body)) = (rule.first()?, rule.get(3)?) else {
        return None;
    };
    // The parameters, in order: `$name:fragment`.
    let matcher: Vec<TokenTree> = matcher.stream().into_iter().collect();
    let params: Vec<String> = matcher
        .windows(2)
        .filter_map(|w| match w {
            [TokenTree::Punct(p), TokenTree::Ident(i)] if p.as_char() == '$' => Some(i.to_string()),
            _ => None,
        })
        .collect();
    let body = flatten(body.stream());
    // `# [template(... source = $p ...)]`, then `struct Ty` and its `;` or `{ … }`.
    let at = body.iter().position(|t| {
        matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket
            && g.stream().into_iter().next().is_some_and(|t| t.to_string() == "template"))
    })?;
    let TokenTree::Group(attr) = &body[at] else {
        return None;
    };
    let args: Vec<TokenTree> = match attr.stream().into_iter().nth(1)? {
        TokenTree::Group(g) => g.stream().into_iter().collect(),
        _ => return None,
    };
    let key = args.iter().position(|t| t.to_string() == "source")?;
    let param = match (args.get(key + 2), args.get(key + 3)) {
        (Some(TokenTree::Punct(p)), Some(TokenTree::Ident(i))) if p.as_char() == '$' => {
            params.iter().position(|name| i == name)?
        }
        _ => return None,
    };
    let ext = args
        .iter()
        .position(|t| t.to_string() == "ext")
        .and_then(|e| args.get(e + 2))
        .and_then(|lit| syn::parse2::<LitStr>(lit.clone().into()).ok())
        .map_or("txt".to_string(), |lit| lit.value());
    let keyword = body[at..].iter().position(|t| t.to_string() == "struct")? + at;
    let TokenTree::Ident(ty) = body.get(keyword + 1)? else {
        return None;
    };
    let end = match body.get(keyword + 2)? {
        TokenTree::Punct(p) if p.as_char() == ';' => p.span().end(),
        TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => g.span_close().end(),
        _ => return None, // generics
    };
    let source = args[key].span();
    // Before `pub`, `pub(...)`, if any.
    let vis = body[..keyword].iter().rev().take(2).collect::<Vec<_>>();
    let start = match vis[..] {
        [TokenTree::Ident(p), ..] if p == "pub" => p.span(),
        [TokenTree::Group(_), TokenTree::Ident(p)] if p == "pub" => p.span(),
        _ => body[keyword].span(),
    }
    .start();
    Some(TemplateMacro {
        name: name.to_string(),
        lines,
        ty: ty.to_string(),
        param,
        ext,
        edits: vec![
            (source.start(), source.end(), "path".to_string()),
            (
                start,
                start,
                "#[derive(::serde::Serialize, ::shipwright_runtime::Template)] ".to_string(),
            ),
            (end, end, inherent_render(ty, &Generics::default())),
        ],
    })
}

/// A macro body's tokens, its outer `{ … }` (a block expression) opened.
fn flatten(stream: TokenStream) -> Vec<TokenTree> {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    match &tokens[..] {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Brace => {
            g.stream().into_iter().collect()
        }
        _ => tokens,
    }
}

/// `impl Page { fn render(&self) ... }` on one line: the harness's render of both ways.
fn inherent_render(ident: &Ident, generics: &Generics) -> String {
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let harness = Ident::new(HARNESS, Span::call_site());
    let tokens = quote! {
        impl #impl_generics #ident #ty_generics #where_clause {
            #[allow(dead_code)]
            fn render(&self) -> ::askama::Result<::std::string::String>
            where
                Self: ::#harness::Paired,
            {
                ::#harness::check(self)
            }
        }
    };
    format!(" {tokens}")
}

fn derives_template(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|attr| {
            attr.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .is_ok_and(|paths| {
                paths
                    .iter()
                    .any(|p| p.segments.last().is_some_and(|s| s.ident == "Template"))
            })
        })
}

/// The keys of askama's `#[template(...)]` the pairing reads.
#[derive(Default)]
struct Keys {
    path: Option<String>,
    /// `source = "..."`: from, to, its text as written, its value.
    source: Option<(LineColumn, LineColumn, String, String)>,
    ext: Option<String>,
    in_doc: bool,
}

fn template_keys(attrs: &[Attribute]) -> syn::Result<Keys> {
    let mut keys = Keys::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("template")) {
        attr.parse_nested_meta(|meta| {
            let name = meta.path.get_ident().map(Ident::to_string);
            let value = meta.value()?;
            match name.as_deref() {
                Some("path") => keys.path = Some(value.parse::<LitStr>()?.value()),
                Some("ext") => keys.ext = Some(value.parse::<LitStr>()?.value()),
                Some("source") => {
                    let lit: LitStr = value.parse()?;
                    let written = lit.token().to_string();
                    let from = meta.path.span().start();
                    keys.source = Some((from, lit.span().end(), written, lit.value()));
                }
                Some("in_doc") => {
                    keys.in_doc = value.parse::<syn::LitBool>()?.value;
                }
                _ => {
                    // Another key's value (a string, a path, a list): skipped.
                    while !value.is_empty() && !value.peek(syn::Token![,]) {
                        value.parse::<proc_macro2::TokenTree>()?;
                    }
                }
            }
            Ok(())
        })?;
    }
    Ok(keys)
}

/// Line and column (in characters) to byte offsets.
struct Offsets<'a> {
    text: &'a str,
    lines: Vec<usize>,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Self {
        let lines = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Offsets { text, lines }
    }

    fn byte(&self, at: LineColumn) -> usize {
        let start = self.lines[at.line - 1];
        self.text[start..]
            .char_indices()
            .nth(at.column)
            .map_or(self.text.len(), |(offset, _)| start + offset)
    }
}
