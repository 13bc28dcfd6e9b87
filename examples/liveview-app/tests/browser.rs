//! End to end in headless Chromium: the app as a process over a copy of its templates, a tab
//! on the counter page, the counter clicked up; a text edit on disk shows in the DOM with no
//! reload and the count kept; an edit that needs `cargo build` brings up the overlay with the
//! file and the reason; its undo takes the overlay away.

mod support;

use support::{Browser, Templates};

const COUNTER_VALUE: &str = "partials/counter_value.html";
const OVERLAY: &str = "document.getElementById('shipwright-overlay')";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_on_disk_show_in_the_browser_without_a_reload() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let templates = Templates::copy();
    let app = support::start(&templates, &[]).await;
    let tab = browser.open(&format!("{}/counter", app.url)).await;
    tab.wait_for(
        "window.__liveview && window.__liveview.connected",
        "the app's socket",
    )
    .await;

    // The server holds the count: three clicks, three answers.
    for expected in 1..=3 {
        tab.eval("document.querySelector('[data-event=inc]').click()")
            .await;
        tab.wait_for(
            &format!(
                "document.querySelector('[data-live=counter]').textContent === 'Count: {expected}'"
            ),
            "the count",
        )
        .await;
    }
    // A reload would lose this (and reset the count to 0).
    tab.eval("window.__marker = 'no reload'; document.querySelector('[data-part=nav]').dataset.marker = 'same node'").await;

    // Literal text: hot reload, the count kept.
    let original = templates.read(COUNTER_VALUE);
    assert!(original.contains("Count: {{ count }}"), "{original}");
    let edited = original.replace("Count: {{ count }}", "Clicks so far: {{ count }}");
    templates.write(COUNTER_VALUE, &edited);
    tab.wait_for(
        "document.querySelector('[data-live=counter]').textContent === 'Clicks so far: 3'",
        "the edited text with the count kept",
    )
    .await;
    assert_eq!(tab.eval("window.__marker").await, "no reload");
    assert_eq!(
        tab.eval("document.querySelector('[data-part=nav]').dataset.marker")
            .await,
        "same node",
        "only the counter's part was swapped"
    );
    assert_eq!(tab.eval(&format!("{OVERLAY} === null")).await, true);

    // A variable `CounterPage` has no field for: `cargo build` needed, and the overlay says
    // which file and why.
    templates.write(
        COUNTER_VALUE,
        &edited.replace("{{ count }}", "{{ count }} by {{ user.name }}"),
    );
    tab.wait_for(&format!("{OVERLAY} !== null"), "the overlay")
        .await;
    let overlay = tab.text("#shipwright-overlay").await;
    assert!(overlay.contains("cargo build needed"), "{overlay}");
    assert!(
        overlay.contains("templates/partials/counter_value.html:1"),
        "the file and line: {overlay}"
    );
    assert!(
        overlay.contains("new variable `user` is not a field of `CounterPage` (fields: app_name, count); it is read in partials/counter_value.html"),
        "the reason: {overlay}"
    );
    assert_eq!(tab.eval("window.__marker").await, "no reload");

    // Undone: the overlay goes, the page is as before, the count is still the server's.
    templates.write(COUNTER_VALUE, &edited);
    tab.wait_for(&format!("{OVERLAY} === null"), "the overlay to go")
        .await;
    assert_eq!(tab.text("[data-live=counter]").await, "Clicks so far: 3");
    tab.eval("document.querySelector('[data-event=inc]').click()")
        .await;
    tab.wait_for(
        "document.querySelector('[data-live=counter]').textContent === 'Clicks so far: 4'",
        "the count going on",
    )
    .await;
    assert_eq!(tab.eval("window.__marker").await, "no reload");

    // The layout, outside every part: the body is swapped whole, still without a reload.
    let base = templates.read("layouts/base.html");
    templates.write(
        "layouts/base.html",
        &base.replace("<body>", "<body>\n  <p id=\"banner\">Edited layout</p>"),
    );
    tab.wait_for(
        "document.getElementById('banner') !== null",
        "the new layout",
    )
    .await;
    assert_eq!(tab.text("[data-live=counter]").await, "Clicks so far: 4");
    assert_eq!(tab.eval("window.__marker").await, "no reload");
    drop(app);
}
