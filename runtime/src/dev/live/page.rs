//! The app's responses on their way out: the client script put into HTML pages, and a failed
//! render turned into a page that shows the overlay and stays live.

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;

use super::CLIENT_PATH;
use super::state::Shared;

/// The largest HTML body the layer reads to inject the client; a larger one goes out as it is.
pub(crate) const MAX_HTML: u64 = 32 << 20;

/// The most of an error response's text body that the overlay quotes.
const MAX_ERROR_TEXT: u64 = 4 << 10;

/// What the layer needs to know of the request once the response is there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asked {
    /// `HEAD`: the body is empty, the headers must stay as they are.
    pub(crate) head: bool,
    /// A page load (a navigation, as `Sec-Fetch-Dest` says, or a request without it) or the
    /// client's own refresh (`X-Shipwright: refresh`): the client goes into its HTML. Not the
    /// HTML fragments a page's own scripts fetch (htmx and the like).
    pub(crate) page: bool,
    /// A page load that takes HTML (`Accept` names `text/html`): a failure becomes the
    /// overlay page.
    pub(crate) wants_html: bool,
}

impl Asked {
    pub(crate) fn of(method: &Method, headers: &HeaderMap) -> Asked {
        let refresh = headers.contains_key("x-shipwright");
        let page = refresh
            || match headers.get("sec-fetch-dest").map(HeaderValue::as_bytes) {
                None => true,
                Some(dest) => [&b"document"[..], b"iframe", b"frame"].contains(&dest),
            };
        let accepts_html = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("text/html"));
        Asked {
            head: method == Method::HEAD,
            page,
            wants_html: page && accepts_html && (method == Method::GET || method == Method::HEAD),
        }
    }
}

/// A failed render, as the overlay shows it.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: u16,
    /// The innermost template minijinja names, when the app attached its error.
    pub(crate) template: Option<String>,
    /// Its file (as the watcher read it), else the template's name.
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u32>,
    pub(crate) message: String,
    /// Lines around `line`: (number, text).
    pub(crate) excerpt: Vec<(u32, String)>,
}

/// The `<script>` that loads the client, with the build and the template update the page was
/// rendered at.
pub(crate) fn script_tag(build: &str, seq: u64) -> String {
    format!(
        "<script src=\"{CLIENT_PATH}\" data-build=\"{}\" data-seq=\"{seq}\" defer></script>",
        escape(build)
    )
}

/// `html` with `insert` just before its last `</body` (any case), else at its end.
pub(crate) fn inject(html: &[u8], insert: &str) -> Vec<u8> {
    let at = rfind_ascii_ci(html, b"</body").unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + insert.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(insert.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

fn rfind_ascii_ci(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > haystack.len() {
        return None;
    }
    (0..=haystack.len() - needle.len())
        .rev()
        .find(|&at| haystack[at..at + needle.len()].eq_ignore_ascii_case(needle))
}

/// Whether the layer may read and rewrite this response's body: `text/html`, not encoded
/// (`Content-Encoding` absent or `identity`), of a known length up to [`MAX_HTML`].
fn rewritable_html<B: HttpBody>(response: &Response<B>) -> bool {
    is_html(response.headers())
        && !encoded(response.headers())
        && exact_len(response.body()).is_some_and(|n| n <= MAX_HTML)
}

fn is_html(headers: &HeaderMap) -> bool {
    content_type(headers).is_some_and(|t| t.eq_ignore_ascii_case("text/html"))
}

/// The media type of `Content-Type`, without parameters.
fn content_type(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or("").trim())
}

fn encoded(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .any(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"))
}

fn exact_len<B: HttpBody>(body: &B) -> Option<u64> {
    let hint = body.size_hint();
    (hint.upper() == Some(hint.lower())).then_some(hint.lower())
}

/// The app's response, with the client in it (HTML pages) or turned into the overlay page
/// (failed page loads); anything else as it came. `seq` is the template update the page says
/// it was rendered at: read before the render, so that a page never claims an update whose
/// invalidations its render may not have seen.
pub(crate) async fn process<B>(
    response: Response<B>,
    asked: Asked,
    seq: u64,
    shared: &Shared,
    build: &str,
) -> Response<Body>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let status = response.status();
    let failed = status.is_server_error() && asked.wants_html;
    if asked.head
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return response.map(Body::new);
    }
    if failed {
        return failure_response(response, seq, shared, build).await;
    }
    if !asked.page || !rewritable_html(&response) {
        return response.map(Body::new);
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(Body::new(body), MAX_HTML as usize).await else {
        // The body failed while being read: it cannot be sent again; say so plainly.
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the response body failed",
        )
            .into_response();
    };
    let html = inject(&bytes, &script_tag(build, seq));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(html))
}

