//! What the examples' browser tests and hot-reload benchmarks share: a copy of an example's
//! files the test may edit, the example's binary started on a free loopback port, and
//! headless Chromium driven through the DevTools protocol over a WebSocket.
//!
//! Included with `#[path]` by each example's `tests/support/mod.rs`.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

/// How long anything may take before the test gives up (only reached when it fails).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A copy of some of an example's directories (`templates`, `static`) in a temporary
/// directory the test may edit.
pub struct Site {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

impl Site {
    /// Copies `dirs` of the crate at `manifest_dir`.
    pub fn copy(manifest_dir: &str, dirs: &[&str]) -> Site {
        let dir = tempfile::tempdir().expect("temporary directory");
        for name in dirs {
            copy_dir(&Path::new(manifest_dir).join(name), &dir.path().join(name));
        }
        let root = dir.path().to_path_buf();
        Site { _dir: dir, root }
    }

    /// A file of the copy, `templates/index.html`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    /// Saves as many editors do, a temporary file renamed over the file, so that no reader
    /// ever sees it half-written.
    pub fn write(&self, name: &str, text: &str) {
        let path = self.path(name);
        let temp = path.with_extension("saving");
        std::fs::write(&temp, text).unwrap();
        std::fs::rename(&temp, &path).unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Collects a child's output lines for the failure message, and hands out the first line
/// that matches.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn drain<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
        &self,
        from: R,
        found: Option<(&'static str, oneshot::Sender<String>)>,
    ) {
        let log = self.clone();
        tokio::spawn(async move {
            let mut found = found;
            let mut lines = BufReader::new(from).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some((needle, _)) = &found
                    && let Some(at) = line.find(needle)
                {
                    let rest = line[at + needle.len()..].trim().to_string();
                    let (_, sender) = found.take().unwrap();
                    let _ = sender.send(rest);
                }
                log.0.lock().unwrap().push(line);
            }
        });
    }

    pub fn text(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }
}

/// An example's binary on a free loopback port (it prints `listening on URL`); killed when
/// dropped.
pub struct App {
    _child: Child,
    pub url: String,
    pub log: Log,
}

impl App {
    pub async fn start(binary: &str, args: &[&std::ffi::OsStr], env: &[(&str, &Path)]) -> App {
        let mut command = Command::new(binary);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the app's binary starts");
        let log = Log::default();
        let (sender, receiver) = oneshot::channel();
        log.drain(
            child.stdout.take().unwrap(),
            Some(("listening on ", sender)),
        );
        log.drain(child.stderr.take().unwrap(), None);
        let url = match tokio::time::timeout(PATIENCE, receiver).await {
            Ok(Ok(url)) => url,
            _ => panic!(
                "the app did not say where it listens; its output:\n{}",
                log.text()
            ),
        };
        App {
            _child: child,
            url,
            log,
        }
    }

    /// Kills the app and waits until it is gone (its port free again).
    pub async fn stop(mut self) {
        let _ = self._child.kill().await;
    }
}

/// Where Chromium is: `$CHROMIUM`, or the first of the usual names on `PATH`.
pub fn chromium_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome-stable",
        "google-chrome",
    ] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Headless Chromium with a fresh profile, killed when dropped.
pub struct Browser {
    _child: Child,
    _profile: tempfile::TempDir,
    cdp: Cdp,
    pub log: Log,
}

impl Browser {
    /// Starts Chromium. Without one the test fails, unless `SHIPWRIGHT_SKIP_BROWSER=1`, when
    /// it says loudly that it skipped and this returns `None`.
    pub async fn launch() -> Option<Browser> {
        let Some(binary) = chromium_binary() else {
            if std::env::var_os("SHIPWRIGHT_SKIP_BROWSER").is_none_or(|v| v != "1") {
                panic!(
                    "no Chromium on PATH: install the Debian packages chromium and chromium-driver (.ci/run does), or set SHIPWRIGHT_SKIP_BROWSER=1 to skip the browser tests"
                );
            }
            // Straight to the process's stderr: the test harness hides what `eprintln!` prints
            // in a passing test.
            use std::io::Write;
            let _ = std::io::stderr().write_all(
                b"\n!!!!!!!!\n!!!!!!!! SKIPPED (SHIPWRIGHT_SKIP_BROWSER=1): no Chromium on PATH\n!!!!!!!!\n\n",
            );
            return None;
        };
        let profile = tempfile::tempdir().expect("profile directory");
        let mut child = Command::new(&binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let log = Log::default();
        let (sender, receiver) = oneshot::channel();
        log.drain(
            child.stderr.take().unwrap(),
            Some(("DevTools listening on ", sender)),
        );
        let endpoint = match tokio::time::timeout(PATIENCE, receiver).await {
            Ok(Ok(endpoint)) => endpoint,
            _ => panic!(
                "Chromium did not open its DevTools endpoint; its output:\n{}",
                log.text()
            ),
        };
        let cdp = Cdp::connect(&endpoint).await;
        Some(Browser {
            _child: child,
            _profile: profile,
            cdp,
            log,
        })
    }

    /// A new tab at `url`, once its live socket is open.
    pub async fn open(&self, url: &str) -> Tab<'_> {
        let target = self
            .cdp
            .call("Target.createTarget", json!({ "url": "about:blank" }), None)
            .await;
        let target_id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = self
            .cdp
            .call(
                "Target.attachToTarget",
                json!({ "targetId": target_id, "flatten": true }),
                None,
            )
            .await;
        let session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        let tab = Tab {
            cdp: &self.cdp,
            session,
        };
        tab.call("Page.enable", json!({})).await;
        tab.call("Runtime.enable", json!({})).await;
        tab.call("Page.navigate", json!({ "url": url })).await;
        tab.wait_for("document.readyState === 'complete' && window.__shipwright && window.__shipwright.connected", "the page loaded and its socket open")
            .await;
        tab
    }
}

