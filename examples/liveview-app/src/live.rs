//! The live socket: the browser sends events (`{"event":"inc"}`), the server holds the state,
//! renders, and sends back only the parts whose HTML changed; in dev it does the same for
//! every template change, and keeps the browser's overlay in step with the watcher.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::pages::Page;
use crate::render::{Patch, RenderError, Rendered, diff};
use crate::server::{AppState, Status};

/// The socket's query: which page it drives and which template generation it was rendered at.
#[derive(Debug, Deserialize)]
pub(crate) struct LiveQuery {
    page: String,
    #[serde(default)]
    generation: u64,
}

/// `GET /live`: upgrades same-origin requests (from a loopback host, with the dev feature).
pub(crate) async fn upgrade(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    Query(query): Query<LiveQuery>,
    State(app): State<Arc<AppState>>,
) -> Response {
    if let Err(why) = check_origin(&headers) {
        return (StatusCode::FORBIDDEN, why).into_response();
    }
    let Some(page) = Page::at(&query.page) else {
        return (StatusCode::NOT_FOUND, format!("no page at {}", query.page)).into_response();
    };
    ws.on_upgrade(move |socket| session(socket, app, page, query.generation))
}

/// The browser must be on this very server: `Origin` is `http://` and the `Host` it asked, and
/// in dev that host is a loopback name (a page elsewhere whose name resolves to 127.0.0.1 sends
/// its own name as `Host`).
pub fn check_origin(headers: &HeaderMap) -> Result<(), String> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    let origin = text(header::ORIGIN).ok_or("refused: a live socket needs an Origin header")?;
    let host = text(header::HOST).ok_or("refused: no Host header")?;
    if origin != format!("http://{host}") {
        return Err(format!(
            "refused: origin {origin} is not this server (http://{host})"
        ));
    }
    if cfg!(feature = "dev") && !is_loopback(host) {
        return Err(format!(
            "refused: the dev socket answers only on a loopback host, not {host}"
        ));
    }
    Ok(())
}

fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[derive(Debug, Deserialize)]
struct ClientEvent {
    event: String,
}

/// One browser tab: its count, its last render, its render error.
struct Session {
    app: Arc<AppState>,
    page: Page,
    count: i64,
    last: Option<Rendered>,
    error: Option<RenderError>,
}

async fn session(mut socket: WebSocket, app: Arc<AppState>, page: Page, seen: u64) {
    let mut notices = app.notices.subscribe();
    let mut session = Session {
        app: Arc::clone(&app),
        page,
        count: 0,
        last: None,
        error: None,
    };
    let generation = app.generation.load(Ordering::Acquire);
    session.rerender();
    let mut out = Vec::new();
    if seen != generation
        && let Some(rendered) = &session.last
    {
        // Templates changed between the page's request and this socket: send it all.
        out.push(json!({ "type": "page", "html": rendered.html }));
    }
    out.push(session.status());
    if send_all(&mut socket, out).await.is_err() {
        return;
    }
    loop {
        let out = tokio::select! {
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => session.on_client(&text),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            },
            notice = notices.recv() => match notice {
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    let mut out = session.rerender();
                    out.push(session.status());
                    out
                }
                Err(RecvError::Closed) => break,
            },
        };
        if send_all(&mut socket, out).await.is_err() {
            break;
        }
    }
}

impl Session {
    fn on_client(&mut self, text: &str) -> Vec<Value> {
        let Ok(ClientEvent { event }) = serde_json::from_str(text) else {
            return vec![json!({ "type": "error", "message": format!("not an event: {text}") })];
        };
        match (self.page, event.as_str()) {
            (Page::Counter, "inc") => self.count += 1,
            (Page::Counter, "dec") => self.count -= 1,
            _ => {
                return vec![
                    json!({ "type": "error", "message": format!("unknown event {event:?} on this page") }),
                ];
            }
        }
        let had_error = self.error.is_some();
        let mut out = self.rerender();
        if had_error != self.error.is_some() {
            out.push(self.status());
        }
        out
    }

    /// Renders the page again; the messages that bring the browser there.
    fn rerender(&mut self) -> Vec<Value> {
        let rendered = match self
            .app
            .renderer
            .render(self.page, self.page.context(self.count))
        {
            Ok(rendered) => rendered,
            Err(e) => {
                self.error = Some(e);
                return Vec::new();
            }
        };
        self.error = None;
        let patch = match &self.last {
            Some(last) => diff(self.page, last, &rendered),
            None => Patch::None,
        };
        self.last = Some(rendered);
        match patch {
            Patch::None => Vec::new(),
            Patch::Parts(parts) => {
                let parts: serde_json::Map<String, Value> = parts
                    .into_iter()
                    .map(|(id, html)| (id.to_string(), Value::String(html)))
                    .collect();
                vec![json!({ "type": "parts", "parts": parts })]
            }
            Patch::Page(html) => vec![json!({ "type": "page", "html": html })],
        }
    }

    /// The overlay's content: the watcher's status and this socket's render error.
    fn status(&self) -> Value {
        let mut status: Status = self.app.status.lock().expect("status lock").clone();
        if let Some(e) = &self.error {
            status.errors.push(crate::server::StatusError {
                file: e.template.as_ref().map(|t| format!("templates/{t}")),
                line: e.line.map(|l| l as u32),
                message: e.message.clone(),
            });
        }
        json!({ "type": "status", "rebuild": status.rebuild, "errors": status.errors })
    }
}

async fn send_all(socket: &mut WebSocket, messages: Vec<Value>) -> Result<(), axum::Error> {
    for message in messages {
        socket
            .send(Message::Text(message.to_string().into()))
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, host.parse().unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, origin.parse().unwrap());
        }
        headers
    }

    #[test]
    fn same_origin_on_loopback_is_let_in() {
        assert_eq!(
            check_origin(&headers(Some("http://127.0.0.1:3000"), "127.0.0.1:3000")),
            Ok(())
        );
        assert_eq!(
            check_origin(&headers(Some("http://localhost:8080"), "localhost:8080")),
            Ok(())
        );
        assert_eq!(
            check_origin(&headers(Some("http://[::1]:3000"), "[::1]:3000")),
            Ok(())
        );
    }

    #[test]
    fn other_origins_and_missing_ones_are_refused() {
        let refused = |origin, host| check_origin(&headers(origin, host)).unwrap_err();
        assert_eq!(
            refused(None, "127.0.0.1:3000"),
            "refused: a live socket needs an Origin header"
        );
        assert_eq!(
            refused(Some("http://evil.example"), "127.0.0.1:3000"),
            "refused: origin http://evil.example is not this server (http://127.0.0.1:3000)"
        );
        assert!(
            refused(Some("http://127.0.0.1:3001"), "127.0.0.1:3000").contains("is not this server")
        );
        if cfg!(feature = "dev") {
            assert_eq!(
                refused(Some("http://rebound.example:3000"), "rebound.example:3000"),
                "refused: the dev socket answers only on a loopback host, not rebound.example:3000"
            );
        }
    }
}
