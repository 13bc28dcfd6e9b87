//! The dev layer for an axum app: one `.layer(..)` and every page of the app reloads live.
//!
//! ```no_run
//! use axum::{Router, response::Html, routing::get};
//! use shipwright_runtime::dev::{LiveReload, Watcher};
//! use shipwright_runtime::{RebuildPlanner, RenderMode};
//! # // In an app with a build script, `embedded_templates!()`; none here.
//! # fn embedded_templates() -> &'static shipwright_runtime::Embedded { unimplemented!() }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // `embedded_templates!()`: every template the build recorded.
//! let planner = RebuildPlanner::from_embedded(embedded_templates(), RenderMode::Runtime);
//! // (`.templates(&templates)` too, when the app renders with `render::Templates`: edits
//! // reach its renders, and a template it cannot parse is shown in the overlay.)
//! let watcher = Watcher::builder(planner, vec!["templates".into()]).start()?;
//!
//! let app = Router::new()
//!     .route("/", get(|| async { Html("<html><body><h1>Hello</h1></body></html>") }))
//!     .layer(LiveReload::new(&watcher).static_dir("static", "/static"));
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # What the layer does
//!
//! - **Injects the client** into every `text/html` response, just before `</body>` (at the
//!   end when there is none): `<script src="/__shipwright/live.js" defer>`, with the build
//!   and the template update the page was rendered at. Other responses go out untouched, and
//!   so do HTML responses the layer cannot rewrite without reading a stream or undoing a
//!   compression: a `Content-Encoding` other than `identity`, a body of unknown length
//!   (streamed), or one over 32 MiB. Put the layer *inside* a compression layer
//!   (`.layer(LiveReload..)` before `.layer(Compression..)`) so that it sees the plain page.
//!   `HEAD` responses keep their headers and are not touched, and so are the HTML fragments a
//!   page's own scripts fetch (htmx and the like: `Sec-Fetch-Dest` other than `document` or
//!   `iframe`); requests without `Sec-Fetch-Dest` count as page loads.
//! - **Serves the live channel** at `/__shipwright/live`: a WebSocket to every open page
//!   (why not Server-Sent Events: an event stream holds one of the six HTTP/1.1 connections
//!   a browser opens to a host, so a seventh tab would stall; WebSockets are not counted
//!   there). Only pages of this very server get in: the `Origin` must be the `Host` asked,
//!   and the host must be a loopback one (`localhost`, `*.localhost`, 127.0.0.0/8, `::1`)
//!   unless [allowed](LiveReload::allow_hosts); anything else is `403 Forbidden`, logged
//!   once per origin or host. The headers are parsed, not compared as text:
//!   `127.0.0.1:3999@evil.example` is a malformed `Host`, not a loopback one.
//! - **Refreshes pages without a reload.** On a template batch whose content changed, each
//!   page fetches its own URL again and morphs its DOM into the new one in place: nodes are
//!   kept where they match (by `id`, a form control's `name`, or tag and position), so form
//!   fields keep what was typed, focus and selection stay, the scroll position is kept and
//!   `<details>` keep their open state. Apps that hold page state on the server (LiveView
//!   style) register a [re-render hook](LiveReload::rerender) instead and push the new HTML
//!   over their own channel; their pages then never morph.
//! - **Swaps stylesheets** from the [static directories](LiveReload::static_dir) in place
//!   (the `<link>` gets a cache-busting query), with no reload; any other changed static
//!   file reloads the pages.
//! - **Shows an overlay** when `cargo build` is needed, naming the file, line and reason, and
//!   clears it when the change is undone. A page load that fails (a `5xx` from the app, to a
//!   request that accepts `text/html`) gets
//!   the overlay too, and stays live: once the page renders again it comes back by itself.
//!   When the app attaches its `minijinja::Error` to the response as an
//!   `Arc<minijinja::Error>` extension (feature `minijinja`), the overlay names the
//!   innermost template of the error (the included one, for an error inside an include), its
//!   line, and shows the lines around it; otherwise it shows the status and the body's text.
//! - **Reconnects** after the server restarts, and reloads the page once when the server's
//!   build differs from the page's (the [build id](LiveReload::build_id)).
//! - **Tells a dev runner** when a rebuild is needed: with `SHIPWRIGHT_REBUILD_MARKER` set
//!   (`shipwright-templates dev` sets it), the file it names exists, listing the reasons,
//!   exactly while `cargo build` is needed.
//!
//! Everything lives under `/__shipwright/`: the layer answers those paths itself (`404` for
//! any it does not know) and never passes them to the app.
//!
//! # Without the feature
//!
//! Without `axum` (or `dev`) there is no layer: nothing is injected, nothing is served, and a
//! request for `/__shipwright/live.js` is whatever the app answers for an unknown path (a
//! `404` from an axum router). Put the layer behind the app's own `dev` feature:
//! `#[cfg(feature = "dev")] let app = app.layer(LiveReload::new(&watcher));`.
//!
//! # Why `dev::live`
//!
//! The module is named for what it serves (the live channel and its client), not for the
//! framework: the types are axum's and tower's (`Layer`, `Service`), and the feature that
//! brings them in is `axum`.
//!
//! # Bounds
//!
//! Each open page costs one task and one receiver of a fixed-size queue (32 messages; a
//! page that falls further behind is sent "refresh" and the status instead of what it
//! missed); a closed page's session ends when its connection does, and a silent one after
//! about a minute of unanswered pings. At most [`max_clients`](LiveReload::max_clients)
//! pages are live at once. The channel takes no messages from pages: one closes it, and one
//! over 4 KiB is refused by the reader before it is buffered.

