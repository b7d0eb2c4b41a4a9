//! `phone`: bound smartphones.

use clap::Subcommand;
use mahpki_server::Config;

use super::{BoxError, Needs};

#[derive(Subcommand)]
pub enum PhoneCommand {
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

pub async fn run(config: Config, command: PhoneCommand) -> Result<(), BoxError> {
    match command {
        PhoneCommand::List { hpki_id } => {
            let store = super::read(&config).await?;
            for p in store.phone_list(&hpki_id).await? {
                let line = serde_json::json!({
                    "id": p.id, "hpki_id": p.hpki_id, "label": p.label, "created_ms": p.created_ms,
                    "revoked_ms": p.revoked_ms, "revoked_reason": p.revoked_reason,
                });
                println!("{line}");
            }
        }
        PhoneCommand::Revoke { id, reason } => {
            let (store, _) = super::write(&config, Needs::Write).await?;
            let now = mahpki_server::store::now_ms();
            let Some(hpki_id) = store.phone_revoke(id, &reason, now).await? else {
                return Err(format!("no working phone with id {id}").into());
            };
            println!("phone {id} of {hpki_id} revoked");
        }
    }
    Ok(())
}
