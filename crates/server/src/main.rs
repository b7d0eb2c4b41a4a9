//! `mahpki-server`: runs the platform, and the operator's commands against its database.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use clap::{Parser, Subcommand};
use mahpki_server::{
    Config,
    http::{AppState, Assets, router},
    store::Store,
};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "mahpki-server", version, about = "HPKI second-certificate platform server")]
struct Cli {
    /// TOML configuration file; MAHPKI_* environment variables override it.
    #[arg(long, short, env = "MAHPKI_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Read the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Print the newest events, oldest first, one JSON object per line.
    Tail {
        #[arg(long, short = 'n', default_value_t = 50)]
        lines: i64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mahpki-server: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mahpki-server: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Audit { command: AuditCommand::Tail { lines } } => {
                audit_tail(config, lines).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "mahpki-server stopped");
            eprintln!("mahpki-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: &str) {
    // Logs go to stderr; stdout carries only the machine-readable "listening on" line.
    let filter = EnvFilter::try_from_env("MAHPKI_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn serve(config: Config) -> Result<(), BoxError> {
    let store = Store::open(&config.data_dir, config.database_url.as_deref()).await?;
    let assets = config.dist_dir.as_ref().map(Assets::load).transpose()?;
    if assets.is_none() {
        tracing::warn!("no dist_dir configured: serving the API only");
    }
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, db = store.kind(), public_origin = %config.public_origin, "listening");
    println!("mahpki-server listening on http://{addr}");
    let state = AppState { config: Arc::new(config), store: store.clone() };
    axum::serve(listener, router(state, assets)).with_graceful_shutdown(shutdown_signal()).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
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

async fn audit_tail(config: Config, lines: i64) -> Result<(), BoxError> {
    let store = Store::open(&config.data_dir, config.database_url.as_deref()).await?;
    for r in store.audit_tail(lines).await? {
        let line = serde_json::json!({
            "id": r.id, "at_ms": r.at_ms, "hpki_id": r.hpki_id, "action": r.action,
            "client": r.client, "outcome": r.outcome, "detail": r.detail,
        });
        println!("{line}");
    }
    store.close().await;
    Ok(())
}
