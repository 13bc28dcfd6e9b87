//! `minimal [ADDR]`: serves on ADDR (default `127.0.0.1:3000`), or on the socket a dev runner
//! passes (`LISTEN_FDS`, as `shipwright-templates dev` and systemfd do); prints
//! `listening on http://ADDR` once it accepts connections.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let app = minimal::app()?;
    let listener = match listenfd::ListenFd::from_env().take_tcp_listener(0)? {
        Some(socket) => {
            socket.set_nonblocking(true)?;
            tokio::net::TcpListener::from_std(socket)?
        }
        None => {
            let addr = std::env::args()
                .nth(1)
                .unwrap_or_else(|| "127.0.0.1:3000".into());
            tokio::net::TcpListener::bind(&addr).await?
        }
    };
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app.router).await?;
    Ok(())
}
