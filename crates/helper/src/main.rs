//! `mahpki-helper`: the local helper the holder runs on the PC with the card reader.

use std::{net::SocketAddr, process::ExitCode};

use mahpki_helper::{api, guard::Guard};
use mahpki_protocol::helper::DEFAULT_PORT;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    // Loopback only: the helper must never be reachable from the network.
    let addr = SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT));
    let origins = std::env::var("MAHPKI_HELPER_ALLOWED_ORIGINS")
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mahpki-helper: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("mahpki-helper listening on http://{addr}");
    match axum::serve(listener, api::router(Guard::new(addr, origins))).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mahpki-helper: {e}");
            ExitCode::FAILURE
        }
    }
}
