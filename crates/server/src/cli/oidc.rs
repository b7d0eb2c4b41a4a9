//! `oidc` (the provider's signing keys) and `oidc-client` (the relying services).

use std::path::PathBuf;

use clap::Subcommand;
use mahpki_server::{
    Config,
    oidc_keys::KeySet,
    service::{audit, oidc_client},
    store::AuditAction,
};

use super::{BoxError, Needs};

#[derive(Subcommand)]
pub enum OidcCommand {
    /// Add a new ID token signing key. It is published in the JWKS at once and signs from
    /// `oidc.key_publish_ahead_secs` later; the key it replaces stays published until the tokens
    /// it signed have expired. Running servers read the key file again on SIGHUP or with the
    /// CRLs (`crl_reload_secs`). Audited.
    RotateKey,
    /// List the signing keys and what each does now, one JSON object per line.
    Keys,
}

#[derive(Subcommand)]
pub enum OidcClientCommand {
    /// Register a relying service. Without --jwks it authenticates with a secret
    /// (client_secret_basic), printed once here and stored only as a hash; with --jwks it signs
    /// JWTs with the keys of that JWKS file (private_key_jwt). Audited.
    Add {
        /// The service's name, as the consent page shows it to holders.
        name: String,
        /// An exact redirect URI (repeat for several): https://, or http:// on localhost only.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uri: Vec<String>,
        /// A JWKS file with the public keys of the service's private_key_jwt.
        #[arg(long)]
        jwks: Option<PathBuf>,
    },
    /// List the registered services (removed ones too), one JSON object per line.
    List,
    /// Remove a service: its codes and tokens stop working at once. Audited.
    Remove { client_id: String },
}

fn now_ms() -> i64 {
    mahpki_server::store::now_ms()
}

pub async fn run(config: Config, command: OidcCommand) -> Result<(), BoxError> {
    let o = &config.oidc;
    let (ahead, keep) =
        (i64::from(o.key_publish_ahead_secs) * 1000, i64::from(o.id_token_ttl_secs) * 1000);
    let path = config.oidc_key_path();
    match command {
        OidcCommand::RotateKey => {
            let (store, _) = super::write(&config, Needs::Write).await?;
            if !path.is_file() {
                return Err(format!(
                    "no OIDC signing keys at {}: the server creates them on its first start",
                    path.display()
                )
                .into());
            }
            let kid = KeySet::rotate(&path, now_ms(), ahead, keep)?;
            let detail = Some(format!("new key {kid}"));
            audit(&store, AuditAction::OidcKeyRotate, None, Some("cli"), None, detail).await;
            println!(
                "new signing key {kid}: published now, signs from {} seconds on",
                o.key_publish_ahead_secs
            );
        }
        OidcCommand::Keys => {
            let keys = KeySet::load(&path, ahead, keep)?;
            for (k, state) in keys.list(now_ms()) {
                let line =
                    serde_json::json!({"kid": k.kid, "created_ms": k.created_ms, "state": state});
                println!("{line}");
            }
        }
    }
    Ok(())
}

pub async fn run_client(config: Config, command: OidcClientCommand) -> Result<(), BoxError> {
    match command {
        OidcClientCommand::Add { name, redirect_uri, jwks } => {
            let jwks = match jwks {
                Some(p) => {
                    Some(std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?)
                }
                None => None,
            };
            let (store, _) = super::write(&config, Needs::Write).await?;
            let r = oidc_client::register(&store, &name, &redirect_uri, jwks.as_deref(), now_ms())
                .await?;
            let line = serde_json::json!({
                "client_id": r.client_id,
                "client_secret": r.secret,
                "token_endpoint_auth_method":
                    if r.secret.is_some() { "client_secret_basic" } else { "private_key_jwt" },
                "redirect_uris": redirect_uri,
            });
            println!("{line}");
            if r.secret.is_some() {
                eprintln!(
                    "mahpki-server: the client_secret is shown only now: hand it to the service"
                );
            }
        }
        OidcClientCommand::List => {
            let store = super::read(&config).await?;
            for c in store.oidc_client_list().await? {
                let line = serde_json::json!({
                    "client_id": c.client_id, "name": c.name,
                    "token_endpoint_auth_method":
                        if c.jwks.is_some() { "private_key_jwt" } else { "client_secret_basic" },
                    "redirect_uris": c.redirect_uris(), "created_ms": c.created_ms,
                    "removed_ms": c.removed_ms,
                });
                println!("{line}");
            }
        }
        OidcClientCommand::Remove { client_id } => {
            let (store, _) = super::write(&config, Needs::Write).await?;
            if !oidc_client::remove(&store, &client_id, now_ms()).await? {
                return Err(format!("no registered client {client_id}").into());
            }
            println!("client {client_id} removed");
        }
    }
    Ok(())
}
