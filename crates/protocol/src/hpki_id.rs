//! The 本人ID: the HPKI holder's identifier, the key every binding hangs on.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A holder's 本人ID. Kept as an opaque, validated string: the CAs assign it, and we only need it
/// to be printable, bounded and free of characters that could smuggle markup or control codes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HpkiId(String);

/// Why a string is not a 本人ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HpkiIdError {
    #[error("本人ID is empty")]
    Empty,
    #[error("本人ID is longer than {max} characters")]
    TooLong { max: usize },
    #[error("本人ID may contain only ASCII letters, digits and '-'")]
    BadCharacter,
}

impl HpkiId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Result<Self, HpkiIdError> {
        if s.is_empty() {
            return Err(HpkiIdError::Empty);
        }
        if s.len() > Self::MAX_LEN {
            return Err(HpkiIdError::TooLong { max: Self::MAX_LEN });
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(HpkiIdError::BadCharacter);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for HpkiId {
    type Error = HpkiIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<HpkiId> for String {
    fn from(id: HpkiId) -> Self {
        id.0
    }
}

impl fmt::Display for HpkiId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_ids() {
        assert_eq!(HpkiId::parse("JMA-0001234").unwrap().as_str(), "JMA-0001234");
    }

    #[test]
    fn rejects_bad_ids() {
        assert_eq!(HpkiId::parse(""), Err(HpkiIdError::Empty));
        assert_eq!(HpkiId::parse(&"1".repeat(65)), Err(HpkiIdError::TooLong { max: 64 }));
        assert_eq!(HpkiId::parse("<script>"), Err(HpkiIdError::BadCharacter));
        assert_eq!(HpkiId::parse("１２３"), Err(HpkiIdError::BadCharacter));
    }

    #[test]
    fn deserialising_validates() {
        assert!(serde_json::from_str::<HpkiId>("\"A-1\"").is_ok());
        assert!(serde_json::from_str::<HpkiId>("\"a b\"").is_err());
    }
}
