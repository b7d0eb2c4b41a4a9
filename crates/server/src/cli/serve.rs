//! `serve`: runs the platform, with its background jobs (retention, CRL reloads).

use std::time::Duration;

use axum::{Router, extract::ConnectInfo, http::Request};
use hyper::body::Incoming;
use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown, service::TowerToHyperService};
use tokio::net::TcpListener;
use tower::ServiceExt as _;

use mahpki_server::{
    Config,
    http::{AppState, Assets, router},
    pki::TrustStore,
};

use super::{BoxError, Needs, maintenance::retention};

pub async fn run(config: Config) -> Result<(), BoxError> {
    let (store, secret) = super::write(&config, Needs::Serve).await?;
    let hpki_trust = TrustStore::load(&config.hpki_trust)?;
    let jpki_trust = TrustStore::load_jpki_with(&config.jpki_trust, &config.jpki_builtin_crls)?;
    if hpki_trust.anchors.is_empty() {
        tracing::warn!("no hpki_trust configured: no HPKI card can authenticate");
    }
    for a in hpki_trust.anchors.iter().chain(&jpki_trust.anchors) {
        if a.crls.is_empty() {
            tracing::warn!(ca = %a.name, "no CRL configured: revocation is not checked for this CA");
        }
    }
    let assets = config.dist_dir.as_ref().map(Assets::load).transpose()?;
    if assets.is_none() {
        tracing::warn!("no dist_dir configured: serving the API only");
    }
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, db = store.kind(), public_origin = %config.public_origin, "listening");
    println!("mahpki-server listening on http://{addr}");
    let events = match config.database_url.as_deref() {
        // Several processes on one PostgreSQL act as one service: enrolment events cross them.
        Some(url) => Some(mahpki_server::events::Events::postgres(url).await?),
        None => None,
    };
    // RSA key generation (first start only) takes a moment: off the async workers.
    let key_config = config.clone();
    let keys =
        tokio::task::spawn_blocking(move || key_config.oidc_keys(mahpki_server::store::now_ms()))
            .await??;
    let key_path = config.oidc_key_path();
    let mut state = AppState::new(config, store.clone(), hpki_trust, jpki_trust);
    state.secret = Some(secret);
    state.oidc_keys = Some(mahpki_server::oidc_keys::SharedKeys::new(key_path, keys));
    if let Some(events) = events {
        state.events = events;
    }
    state.hpki_trust.current().warn_stale(state.clock.now_secs());
    state.jpki_trust.current().warn_stale(state.clock.now_secs());
    if state.config.retention.interval_secs > 0 {
        tokio::spawn(purge_periodically(state.clone()));
    }
    tokio::spawn(reload_crls(state.clone()));
    if let Some(addr) = state.config.metrics_listen {
        // Its own listener: the scrape must not be reachable through the public origin.
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "metrics listening");
        println!("mahpki-server metrics on http://{addr}/metrics");
        let app = mahpki_server::http::metrics::router(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "metrics listener stopped");
            }
        });
    }
    serve_http1(listener, router(state, assets), shutdown_signal()).await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves `app` on `listener` until `shutdown`, then waits for the open connections to end (as
/// `axum::serve` with graceful shutdown does), speaking HTTP/1.1 only, straight through hyper's
/// HTTP/1 connection. axum's server first reads ahead on every connection to tell HTTP/2 from
/// HTTP/1, and those bytes handed back make hyper's read buffer grow from 8 to 16 KiB on the
/// request's second read, which every waiting PC's event stream then keeps for as long as it is
/// open (benches/streams.rs). The reverse proxy speaks HTTP/1.1 to its upstream anyway.
async fn serve_http1(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let http = hyper::server::conn::http1::Builder::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // The client's address, as `into_make_service_with_connect_info` gives it.
        let app = app.clone().map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        });
        let conn = http.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(app));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// As `axum::serve`: a connection that failed before it was accepted is the client's business;
/// anything else (most likely out of file descriptors, EMFILE: see `LimitNOFILE=` in
/// deploy/mahpki-server.service) is logged, and accepting resumes after a second, when some
/// connections may have closed.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "cannot accept connections; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// The retention job: deletes what has ended every `retention.interval_secs`, so the tables hold
/// what may still be used and no more.
async fn purge_periodically(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(state.config.retention.interval_secs));
    loop {
        tick.tick().await;
        match state.store.purge(&retention(&state.config, state.clock.now_ms())).await {
            Ok(p) if p.total() > 0 => tracing::info!(?p, "retention: ended rows deleted"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention job failed"),
        }
    }
}

/// Reads the CRL files again every `crl_reload_secs` (0: never on a timer) and on SIGHUP, so a
/// CA's new list takes effect without a restart.
async fn reload_crls(state: AppState) {
    let every = state.config.crl_reload_secs;
    let mut tick = tokio::time::interval(Duration::from_secs(every.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate: the CRLs were just loaded
    #[cfg(unix)]
    let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP: CRLs reload on the timer only");
            None
        }
    };
    loop {
        #[cfg(unix)]
        let hangup = async {
            match hup.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let hangup = std::future::pending::<()>();
        let timer = async {
            if every == 0 {
                std::future::pending::<()>().await;
            }
            tick.tick().await;
        };
        tokio::select! {
            () = hangup => tracing::info!("SIGHUP: reloading the CRLs"),
            () = timer => {}
        }
        // File reads and RSA checks: off the async workers.
        let s = state.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || {
            s.reload_crls();
            // A rotated key (`oidc rotate-key`) is read with the CRLs.
            if let Some(keys) = &s.oidc_keys {
                keys.reload();
            }
        })
        .await
        {
            tracing::error!(error = %e, "CRL reload failed");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}
