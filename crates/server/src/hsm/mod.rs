//! The HSM that holds the HPKI second certificates' private keys, through PKCS#11 (`cryptoki`).
//!
//! One RSA-2048 key pair per credential, generated inside the token, sensitive and never
//! extractable, found again by its `CKA_ID` (which the database row keeps). [`Hsm`] is a pool of
//! logged-in sessions that reconnects (C_Finalize, C_Initialize, log in again) when the token
//! went away and came back; its async methods run the blocking PKCS#11 calls on tokio's blocking
//! threads, like the card calls of the helper. SoftHSM2 is the default module (demo and tests).

mod config;
pub mod csr;
mod pool;

pub use config::{DEFAULT_MODULE, DEFAULT_TOKEN_LABEL, HsmConfig};
pub use pool::{Hsm, KeyAttributes};

use mahpki_protocol::ErrorCode;

/// The signature schemes a credential signs with (both over a SHA-256 digest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256: the token pads a DigestInfo (`CKM_RSA_PKCS`).
    RsaPkcs1Sha256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (`CKM_RSA_PKCS_PSS`).
    RsaPssSha256,
}

/// Why the HSM could not do what was asked. Every one is the server's side failing (never the
/// holder's input), so all answer `hsm_unavailable` (503) and change nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HsmError {
    #[error("the PKCS#11 module {module} cannot be loaded: {reason}")]
    Module { module: String, reason: String },
    #[error("no HSM token labelled {0:?} is present")]
    NoToken(String),
    #[error("no HSM user PIN is configured (hsm.pin_file, MAHPKI_HSM_PIN_FILE or MAHPKI_HSM_PIN)")]
    NoPin,
    #[error("cannot read the HSM PIN file {path}: {reason}")]
    PinFile { path: String, reason: String },
    #[error("the HSM refused the configured PIN")]
    PinRefused,
    #[error("the HSM has no key with CKA_ID {0}")]
    KeyMissing(String),
    #[error("the HSM failed: {0}")]
    Device(String),
}

impl HsmError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::HsmUnavailable
    }
}

/// The DER DigestInfo prefix of a SHA-256 digest (RFC 8017, 9.2 note 1).
pub const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// `CKA_ID`s are stored hex in the database and passed as bytes to the token.
pub fn key_id_hex(id: &[u8]) -> String {
    crate::pki::hex(id)
}
