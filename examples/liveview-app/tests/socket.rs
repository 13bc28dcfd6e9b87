//! The live socket without a browser: the app in this process over a copy of its templates, a
//! WebSocket client speaking the page's protocol.

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use liveview_app::{Config, Server};
use serde_json::{Value, json};
use support::{PATIENCE, Templates};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error, Message};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn serve(templates: &Templates) -> std::net::SocketAddr {
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        templates: templates.root.clone(),
        debounce: Some(Duration::from_millis(10)),
    };
    let server = Server::bind(config).await.unwrap();
    let addr = server.addr();
    tokio::spawn(server.serve(std::future::pending()));
    addr
}

async fn connect(addr: std::net::SocketAddr, origin: Option<&str>) -> Result<Socket, Error> {
    let mut request = format!("ws://{addr}/live?page=/counter&generation=0")
        .into_client_request()
        .unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("a message in time")
            .expect("socket open")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// The next message of `kind`, skipping others (status lines between patches).
async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let message = next(socket).await;
        if message["type"] == kind {
            return message;
        }
    }
}

/// The next status for which `holds` is true (each batch sends one; a save may be two).
async fn status_where(socket: &mut Socket, holds: impl Fn(&Value) -> bool) -> Value {
    loop {
        let status = next_of(socket, "status").await;
        if holds(&status) {
            return status;
        }
    }
}

#[tokio::test]
async fn other_origins_are_refused() {
    let templates = Templates::copy();
    let addr = serve(&templates).await;
    for origin in [
        None,
        Some("http://evil.example"),
        Some("http://localhost:1"),
    ] {
        match connect(addr, origin).await {
            Err(Error::Http(response)) => assert_eq!(response.status(), 403, "{origin:?}"),
            other => panic!("{origin:?} let in: {:?}", other.map(|_| ())),
        }
    }
    let mut socket = connect(addr, Some(&format!("http://{addr}")))
        .await
        .expect("same origin is let in");
    assert_eq!(
        next(&mut socket).await,
        json!({ "type": "status", "rebuild": [], "errors": [] })
    );
}

#[tokio::test]
async fn events_and_edits_come_back_as_the_parts_that_changed() {
    let templates = Templates::copy();
    let addr = serve(&templates).await;
    let mut socket = connect(addr, Some(&format!("http://{addr}")))
        .await
        .unwrap();
    assert_eq!(next(&mut socket).await["type"], "status");

    for _ in 0..2 {
        socket
            .send(Message::Text(r#"{"event":"inc"}"#.into()))
            .await
            .unwrap();
    }
    next_of(&mut socket, "parts").await;
    let patch = next_of(&mut socket, "parts").await;
    assert_eq!(
        patch["parts"],
        json!({ "counter": "<output data-live=\"counter\">Count: 2</output>" })
    );

    // A text edit of the counter's partial: only that part, rendered with the server's count.
    let name = "partials/counter_value.html";
    templates.write(name, &templates.read(name).replace("Count:", "Total:"));
    let patch = next_of(&mut socket, "parts").await;
    assert_eq!(
        patch["parts"],
        json!({ "counter": "<output data-live=\"counter\">Total: 2</output>" })
    );
    assert_eq!(next_of(&mut socket, "status").await["rebuild"], json!([]));

    // The nav (a part of its own) and the page's own text (the content part) go separately.
    templates.write(
        "partials/nav.html",
        &templates
            .read("partials/nav.html")
            .replace("\"Counter\")", "\"Count it\")"),
    );
    let patch = next_of(&mut socket, "parts").await;
    assert_eq!(
        patch["parts"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["nav"]
    );
    templates.write(
        "pages/counter.html",
        &templates
            .read("pages/counter.html")
            .replace("Live counter", "Live count"),
    );
    let patch = next_of(&mut socket, "parts").await;
    let content = patch["parts"]["content"]
        .as_str()
        .expect("the content part");
    assert!(
        content.contains("<h1>Live count</h1>") && content.contains("Total: 2"),
        "{content}"
    );

    // A new variable: rebuild needed, with the file and the reason; undone, cleared.
    let good = templates.read(name);
    templates.write(
        name,
        &good.replace("{{ count }}", "{{ count }} {{ missing_field }}"),
    );
    let status = status_where(&mut socket, |s| s["rebuild"] != json!([])).await;
    let rebuild = status["rebuild"].as_array().unwrap();
    let counter = rebuild
        .iter()
        .find(|r| r["template"] == "pages/counter.html")
        .expect("pages/counter.html needs a rebuild");
    assert_eq!(counter["file"], "templates/partials/counter_value.html");
    assert!(
        counter["reason"]
            .as_str()
            .unwrap()
            .starts_with("new variable `missing_field` is not a field of `CounterPage`"),
        "{counter}"
    );
    templates.write(name, &good);
    status_where(&mut socket, |s| s["rebuild"] == json!([])).await;

    // A template minijinja cannot parse: the render error, with its file and line.
    templates.write(
        name,
        "<output data-live=\"counter\">{% if count %}</output>",
    );
    let status = status_where(&mut socket, |s| s["errors"] != json!([])).await;
    let error = &status["errors"][0];
    assert_eq!(
        (error["file"].as_str(), error["line"].as_u64()),
        (Some("templates/partials/counter_value.html"), Some(1)),
        "{error}"
    );
    // Fixed: the error goes; the browser still shows the last good render, so no patch.
    templates.write(name, &good);
    status_where(&mut socket, |s| s["errors"] == json!([])).await;
    socket
        .send(Message::Text(r#"{"event":"inc"}"#.into()))
        .await
        .unwrap();
    assert_eq!(
        next_of(&mut socket, "parts").await["parts"],
        json!({ "counter": "<output data-live=\"counter\">Total: 3</output>" })
    );
}

#[tokio::test]
async fn pages_name_their_template_generation_and_a_stale_socket_gets_the_whole_page() {
    let templates = Templates::copy();
    let addr = serve(&templates).await;
    let mut watch = connect(addr, Some(&format!("http://{addr}")))
        .await
        .unwrap();
    next(&mut watch).await;
    templates.write("partials/footer.html", "<footer>Edited footer</footer>\n");
    assert_eq!(
        next_of(&mut watch, "parts").await["parts"],
        json!({ "footer": "<footer>Edited footer</footer>" })
    );
    // A socket opened by a page rendered before that edit (generation 0) gets it all.
    let mut stale = connect(addr, Some(&format!("http://{addr}")))
        .await
        .unwrap();
    let page = next(&mut stale).await;
    assert_eq!(page["type"], "page");
    assert!(page["html"].as_str().unwrap().contains("Edited footer"));
}
