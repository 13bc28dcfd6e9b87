use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tower::ServiceExt;

use super::guard::{self, AllowedHosts, Host, RefusalLog};
use super::*;
use crate::dev::Watcher;
use crate::planner::{RebuildPlanner, RenderMode};

/// Long enough for anything on a loaded machine; a test waits this long only when it fails.
const PATIENCE: Duration = Duration::from_secs(30);

// ---- Host and Origin ---------------------------------------------------------------------

fn headers(host: Option<&str>, origin: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(host) = host {
        headers.insert(header::HOST, host.parse().unwrap());
    }
    if let Some(origin) = origin {
        headers.insert(header::ORIGIN, origin.parse().unwrap());
    }
    headers
}

fn check(host: &str, origin: &str) -> Result<(), Refusal> {
    guard::check(&headers(Some(host), Some(origin)), &AllowedHosts::default())
}

#[test]
fn same_origin_loopback_pages_are_let_in() {
    for (host, origin) in [
        ("127.0.0.1:3000", "http://127.0.0.1:3000"),
        ("localhost:8080", "http://localhost:8080"),
        ("LocalHost:8080", "http://localhost:8080"),
        ("localhost.:8080", "http://localhost:8080"),
        ("app.localhost:3000", "http://app.localhost:3000"),
        ("[::1]:3000", "http://[::1]:3000"),
        ("[::ffff:127.0.0.1]:3000", "http://[::ffff:127.0.0.1]:3000"),
        ("127.8.9.10", "http://127.8.9.10"),
        ("localhost", "http://localhost:80"),
        ("localhost:443", "https://localhost"),
    ] {
        assert_eq!(check(host, origin), Ok(()), "{host} from {origin}");
    }
}

#[test]
fn a_host_with_user_information_is_malformed_not_loopback() {
    // The example's old check took everything before the last ':' as the name.
    assert_eq!(
        check(
            "127.0.0.1:3999@evil.example",
            "http://127.0.0.1:3999@evil.example"
        ),
        Err(Refusal::BadHost("127.0.0.1:3999@evil.example".into()))
    );
    for host in [
        "evil.example@127.0.0.1:3000",
        "127.0.0.1:3000/path",
        "127.0.0.1:",
        "127.0.0.1:99999",
        "127.0.0.1:30a0",
        ":3000",
        "[::1",
        "[::1]x",
        "[evil]:3000",
        "local host",
    ] {
        assert!(
            matches!(
                check(host, "http://127.0.0.1:3000"),
                Err(Refusal::BadHost(_))
            ),
            "{host}: {:?}",
            check(host, "http://127.0.0.1:3000")
        );
    }
}

#[test]
fn names_that_only_look_loopback_are_refused() {
    for host in [
        "localhost.evil.example:3000",
        "127.0.0.1.nip.io:3000",
        "127.1:3000",
        "evil.example:3000",
        "10.0.0.5:3000",
        "[fe80::1]:3000",
    ] {
        let origin = format!("http://{host}");
        assert_eq!(
            check(host, &origin),
            Err(Refusal::HostNotAllowed(host.into())),
            "{host}"
        );
    }
}

#[test]
fn other_origins_and_missing_headers_are_refused() {
    let allowed = AllowedHosts::default();
    assert_eq!(
        guard::check(&headers(Some("127.0.0.1:3000"), None), &allowed),
        Err(Refusal::NoOrigin)
    );
    assert_eq!(
        guard::check(&headers(None, Some("http://127.0.0.1:3000")), &allowed),
        Err(Refusal::NoHost)
    );
    assert_eq!(
        check("127.0.0.1:3000", "http://evil.example"),
        Err(Refusal::CrossOrigin {
            origin: "http://evil.example".into(),
            host: "127.0.0.1:3000".into()
        })
    );
    for origin in [
        "http://127.0.0.1:3001",
        "http://localhost:3000",
        "https://127.0.0.1",
    ] {
        assert!(
            matches!(
                check("127.0.0.1:3000", origin),
                Err(Refusal::CrossOrigin { .. })
            ),
            "{origin}"
        );
    }
    for origin in [
        "null",
        "file://",
        "ftp://127.0.0.1:3000",
        "http://127.0.0.1:3000/x",
    ] {
        assert!(
            matches!(check("127.0.0.1:3000", origin), Err(Refusal::BadOrigin(_))),
            "{origin}"
        );
    }
    // Two Host headers: which one the server routed by is not known.
    let mut two = headers(Some("127.0.0.1:3000"), Some("http://127.0.0.1:3000"));
    two.append(header::HOST, "evil.example".parse().unwrap());
    assert_eq!(guard::check(&two, &allowed), Err(Refusal::NoHost));
}

