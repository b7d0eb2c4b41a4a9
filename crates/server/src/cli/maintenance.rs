//! `maintenance`: housekeeping of the database.

use clap::Subcommand;
use mahpki_server::{Config, http::session, store::Retention};

use super::{BoxError, Needs};

#[derive(Subcommand)]
pub enum MaintenanceCommand {
    /// Delete what has ended (expired challenges, ceremony states, grants and sessions; codes
    /// ended longer ago than retention.ended_code_days) now. The audit log is kept.
    Purge,
}

pub async fn run(config: Config, command: MaintenanceCommand) -> Result<(), BoxError> {
    match command {
        MaintenanceCommand::Purge => {
            let (store, _) = super::write(&config, Needs::Write).await?;
            let purged = store.purge(&retention(&config, mahpki_server::store::now_ms())).await?;
            println!("{}", serde_json::to_string(&purged)?);
        }
    }
    Ok(())
}

/// What the retention job (and `maintenance purge`) deletes as of `now_ms`.
pub fn retention(config: &Config, now_ms: i64) -> Retention {
    Retention {
        now_ms,
        session_idle_ms: session::IDLE_MS,
        session_max_ms: session::MAX_MS,
        ended_code_ms: config.retention.ended_code_ms(),
    }
}
