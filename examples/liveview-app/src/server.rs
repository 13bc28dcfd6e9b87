//! The HTTP side: configuration, shared state, routes, and starting the server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use shipwright_runtime::{Embedded, RebuildPlanner, RenderMode, TemplateCache, embedded_templates};
use tokio::sync::broadcast;

use crate::pages::Page;
use crate::render::{Renderer, Sources};

/// How to run the app.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen. Defaults to: `127.0.0.1:3000`.
    pub addr: SocketAddr,
    /// The template root to serve and (with the `dev` feature) watch. Defaults to: the
    /// crate's `templates/`; without the `dev` feature the embedded sources are served and
    /// this is not read.
    pub templates: PathBuf,
    /// The watcher's debounce window. Defaults to: the runtime's (10 ms).
    pub debounce: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            templates: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/templates")),
            debounce: None,
        }
    }
}

/// Every template of the app, embedded at build time.
pub fn embedded() -> &'static Embedded {
    embedded_templates!()
}

/// What the overlay shows: why `cargo build` is needed, and errors with their file and line.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Status {
    /// One entry per template that needs a rebuild.
    pub rebuild: Vec<StatusReason>,
    /// Errors: templates that do not lex or render, files that cannot be read.
    pub errors: Vec<StatusError>,
}

/// A template that needs `cargo build`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatusReason {
    /// The template the decision is for.
    pub template: String,
    /// The file to look at (the one that changed), relative to the crate.
    pub file: String,
    /// Its line, when known.
    pub line: Option<u32>,
    /// The planner's sentence.
    pub reason: String,
}

/// An error for the overlay.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatusError {
    /// The file or template, when known.
    pub file: Option<String>,
    /// Its line, when known.
    pub line: Option<u32>,
    /// What went wrong.
    pub message: String,
}

/// What every request and socket shares.
pub struct AppState {
    pub(crate) renderer: Renderer,
    /// One message per template batch: every socket re-renders its page.
    pub(crate) notices: broadcast::Sender<u64>,
    /// Counts the template batches applied; pages carry the one they were rendered at.
    pub(crate) generation: AtomicU64,
    pub(crate) status: Mutex<Status>,
}

/// A bound server, not yet serving.
pub struct Server {
    listener: tokio::net::TcpListener,
    router: Router,
    addr: SocketAddr,
    #[cfg(feature = "dev")]
    _watcher: shipwright_runtime::dev::Watcher,
}

impl Server {
    /// Binds, seeds the template cache and (with `dev`) starts the watcher.
    pub async fn bind(config: Config) -> Result<Server, Box<dyn std::error::Error + Send + Sync>> {
        let planner = RebuildPlanner::from_embedded(embedded(), RenderMode::Runtime);
        let cache = Arc::new(TemplateCache::from_build_cache(planner.baseline()));
        let sources = if cfg!(feature = "dev") {
            Sources::Dir(config.templates.clone())
        } else {
            Sources::Embedded(embedded())
        };
        let (notices, _) = broadcast::channel(64);
        let app = Arc::new(AppState {
            renderer: Renderer::new(embedded(), cache, sources),
            notices,
            generation: AtomicU64::new(0),
            status: Mutex::new(Status::default()),
        });
        #[cfg(feature = "dev")]
        let watcher = crate::dev::start(&app, planner, &config)?;
        #[cfg(not(feature = "dev"))]
        drop(planner);
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
        let addr = listener.local_addr()?;
        let router = Router::new()
            .route("/", get(page))
            .route("/counter", get(page))
            .route("/live", get(crate::live::upgrade))
            .route("/static/{file}", get(asset))
            .with_state(app);
        Ok(Server {
            listener,
            router,
            addr,
            #[cfg(feature = "dev")]
            _watcher: watcher,
        })
    }

    /// The address it listens on (the port chosen, for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// A page, rendered with a fresh state; it names its template generation for its socket.
async fn page(uri: Uri, State(app): State<Arc<AppState>>) -> Response {
    let Some(page) = Page::at(uri.path()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let generation = app.generation.load(Ordering::Acquire);
    match app.renderer.render(page, page.context(0)) {
        Ok(rendered) => {
            let meta =
                format!("<meta name=\"shipwright-generation\" content=\"{generation}\">\n</head>");
            Html(rendered.html.replacen("</head>", &meta, 1)).into_response()
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("template error: {e}"),
        )
            .into_response(),
    }
}

async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "live.js" => (
            include_str!("../static/live.js"),
            "text/javascript; charset=utf-8",
        ),
        "app.css" => (include_str!("../static/app.css"), "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
