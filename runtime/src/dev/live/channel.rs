//! The live channel: one WebSocket per open page, from the server to the page only.
//!
//! On open the server sends `hello` (the build, the template update the server is at, how
//! pages refresh) and the overlay's `status`; then, as they happen, `update` (templates
//! changed), `status`, `css` (a stylesheet changed) and `reload` (another static file
//! changed). The page sends nothing: a message from it closes the channel (1003), and one
//! larger than [`MAX_MESSAGE`] is refused by the WebSocket reader before it is buffered
//! (1009), never echoed.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::{Request, Response, StatusCode};
use axum::response::IntoResponse;
use tokio::sync::broadcast::error::RecvError;

use super::state::Shared;
use super::{Config, guard};

/// The largest message or frame the channel reads from a page: 4 KiB.
pub(crate) const MAX_MESSAGE: usize = 4 << 10;

/// How often the server pings an idle page; a page silent for three of these is dropped.
const PING_EVERY: Duration = Duration::from_secs(15);

/// `GET /__shipwright/live`: the guard, the client limit, the upgrade.
pub(crate) async fn upgrade(
    request: Request<Body>,
    shared: Arc<Shared>,
    config: Arc<Config>,
) -> Response<Body> {
    let (mut parts, _) = request.into_parts();
    if let Err(refusal) = guard::check(&parts.headers, &config.allowed_hosts) {
        config.refusals.log(&refusal);
        return (StatusCode::FORBIDDEN, format!("refused: {refusal}\n")).into_response();
    }
    if shared.clients.load(Ordering::Acquire) >= config.max_clients {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "refused: {} live pages are open already\n",
                config.max_clients
            ),
        )
            .into_response();
    }
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    upgrade
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| session(socket, shared, config))
}

/// Counts a session while it lives.
struct Client<'a>(&'a Shared);

impl<'a> Client<'a> {
    fn enter(shared: &'a Shared) -> Self {
        shared.clients.fetch_add(1, Ordering::AcqRel);
        Client(shared)
    }
}

impl Drop for Client<'_> {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn session(mut socket: WebSocket, shared: Arc<Shared>, config: Arc<Config>) {
    let _client = Client::enter(&shared);
    // Subscribed before the first messages are made: nothing sent after them is missed.
    let mut messages = shared.messages.subscribe();
    let hello = serde_json::json!({
        "type": "hello",
        "build": config.build,
        "seq": shared.seq.load(Ordering::Acquire),
        "refresh": if config.rerender.is_some() { "app" } else { "morph" },
    });
    for message in [hello, shared.status_message()] {
        if socket.send(text(&message.to_string())).await.is_err() {
            return;
        }
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut silent_pings = 0u32;
    loop {
        tokio::select! {
            received = socket.recv() => match received {
                None | Some(Ok(Message::Close(_))) => return,
                Some(Ok(Message::Pong(_) | Message::Ping(_))) => silent_pings = 0,
                Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                    close(&mut socket, close_code::UNSUPPORTED, "the live channel takes no messages").await;
                    return;
                }
                Some(Err(error)) => {
                    let error = error.to_string();
                    if error.contains("too long") || error.contains("Space limit") {
                        let reason = format!("message too big (limit {MAX_MESSAGE} bytes)");
                        close(&mut socket, close_code::SIZE, &reason).await;
                    }
                    return;
                }
            },
            message = messages.recv() => {
                let sent = match message {
                    Ok(message) => socket.send(text(&message)).await,
                    // Fell behind: what it missed comes down to "refresh, and here is the status".
                    Err(RecvError::Lagged(_)) => {
                        let update = serde_json::json!({ "type": "update", "seq": shared.seq.load(Ordering::Acquire) });
                        match socket.send(text(&update.to_string())).await {
                            Ok(()) => socket.send(text(&shared.status_message().to_string())).await,
                            Err(e) => Err(e),
                        }
                    }
                    Err(RecvError::Closed) => return,
                };
                if sent.is_err() {
                    return;
                }
            }
            _ = ping.tick() => {
                silent_pings += 1;
                if silent_pings > 3 || socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn text(json: &str) -> Message {
    Message::Text(json.into())
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}
