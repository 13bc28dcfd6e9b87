//! `shipwright-templates dev -- cargo run`: runs the app, and rebuilds and restarts it when it
//! says a template edit needs `cargo build`, keeping its listening socket so that open pages
//! reconnect (and reload once, on the new build).
//!
//! - The runner binds the address (`--addr`, default `127.0.0.1:3000`) and passes the socket
//!   to the app as listenfd takes it: `LISTEN_FDS=1` and `LISTEN_FDS_FIRST_FD` (listenfd's
//!   extension of the systemd convention; the descriptor is a duplicate, not moved to 3), and
//!   no `LISTEN_PID`, since `cargo run` stands between the runner and the app (as systemfd's
//!   `--no-pid`). The app takes it with `listenfd::ListenFd::from_env().take_tcp_listener(0)`.
//!   Between two runs the socket stays open: connections wait in its backlog, none is refused.
//! - The app's dev layer keeps the file `$SHIPWRIGHT_REBUILD_MARKER` while a rebuild is
//!   needed. When it appears (or changes), the runner runs the build (`cargo build` with the
//!   arguments of `cargo run`, or `--build`), and only when it succeeds stops the app and starts
//!   it again: a failed build leaves the running app, and its overlay, as they were.
//! - Enter rebuilds and restarts at once; `--no-auto` waits for it.
//! - The command must run the server in its own process (`cargo run` does: it execs the
//!   program); the runner stops it with SIGKILL.

use std::io::BufRead;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher as _};

/// What `dev` was asked.
pub(crate) struct Options {
    pub(crate) addr: SocketAddr,
    pub(crate) auto: bool,
    pub(crate) build: Option<String>,
    pub(crate) command: Vec<String>,
}

enum Signal {
    /// The marker file appeared or changed.
    Marker,
    /// Enter on the terminal.
    Enter,
}

/// How long the events of one save are gathered before a rebuild starts.
const SETTLE: Duration = Duration::from_millis(50);

pub(crate) fn run(options: Options) -> ExitCode {
    match Runner::start(options).and_then(Runner::run) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("shipwright-templates dev: {message}");
            ExitCode::from(2)
        }
    }
}

struct Runner {
    listener: TcpListener,
    marker: PathBuf,
    _marker_dir: tempfile::TempDir,
    build: Option<Vec<String>>,
    command: Vec<String>,
    auto: bool,
    signals: mpsc::Receiver<Signal>,
    _watcher: notify::RecommendedWatcher,
    child: Option<Child>,
    /// The marker's text when the last build succeeded: the app starting with that same text
    /// is not rebuilt again and again.
    built_for: Option<String>,
}

