//! The app's live socket: the browser sends events (`{"event":"inc"}`), the server holds the
//! state, renders, and sends back only the parts whose HTML changed. In dev the dev layer's
//! re-render hook sends a notice on each template change, and every socket does the same for
//! it (the overlay, stylesheets and reconnects are the layer's).

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
use crate::render::{Patch, Rendered, diff};
use crate::server::AppState;

/// The largest event the socket reads.
const MAX_EVENT: usize = 1 << 10;

/// The socket's query: which page it drives and which template generation it was rendered at.
#[derive(Debug, Deserialize)]
pub(crate) struct LiveQuery {
    page: String,
    #[serde(default)]
    generation: u64,
}

/// `GET /live`: upgrades requests from this server's own pages (in dev, the dev layer's check:
/// same origin, loopback or allowed host).
pub(crate) async fn upgrade(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    Query(query): Query<LiveQuery>,
    State(app): State<Arc<AppState>>,
) -> Response {
    #[cfg(feature = "dev")]
    let checked = app
        .live
        .check(&headers)
        .map_err(|r| format!("refused: {r}"));
    #[cfg(not(feature = "dev"))]
    let checked = check_origin(&headers);
    if let Err(why) = checked {
        return (StatusCode::FORBIDDEN, why).into_response();
    }
    let Some(page) = Page::at(&query.page) else {
        return (StatusCode::NOT_FOUND, format!("no page at {}", query.page)).into_response();
    };
    ws.max_message_size(MAX_EVENT)
        .max_frame_size(MAX_EVENT)
        .on_upgrade(move |socket| session(socket, app, page, query.generation))
}

/// Without the dev layer: `Origin` must name the `Host` asked (any scheme the page used).
pub fn check_origin(headers: &HeaderMap) -> Result<(), String> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    let origin = text(header::ORIGIN).ok_or("refused: a live socket needs an Origin header")?;
    let host = text(header::HOST).ok_or("refused: no Host header")?;
    let same = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        == Some(host);
    if !same {
        return Err(format!(
            "refused: origin {origin} is not this server ({host})"
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct ClientEvent {
    event: String,
}

/// One browser tab: its count and its last render.
struct Session {
    app: Arc<AppState>,
    page: Page,
    count: i64,
    last: Option<Rendered>,
}

async fn session(mut socket: WebSocket, app: Arc<AppState>, page: Page, seen: u64) {
    let mut notices = app.notices.subscribe();
    let mut session = Session {
        app: Arc::clone(&app),
        page,
        count: 0,
        last: None,
    };
    let generation = app.generation.load(Ordering::Acquire);
    session.rerender();
    if seen != generation
        && let Some(rendered) = &session.last
    {
        // Templates changed between the page's request and this socket: send it all.
        let page = json!({ "type": "page", "html": rendered.html });
        if send_all(&mut socket, vec![page]).await.is_err() {
            return;
        }
    }
    loop {
        let out = tokio::select! {
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => session.on_client(&text),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            },
            notice = notices.recv() => match notice {
                Ok(_) | Err(RecvError::Lagged(_)) => session.rerender(),
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
            let shown: String = text.chars().take(64).collect();
            return vec![json!({ "type": "error", "message": format!("not an event: {shown}") })];
        };
        match (self.page, event.as_str()) {
            (Page::Counter, "inc") => self.count += 1,
            (Page::Counter, "dec") => self.count -= 1,
            _ => {
                let shown: String = event.chars().take(64).collect();
                return vec![
                    json!({ "type": "error", "message": format!("unknown event {shown:?} on this page") }),
                ];
            }
        }
        self.rerender()
    }

    /// Renders the page again; the messages that bring the browser there. A render that
    /// fails sends nothing: the browser keeps the last good render, and the dev layer's
    /// overlay says why.
    fn rerender(&mut self) -> Vec<Value> {
        let Ok(rendered) = self
            .app
            .renderer
            .render(self.page, self.page.context(self.count))
        else {
            return Vec::new();
        };
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
    fn same_origin_is_let_in() {
        assert_eq!(
            check_origin(&headers(Some("http://127.0.0.1:3000"), "127.0.0.1:3000")),
            Ok(())
        );
        assert_eq!(
            check_origin(&headers(Some("https://app.example"), "app.example")),
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
            "refused: origin http://evil.example is not this server (127.0.0.1:3000)"
        );
        assert!(
            refused(Some("http://127.0.0.1:3001"), "127.0.0.1:3000").contains("is not this server")
        );
    }
}