#[test]
fn allowed_hosts_let_in_names_suffixes_or_anything() {
    let mut allowed = AllowedHosts::default();
    allowed.add("devbox.internal");
    allowed.add("*.app.github.dev");
    allowed.add("192.168.1.20");
    let let_in = |host: &str| {
        guard::check(
            &headers(Some(host), Some(&format!("https://{host}"))),
            &allowed,
        )
    };
    assert_eq!(let_in("devbox.internal:3000"), Ok(()));
    assert_eq!(let_in("DEVBOX.internal"), Ok(()));
    assert_eq!(let_in("fluffy-3000.app.github.dev"), Ok(()));
    assert_eq!(let_in("192.168.1.20:3000"), Ok(()));
    assert_eq!(let_in("127.0.0.1:3000"), Ok(()), "loopback stays allowed");
    assert!(let_in("app.github.dev.evil.example").is_err());
    assert!(let_in("other.internal").is_err());
    // Still same-origin only.
    assert!(
        guard::check(
            &headers(Some("devbox.internal"), Some("http://evil.example")),
            &allowed
        )
        .is_err()
    );
    let mut any = AllowedHosts::default();
    any.add("*");
    assert_eq!(
        guard::check(
            &headers(Some("evil.example"), Some("http://evil.example")),
            &any
        ),
        Ok(())
    );
}

#[test]
fn loopback_is_decided_on_the_parsed_host() {
    let host = |text| guard::parse_authority(text).unwrap().0;
    assert!(host("localhost").is_loopback());
    assert!(host("127.255.0.1").is_loopback());
    assert!(!host("128.0.0.1").is_loopback());
    assert!(!host("[::2]").is_loopback());
    assert_eq!(host("Example.COM."), Host::Name("example.com".into()));
}

#[test]
fn a_refusal_is_logged_once_per_origin_and_the_log_is_bounded() {
    let log = RefusalLog::default();
    let from = |origin: &str| Refusal::CrossOrigin {
        origin: origin.into(),
        host: "127.0.0.1:3000".into(),
    };
    assert!(log.log(&from("http://a.example")));
    assert!(!log.log(&from("http://a.example")));
    assert!(log.log(&from("http://b.example")));
    for i in 0..1000 {
        log.log(&from(&format!("http://{i}.example")));
    }
    assert!(!log.log(&from("http://new.example")), "past the bound");
}

// ---- The layer, without a server ---------------------------------------------------------

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A template root with `page.html` including `part.html`, and a watcher over it.
fn site() -> (tempfile::TempDir, PathBuf, Watcher) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("templates");
    write(
        &root,
        "page.html",
        "<h1>{{ title }}</h1>\n{% include 'part.html' %}\n",
    );
    write(&root, "part.html", "<p>part</p>\n");
    let roots = shipwright_build::scan::Roots::new(vec![(root.clone(), "templates".into())]);
    let build = shipwright_build::scan::scan(&roots, None).unwrap().cache;
    let planner = RebuildPlanner::new(build, RenderMode::Runtime);
    let watcher = Watcher::builder(planner, vec![root.clone()])
        .start()
        .unwrap();
    (dir, root, watcher)
}

const PAGE: &str =
    "<!doctype html><html><head><title>t</title></head><body><h1>Hi</h1></BODY></html>";

