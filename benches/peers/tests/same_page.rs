//! The peer apps serve the minimal example's page from its templates: askama-app (compiled in)
//! and autoreload-app (read from the directory given) render the same HTML, with the example's
//! data, and tower-livereload injects its script into both.

#[path = "../../../examples/support/browser.rs"]
mod browser;

use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MINIMAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/minimal");

/// The page without its `<script>` elements.
fn without_scripts(mut page: &str) -> String {
    let mut kept = String::new();
    while let Some(start) = page.find("<script") {
        kept.push_str(&page[..start]);
        let end = page[start..]
            .find("</script>")
            .expect("a closed script element");
        page = &page[start + end + "</script>".len()..];
    }
    kept.push_str(page);
    kept
}

/// `GET /` of the app at `url` (`http://ADDR`): the body.
async fn get(url: &str) -> String {
    let addr = url.strip_prefix("http://").expect("an http URL");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.0\r\nAccept: text/html\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    body.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_peers_serve_the_minimal_page() {
    let mut pages = Vec::new();
    let templates = Path::new(MINIMAL).join("templates");
    let static_dir = Path::new(MINIMAL).join("static");
    for (binary, env) in [
        (
            env!("CARGO_BIN_EXE_askama-app"),
            vec![("PEERS_STATIC", static_dir.as_path())],
        ),
        (
            env!("CARGO_BIN_EXE_autoreload-app"),
            vec![
                ("PEERS_TEMPLATES", templates.as_path()),
                ("PEERS_STATIC", static_dir.as_path()),
            ],
        ),
    ] {
        let app = browser::App::start(binary, &["127.0.0.1:0".as_ref()], &env).await;
        let page = get(&app.url).await;
        assert!(
            page.contains("/_tower-livereload/event-stream"),
            "{binary}: tower-livereload's script injected"
        );
        pages.push(without_scripts(&page));
        app.stop().await;
    }
    let index = std::fs::read_to_string(templates.join("index.html")).unwrap();
    let intro = index
        .lines()
        .find(|line| line.contains("id=\"intro\""))
        .expect("the intro in index.html")
        .trim();
    for page in &pages {
        assert!(page.contains("<h1 id=\"title\">Minimal</h1>"), "{page}");
        assert!(page.contains(intro), "{page}");
        assert!(page.contains("<li>Edited live in dev</li>"), "{page}");
    }
    assert_eq!(pages[0], pages[1], "askama-app and autoreload-app");
}

#[test]
fn scripts_are_cut_out() {
    assert_eq!(
        without_scripts("<p>a</p><script src=x></script><p>b</p><script>1</script>"),
        "<p>a</p><p>b</p>"
    );
}
