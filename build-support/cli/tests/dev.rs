//! `shipwright-templates dev` end to end, with a stand-in app (a few lines of Python that
//! serve on the socket they are passed and answer with their process id): the runner passes
//! its listening socket, and when the app's rebuild marker appears it runs the build and
//! restarts the app on the same socket; a failed build leaves the app running; Enter
//! rebuilds. (The app exits when the runner goes, as it would on a terminal's Ctrl-C.)
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Long enough for anything on a loaded machine; reached only when the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

const APP: &str = r#"
import os, socket, sys, threading, time
def orphaned(parent=os.getppid()):
    while os.getppid() == parent:
        time.sleep(0.1)
    os._exit(0)
threading.Thread(target=orphaned, daemon=True).start()
fd = int(os.environ["LISTEN_FDS_FIRST_FD"])
assert os.environ["LISTEN_FDS"] == "1" and "LISTEN_PID" not in os.environ
with open(sys.argv[1], "w") as f:
    f.write(os.environ["SHIPWRIGHT_REBUILD_MARKER"])
listener = socket.socket(fileno=fd)
while True:
    connection, _ = listener.accept()
    connection.recv(1024)
    connection.sendall(f"pid {os.getpid()}\n".encode())
    connection.close()
"#;

struct Runner {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Runner {
    /// The next line of the runner's output that contains `needle`.
    fn line_with(&self, needle: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(PATIENCE)
                .unwrap_or_else(|_| panic!("no line with {needle:?} in time"));
            if line.contains(needle) {
                return line;
            }
        }
    }
}

/// Asks the app who it is (a connection made while it restarts waits in the backlog).
fn ask(port: u16) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the socket stays open");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.write_all(b"who\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.trim().to_string()
}

fn wait_for_file(path: &Path) -> String {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} never came",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_rebuild_marker_rebuilds_and_restarts_the_app_on_the_same_socket() {
    if Command::new("python3").arg("--version").output().is_err() {
        panic!("python3 is needed for this test (.ci/run installs it)");
    }
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app.py");
    std::fs::write(&app, APP).unwrap();
    let told = dir.path().join("marker-path");
    let built = dir.path().join("built");
    // The build: fails while `broken` exists, else counts its runs.
    let build = dir.path().join("build.sh");
    std::fs::write(
        &build,
        format!(
            "#!/bin/sh\n[ -e {broken} ] && exit 1\necho x >> {built}\n",
            broken = dir.path().join("broken").display(),
            built = built.display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shipwright-templates"))
        .args(["dev", "--addr", "127.0.0.1:0", "--build"])
        .arg(format!("sh {}", build.display()))
        .args(["--", "python3"])
        .arg(&app)
        .arg(&told)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (sender, lines) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let runner = Runner { child, lines };
    let listening = runner.line_with("listening on http://");
    let port: u16 = listening
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|port| port.trim_end_matches(';').parse().ok())
        .unwrap_or_else(|| panic!("{listening}"));
    let marker = std::path::PathBuf::from(wait_for_file(&told));
    let first = ask(port);
    assert!(first.starts_with("pid "), "{first}");

    // The app says a rebuild is needed (as the dev layer does: a file renamed into place).
    std::fs::remove_file(&told).unwrap();
    let temp = marker.with_extension("writing");
    std::fs::write(&temp, "templates/index.html:4: new variable `user`\n").unwrap();
    std::fs::rename(&temp, &marker).unwrap();
    runner.line_with("rebuilt and restarted in");
    wait_for_file(&told);
    let second = ask(port);
    assert_ne!(second, first, "a new process, on the same port");
    assert_eq!(std::fs::read_to_string(&built).unwrap(), "x\n", "one build");

    // Other reasons, and a build that fails: the app runs on.
    std::fs::write(dir.path().join("broken"), "").unwrap();
    std::fs::write(&temp, "templates/index.html:5: new variable `when`\n").unwrap();
    std::fs::rename(&temp, &marker).unwrap();
    runner.line_with("the build failed");
    assert_eq!(ask(port), second, "the same app still serves");
    assert_eq!(
        std::fs::read_to_string(&built).unwrap(),
        "x\n",
        "no other build ran"
    );

    // Fixed, and Enter: built and restarted.
    std::fs::remove_file(dir.path().join("broken")).unwrap();
    let mut runner = runner;
    runner
        .child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"\n")
        .unwrap();
    runner.line_with("rebuilt and restarted in");
    wait_for_file(&told);
    let third = ask(port);
    assert_ne!(third, second);
    assert_eq!(std::fs::read_to_string(&built).unwrap(), "x\nx\n");
}