mod channel;
mod guard;
mod page;
mod state;
mod statics;

#[cfg(test)]
mod tests;

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Once};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use parking_lot::Mutex;

pub use guard::Refusal;

use super::{Batch, Watcher};
use guard::{AllowedHosts, RefusalLog};
use state::{RerenderHook, Shared};

/// Where the layer serves the client script.
pub const CLIENT_PATH: &str = "/__shipwright/live.js";
/// Where the layer serves the live channel (WebSocket).
pub const CHANNEL_PATH: &str = "/__shipwright/live";
/// Every path under this prefix is the layer's.
pub const RESERVED_PREFIX: &str = "/__shipwright/";

/// The browser side: connects, morphs, swaps stylesheets, draws the overlay.
const CLIENT: &str = include_str!("client.js");

/// The dev layer: apply it to an axum `Router` (`router.layer(LiveReload::new(&watcher))`).
/// Cheap to clone; every clone is the same layer.
#[derive(Clone)]
pub struct LiveReload {
    config: Arc<Config>,
    shared: Arc<Shared>,
    started: Arc<Started>,
}

/// The layer's settings, fixed once it is first applied.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) allowed_hosts: AllowedHosts,
    pub(crate) static_dirs: Vec<(PathBuf, String)>,
    pub(crate) rerender: Option<RerenderHook>,
    pub(crate) build: String,
    pub(crate) max_clients: usize,
    pub(crate) refusals: Arc<RefusalLog>,
}

/// The threads and watchers started when the layer is first applied.
struct Started {
    once: Once,
    static_watchers: Mutex<statics::Watchers>,
}

impl LiveReload {
    /// A layer fed by `watcher`'s events (it subscribes now, so that no event between this
    /// call and the first request is lost). Starts nothing until it is applied to a router.
    pub fn new(watcher: &Watcher) -> LiveReload {
        let initial = watcher
            .plan()
            .rebuild_reasons()
            .map(|(t, r)| (t.to_string(), r.clone()))
            .collect();
        let shared = Arc::new(Shared::new(watcher.subscribe(), initial));
        #[cfg(all(feature = "askama", debug_assertions))]
        {
            let weak = Arc::downgrade(&shared);
            crate::askama::watch_problems(move |problems| match weak.upgrade() {
                Some(shared) => {
                    shared.set_rendered(problems);
                    true
                }
                None => false,
            });
        }
        LiveReload {
            config: Arc::new(Config {
                allowed_hosts: AllowedHosts::default(),
                static_dirs: Vec::new(),
                rerender: None,
                build: default_build_id(),
                max_clients: 1024,
                refusals: Arc::default(),
            }),
            shared,
            started: Arc::new(Started {
                once: Once::new(),
                static_watchers: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Lets pages served under these host names in as well as the loopback ones: exact names
    /// or addresses (`devbox.internal`, `192.168.1.20`), `*.suffix` for every name under a
    /// domain (`*.app.github.dev`), or `*` for any host. For dev containers and remote
    /// editors whose forwarded port is reached by another name. Defaults to: loopback only.
    pub fn allow_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let config = Arc::make_mut(&mut self.config);
        for host in hosts {
            config.allowed_hosts.add(host.as_ref());
        }
        self
    }

    /// Watches `dir` (recursively), whose files the app serves under `url_prefix`
    /// (`static_dir("static", "/static")`: `static/app.css` is `/static/app.css`): a changed
    /// stylesheet is swapped in place on every page, any other changed file reloads them.
    /// Can be called for several directories. Defaults to: none.
    pub fn static_dir(mut self, dir: impl Into<PathBuf>, url_prefix: &str) -> Self {
        let prefix = format!("/{}", url_prefix.trim_matches('/'));
        Arc::make_mut(&mut self.config)
            .static_dirs
            .push((dir.into(), prefix));
        self
    }

    /// For apps that hold their pages' state on the server: `hook` is called with each batch
    /// whose template content changed (after the cache dropped the stale templates, from
    /// the watcher's event thread: do not block in it), and the app re-renders its open views
    /// and pushes them over its own channel. Pages then never fetch and morph themselves;
    /// they still show the overlay (for which they fetch their URL once per batch, to see
    /// whether it renders). Defaults to: none, pages morph.
    pub fn rerender(mut self, hook: impl Fn(&Batch) + Send + Sync + 'static) -> Self {
        Arc::make_mut(&mut self.config).rerender = Some(Arc::new(hook));
        self
    }

    /// Identifies the app's build: a page reloads once when it reconnects to a server whose
    /// build differs from the one that served it. Defaults to: a hash of the running
    /// executable's path, size and modification time (every `cargo build` that changes the
    /// binary changes it).
    pub fn build_id(mut self, id: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.config).build = id.into();
        self
    }

    /// The file to keep while `cargo build` is needed (written with one `file:line: reason`
    /// line per template, removed once no rebuild is needed), for a dev runner that rebuilds
    /// when it appears. Defaults to: `$SHIPWRIGHT_REBUILD_MARKER` when set
    /// (`shipwright-templates dev` sets it), else none.
    pub fn rebuild_marker(self, file: impl Into<PathBuf>) -> Self {
        self.shared.set_marker(Some(file.into()));
        self
    }

    /// The most pages live at once; past it, the channel answers `503`. Defaults to: 1024.
    ///
    /// # Panics
    ///
    /// If `max` is zero.
    pub fn max_clients(mut self, max: usize) -> Self {
        assert!(max > 0, "max_clients must be at least 1");
        Arc::make_mut(&mut self.config).max_clients = max;
        self
    }

    /// How many pages are connected now.
    pub fn clients(&self) -> usize {
        self.shared.clients.load(Ordering::Acquire)
    }

    /// The layer's origin and host check, for an app's own WebSocket endpoints in dev:
    /// `Ok` when the request comes from a page of this server on an allowed host.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        guard::check(headers, &self.config.allowed_hosts).inspect_err(|refusal| {
            self.config.refusals.log(refusal);
        })
    }

    /// Starts the event thread and the static directory watchers, once.
    fn start(&self) {
        self.started.once.call_once(|| {
            if let Some(events) = self.shared.take_events() {
                let shared = Arc::clone(&self.shared);
                let hook = self.config.rerender.clone();
                let spawned = std::thread::Builder::new()
                    .name("shipwright-live".into())
                    .spawn(move || state::run(shared, events, hook));
                if let Err(e) = spawned {
                    eprintln!("shipwright: cannot start the live reload thread: {e}");
                }
            }
            let mut watchers = self.started.static_watchers.lock();
            for (dir, url) in &self.config.static_dirs {
                watchers.extend(statics::watch(&self.shared, dir, url));
            }
        });
    }
}