fn app(live: LiveReload) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/bare", get(|| async { Html("<p>no body element</p>") }))
        .route(
            "/json",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"html\":\"</body>\"}",
                )
            }),
        )
        .route(
            "/gzip",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/html"),
                        (header::CONTENT_ENCODING, "gzip"),
                    ],
                    vec![0x1f_u8, 0x8b, 0x08, 0x00],
                )
            }),
        )
        .route(
            "/stream",
            get(|| async {
                let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(
                    axum::body::Bytes::from_static(b"<body>streamed</body>"),
                )]);
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    Body::from_stream(chunks),
                )
            }),
        )
        .route(
            "/broken",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "template error: boom") }),
        )
        .route(
            "/broken-html",
            get(|| async {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<html><body><h1>Oops</h1></body></html>"),
                )
            }),
        )
        .route("/page/{*rest}", get(|| async { "the app" }))
        .layer(live)
}

async fn get_with(app: &Router, uri: &str, accept: &str) -> (StatusCode, HeaderMap, String) {
    let request = Request::get(uri)
        .header(header::ACCEPT, accept)
        .header(header::HOST, "127.0.0.1:3000")
        .body(Body::empty())
        .unwrap();
    send(app, request).await
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

const HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

#[tokio::test]
async fn the_client_goes_into_html_pages_just_before_the_body_ends() {
    let (_dir, _root, watcher) = site();
    let live = LiveReload::new(&watcher).build_id("b1");
    let app = app(live);
    let (status, headers, body) = get_with(&app, "/", HTML).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        "<!doctype html><html><head><title>t</title></head><body><h1>Hi</h1><script src=\"/__shipwright/live.js\" data-build=\"b1\" data-seq=\"0\" defer></script></BODY></html>"
    );
    assert!(
        headers
            .get(header::CONTENT_LENGTH)
            .is_none_or(|n| n.to_str().unwrap() == body.len().to_string()),
        "no stale length: {headers:?}"
    );
    // No </body>: at the end.
    let (_, _, body) = get_with(&app, "/bare", HTML).await;
    assert!(
        body.starts_with("<p>no body element</p><script src=\"/__shipwright/live.js\""),
        "{body}"
    );
    assert!(body.ends_with("</script>"), "{body}");
}

#[tokio::test]
async fn json_compressed_and_streamed_responses_are_left_alone() {
    let (_dir, _root, watcher) = site();
    let app = app(LiveReload::new(&watcher));
    let (_, _, json) = get_with(&app, "/json", HTML).await;
    assert_eq!(json, "{\"html\":\"</body>\"}");
    let (_, headers, gzip) = get_with(&app, "/gzip", HTML).await;
    assert_eq!(
        gzip.as_bytes(),
        String::from_utf8_lossy(&[0x1f, 0x8b, 0x08, 0x00]).as_bytes()
    );
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    let (_, _, streamed) = get_with(&app, "/stream", HTML).await;
    assert_eq!(streamed, "<body>streamed</body>");
}

#[tokio::test]
async fn html_fragments_fetched_by_scripts_are_left_alone() {
    let (_dir, _root, watcher) = site();
    let app = app(LiveReload::new(&watcher));
    let fetch = |dest: &'static str, refresh: bool| {
        let mut request = Request::get("/")
            .header(header::ACCEPT, "text/html")
            .header("sec-fetch-dest", dest);
        if refresh {
            request = request.header("x-shipwright", "refresh");
        }
        request.body(Body::empty()).unwrap()
    };
    let (_, _, fragment) = send(&app, fetch("empty", false)).await;
    assert_eq!(fragment, PAGE, "an htmx-style fetch");
    let (_, _, refreshed) = send(&app, fetch("empty", true)).await;
    assert!(
        refreshed.contains(CLIENT_PATH),
        "the client's own refresh: {refreshed}"
    );
    let (_, _, navigated) = send(&app, fetch("document", false)).await;
    assert!(navigated.contains(CLIENT_PATH), "a navigation: {navigated}");
    let (status, _, failed) = send(
        &app,
        Request::get("/broken")
            .header(header::ACCEPT, "text/html")
            .header("sec-fetch-dest", "empty")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, failed.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "template error: boom"),
        "a fragment's failure is the app's"
    );
}

