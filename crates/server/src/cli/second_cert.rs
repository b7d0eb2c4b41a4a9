//! `second-cert`: HPKI second certificates (HPKIセカンド電子証明書) whose keys live in the HSM:
//! request (key made in the HSM, CSR out), import (the CA's certificate checked and activated),
//! list, revoke. Every change is audited.

use std::path::PathBuf;

use clap::Subcommand;
use mahpki_protocol::hpki_id::HpkiId;
use mahpki_server::{
    Config,
    hsm::{Hsm, csr},
    http::Clock,
    service::second_cert::{SecondCertError, SecondCerts},
    store::SecondCertRecord,
};

use super::{BoxError, Needs, binding::hpki_trust};

#[derive(Subcommand)]
pub enum SecondCertCommand {
    /// Make the holder's key pair in the HSM and write a PKCS#10 request (PEM) for the HPKI CA.
    /// Run again before the import to get the same request again (same key).
    Request {
        hpki_id: String,
        /// Where to write the request; standard output if not given.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check the certificate the CA issued for the request (PEM or DER) and activate it.
    Import { hpki_id: String, certificate: PathBuf },
    /// List second certificates (all states), one JSON object per line.
    List { hpki_id: Option<String> },
    /// Revoke a holder's requested or active second certificate (by HPKI ID or credential id)
    /// and destroy its key in the HSM.
    Revoke {
        target: String,
        #[arg(long, default_value = "revoked by operator")]
        reason: String,
    },
}

/// A refusal as the operator reads it: the catalogue's code, what happened, and the remedy.
fn refused(e: SecondCertError) -> BoxError {
    let code = e.code();
    format!(
        "[{}] {e}\n  {} / {}\n  {} / {}",
        code.wire(),
        code.message().en,
        code.message().ja,
        code.remedy().en,
        code.remedy().ja
    )
    .into()
}

fn holder(hpki_id: &str) -> Result<HpkiId, BoxError> {
    HpkiId::parse(hpki_id).map_err(|e| format!("{hpki_id:?} is not an HPKI ID: {e}").into())
}

fn read_certificate(path: &PathBuf) -> Result<Vec<u8>, BoxError> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.starts_with(b"-----BEGIN") {
        let (_, pem) = x509_parser::pem::parse_x509_pem(&bytes)
            .map_err(|e| format!("{} is not a PEM certificate: {e}", path.display()))?;
        return Ok(pem.contents);
    }
    Ok(bytes)
}

pub async fn run(config: Config, command: SecondCertCommand) -> Result<(), BoxError> {
    let now = Clock::system().now_ms();
    match command {
        SecondCertCommand::List { hpki_id } => {
            let store = super::read(&config).await?;
            for r in store.second_cert_list(hpki_id.as_deref()).await? {
                println!("{}", serde_json::to_string(&record_json(&r))?);
            }
        }
        SecondCertCommand::Request { hpki_id, out } => {
            let hpki_id = holder(&hpki_id)?;
            let (store, _) = super::write(&config, Needs::Write).await?;
            let trust = hpki_trust(&config)?;
            let certs = SecondCerts::new(store, Hsm::new(config.hsm.clone()));
            let made = certs.request(&hpki_id, &trust, now).await.map_err(refused)?;
            let pem = csr::pem(&made.csr_der)?;
            match out {
                Some(path) => std::fs::write(&path, &pem)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
                None => print!("{pem}"),
            }
            eprintln!(
                "second certificate {} for {hpki_id}: credential {}, key {} in the HSM{}",
                if made.resumed { "request repeated" } else { "requested" },
                made.record.credential_id,
                made.record.key_id,
                if made.resumed { " (same key as before)" } else { "" }
            );
        }
        SecondCertCommand::Import { hpki_id, certificate } => {
            let hpki_id = holder(&hpki_id)?;
            let der = read_certificate(&certificate)?;
            let (store, _) = super::write(&config, Needs::Write).await?;
            let trust = hpki_trust(&config)?;
            let certs = SecondCerts::new(store, Hsm::new(config.hsm.clone()));
            let r = certs.import(&hpki_id, &der, &trust, now).await.map_err(refused)?;
            println!("{}", serde_json::to_string(&record_json(&r))?);
        }
        SecondCertCommand::Revoke { target, reason } => {
            let (store, _) = super::write(&config, Needs::Write).await?;
            let certs = SecondCerts::new(store, Hsm::new(config.hsm.clone()));
            let revoked = certs.revoke(&target, &reason).await.map_err(refused)?;
            println!("{}", serde_json::to_string(&record_json(&revoked.record))?);
            match revoked.key_destroyed {
                Ok(n) => eprintln!(
                    "credential {} revoked; {n} HSM objects destroyed",
                    revoked.record.credential_id
                ),
                Err(e) => eprintln!(
                    "credential {} revoked (it signs nothing from now on), but its key could not be destroyed in the HSM: {e}",
                    revoked.record.credential_id
                ),
            }
        }
    }
    Ok(())
}

/// A credential as the operator reads it: no key or certificate bytes, times as milliseconds.
fn record_json(r: &SecondCertRecord) -> serde_json::Value {
    serde_json::json!({
        "credential_id": r.credential_id,
        "hpki_id": r.hpki_id,
        "state": r.state,
        "key_id": r.key_id,
        "issuer": r.cert_issuer,
        "serial": r.cert_serial,
        "not_before_ms": r.not_before_ms,
        "not_after_ms": r.not_after_ms,
        "created_ms": r.created_ms,
        "activated_ms": r.activated_ms,
        "revoked_ms": r.revoked_ms,
        "revoked_reason": r.revoked_reason,
    })
}
