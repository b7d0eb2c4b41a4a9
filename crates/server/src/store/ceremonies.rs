//! A WebAuthn ceremony state as the store keeps it: webauthn-rs keeps no replay memory of its
//! own, so the state of a registration (`PasskeyRegistration`) or an assertion
//! (`PasskeyAuthentication`) waits in the database, where any server process can finish what
//! another began, and is deleted in the transaction that uses it.

use serde::{Serialize, de::DeserializeOwned};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyAuthentication, PasskeyRegistration,
};
use zeroize::Zeroizing;

use super::StoreError;

/// The typed state and the exact text stored for it. The text is what a use deletes
/// ("delete this state if it is still there"), so two finishes of one challenge cannot both
/// succeed; it holds the challenge, so it is zeroised and never printed.
#[derive(Clone)]
pub struct Ceremony<T> {
    value: T,
    stored: Zeroizing<String>,
}

/// A registration the phone is about to perform (別紙2).
pub type Registration = Ceremony<PasskeyRegistration>;
/// An assertion the old phone is about to answer (スマートフォン変更).
pub type Assertion = Ceremony<PasskeyAuthentication>;
/// A discoverable assertion of the daily sign-in (no 本人ID named: the passkey names itself).
pub type SignInAssertion = Ceremony<DiscoverableAuthentication>;

impl<T: Serialize> Ceremony<T> {
    pub fn new(value: T) -> Result<Self, StoreError> {
        let stored = serde_json::to_string(&value)
            .map_err(|e| StoreError::Corrupt(format!("WebAuthn state does not serialise: {e}")))?;
        Ok(Self { value, stored: Zeroizing::new(stored) })
    }
}

impl<T: DeserializeOwned> Ceremony<T> {
    pub(super) fn from_stored(stored: String) -> Result<Self, StoreError> {
        let stored = Zeroizing::new(stored);
        let value = serde_json::from_str(&stored)
            .map_err(|e| StoreError::Corrupt(format!("WebAuthn state: {e}")))?;
        Ok(Self { value, stored })
    }
}

impl<T> Ceremony<T> {
    pub fn value(&self) -> &T {
        &self.value
    }

    pub(super) fn stored(&self) -> &str {
        &self.stored
    }
}

impl<T> std::fmt::Debug for Ceremony<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ceremony").finish_non_exhaustive()
    }
}

impl<T> PartialEq for Ceremony<T> {
    fn eq(&self, other: &Self) -> bool {
        self.stored == other.stored
    }
}

impl<T> Eq for Ceremony<T> {}
