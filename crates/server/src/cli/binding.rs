//! `binding`: My Number card bindings, and how a binding's state reads to the operator (also
//! used by `identity show`).

use std::collections::HashMap;

use clap::Subcommand;
use mahpki_server::{
    Config,
    pki::{TrustStore, verify_certificate},
    standing,
    store::{BindError, BindOutcome, MyNumberRecord, NewMyNumberBinding, Store},
};

use super::{BoxError, Needs};

#[derive(Subcommand)]
pub enum BindingCommand {
    /// List My Number card bindings (active and ended), one JSON object per line.
    List {
        #[arg(long)]
        hpki_id: Option<String>,
    },
    /// Bind a My Number card's JPKI 利用者証明用 certificate (DER file) to a holder without the
    /// cards: for the demo's holder and for bindings carried over from an earlier system. The
    /// holder's own 別紙1 (both cards, both PINs) is the normal way. The certificate is checked
    /// against the configured JPKI anchors and CRLs; the binding replaces the holder's earlier one.
    Add {
        #[arg(long)]
        hpki_id: String,
        /// The certificate, DER.
        #[arg(long)]
        certificate: std::path::PathBuf,
    },
    /// Revoke an active binding by its id.
    Revoke {
        id: i64,
        #[arg(long, default_value = "revoked by operator")]
        reason: String,
    },
}

pub async fn run(config: Config, command: BindingCommand) -> Result<(), BoxError> {
    match command {
        BindingCommand::List { hpki_id } => {
            let store = super::read(&config).await?;
            let trust = hpki_trust(&config)?;
            let mut why = HashMap::new();
            for b in store.mynumber_list(hpki_id.as_deref()).await? {
                if !why.contains_key(&b.hpki_id) {
                    let w = standing_of(&store, &trust, &b.hpki_id).await?;
                    why.insert(b.hpki_id.clone(), w);
                }
                let w = why.get(&b.hpki_id).cloned().flatten();
                println!("{}", serde_json::to_string(&binding_json(&b, w.as_deref())?)?);
            }
        }
        BindingCommand::Add { hpki_id, certificate } => {
            let der = std::fs::read(&certificate)
                .map_err(|e| format!("{}: {e}", certificate.display()))?;
            let mut trust =
                TrustStore::load_jpki_with(&config.jpki_trust, &config.jpki_builtin_crls)?;
            trust.crl_max_age_secs = config.crl_max_age_secs;
            let now = mahpki_server::http::Clock::system().now_secs();
            let cert = verify_certificate(&trust, &der, now)
                .map_err(|e| format!("{}: {e}", certificate.display()))?;
            let (store, _) = super::write(&config, Needs::Write).await?;
            if store.identity_get(&hpki_id).await?.is_none() {
                return Err(format!("no holder {hpki_id} is registered").into());
            }
            let new = NewMyNumberBinding {
                hpki_id: hpki_id.clone(),
                cert_issuer: cert.issuer,
                cert_serial: cert.serial_hex,
                fingerprint: cert.fingerprint,
                not_after_ms: cert.not_after.saturating_mul(1000),
                certificate: cert.der,
            };
            match store.bind_mynumber(&new, Some("cli")).await {
                Ok(BindOutcome::Bound { binding, .. } | BindOutcome::AlreadyBound(binding)) => {
                    println!("{}", serde_json::to_string(&binding_json(&binding, None)?)?);
                }
                Err(BindError::BoundElsewhere) => {
                    return Err("this My Number card is bound to another holder".into());
                }
                Err(BindError::Store(e)) => return Err(e.into()),
            }
        }
        BindingCommand::Revoke { id, reason } => {
            let (store, _) = super::write(&config, Needs::Write).await?;
            if !store.mynumber_revoke(id, &reason).await? {
                return Err(format!("no active binding with id {id}").into());
            }
            println!("binding {id} revoked");
        }
    }
    Ok(())
}

pub fn hpki_trust(config: &Config) -> Result<TrustStore, BoxError> {
    Ok(standing::configured_trust(config)?)
}

/// `None` when the holder is in good standing, else why not (their bindings are suspended).
pub async fn standing_of(
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
pub fn status(revoked_ms: Option<i64>, suspended_because: Option<&str>) -> &'static str {
    match (revoked_ms, suspended_because) {
        (Some(_), _) => "revoked",
        (None, Some(_)) => "suspended",
        (None, None) => "active",
    }
}

pub fn binding_json(
    b: &MyNumberRecord,
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
