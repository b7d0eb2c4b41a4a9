//! `mahpki-server`: runs the platform, and the operator's commands against its database.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use mahpki_server::{
    Config,
    http::{AppState, Assets, router, session},
    import,
    pki::TrustStore,
    store::{LinkRef, Retention, Store},
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
    /// Holders (本人ID) registered by the CAs.
    Identity {
        #[command(subcommand)]
        command: IdentityCommand,
    },
    /// My Number card bindings.
    Binding {
        #[command(subcommand)]
        command: BindingCommand,
    },
    /// Smartphone enrolments (別紙2).
    Enrolment {
        #[command(subcommand)]
        command: EnrolmentCommand,
    },
    /// Bound smartphones.
    Phone {
        #[command(subcommand)]
        command: PhoneCommand,
    },
    /// Housekeeping of the database.
    Maintenance {
        #[command(subcommand)]
        command: MaintenanceCommand,
    },
    /// Read the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum IdentityCommand {
    /// Import holders from a JSON array or a CSV file (all rows are checked before any is written).
    Import { file: PathBuf },
    /// List holders, one JSON object per line.
    List,
    /// Show one holder and their bindings.
    Show { hpki_id: String },
    /// Lift the lock five wrong 医籍登録番号/カードID attempts put on a holder's JMA path.
    UnlockJma { hpki_id: String },
}

#[derive(Subcommand)]
enum BindingCommand {
    /// List My Number card bindings (active and ended), one JSON object per line.
    List {
        #[arg(long)]
        hpki_id: Option<String>,
    },
    /// Revoke an active binding by its id.
    Revoke {
        id: i64,
        #[arg(long, default_value = "revoked by operator")]
        reason: String,
    },
}

#[derive(Subcommand)]
enum EnrolmentCommand {
    /// Issue an enrolment link for a holder (after a Mynaportal application) and print its URL:
    /// the holder opens it on the phone and enrols without a PC. Send it to the holder only.
    IssueLink {
        #[arg(long)]
        hpki_id: String,
        #[arg(long, default_value_t = 90)]
        valid_days: u32,
        /// Replace the phone bound now, if any (when the CA's policy allows it).
        #[arg(long)]
        replace: bool,
    },
    /// Cancel a CA's enrolment link (sent to the wrong person, or the application withdrawn):
    /// by the enrolment id `issue-link` printed, or the holder's live link.
    #[command(group = clap::ArgGroup::new("link").required(true))]
    CancelLink {
        #[arg(long, group = "link")]
        id: Option<i64>,
        #[arg(long, group = "link")]
        hpki_id: Option<String>,
    },
}

#[derive(Subcommand)]
enum PhoneCommand {
    /// List a holder's phones (working and ended), one JSON object per line.
    List {
        #[arg(long)]
        hpki_id: String,
    },
    /// Revoke a lost or stolen phone by its id; its grants and the holder's live PC codes end too.
    Revoke {
        id: i64,
        #[arg(long, default_value = "revoked by operator")]
        reason: String,
    },
}

