//! What `mahpki-helper` (and on Windows `mahpki-helperw`, the same program without a console
//! window) does with its arguments: `install | uninstall | status` (`service`), or serve.
//!
//! Configuration (`settings`): `--origins`/`MAHPKI_HELPER_ALLOWED_ORIGINS` (comma-separated
//! origins of the platform's pages), `--port`/`MAHPKI_HELPER_PORT` (default 24365).

use std::{net::SocketAddr, process::ExitCode, sync::Arc};

use crate::{
    card::backend::pcsc::PcscBackend,
    card::backend::pkcs11::{Pkcs11Backend, Pkcs11Labels},
    card::backend::{CardBackend, Combined},
    http,
    http::guard::Guard,
    operation::{OperationConfig, Operations},
    service,
    settings::Settings,
};

/// PC/SC readers, plus the vendor's PKCS#11 module when configured.
fn real_backend() -> Arc<dyn CardBackend> {
    let mut backends: Vec<Arc<dyn CardBackend>> = vec![Arc::new(PcscBackend::new())];
    if let Some(module) = std::env::var_os("MAHPKI_HELPER_PKCS11_MODULE") {
        match Pkcs11Backend::open(module.as_ref(), Pkcs11Labels::default()) {
            Ok(b) => backends.push(Arc::new(b)),
            Err(e) => eprintln!("mahpki-helper: PKCS#11 module {module:?} not used: {e}"),
        }
    }
    Arc::new(Combined(backends))
}

/// Virtual cards from the test PKI of `MAHPKI_DEMO_SEED` (default 1, as cardsim's), and the
/// `/demo` page that inserts them.
#[cfg(feature = "demo")]
fn demo_backend(guard: &Arc<Guard>) -> Result<(Arc<dyn CardBackend>, axum::Router), String> {
    let seed = std::env::var("MAHPKI_DEMO_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let demo = crate::demo::Demo::new(seed, guard.clone())?;
    println!("demo card reader: http://{}/demo", guard.local());
    Ok((Arc::new(demo.backend()), demo.routes()))
}

#[cfg(not(feature = "demo"))]
fn demo_backend(_guard: &Arc<Guard>) -> Result<(Arc<dyn CardBackend>, axum::Router), String> {
    Err("this build has no demo mode (build with --features demo)".into())
}

/// The program: the log-on commands, or the helper itself until it is stopped.
#[tokio::main]
pub async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(cmd @ ("install" | "uninstall" | "status")) = args.first().map(String::as_str) {
        return match service::run(cmd, &args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mahpki-helper {cmd}: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let Settings { port, origins } = match Settings::from_env_and_args(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mahpki-helper: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    // Loopback only: the helper must never be reachable from the network.
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mahpki-helper: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let guard = Arc::new(Guard::new(addr, origins));
    let (backend, extra) = if args.iter().any(|a| a == "--demo") {
        match demo_backend(&guard) {
            Ok(pair) => pair,
            Err(e) => {
                eprintln!("mahpki-helper: demo mode unavailable: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        (real_backend(), axum::Router::new())
    };
    let ops = Arc::new(Operations::new(backend, OperationConfig::default()));
    println!("mahpki-helper listening on http://{addr}");
    match axum::serve(listener, http::router_with(guard, ops, extra)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mahpki-helper: {e}");
            ExitCode::FAILURE
        }
    }
}
