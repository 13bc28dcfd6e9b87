//! `liveview-app [--addr 127.0.0.1:3000] [--templates DIR] [--debounce-ms N]`: prints
//! `listening on http://ADDR` once it accepts connections; stops on Ctrl-C. Serves on the
//! socket a dev runner passes (`LISTEN_FDS`, as `shipwright-templates dev` and systemfd do)
//! instead of `--addr` when there is one.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use liveview_app::{Config, Server};

/// The Shipwright LiveView example.
#[derive(Parser)]
struct Args {
    /// Where to listen (loopback by default).
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// The template root to serve and watch (dev); also SHIPWRIGHT_TEMPLATES.
    #[arg(long, env = "SHIPWRIGHT_TEMPLATES")]
    templates: Option<PathBuf>,
    /// The watcher's debounce window in milliseconds (dev).
    #[arg(long)]
    debounce_ms: Option<u64>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = Args::parse();
    let mut config = Config {
        addr: args.addr,
        debounce: args.debounce_ms.map(Duration::from_millis),
        ..Config::default()
    };
    if let Some(dir) = args.templates {
        config.templates = dir;
    }
    if !cfg!(feature = "dev") {
        eprintln!(
            "serving the templates embedded at build time (build with --features dev to edit them live)"
        );
    } else {
        eprintln!("watching {}", config.templates.display());
    }
    let server = match listenfd::ListenFd::from_env().take_tcp_listener(0)? {
        Some(socket) => {
            socket.set_nonblocking(true)?;
            Server::on(config, tokio::net::TcpListener::from_std(socket)?)?
        }
        None => Server::bind(config).await?,
    };
    println!("listening on http://{}", server.addr());
    server
        .serve(async { drop(tokio::signal::ctrl_c().await) })
        .await?;
    Ok(())
}