/// One tab, attached through a flat DevTools session.
pub struct Tab<'b> {
    cdp: &'b Cdp,
    session: String,
}

impl Tab<'_> {
    pub async fn call(&self, method: &str, params: Value) -> Value {
        self.cdp.call(method, params, Some(&self.session)).await
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its value.
    pub async fn eval(&self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "awaitPromise": true, "returnByValue": true }),
            )
            .await;
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression} threw: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Waits, inside the page, until `condition` holds (re-checked on every DOM change and
    /// every animation frame); returns `window.__shipwright` at that moment.
    pub async fn wait_for(&self, condition: &str, what: &str) -> Value {
        let script = format!(
            "new Promise(resolve => {{ const check = () => {{ try {{ if ({condition}) {{ resolve(JSON.parse(JSON.stringify(window.__shipwright, (k, v) => k === 'socket' ? undefined : v))); return true; }} }} catch (e) {{}} return false; }};
               if (check()) return; const observer = new MutationObserver(() => {{ if (check()) observer.disconnect(); }});
               observer.observe(document, {{ subtree: true, childList: true, characterData: true, attributes: true }});
               const frame = () => {{ if (!check()) requestAnimationFrame(frame); else observer.disconnect(); }}; requestAnimationFrame(frame); }})"
        );
        match tokio::time::timeout(PATIENCE, self.eval(&script)).await {
            Ok(value) => value,
            Err(_) => {
                let body = self.eval("document.documentElement.outerHTML").await;
                panic!(
                    "timed out waiting for {what} ({condition}); the page:\n{}",
                    body.as_str().unwrap_or_default()
                );
            }
        }
    }

    /// Like [`wait_for`](Self::wait_for), across navigations (a reload): checks `condition`
    /// every 20 ms from here; returns `window.__shipwright` once it holds.
    pub async fn wait_across_reload(&self, condition: &str, what: &str) -> Value {
        let text = self
            .poll_across_reload(
                &format!("({condition}) ? JSON.stringify(window.__shipwright) : null"),
                what,
            )
            .await;
        serde_json::from_str(text.as_str().unwrap_or_default()).unwrap_or(Value::Null)
    }

    /// Evaluates `value` in the page every 20 ms, across navigations, until it gives something
    /// other than `null` or `undefined` (a throw counts as `null`); returns that.
    pub async fn poll_across_reload(&self, value: &str, what: &str) -> Value {
        let expression = format!(
            "(() => {{ try {{ return ({value}) ?? null; }} catch (e) {{ return null; }} }})()"
        );
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let answer = self
                .cdp
                .try_call(
                    "Runtime.evaluate",
                    json!({ "expression": expression, "returnByValue": true }),
                    Some(&self.session),
                )
                .await;
            if let Ok(result) = answer
                && let Some(found) = result["result"].get("value")
                && !found.is_null()
            {
                return found.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what} ({value})"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn text(&self, selector: &str) -> String {
        let value = self
            .eval(&format!(
                "(document.querySelector({selector:?}) || {{}}).textContent || ''"
            ))
            .await;
        value.as_str().unwrap_or_default().to_string()
    }
}

/// A DevTools protocol connection: requests by id, answers matched by a reader task.
pub struct Cdp {
    sink: tokio::sync::Mutex<
        futures_util::stream::SplitSink<
            tokio_tungstenite::WebSocketStream<
                tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
            >,
            Message,
        >,
    >,
    pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>,
    next: AtomicU64,
}

impl Cdp {
    async fn connect(endpoint: &str) -> Cdp {
        let (socket, _) = tokio_tungstenite::connect_async(endpoint)
            .await
            .expect("DevTools WebSocket");
        let (sink, mut stream) = socket.split();
        let pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>> = Arc::default();
        let answers = Arc::clone(&pending);
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(value) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if let Some(id) = value.get("id").and_then(Value::as_u64)
                    && let Some(sender) = answers.lock().unwrap().remove(&id)
                {
                    let _ = sender.send(value);
                }
            }
        });
        Cdp {
            sink: tokio::sync::Mutex::new(sink),
            pending,
            next: AtomicU64::new(1),
        }
    }

    pub async fn call(&self, method: &str, params: Value, session: Option<&str>) -> Value {
        match self.try_call(method, params, session).await {
            Ok(result) => result,
            Err(error) => panic!("{method} failed: {error}"),
        }
    }

    /// The answer, or the protocol's error (a page that navigated away, for one).
    pub async fn try_call(
        &self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, Value> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, sender);
        let mut request = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            request["sessionId"] = json!(session);
        }
        self.sink
            .lock()
            .await
            .send(Message::Text(request.to_string().into()))
            .await
            .expect("DevTools request sent");
        let answer = tokio::time::timeout(2 * PATIENCE, receiver)
            .await
            .expect("DevTools answered in time")
            .expect("DevTools connection open");
        match answer.get("error") {
            Some(error) => Err(error.clone()),
            None => Ok(answer["result"].clone()),
        }
    }
}