impl Runner {
    fn start(options: Options) -> Result<Runner, String> {
        let Some(program) = options.command.first() else {
            return Err("no command to run: `shipwright-templates dev -- cargo run`".into());
        };
        let listener = TcpListener::bind(options.addr)
            .map_err(|e| format!("cannot listen on {}: {e}", options.addr))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let marker_dir = tempfile::Builder::new()
            .prefix("shipwright-dev-")
            .tempdir()
            .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
        let marker = marker_dir.path().join("rebuild-needed");
        let build = match options.build {
            Some(build) => Some(build.split_whitespace().map(String::from).collect()),
            None => build_of(&options.command),
        };
        let (sender, signals) = mpsc::channel();
        let marker_name = marker.clone();
        let events = sender.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let touches_marker =
                    event.is_ok_and(|e| !e.kind.is_access() && e.paths.contains(&marker_name));
                if touches_marker {
                    let _ = events.send(Signal::Marker);
                }
            })
            .map_err(|e| format!("cannot watch for the app's rebuild marker: {e}"))?;
        watcher
            .watch(marker_dir.path(), RecursiveMode::NonRecursive)
            .map_err(|e| format!("cannot watch {}: {e}", marker_dir.path().display()))?;
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                if line.is_err() || sender.send(Signal::Enter).is_err() {
                    break;
                }
            }
        });
        eprintln!(
            "shipwright: listening on http://{addr} for `{}`; {}",
            options.command.join(" "),
            if options.auto {
                "rebuilds when a template edit needs one; Enter rebuilds now"
            } else {
                "Enter rebuilds and restarts"
            }
        );
        if program == "cargo" && build.is_none() {
            eprintln!("shipwright: no build step for this cargo command: a restart runs it again");
        }
        Ok(Runner {
            listener,
            marker,
            _marker_dir: marker_dir,
            build,
            command: options.command,
            auto: options.auto,
            signals,
            _watcher: watcher,
            child: None,
            built_for: None,
        })
    }

    fn run(mut self) -> Result<ExitCode, String> {
        self.spawn()?;
        loop {
            match self.signals.recv_timeout(Duration::from_millis(200)) {
                Ok(signal) => {
                    // The rest of this save's events.
                    while self.signals.recv_timeout(SETTLE).is_ok() {}
                    let forced = matches!(signal, Signal::Enter);
                    let reasons = std::fs::read_to_string(&self.marker).ok();
                    let wanted = match &reasons {
                        Some(text) => self.auto && self.built_for.as_ref() != Some(text),
                        // No rebuild needed any more: the same reasons later are new.
                        None => {
                            self.built_for = None;
                            false
                        }
                    };
                    if forced || wanted {
                        self.rebuild(reasons)?;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(ExitCode::SUCCESS),
            }
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                eprintln!("shipwright: the app exited ({status}); Enter starts it again");
            }
        }
    }

    /// Builds; on success, stops the app and starts it again on the same socket.
    fn rebuild(&mut self, reasons: Option<String>) -> Result<(), String> {
        let started = Instant::now();
        match &reasons {
            Some(text) => eprint!("shipwright: cargo build needed:\n{text}"),
            None => eprintln!("shipwright: rebuilding"),
        }
        if let Some(build) = &self.build {
            eprintln!("shipwright: running `{}`", build.join(" "));
            let status = Command::new(&build[0]).args(&build[1..]).status();
            match status {
                Ok(status) if status.success() => {}
                Ok(status) => {
                    eprintln!(
                        "shipwright: the build failed ({status}); the app runs on as it was. Fix it and save, or press Enter"
                    );
                    return Ok(());
                }
                Err(e) => return Err(format!("cannot run `{}`: {e}", build.join(" "))),
            }
        }
        // The new app removes the marker when it starts, or writes it again if the build did
        // not help (then the same reasons do not start another build).
        self.built_for = reasons;
        self.stop();
        self.spawn()?;
        eprintln!(
            "shipwright: rebuilt and restarted in {} ms",
            started.elapsed().as_millis()
        );
        Ok(())
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn spawn(&mut self) -> Result<(), String> {
        // A duplicate without close-on-exec: the child inherits it; ours goes right after.
        let passed: OwnedFd = rustix::io::dup(&self.listener)
            .map_err(|e| format!("cannot pass the listening socket: {e}"))?;
        let child = Command::new(&self.command[0])
            .args(&self.command[1..])
            .env("LISTEN_FDS", "1")
            .env("LISTEN_FDS_FIRST_FD", passed.as_raw_fd().to_string())
            .env_remove("LISTEN_PID")
            .env("SHIPWRIGHT_REBUILD_MARKER", &self.marker)
            .spawn()
            .map_err(|e| format!("cannot run `{}`: {e}", self.command.join(" ")))?;
        drop(passed);
        self.child = Some(child);
        Ok(())
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `cargo build ARGS` for `cargo run ARGS [-- PROGRAM ARGS]`; none for anything else.
fn build_of(command: &[String]) -> Option<Vec<String>> {
    let (program, rest) = command.split_first()?;
    let name = Path::new(program).file_name()?.to_str()?;
    if name != "cargo" {
        return None;
    }
    let at = rest.iter().position(|a| a == "run")?;
    if rest[..at]
        .iter()
        .any(|a| !a.starts_with('-') && !a.starts_with('+'))
    {
        return None; // `run` is an argument of something else
    }
    let mut build = vec![program.clone()];
    build.extend(rest[..at].iter().cloned());
    build.push("build".into());
    build.extend(
        rest[at + 1..]
            .iter()
            .take_while(|a| a.as_str() != "--")
            .cloned(),
    );
    Some(build)
}

#[cfg(test)]
mod tests {
    use super::build_of;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn the_build_of_cargo_run_is_cargo_build_with_its_options() {
        let build = |c: &str| build_of(&words(c)).map(|b| b.join(" "));
        assert_eq!(build("cargo run").as_deref(), Some("cargo build"));
        assert_eq!(
            build("cargo run -p minimal --release -- 127.0.0.1:0").as_deref(),
            Some("cargo build -p minimal --release")
        );
        assert_eq!(
            build("cargo +stable --locked run --bin app").as_deref(),
            Some("cargo +stable --locked build --bin app")
        );
        assert_eq!(build("./target/debug/app"), None);
        assert_eq!(build("cargo watch -x run"), None);
    }
}
