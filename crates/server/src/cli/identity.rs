//! `identity`: holders (本人ID) registered by the CAs.

use std::path::PathBuf;

use clap::Subcommand;
use mahpki_server::{Config, import, store::ImportChange};

use super::{
    BoxError, Needs,
    binding::{binding_json, hpki_trust, standing_of, status},
};

#[derive(Subcommand)]
pub enum IdentityCommand {
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

pub async fn run(config: Config, command: IdentityCommand) -> Result<(), BoxError> {
    match command {
        IdentityCommand::Import { file, force } => {
            let (store, secret) = super::write(&config, Needs::Import).await?;
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
            let (store, _) = super::write(&config, Needs::Write).await?;
            if !store.identity_suspend(&hpki_id, &reason, Some("cli")).await? {
                return Err(format!("no holder {hpki_id}, or already suspended").into());
            }
            println!("{hpki_id} suspended");
        }
        IdentityCommand::Resume { hpki_id } => {
            let (store, _) = super::write(&config, Needs::Write).await?;
            if !store.identity_resume(&hpki_id, Some("cli")).await? {
                return Err(format!("{hpki_id} is not suspended").into());
            }
            println!("{hpki_id} resumed");
        }
        IdentityCommand::List => {
            let store = super::read(&config).await?;
            for r in store.identity_list().await? {
                println!("{}", serde_json::to_string(&r.holder)?);
            }
        }
        IdentityCommand::Show { hpki_id } => show(&config, &hpki_id).await?,
        IdentityCommand::UnlockJma { hpki_id } => {
            let (store, secret) = super::write(&config, Needs::Write).await?;
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

/// One holder with their bindings and phones, and whether they are in good standing.
async fn show(config: &Config, hpki_id: &str) -> Result<(), BoxError> {
    let store = super::read(config).await?;
    let Some(r) = store.identity_get(hpki_id).await? else {
        return Err(format!("no holder with 本人ID {hpki_id}").into());
    };
    let trust = hpki_trust(config)?;
    let why = standing_of(&store, &trust, hpki_id).await?;
    let bindings: Vec<_> = store
        .mynumber_list(Some(hpki_id))
        .await?
        .into_iter()
        .map(|b| binding_json(&b, why.as_deref()))
        .collect::<Result<_, _>>()?;
    let phones: Vec<_> = store
        .phone_list(hpki_id)
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
    Ok(())
}