/// A failed page load: the overlay page with what is known of the failure (the minijinja
/// error the app attached, else the status and the body's text); an HTML error page of the
/// app's own keeps its body and gets the client and the failure.
async fn failure_response<B>(
    response: Response<B>,
    seq: u64,
    shared: &Shared,
    build: &str,
) -> Response<Body>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let status = response.status();
    let mut failure = from_extensions(response.extensions(), shared).unwrap_or_default();
    failure.status = status.as_u16();
    let html = rewritable_html(&response);
    let text = !html
        && !encoded(response.headers())
        && content_type(response.headers()).is_none_or(|t| t.starts_with("text/"))
        && exact_len(response.body()).is_some_and(|n| n <= MAX_ERROR_TEXT);
    let (mut parts, body) = response.into_parts();
    let bytes = if html || text {
        axum::body::to_bytes(Body::new(body), MAX_HTML as usize)
            .await
            .ok()
    } else {
        None
    };
    if failure.message.is_empty() {
        let said = match (&bytes, text) {
            (Some(bytes), true) => String::from_utf8_lossy(bytes).trim().to_string(),
            _ => String::new(),
        };
        let reason = status.canonical_reason().unwrap_or("error");
        failure.message = if said.is_empty() {
            format!("the page answered {} {reason}", status.as_u16())
        } else {
            format!("the page answered {} {reason}: {said}", status.as_u16())
        };
    }
    let insert = format!("{}{}", failure_script(&failure), script_tag(build, seq));
    let body = match (html, bytes) {
        (true, Some(bytes)) => inject(&bytes, &insert),
        _ => {
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            parts.headers.remove(header::CONTENT_ENCODING);
            failure_page(&failure, &insert).into_bytes()
        }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, Body::from(body))
}

/// The failure as JSON inside the page, for the client (`</` escaped so that no text in it
/// closes the script element).
pub(crate) fn failure_script(failure: &Failure) -> String {
    let json = serde_json::to_string(failure)
        .unwrap_or_default()
        .replace("</", "<\\/");
    format!("<script type=\"application/json\" id=\"shipwright-failure\">{json}</script>")
}

/// The page shown instead of a failed render; the client puts the overlay over it and loads
/// the real page as soon as it renders again.
fn failure_page(failure: &Failure, insert: &str) -> String {
    let location = match (&failure.file, failure.line) {
        (Some(file), Some(line)) => format!("{file}:{line}: "),
        (Some(file), None) => format!("{file}: "),
        _ => String::new(),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"shipwright-failure-page\" content=\"{}\">\n<title>{} · render failed</title>\n</head>\n<body>\n<pre style=\"white-space: pre-wrap; font: 14px/1.4 ui-monospace, monospace; padding: 1rem\">{}{}</pre>\n{insert}\n</body>\n</html>\n",
        failure.status,
        failure.status,
        escape(&location),
        escape(&failure.message),
    )
}

/// A failure from the error the app attached to its response: the runtime's
/// `Arc<RenderError>` (what `Templates` returns), or an `Arc<minijinja::Error>`.
#[cfg(feature = "minijinja")]
fn from_extensions(extensions: &axum::http::Extensions, shared: &Shared) -> Option<Failure> {
    use crate::render::RenderError;
    if let Some(error) = extensions.get::<std::sync::Arc<RenderError>>() {
        return Some(from_render_error(error, shared));
    }
    let error = extensions.get::<std::sync::Arc<minijinja::Error>>()?;
    Some(from_render_error(&RenderError::from(&**error), shared))
}

#[cfg(not(feature = "minijinja"))]
fn from_extensions(_: &axum::http::Extensions, _: &Shared) -> Option<Failure> {
    None
}

/// The failure page of a render error: its innermost template, line and the lines around.
#[cfg(feature = "minijinja")]
pub(crate) fn from_render_error(error: &crate::render::RenderError, shared: &Shared) -> Failure {
    Failure {
        status: 500,
        template: error.template.clone(),
        file: error.template.as_deref().map(|name| shared.file_of(name)),
        line: error.line.map(|l| l as u32),
        message: error.message.clone(),
        excerpt: error.excerpt.clone(),
    }
}

/// Text for HTML: `&`, `<`, `>`, `"` escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}
