//! The HTTP side: configuration, shared state, routes, and starting the server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use shipwright_runtime::render::Templates;
use shipwright_runtime::{Embedded, RebuildPlanner, RenderMode, embedded_templates};
use tokio::sync::broadcast;

use crate::pages::Page;
use crate::render::Renderer;

/// How to run the app.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen, unless a listener is passed to [`Server::on`]. Defaults to:
    /// `127.0.0.1:3000`.
    pub addr: SocketAddr,
    /// The template root to serve and (with the `dev` feature) watch. Defaults to: the
    /// crate's `templates/`; without the `dev` feature the embedded sources are served and
    /// this is not read.
    pub templates: PathBuf,
    /// The static files (`/static/...`): read from here and watched with `dev` (a changed
    /// stylesheet is swapped in place), embedded otherwise. Defaults to: the crate's `static/`.
    pub statics: PathBuf,
    /// The watcher's debounce window. Defaults to: the runtime's (10 ms).
    pub debounce: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            templates: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/templates")),
            statics: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static")),
            debounce: None,
        }
    }
}

/// Every template of the app, embedded at build time.
pub fn embedded() -> &'static Embedded {
    embedded_templates!()
}

/// What every request and socket shares.
pub struct AppState {
    pub(crate) renderer: Renderer,
    /// One message per template batch (the re-render hook): every socket re-renders its page.
    pub(crate) notices: broadcast::Sender<u64>,
    /// Counts the template batches applied; pages carry the one they were rendered at.
    pub(crate) generation: Arc<AtomicU64>,
    /// Where `/static/` reads from in dev.
    statics: PathBuf,
    /// The dev layer, whose origin and host check the app's socket uses too.
    #[cfg(feature = "dev")]
    pub(crate) live: shipwright_runtime::dev::LiveReload,
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
    /// Binds `config.addr`, seeds the template cache and (with `dev`) starts the watcher.
    pub async fn bind(config: Config) -> Result<Server, Box<dyn std::error::Error + Send + Sync>> {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
        Server::on(config, listener)
    }

    /// Like [`bind`](Self::bind), on a listener already bound (one a dev runner passed).
    pub fn on(
        config: Config,
        listener: tokio::net::TcpListener,
    ) -> Result<Server, Box<dyn std::error::Error + Send + Sync>> {
        let planner = RebuildPlanner::from_embedded(embedded(), RenderMode::Runtime);
        let templates = if cfg!(feature = "dev") {
            Templates::with_roots(embedded(), vec![config.templates.clone()])?
        } else {
            Templates::embedded(embedded())
        };
        let renderer = Renderer::new(templates);
        let (notices, _) = broadcast::channel(64);
        let generation = Arc::new(AtomicU64::new(0));
        let routes = Router::new()
            .route("/", get(page))
            .route("/counter", get(page))
            .route("/live", get(crate::live::upgrade))
            .route("/static/{file}", get(asset));
        #[cfg(feature = "dev")]
        let (router, watcher) = {
            use crate::pages::{CounterPage, HomePage};
            use shipwright_runtime::Binding;
            use shipwright_runtime::dev::{LiveReload, Watcher};

            let planner = planner
                .bind(Binding::of::<HomePage>())
                .bind(Binding::of::<CounterPage>());
            let mut watcher = Watcher::builder(planner, vec![config.templates.clone()])
                .templates(renderer.templates());
            if let Some(window) = config.debounce {
                watcher = watcher.debounce(window);
            }
            let watcher = watcher.start()?;
            // The re-render hook: the sockets hold the state, so they re-render and send
            // the parts that changed; the pages do not morph themselves.
            let (hook, batches) = (notices.clone(), Arc::clone(&generation));
            let live = LiveReload::new(&watcher)
                .static_dir(&config.statics, "/static")
                .rerender(move |_batch| {
                    let _ = hook.send(batches.fetch_add(1, Ordering::AcqRel) + 1);
                });
            let app = Arc::new(AppState {
                renderer,
                notices,
                generation,
                statics: config.statics.clone(),
                live: live.clone(),
            });
            (routes.with_state(app).layer(live), watcher)
        };
        #[cfg(not(feature = "dev"))]
        let router = {
            drop(planner);
            let app = Arc::new(AppState {
                renderer,
                notices,
                generation,
                statics: config.statics.clone(),
            });
            routes.with_state(app)
        };
        let addr = listener.local_addr()?;
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

/// A page, rendered with a fresh state; it names its template generation for its socket. A
/// render error is a `500` with the error attached, which the dev layer turns into its
/// overlay (innermost template, line); without `dev`, a plain text `500`.
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
        Err(e) => {
            let mut response = (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("template error: {e}"),
            )
                .into_response();
            response.extensions_mut().insert(Arc::new(e));
            response
        }
    }
}

async fn asset(Path(file): Path<String>, State(app): State<Arc<AppState>>) -> Response {
    let (embedded, kind) = match file.as_str() {
        "live.js" => (
            include_str!("../static/live.js"),
            "text/javascript; charset=utf-8",
        ),
        "app.css" => (include_str!("../static/app.css"), "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let body = if cfg!(feature = "dev") {
        std::fs::read_to_string(app.statics.join(&file)).unwrap_or_else(|_| embedded.to_string())
    } else {
        embedded.to_string()
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