impl fmt::Debug for LiveReload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveReload")
            .field("build", &self.config.build)
            .field("static_dirs", &self.config.static_dirs)
            .field("rerender", &self.config.rerender.is_some())
            .field("clients", &self.clients())
            .finish_non_exhaustive()
    }
}

impl<S> tower_layer::Layer<S> for LiveReload {
    type Service = LiveReloadService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        self.start();
        LiveReloadService {
            inner,
            live: self.clone(),
        }
    }
}

/// The app's service wrapped by [`LiveReload`].
#[derive(Clone)]
pub struct LiveReloadService<S> {
    inner: S,
    live: LiveReload,
}

impl<S> fmt::Debug for LiveReloadService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveReloadService")
            .field("live", &self.live)
            .finish_non_exhaustive()
    }
}

impl<S, B> tower_service::Service<Request<Body>> for LiveReloadService<S>
where
    S: tower_service::Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let path = request.uri().path();
        if path.starts_with(RESERVED_PREFIX) {
            let response = match path {
                CLIENT_PATH => client_script(request.method()),
                CHANNEL_PATH => {
                    let shared = Arc::clone(&self.live.shared);
                    let config = Arc::clone(&self.live.config);
                    return Box::pin(
                        async move { Ok(channel::upgrade(request, shared, config).await) },
                    );
                }
                _ => plain(StatusCode::NOT_FOUND, "not found\n"),
            };
            return Box::pin(std::future::ready(Ok(response)));
        }
        let asked = page::Asked::of(request.method(), request.headers());
        // The clone that was made ready is the one that is called (tower's rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let live = self.live.clone();
        Box::pin(async move {
            // Read before the render: a page never says it has an update whose invalidations
            // its render may not have seen (it would not be refreshed for it).
            let seq = live.shared.seq.load(Ordering::Acquire);
            let response = inner.call(request).await?;
            Ok(page::process(response, asked, seq, &live.shared, &live.config.build).await)
        })
    }
}

fn client_script(method: &Method) -> Response<Body> {
    if method != Method::GET && method != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "GET only\n");
    }
    let mut response = Response::new(if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(CLIENT)
    });
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A hash of the running executable's path, size and modification time.
fn default_build_id() -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    if let Ok(exe) = std::env::current_exe() {
        exe.hash(&mut hasher);
        if let Ok(meta) = std::fs::metadata(&exe) {
            meta.len().hash(&mut hasher);
            if let Ok(modified) = meta.modified() {
                modified.hash(&mut hasher);
            }
        }
    }
    format!("{:016x}", hasher.finish())
}