#[tokio::test]
async fn the_reserved_paths_are_the_layers() {
    let (_dir, _root, watcher) = site();
    let app = app(LiveReload::new(&watcher));
    let (status, headers, script) = get_with(&app, CLIENT_PATH, "*/*").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(script, CLIENT);
    let (status, _, _) = get_with(&app, "/__shipwright/nope", "*/*").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Not a WebSocket handshake, but past the guard: the upgrade itself is what fails.
    let request = Request::get(CHANNEL_PATH)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ORIGIN, "http://127.0.0.1:3000")
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_ne!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.status().is_client_error(), "{}", response.status());
}

#[tokio::test]
async fn the_channel_refuses_other_origins_and_hosts_with_403() {
    let (_dir, _root, watcher) = site();
    let app = app(LiveReload::new(&watcher).allow_hosts(["devbox.internal"]));
    for (host, origin, says) in [
        (
            "127.0.0.1:3000",
            "http://evil.example",
            "origin http://evil.example is not this server",
        ),
        (
            "127.0.0.1:3999@evil.example",
            "http://127.0.0.1:3999@evil.example",
            "malformed Host",
        ),
        (
            "rebound.example:3000",
            "http://rebound.example:3000",
            "not a loopback address",
        ),
    ] {
        let request = Request::get(CHANNEL_PATH)
            .header(header::HOST, host)
            .header(header::ORIGIN, origin)
            .header(header::UPGRADE, "websocket")
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{host} {origin}");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains(says), "{body}");
    }
    let request = Request::get(CHANNEL_PATH)
        .header(header::HOST, "devbox.internal:3000")
        .header(header::ORIGIN, "http://devbox.internal:3000")
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_ne!(response.status(), StatusCode::FORBIDDEN, "an allowed host");
}

#[tokio::test]
async fn a_failed_page_load_becomes_the_overlay_page_and_stays_live() {
    let (_dir, _root, watcher) = site();
    let app = app(LiveReload::new(&watcher).build_id("b1"));
    let (status, headers, body) = get_with(&app, "/broken", HTML).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(
        body.contains("<meta name=\"shipwright-failure-page\" content=\"500\">"),
        "{body}"
    );
    assert!(
        body.contains(
            "\"message\":\"the page answered 500 Internal Server Error: template error: boom\""
        ),
        "{body}"
    );
    assert!(
        body.contains("<script src=\"/__shipwright/live.js\" data-build=\"b1\""),
        "{body}"
    );
    // The app's own HTML error page keeps its body, with the failure and the client in it.
    let (_, _, body) = get_with(&app, "/broken-html", HTML).await;
    assert!(
        body.starts_with(
            "<html><body><h1>Oops</h1><script type=\"application/json\" id=\"shipwright-failure\">"
        ),
        "{body}"
    );
    assert!(body.contains("\"status\":500"), "{body}");
    // Not a page load (an API call): as it came.
    let (status, _, body) = get_with(&app, "/broken", "application/json").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "template error: boom")
    );
}

#[test]
fn text_in_the_failure_cannot_close_its_script_element() {
    let failure = page::Failure {
        status: 500,
        message: "</script><script>alert(1)</script>".into(),
        ..Default::default()
    };
    let script = page::failure_script(&failure);
    assert_eq!(script.matches("</script>").count(), 1, "{script}");
    let json = script
        .strip_prefix("<script type=\"application/json\" id=\"shipwright-failure\">")
        .and_then(|rest| rest.strip_suffix("</script>"))
        .unwrap();
    let back: Value = serde_json::from_str(json).unwrap();
    assert_eq!(back["message"], "</script><script>alert(1)</script>");
    assert_eq!(
        page::escape("<a href=\"x\">&</a>"),
        "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
    );
}

