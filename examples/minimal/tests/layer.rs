//! The app's router without a browser or a socket: with `dev` the layer injects the client
//! and serves it; without (`cargo test -p minimal --no-default-features`) there is no layer,
//! nothing is injected, and the client's path is the router's 404.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

async fn get(path: &str) -> (StatusCode, String) {
    let app = minimal::app().unwrap();
    let request = Request::get(path)
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap();
    let response = app.router.oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn the_client_is_there_exactly_with_the_dev_feature() {
    let (status, page) = get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1 id=\"title\">Minimal</h1>"), "{page}");
    let (status, script) = get("/__shipwright/live.js").await;
    if cfg!(feature = "dev") {
        assert!(
            page.contains("<script src=\"/__shipwright/live.js\""),
            "{page}"
        );
        assert_eq!(status, StatusCode::OK);
        assert!(script.contains("__shipwright"));
    } else {
        assert!(!page.contains("__shipwright"), "{page}");
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(script, "");
    }
}
