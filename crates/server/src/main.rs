//! `mahpki-server`: runs the platform, and the operator's commands against its database.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

use clap::{Parser, Subcommand};
use mahpki_server::{
    Config,
    http::{AppState, Assets, router, session},
    import,
    pki::TrustStore,
    secret::ServerSecret,
    standing,
    store::{ImportChange, LinkRef, Retention, Store},
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
    /// Import holders from a JSON array or a CSV file (all rows are checked before any is
    /// written; each holder added or changed is audited).
    Import {
        file: PathBuf,
        /// Allow remapping a holder to a certificate of another issuer or subject, or moving a
        /// certificate from the holder it is mapped to (who is then suspended). Audited.
        #[arg(long)]
        force: bool,
    },
    /// List holders, one JSON object per line.
    List,
    /// Show one holder and their bindings.
    Show { hpki_id: String },
    /// Suspend a holder: nothing may be done in their name without the HPKI card, and their
    /// My Number card and phone cannot be used, until `identity resume`. Audited.
    Suspend {
        hpki_id: String,
        #[arg(long)]
        reason: String,
    },
    /// Lift `identity suspend`. Audited.
    Resume { hpki_id: String },
    /// Lift the back-off that wrong 医籍登録番号/カードID attempts put on a holder's JMA path
    /// (and clear its count).
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
                let (store, _) = open(&config).await?;
                let purged =
                    store.purge(&retention(&config, mahpki_server::store::now_ms())).await?;
                println!("{}", serde_json::to_string(&purged)?);
                Ok(())
            }
            Command::Audit { command: AuditCommand::Tail { lines } } => {
                let (store, _) = open(&config).await?;
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

/// Opens the database, brings its schema up to date, loads (or on first start creates) the
/// server secret and lets the store adopt it, which hashes any カードID still in plain text.
async fn open(config: &Config) -> Result<(Store, Arc<ServerSecret>), BoxError> {
    let store = Store::open(&config.data_dir, config.database_url.as_deref()).await?;
    let path = config.secret_path();
    let secret = ServerSecret::load_or_create(&path)?;
    store.adopt_secret(&secret).await.map_err(|e| format!("{e} ({})", path.display()))?;
    Ok((store, Arc::new(secret)))
}

async fn serve(config: Config) -> Result<(), BoxError> {
    let (store, secret) = open(&config).await?;
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
    let mut state = AppState::new(config, store.clone(), hpki_trust, jpki_trust);
    state.secret = Some(secret);
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
        if let Err(e) = tokio::task::spawn_blocking(move || s.reload_crls()).await {
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

async fn identity(config: Config, command: IdentityCommand) -> Result<(), BoxError> {
    let (store, secret) = open(&config).await?;
    match command {
        IdentityCommand::Import { file, force } => {
            let records = import::read(&file, &secret)?;
            let changes = store.identity_import(&records, force, Some("cli")).await?;
            let changed = changes.iter().filter(|c| !matches!(c, ImportChange::Unchanged(_)));
            println!(
                "imported {} holders from {} ({} added or changed)",
                records.len(),
                file.display(),
                changed.count()
            );
        }
        IdentityCommand::Suspend { hpki_id, reason } => {
            if !store.identity_suspend(&hpki_id, &reason, Some("cli")).await? {
                return Err(format!("no holder {hpki_id}, or already suspended").into());
            }
            println!("{hpki_id} suspended");
        }
        IdentityCommand::Resume { hpki_id } => {
            if !store.identity_resume(&hpki_id, Some("cli")).await? {
                return Err(format!("{hpki_id} is not suspended").into());
            }
            println!("{hpki_id} resumed");
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
            let trust = hpki_trust(&config)?;
            let why = standing_of(&store, &trust, &hpki_id).await?;
            let bindings: Vec<_> = store
                .mynumber_list(Some(&hpki_id))
                .await?
                .into_iter()
                .map(|b| binding_json(&b, why.as_deref()))
                .collect::<Result<_, _>>()?;
            let phones: Vec<_> = store
                .phone_list(&hpki_id)
                .await?
                .into_iter()
                .map(|p| {
                    serde_json::json!({
                        "id": p.id, "label": p.label, "created_ms": p.created_ms,
                        "revoked_ms": p.revoked_ms, "revoked_reason": p.revoked_reason,
                        "status": status(p.revoked_ms, why.as_deref()),
                        "suspended_because": p.revoked_ms.is_none().then_some(why.as_deref()).flatten(),
                    })
                })
                .collect();
            let out = serde_json::json!({
                "holder": r.holder, "registration_number": r.registration_number,
                "standing": if why.is_some() { "suspended" } else { "good" },
                "suspended_because": why,
                "mynumber_bindings": bindings,
                "phones": phones,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        IdentityCommand::UnlockJma { hpki_id } => {
            let Some(r) = store.identity_get(&hpki_id).await? else {
                return Err(format!("no holder with 本人ID {hpki_id}").into());
            };
            let key = secret.registration_key(&r.registration_number);
            let now = mahpki_server::http::Clock::system().now_ms();
            if !store.jma_unlock(&key, &hpki_id, now).await? {
                return Err(format!("the JMA path of {hpki_id} is not backing off").into());
            }
            println!("JMA path of {hpki_id} unlocked");
        }
    }
    Ok(())
}

async fn enrolment(config: Config, command: EnrolmentCommand) -> Result<(), BoxError> {
    let (store, _) = open(&config).await?;
    match command {
        EnrolmentCommand::IssueLink { hpki_id, valid_days, replace } => {
            let id = mahpki_protocol::HpkiId::parse(&hpki_id)?;
            let (url, e) = mahpki_server::service::links::issue_link(
                &store, &config, &id, valid_days, replace,
            )
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
    let (store, _) = open(&config).await?;
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
    let (store, _) = open(&config).await?;
    match command {
        BindingCommand::List { hpki_id } => {
            let trust = hpki_trust(&config)?;
            let mut why = std::collections::HashMap::new();
            for b in store.mynumber_list(hpki_id.as_deref()).await? {
                if !why.contains_key(&b.hpki_id) {
                    let w = standing_of(&store, &trust, &b.hpki_id).await?;
                    why.insert(b.hpki_id.clone(), w);
                }
                let w = why.get(&b.hpki_id).cloned().flatten();
                println!("{}", serde_json::to_string(&binding_json(&b, w.as_deref())?)?);
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

fn hpki_trust(config: &Config) -> Result<TrustStore, BoxError> {
    Ok(standing::configured_trust(config)?)
}

/// `None` when the holder is in good standing, else why not (their bindings are suspended).
async fn standing_of(
    store: &Store,
    trust: &TrustStore,
    hpki_id: &str,
) -> Result<Option<String>, BoxError> {
    match standing::check(store, trust, hpki_id, mahpki_server::http::Clock::system().now_ms())
        .await
    {
        Ok(()) => Ok(None),
        Err(standing::StandingError::Refused(r)) => Ok(Some(r.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// A binding's state as the operator reads it: revoked, suspended (holder not in good
/// standing: listed, but unusable until the cause is gone), or active.
fn status(revoked_ms: Option<i64>, suspended_because: Option<&str>) -> &'static str {
    match (revoked_ms, suspended_because) {
        (Some(_), _) => "revoked",
        (None, Some(_)) => "suspended",
        (None, None) => "active",
    }
}

fn binding_json(
    b: &mahpki_server::store::MyNumberRecord,
    suspended_because: Option<&str>,
) -> Result<serde_json::Value, BoxError> {
    let mut v = serde_json::to_value(b)?;
    if let Some(o) = v.as_object_mut() {
        o.insert("status".into(), status(b.revoked_ms, suspended_because).into());
        if b.revoked_ms.is_none()
            && let Some(why) = suspended_because
        {
            o.insert("suspended_because".into(), why.into());
        }
    }
    Ok(v)
}
