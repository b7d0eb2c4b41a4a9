//! `[hsm]` in the server's settings: which PKCS#11 module, which token, and where its PIN is.

use std::path::PathBuf;

use serde::Deserialize;
use zeroize::Zeroizing;

use super::HsmError;

/// Debian's SoftHSM2: the embedded default for the demo and the tests.
pub const DEFAULT_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
pub const DEFAULT_TOKEN_LABEL: &str = "mahpki";

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HsmConfig {
    /// The PKCS#11 module (shared library) of the HSM.
    pub module: PathBuf,
    /// The label of the token (slot) the keys live in: labels survive re-plugging, slot
    /// numbers may not.
    pub token_label: String,
    /// A file holding the token's user PIN (mode 0600; one line). The PIN is never written in
    /// the settings file itself.
    pub pin_file: Option<PathBuf>,
    /// The PIN from `MAHPKI_HSM_PIN` (tests, the demo); wins over `pin_file`.
    #[serde(skip)]
    pub pin: Option<Zeroizing<String>>,
    /// Sessions kept open between operations; more are opened under load and closed after.
    pub idle_sessions: usize,
    /// How many signatures of one call (a signHash of several hashes) the HSM is asked for at
    /// once, each on its own session. Default: this machine's cores, which SoftHSM2 signs on; a
    /// network HSM may take more.
    pub parallel_signatures: usize,
}

impl Default for HsmConfig {
    fn default() -> Self {
        Self {
            module: DEFAULT_MODULE.into(),
            token_label: DEFAULT_TOKEN_LABEL.into(),
            pin_file: None,
            pin: None,
            idle_sessions: 8,
            parallel_signatures: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

impl std::fmt::Debug for HsmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HsmConfig")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("pin_file", &self.pin_file)
            .field("pin", &self.pin.as_ref().map(|_| "(set)"))
            .field("idle_sessions", &self.idle_sessions)
            .field("parallel_signatures", &self.parallel_signatures)
            .finish()
    }
}

impl HsmConfig {
    /// The user PIN, read when the pool logs in (so a rotated PIN file takes effect on the next
    /// reconnect).
    pub fn user_pin(&self) -> Result<Zeroizing<String>, HsmError> {
        if let Some(pin) = &self.pin {
            return Ok(pin.clone());
        }
        let path = self.pin_file.as_ref().ok_or(HsmError::NoPin)?;
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            HsmError::PinFile { path: path.display().to_string(), reason: e.to_string() }
        })?);
        let pin = text.trim_end_matches(['\r', '\n']);
        if pin.is_empty() {
            return Err(HsmError::NoPin);
        }
        Ok(Zeroizing::new(pin.to_owned()))
    }
}