#[derive(Subcommand)]
enum MaintenanceCommand {
    /// Delete what has ended (expired challenges, ceremony states, grants and sessions; codes
    /// ended longer ago than retention.ended_code_days) now. The audit log is kept.
    Purge,
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
            Command::Identity { command } => identity(config, command).await,
            Command::Binding { command } => binding(config, command).await,
            Command::Enrolment { command } => enrolment(config, command).await,
            Command::Phone { command } => phone(config, command).await,
            Command::Maintenance { command: MaintenanceCommand::Purge } => {
                let store = open(&config).await?;
                let purged =
                    store.purge(&retention(&config, mahpki_server::store::now_ms())).await?;
                println!("{}", serde_json::to_string(&purged)?);
                Ok(())
            }
            Command::Audit { command: AuditCommand::Tail { lines } } => {
                let store = open(&config).await?;
                for r in store.audit_tail(lines).await? {
                    println!("{}", serde_json::to_string(&r)?);
                }
                Ok(())
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
    // Logs go to stderr; stdout carries only the "listening on" line and command output.
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

async fn open(config: &Config) -> Result<Store, BoxError> {
    Ok(Store::open(&config.data_dir, config.database_url.as_deref()).await?)
}

async fn serve(config: Config) -> Result<(), BoxError> {
    let store = open(&config).await?;
    let hpki_trust = TrustStore::load(&config.hpki_trust)?;
    let jpki_trust = TrustStore::load_jpki(&config.jpki_trust)?;
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
    let mut state = AppState::new(config, store.clone(), hpki_trust, jpki_trust);
    if let Some(events) = events {
        state.events = events;
    }
    if state.config.retention.interval_secs > 0 {
        tokio::spawn(purge_periodically(state.clone()));
    }
    let app = router(state, assets).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// What the retention job deletes as of `now_ms`.
fn retention(config: &Config, now_ms: i64) -> Retention {
    Retention {
        now_ms,
        session_idle_ms: session::IDLE_MS,
        session_max_ms: session::MAX_MS,
        ended_code_ms: config.retention.ended_code_ms(),
    }
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

async fn identity(config: Config, command: IdentityCommand) -> Result<(), BoxError> {
    let store = open(&config).await?;
    match command {
        IdentityCommand::Import { file } => {
            let records = import::read(&file)?;
            for r in &records {
                store.identity_upsert(r).await?;
            }
            println!("imported {} holders from {}", records.len(), file.display());
        }
        IdentityCommand::List => {
            for r in store.identity_list().await? {
                println!("{}", serde_json::to_string(&r.holder)?);
            }
        }
        IdentityCommand::Show { hpki_id } => {
            let Some(r) = store.identity_get(&hpki_id).await? else {
                return Err(format!("no holder with 本人ID {hpki_id}").into());
            };
            let bindings = store.mynumber_list(Some(&hpki_id)).await?;
            let phones: Vec<_> = store
                .phone_list(&hpki_id)
                .await?
                .into_iter()
                .map(|p| {
                    serde_json::json!({
                        "id": p.id, "label": p.label, "created_ms": p.created_ms,
                        "revoked_ms": p.revoked_ms, "revoked_reason": p.revoked_reason,
                    })
                })
                .collect();
            let out = serde_json::json!({
                "holder": r.holder, "registration_number": r.registration_number,
                "hpki_card_id": r.hpki_card_id, "mynumber_bindings": bindings,
                "phones": phones,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        IdentityCommand::UnlockJma { hpki_id } => {
            if !store.jma_unlock(&hpki_id).await? {
                return Err(format!("the JMA path of {hpki_id} is not locked").into());
            }
            println!("JMA path of {hpki_id} unlocked");
        }
    }
    Ok(())
}

async fn enrolment(config: Config, command: EnrolmentCommand) -> Result<(), BoxError> {
    let store = open(&config).await?;
    match command {
        EnrolmentCommand::IssueLink { hpki_id, valid_days, replace } => {
            let (url, e) =
                mahpki_server::http::issue_link(&store, &config, &hpki_id, valid_days, replace)
                    .await?;
            eprintln!("enrolment {} for {hpki_id}, valid {valid_days} days", e.id);
            // stdout carries only the URL, so a script can take it.
            println!("{}", url.as_str());
        }
        EnrolmentCommand::CancelLink { id, hpki_id } => {
            let which = match (id, hpki_id.as_deref()) {
                (Some(id), _) => LinkRef::Id(id),
                (None, Some(hpki_id)) => LinkRef::Holder(hpki_id),
                (None, None) => return Err("give --id or --hpki-id".into()),
            };
            let now = mahpki_server::store::now_ms();
            let Some((id, hpki_id)) = store.enrolment_cancel_link(which, now).await? else {
                return Err("no live enrolment link matches".into());
            };
            println!("enrolment link {id} of {hpki_id} cancelled");
        }
    }
    Ok(())
}

async fn phone(config: Config, command: PhoneCommand) -> Result<(), BoxError> {
    let store = open(&config).await?;
    match command {
        PhoneCommand::List { hpki_id } => {
            for p in store.phone_list(&hpki_id).await? {
                let line = serde_json::json!({
                    "id": p.id, "hpki_id": p.hpki_id, "label": p.label, "created_ms": p.created_ms,
                    "revoked_ms": p.revoked_ms, "revoked_reason": p.revoked_reason,
                });
                println!("{line}");
            }
        }
        PhoneCommand::Revoke { id, reason } => {
            let now = mahpki_server::store::now_ms();
            let Some(hpki_id) = store.phone_revoke(id, &reason, now).await? else {
                return Err(format!("no working phone with id {id}").into());
            };
            println!("phone {id} of {hpki_id} revoked");
        }
    }
    Ok(())
}

async fn binding(config: Config, command: BindingCommand) -> Result<(), BoxError> {
    let store = open(&config).await?;
    match command {
        BindingCommand::List { hpki_id } => {
            for b in store.mynumber_list(hpki_id.as_deref()).await? {
                println!("{}", serde_json::to_string(&b)?);
            }
        }
        BindingCommand::Revoke { id, reason } => {
            if !store.mynumber_revoke(id, &reason).await? {
                return Err(format!("no active binding with id {id}").into());
            }
            println!("binding {id} revoked");
        }
    }
    Ok(())
}