#[cfg(feature = "minijinja")]
#[tokio::test]
async fn a_minijinja_error_names_the_innermost_template_and_its_line() {
    let (_dir, root, watcher) = site();
    let live = LiveReload::new(&watcher);
    let mut env = minijinja::Environment::new();
    env.add_template_owned(
        "page.html",
        std::fs::read_to_string(root.join("page.html")).unwrap(),
    )
    .unwrap();
    env.add_template(
        "part.html",
        "line one\n<p>{{ user.name }}</p>\nline three\n",
    )
    .unwrap();
    let error = env
        .get_template("page.html")
        .unwrap()
        .render(minijinja::context! { title => "T" })
        .unwrap_err();
    assert_eq!(
        error.name(),
        Some("page.html"),
        "minijinja names the including template"
    );
    let error = Arc::new(error);
    let app = Router::new()
        .route(
            "/",
            get(move || {
                let error = Arc::clone(&error);
                async move {
                    let mut response =
                        (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response();
                    response.extensions_mut().insert(error);
                    response
                }
            }),
        )
        .layer(live);
    let (status, _, body) = get_with(&app, "/", HTML).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let json = body
        .split("<script type=\"application/json\" id=\"shipwright-failure\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap_or_else(|| panic!("{body}"));
    let failure: Value = serde_json::from_str(json).unwrap();
    assert_eq!(failure["template"], "part.html");
    assert_eq!(failure["file"], "part.html", "no batch named its file yet");
    assert_eq!(failure["line"], 2);
    assert_eq!(failure["message"], "undefined value: `user` is undefined");
    assert_eq!(
        failure["excerpt"],
        serde_json::json!([
            [1, "line one"],
            [2, "<p>{{ user.name }}</p>"],
            [3, "line three"]
        ])
    );
    assert!(body.contains("<pre style=\"white-space: pre-wrap; font: 14px/1.4 ui-monospace, monospace; padding: 1rem\">part.html:2: undefined value: `user` is undefined</pre>"), "{body}");
}

// ---- The layer, served -------------------------------------------------------------------

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: SocketAddr) -> Result<Socket, tungstenite::Error> {
    let mut request = format!("ws://{addr}{CHANNEL_PATH}")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", format!("http://{addr}").parse().unwrap());
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

async fn next(socket: &mut Socket) -> Message {
    tokio::time::timeout(PATIENCE, socket.next())
        .await
        .expect("a message in time")
        .expect("the channel open")
        .expect("a message")
}

/// The next JSON message whose type is `kind`, skipping others.
async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    loop {
        if let Message::Text(text) = next(socket).await {
            let message: Value = serde_json::from_str(&text).unwrap();
            if message["type"] == kind {
                return message;
            }
        }
    }
}

/// Waits until `holds` is true of the layer (checked as the layer changes; the patience is
/// only reached when the test fails).
async fn until(what: &str, holds: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !holds() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_hear_updates_and_the_overlay_comes_and_goes() {
    let (dir, root, watcher) = site();
    let marker = dir.path().join("rebuild-needed");
    let live = LiveReload::new(&watcher)
        .build_id("b1")
        .rebuild_marker(&marker);
    let addr = serve(app(live)).await;
    let mut first = connect(addr).await.unwrap();
    let mut second = connect(addr).await.unwrap();
    for socket in [&mut first, &mut second] {
        let hello = next_of(socket, "hello").await;
        assert_eq!(hello["build"], "b1");
        assert_eq!(hello["refresh"], "morph");
        let status = next_of(socket, "status").await;
        assert_eq!(status["rebuild"], serde_json::json!([]));
    }

    // Text: an update (both tabs), no rebuild.
    write(&root, "part.html", "<p>edited</p>\n");
    for socket in [&mut first, &mut second] {
        let update = next_of(socket, "update").await;
        assert_eq!(update["seq"], 1);
        assert_eq!(
            next_of(socket, "status").await["rebuild"],
            serde_json::json!([])
        );
    }

    // An include of a template that does not exist: `cargo build` needed, file and reason.
    write(
        &root,
        "part.html",
        "<p>edited</p>\n{% include 'menu.html' %}\n",
    );
    let status = next_of(&mut first, "status").await;
    // Sorted by template: the page that renders the part, then the part.
    assert_eq!(status["rebuild"][0]["template"], "page.html");
    let rebuild = &status["rebuild"][1];
    assert_eq!(rebuild["template"], "part.html");
    assert!(
        rebuild["file"]
            .as_str()
            .unwrap()
            .ends_with("templates/part.html"),
        "{rebuild}"
    );
    assert_eq!(
        rebuild["reason"],
        "part.html references menu.html, which is not a template"
    );
    let reasons = std::fs::read_to_string(&marker).expect("the runner's marker is there");
    assert!(
        reasons.contains("templates/part.html:2: part.html references menu.html"),
        "{reasons}"
    );

    // Undone: the overlay's status is empty again, the marker gone.
    write(&root, "part.html", "<p>edited</p>\n");
    loop {
        let status = next_of(&mut first, "status").await;
        if status["rebuild"] == serde_json::json!([]) {
            break;
        }
    }
    assert!(!marker.exists());
    drop(watcher);
}

/// A page whose render began before an update says the update before it: its client then
/// refreshes for the update instead of taking the page for new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_rendered_across_an_update_says_the_update_before_it() {
    let (_dir, root, watcher) = site();
    let live = LiveReload::new(&watcher).build_id("b1");
    let entered = Arc::new(tokio::sync::Notify::new());
    let release = Arc::new(tokio::sync::Notify::new());
    let (inside, go) = (Arc::clone(&entered), Arc::clone(&release));
    let router = Router::new()
        .route(
            "/",
            get(move || {
                let (inside, go) = (Arc::clone(&inside), Arc::clone(&go));
                async move {
                    inside.notify_one();
                    go.notified().await;
                    Html(PAGE)
                }
            }),
        )
        .layer(live);
    let addr = serve(router.clone()).await;
    let mut socket = connect(addr).await.unwrap();
    assert_eq!(next_of(&mut socket, "hello").await["seq"], 0);

    let page = tokio::spawn(async move { get_with(&router, "/", HTML).await });
    tokio::time::timeout(PATIENCE, entered.notified())
        .await
        .expect("the render began");
    write(&root, "part.html", "<p>edited</p>\n");
    assert_eq!(next_of(&mut socket, "update").await["seq"], 1);
    release.notify_one();
    let (_, _, body) = page.await.unwrap();
    assert!(body.contains("data-seq=\"0\""), "{body}");
    drop(watcher);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_reconnecting_pages_leave_no_session_behind() {
    let (_dir, root, watcher) = site();
    let live = LiveReload::new(&watcher);
    let addr = serve(app(live.clone())).await;
    for round in 0..10 {
        let mut sockets = Vec::new();
        for _ in 0..100 {
            let mut socket = connect(addr).await.unwrap();
            next_of(&mut socket, "hello").await;
            sockets.push(socket);
        }
        assert_eq!(
            live.clients(),
            100,
            "round {round}: only this round's pages are live"
        );
        // Half close politely, half just vanish (the connection drops).
        for (i, mut socket) in sockets.into_iter().enumerate() {
            if i % 2 == 0 {
                let _ = socket.close(None).await;
            }
        }
        until("this round's sessions to end", || live.clients() == 0).await;
    }
    until("every session to end", || live.clients() == 0).await;
    assert_eq!(live.shared.messages.receiver_count(), 0);
    // The layer still works for a new page.
    let mut socket = connect(addr).await.unwrap();
    next_of(&mut socket, "hello").await;
    write(&root, "part.html", "<p>after the storm</p>\n");
    next_of(&mut socket, "update").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_limit_pages_are_turned_away() {
    let (_dir, _root, watcher) = site();
    let live = LiveReload::new(&watcher).max_clients(2);
    let addr = serve(app(live.clone())).await;
    let mut a = connect(addr).await.unwrap();
    let mut b = connect(addr).await.unwrap();
    next_of(&mut a, "hello").await;
    next_of(&mut b, "hello").await;
    match connect(addr).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE)
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    drop(a);
    until("a place to free up", || live.clients() < 2).await;
    let mut c = connect(addr).await.unwrap();
    next_of(&mut c, "hello").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_is_refused_without_being_echoed() {
    let (_dir, _root, watcher) = site();
    let live = LiveReload::new(&watcher);
    let addr = serve(app(live.clone())).await;
    let mut socket = connect(addr).await.unwrap();
    next_of(&mut socket, "status").await;
    let payload = "x".repeat(1 << 20);
    // The server may close before the whole frame is written.
    let _ = socket.send(Message::Text(payload.into())).await;
    let mut received = 0;
    let frame = loop {
        match tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("an answer in time")
        {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(message)) => received += message.len(),
            Some(Err(_)) | None => break None,
        }
    };
    let frame = frame.expect("a close frame");
    assert_eq!(u16::from(frame.code), 1009);
    assert_eq!(frame.reason.as_str(), "message too big (limit 4096 bytes)");
    assert!(received < 4096, "nothing large came back: {received} bytes");
    until("the session to end", || live.clients() == 0).await;

    // A small message: the channel takes none.
    let mut socket = connect(addr).await.unwrap();
    next_of(&mut socket, "status").await;
    socket
        .send(Message::Text("{\"type\":\"hi\"}".into()))
        .await
        .unwrap();
    let Message::Close(Some(frame)) = next(&mut socket).await else {
        panic!("closed")
    };
    assert_eq!(u16::from(frame.code), 1003);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_stylesheet_is_announced_by_its_url() {
    let (dir, _root, watcher) = site();
    let assets = dir.path().join("static");
    write(&assets, "css/app.css", "body { color: black }");
    let live = LiveReload::new(&watcher).static_dir(&assets, "/assets/");
    let addr = serve(app(live)).await;
    let mut socket = connect(addr).await.unwrap();
    next_of(&mut socket, "status").await;
    write(&assets, "css/app.css", "body { color: red }");
    let css = next_of(&mut socket, "css").await;
    assert_eq!(css["path"], "/assets/css/app.css");
    write(&assets, "logo.svg", "<svg/>");
    let reload = next_of(&mut socket, "reload").await;
    assert_eq!(reload["why"], "a static file changed");
}

/// The askama dev renderer's fallbacks for edited templates are `cargo build needed` entries
/// (and ask the runner for a build through the marker); those of unedited templates are not.
#[cfg(feature = "askama")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(
    clippy::await_holding_lock,
    reason = "the other holder is a plain #[test]: no task of this runtime waits for the lock"
)]
async fn the_askama_dev_renderers_fallbacks_for_edits_show_in_the_overlay() {
    use crate::askama::DevProblem;

    let _serial = crate::askama::dev::SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (dir, _root, watcher) = site();
    let marker = dir.path().join("rebuild-needed");
    let live = LiveReload::new(&watcher).rebuild_marker(&marker);
    let shared = Arc::clone(&live.shared);
    let addr = serve(app(live)).await;
    let mut socket = connect(addr).await.unwrap();
    assert_eq!(
        next_of(&mut socket, "status").await["rebuild"],
        serde_json::json!([])
    );

    let problem = |template: &str, edited| DevProblem {
        template: template.to_string(),
        at: Some(("item.html".to_string(), 2)),
        reason: "the dev renderer cannot render a method call `len()`".to_string(),
        edited,
        last_good: false,
    };
    shared.set_rendered(&[problem("page.html", true), problem("other.html", false)]);
    let status = next_of(&mut socket, "status").await;
    let rebuild = status["rebuild"].as_array().unwrap();
    assert_eq!(rebuild.len(), 1, "{status}");
    assert_eq!(rebuild[0]["template"], "page.html");
    assert_eq!(rebuild[0]["line"], 2);
    assert_eq!(
        rebuild[0]["reason"],
        "the dev renderer cannot render a method call `len()`; the page shows the build's version"
    );
    let reasons = std::fs::read_to_string(&marker).expect("the runner's marker is there");
    assert!(
        reasons.contains("item.html:2: the dev renderer"),
        "{reasons}"
    );

    // Fixed (the dev renderer renders the edit): the entry and the marker go.
    shared.set_rendered(&[]);
    assert_eq!(
        next_of(&mut socket, "status").await["rebuild"],
        serde_json::json!([])
    );
    assert!(!marker.exists());
    drop(watcher);
}
