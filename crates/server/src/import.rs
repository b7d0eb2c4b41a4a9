//! Importing holders from the CA operator's register (JSON or CSV). Each row names the holder's
//! HPKI authentication certificate, whose issuer and subject map a card to the holder. The
//! カードID is written only as its HMAC under the server secret.

use std::path::{Path, PathBuf};

use mahpki_protocol::{
    HpkiId,
    api::{Ca, Holder, Qualification},
    import::IdentityImportRow,
};
use x509_parser::prelude::*;

use zeroize::Zeroizing;

use crate::{
    secret::ServerSecret,
    store::{CurrentCert, IdentityRecord},
};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("row {row} ({hpki_id}): {reason}")]
    Row { row: usize, hpki_id: String, reason: String },
}

/// Reads every row and checks it completely before anything is written: an import with one bad
/// row imports nothing. Each holder comes with the certificate the row names (its serial and
/// expiry are what the paths without the card check).
pub fn read(
    path: &Path,
    secret: &ServerSecret,
) -> Result<Vec<(IdentityRecord, CurrentCert)>, ImportError> {
    // The file holds every holder's カードID: wiped from memory once read.
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|source| ImportError::Read { path: path.into(), source })?,
    );
    let format_err = |reason: String| ImportError::Format { path: path.into(), reason };
    let rows: Vec<IdentityImportRow> =
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            csv::Reader::from_reader(text.as_bytes())
                .deserialize()
                .collect::<Result<_, _>>()
                .map_err(|e| format_err(e.to_string()))?
        } else {
            serde_json::from_str(&text).map_err(|e| format_err(e.to_string()))?
        };
    let base = path.parent().unwrap_or(Path::new("."));
    rows.into_iter().enumerate().map(|(i, r)| to_record(i + 1, r, base, secret)).collect()
}

fn to_record(
    row: usize,
    r: IdentityImportRow,
    base: &Path,
    secret: &ServerSecret,
) -> Result<(IdentityRecord, CurrentCert), ImportError> {
    let err = |reason: String| ImportError::Row { row, hpki_id: r.hpki_id.clone(), reason };
    let hpki_id = HpkiId::parse(&r.hpki_id).map_err(|e| err(e.to_string()))?;
    let ca =
        Ca::parse(&r.ca).ok_or_else(|| err(format!("unknown CA {:?} (JMA, JPA, MEDIS)", r.ca)))?;
    let qualification = Qualification::parse(&r.qualification)
        .ok_or_else(|| err(format!("unknown qualification {:?}", r.qualification)))?;
    let cert_path = base.join(&r.certificate);
    let bytes =
        std::fs::read(&cert_path).map_err(|e| err(format!("{}: {e}", cert_path.display())))?;
    let der = if bytes.starts_with(b"-----BEGIN") {
        x509_parser::pem::parse_x509_pem(&bytes).map_err(|e| err(e.to_string()))?.1.contents
    } else {
        bytes
    };
    let (_, cert) = X509Certificate::from_der(&der).map_err(|e| err(e.to_string()))?;
    let current = CurrentCert {
        serial_hex: crate::pki::hex(cert.raw_serial()),
        not_after_ms: cert.validity().not_after.timestamp().saturating_mul(1000),
    };
    let record = IdentityRecord {
        holder: Holder {
            hpki_id,
            ca,
            qualification,
            name_kanji: r.name_kanji.clone(),
            name_kana: r.name_kana.clone(),
            name_roman: r.name_roman.clone(),
        },
        registration_number: r.registration_number.clone(),
        hpki_card_mac: secret.card_id_mac(&r.registration_number, &r.hpki_card_id).to_vec(),
        cert_issuer: cert.issuer().as_raw().to_vec(),
        cert_subject: cert.subject().as_raw().to_vec(),
    };
    Ok((record, current))
}
