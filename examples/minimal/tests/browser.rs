//! End to end in headless Chromium: the app as a process over a copy of its files, a tab on
//! `/` with a name typed in, `<details>` opened and a marker set on `window`. A text edit on
//! disk shows in the DOM with no reload and all of that kept; a variable the page's struct
//! lacks brings up the overlay naming the file; undoing it takes the overlay away; a page
//! loaded while the render fails shows the overlay and comes back by itself; a stylesheet is
//! swapped in place.
//!
//! Fails without Chromium, unless `SHIPWRIGHT_SKIP_BROWSER=1` (then it says it skipped).

mod support;

const INDEX: &str = "templates/index.html";
const OVERLAY: &str = "document.getElementById('shipwright-overlay')";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_on_disk_morph_the_page_in_place() {
    let Some(browser) = support::Browser::launch().await else {
        return;
    };
    let site = support::site();
    let app = support::start(&site).await;
    let tab = browser.open(&format!("{}/", app.url)).await;

    // What a reload would lose.
    tab.eval("window.__marker = 'no reload'; document.querySelector('#more summary').click(); document.getElementById('name').focus()").await;
    tab.call("Input.insertText", serde_json::json!({ "text": "Ada" }))
        .await;
    assert_eq!(
        tab.eval("document.getElementById('name').value").await,
        "Ada"
    );
    assert_eq!(tab.eval("document.getElementById('more').open").await, true);

    // Literal text: morphed in, the rest kept.
    let original = site.read(INDEX);
    let edited = original.replace("Edit this text and save.", "Edited on disk.");
    assert_ne!(edited, original);
    site.write(INDEX, &edited);
    tab.wait_for(
        "document.getElementById('intro').textContent.includes('Edited on disk.')",
        "the edited text",
    )
    .await;
    assert_eq!(tab.eval("window.__marker").await, "no reload");
    assert_eq!(
        tab.eval("document.getElementById('name').value").await,
        "Ada",
        "the typed value"
    );
    assert_eq!(
        tab.eval("document.activeElement.id").await,
        "name",
        "the focus"
    );
    assert_eq!(
        tab.eval("document.getElementById('more').open").await,
        true,
        "<details> open"
    );
    assert_eq!(tab.eval(&format!("{OVERLAY} === null")).await, true);

    // A variable `Index` has no field for: `cargo build` needed, and the render fails too.
    site.write(
        INDEX,
        &edited.replace("Edited on disk.", "Edited on disk, for {{ user.name }}."),
    );
    tab.wait_for(
        &format!("{OVERLAY} !== null && {OVERLAY}.textContent.includes('did not render')"),
        "the overlay",
    )
    .await;
    let overlay = tab.text("#shipwright-overlay").await;
    assert!(overlay.contains("cargo build needed"), "{overlay}");
    assert!(
        overlay.contains("templates/index.html:4"),
        "file and line: {overlay}"
    );
    assert!(
        overlay.contains("new variable `user` is not a field of `Index`"),
        "the reason: {overlay}"
    );
    assert!(
        overlay.contains("undefined value: `user` is undefined"),
        "the render error: {overlay}"
    );
    assert_eq!(tab.eval("window.__marker").await, "no reload");
    assert_eq!(
        tab.eval("document.getElementById('name').value").await,
        "Ada"
    );

    // A page loaded now is the overlay page, live.
    let fresh = browser.open(&format!("{}/", app.url)).await;
    let overlay = fresh.text("#shipwright-overlay").await;
    assert!(overlay.contains("templates/index.html:4"), "{overlay}");
    assert!(overlay.contains("undefined value"), "{overlay}");

    // Undone: the overlay goes; the fresh tab gets the real page by itself.
    site.write(INDEX, &edited);
    tab.wait_for(&format!("{OVERLAY} === null"), "the overlay to go")
        .await;
    assert_eq!(tab.eval("window.__marker").await, "no reload");
    assert_eq!(
        tab.eval("document.getElementById('name').value").await,
        "Ada"
    );
    fresh
        .wait_across_reload(
            &format!("document.getElementById('intro') !== null && {OVERLAY} === null"),
            "the real page in the tab that loaded the failure",
        )
        .await;

    // A stylesheet: swapped in place.
    let css = site.read("static/app.css");
    site.write(
        "static/app.css",
        &format!("{css}\n#title {{ color: rgb(1, 2, 3); }}\n"),
    );
    tab.wait_for(
        "getComputedStyle(document.getElementById('title')).color === 'rgb(1, 2, 3)'",
        "the new style",
    )
    .await;
    assert_eq!(tab.eval("window.__marker").await, "no reload");
    assert_eq!(
        tab.eval("document.querySelectorAll('link[rel=stylesheet]').length")
            .await,
        1,
        "the old sheet went"
    );
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_pages_reconnect_and_reload_once_on_a_new_build() {
    let Some(browser) = support::Browser::launch().await else {
        return;
    };
    let site = support::site();
    let app = support::start(&site).await;
    let addr = app.url.trim_start_matches("http://").to_string();
    let tab = browser.open(&format!("{}/", app.url)).await;
    tab.eval("window.__marker = 'no reload'").await;
    let build = tab.eval("window.__shipwright.build").await;

    // The same binary again, and an edit made while it was down: the page reconnects and
    // morphs the edit in, without a reload.
    app.stop().await;
    tab.wait_for("!window.__shipwright.connected", "the channel to drop")
        .await;
    let index = site.read(INDEX);
    site.write(
        INDEX,
        &index.replace("Edit this text and save.", "Edited while down."),
    );
    let app = support::start_at(&site, env!("CARGO_BIN_EXE_minimal"), &addr).await;
    tab.wait_for(
        "window.__shipwright.connected && document.getElementById('intro').textContent.includes('Edited while down.')",
        "the edit after the reconnect",
    )
    .await;
    assert_eq!(tab.eval("window.__marker").await, "no reload");

    // Another build (a copy of the binary elsewhere has another build id): one reload.
    app.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("minimal-rebuilt");
    std::fs::copy(env!("CARGO_BIN_EXE_minimal"), &copy).unwrap();
    let _app = support::start_at(&site, copy.to_str().unwrap(), &addr).await;
    let live = tab
        .wait_across_reload(
            &format!("window.__marker === undefined && window.__shipwright.connected && window.__shipwright.build !== {build}"),
            "the reload into the new build",
        )
        .await;
    assert_ne!(live["build"], build);
    assert_eq!(
        tab.eval("document.getElementById('intro').textContent")
            .await,
        "A plain axum and minijinja app. Edited while down."
    );
}
