//! The pages: their `#[derive(Template)]` bindings, their context, and the parts of each that
//! the socket can re-render and swap in on its own.

use minijinja::value::Serde;
use serde::Serialize;
use shipwright_runtime::Template;

/// The app's name, in every page's title.
pub const APP_NAME: &str = "Shipwright LiveView";

/// `/`: a static page.
#[derive(Template, Serialize)]
#[template(path = "pages/home.html")]
pub struct HomePage {
    /// The title's suffix.
    pub app_name: &'static str,
    /// The line under the heading.
    pub greeting: String,
    /// The list.
    pub items: Vec<String>,
}

/// `/counter`: the live counter; `count` is the socket's state, held by the server.
#[derive(Template, Serialize)]
#[template(path = "pages/counter.html")]
pub struct CounterPage {
    /// The title's suffix.
    pub app_name: &'static str,
    /// The count.
    pub count: i64,
}

/// A region of a page: an element with `data-part="<id>"` whose content is the template block
/// of the same name. `title` is the document's title.
#[derive(Debug)]
pub struct Part {
    /// The block's name and the element's `data-part`.
    pub id: &'static str,
    /// The parts inside this one.
    pub children: &'static [Part],
}

const fn leaf(id: &'static str) -> Part {
    Part { id, children: &[] }
}

/// Which page a socket or a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `/`
    Home,
    /// `/counter`
    Counter,
}

impl Page {
    /// The page at a URL path.
    pub fn at(path: &str) -> Option<Page> {
        match path {
            "/" => Some(Page::Home),
            "/counter" => Some(Page::Counter),
            _ => None,
        }
    }

    /// Its template.
    pub fn template(self) -> &'static str {
        match self {
            Page::Home => HomePage::NAME,
            Page::Counter => CounterPage::NAME,
        }
    }

    /// Its parts, outermost first.
    pub fn parts(self) -> &'static [Part] {
        const HOME: &[Part] = &[leaf("title"), leaf("nav"), leaf("content"), leaf("footer")];
        const COUNTER: &[Part] = &[
            leaf("title"),
            leaf("nav"),
            Part {
                id: "content",
                children: &[leaf("counter")],
            },
            leaf("footer"),
        ];
        match self {
            Page::Home => HOME,
            Page::Counter => COUNTER,
        }
    }

    /// Its context for a socket whose count is `count`.
    pub fn context(self, count: i64) -> minijinja::Value {
        match self {
            Page::Home => minijinja::Value::from(Serde(HomePage {
                app_name: APP_NAME,
                greeting: "Templates on disk, decisions from the build.".into(),
                items: vec![
                    "Edit a template: the page updates in place.".into(),
                    "Break one: the overlay says which file, and why.".into(),
                    "Undo: the overlay goes.".into(),
                ],
            })),
            Page::Counter => minijinja::Value::from(Serde(CounterPage {
                app_name: APP_NAME,
                count,
            })),
        }
    }
}
