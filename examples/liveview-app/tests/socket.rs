//! The live sockets without a browser: the app in this process over a copy of its templates,
//! WebSocket clients speaking the page's protocol (the app's `/live`) and the dev layer's
//! (`/__shipwright/live`, for the overlay's status).

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
        ..Config::default()
    };
    let server = Server::bind(config).await.unwrap();
    let addr = server.addr();
    tokio::spawn(server.serve(std::future::pending()));
    addr
}

async fn connect(addr: std::net::SocketAddr, origin: Option<&str>) -> Result<Socket, Error> {
    connect_to(addr, "/live?page=/counter&generation=0", origin).await
}

/// The dev layer's channel, from a page of this server.
async fn connect_layer(addr: std::net::SocketAddr) -> Socket {
    let origin = format!("http://{addr}");
    connect_to(addr, "/__shipwright/live", Some(&origin))
        .await
        .expect("the layer's channel")
}

async fn connect_to(
    addr: std::net::SocketAddr,
    path: &str,
    origin: Option<&str>,
) -> Result<Socket, Error> {
    let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
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
    // With `dev`, the layer's check: a loopback host by any other name is refused too.
    match connect(addr, Some("http://127.0.0.1:3999@evil.example")).await {
        Err(Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("let in: {:?}", other.map(|_| ())),
    }
    let mut socket = connect(addr, Some(&format!("http://{addr}")))
        .await
        .expect("same origin is let in");
    socket
        .send(Message::Text(r#"{"event":"inc"}"#.into()))
        .await
        .unwrap();
    assert_eq!(
        next(&mut socket).await["parts"],
        json!({ "counter": "<output data-live=\"counter\">Count: 1</output>" })
    );
    // An oversized event is refused, not echoed.
    let _ = socket
        .send(Message::Text("x".repeat(64 << 10).into()))
        .await;
    loop {
        match tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Text(text))) => panic!("answered {} bytes", text.len()),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
}

#[tokio::test]
async fn events_and_edits_come_back_as_the_parts_that_changed() {
    let templates = Templates::copy();
    let addr = serve(&templates).await;
    let mut socket = connect(addr, Some(&format!("http://{addr}")))
        .await
        .unwrap();
    let mut layer = connect_layer(addr).await;
    assert_eq!(next_of(&mut layer, "hello").await["refresh"], "app");
    assert_eq!(next_of(&mut layer, "status").await["rebuild"], json!([]));

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
    assert_eq!(next_of(&mut layer, "update").await["type"], "update");

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
    let status = status_where(&mut layer, |s| s["rebuild"] != json!([])).await;
    let rebuild = status["rebuild"].as_array().unwrap();
    let counter = rebuild
        .iter()
        .find(|r| r["template"] == "pages/counter.html")
        .expect("pages/counter.html needs a rebuild");
    let file = counter["file"].as_str().unwrap();
    assert!(
        file.ends_with("templates/partials/counter_value.html"),
        "{counter}"
    );
    assert_eq!(counter["line"], 1);
    assert!(
        counter["reason"]
            .as_str()
            .unwrap()
            .starts_with("new variable `missing_field` is not a field of `CounterPage`"),
        "{counter}"
    );
    templates.write(name, &good);
    status_where(&mut layer, |s| s["rebuild"] == json!([])).await;
    // Meanwhile the socket rendered both (the variable is undefined: empty).
    for text in ["Total: 2 ", "Total: 2"] {
        assert_eq!(
            next_of(&mut socket, "parts").await["parts"],
            json!({ "counter": format!("<output data-live=\"counter\">{text}</output>") })
        );
    }

    // A template minijinja cannot parse: the pages keep its last good version, and the overlay
    // names the file and the line.
    templates.write(
        name,
        "<output data-live=\"counter\">{% if count %}</output>",
    );
    let status = status_where(&mut layer, |s| s["errors"] != json!([])).await;
    let error = &status["errors"][0];
    assert!(
        error["file"]
            .as_str()
            .unwrap()
            .ends_with("templates/partials/counter_value.html"),
        "{status}"
    );
    assert_eq!(error["line"], 1, "{status}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .ends_with("its last good version is served"),
        "{status}"
    );
    let (code, page) = load(addr, "/counter").await;
    assert_eq!(code, 200);
    assert!(
        page.contains("<output data-live=\"counter\">Total: 0</output>"),
        "{page}"
    );

    // A template that parses but fails to render: a page load is the layer's failure page,
    // naming the file and the line.
    templates.write(
        name,
        "<output data-live=\"counter\">{{ count // 0 }}</output>",
    );
    status_where(&mut layer, |s| s["errors"] == json!([])).await;
    let (status, page) = load(addr, "/counter").await;
    assert_eq!(status, 500);
    let failure = failure_of(&page);
    assert_eq!(
        failure["template"], "partials/counter_value.html",
        "{failure}"
    );
    assert!(
        failure["file"]
            .as_str()
            .unwrap()
            .ends_with("templates/partials/counter_value.html"),
        "{failure}"
    );
    assert_eq!(failure["line"], 1, "{failure}");
    // Fixed: the page renders again; the browser still shows the last good render, so no
    // patch.
    templates.write(name, &good);
    next_of(&mut layer, "update").await;
    assert_eq!(load(addr, "/counter").await.0, 200);
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

/// A page load, as a browser asks for it: the status and the body.
async fn load(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(PATIENCE, stream.read_to_string(&mut response))
        .await
        .expect("an answer in time")
        .unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_string();
    (status, body)
}

/// The failure the layer put into a failed page.
fn failure_of(page: &str) -> Value {
    let json = page
        .split("<script type=\"application/json\" id=\"shipwright-failure\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap_or_else(|| panic!("no failure in {page}"));
    serde_json::from_str(json).unwrap()
}
