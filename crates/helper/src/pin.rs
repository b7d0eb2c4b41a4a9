//! The PIN as the helper holds it: checked for format before any card sees it, zeroised when
//! dropped, and never printed.

use mahpki_protocol::helper::CardType;
use zeroize::Zeroizing;

use crate::error::CardError;

/// HPKI PIN length bounds (JAHIS guideline: ASCII characters).
pub const HPKI_PIN_LEN: std::ops::RangeInclusive<usize> = 4..=16;
/// JPKI user-authentication PIN (利用者証明用パスワード): exactly 4 digits.
pub const JPKI_AUTH_PIN_LEN: usize = 4;

pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Takes ownership of `raw` (so it is wiped with the Pin) and checks it for `card`.
    pub fn parse(card: CardType, raw: String) -> Result<Self, CardError> {
        let raw = Zeroizing::new(raw);
        let ok = match card {
            CardType::Jpki => {
                raw.len() == JPKI_AUTH_PIN_LEN && raw.bytes().all(|b| b.is_ascii_digit())
            }
            CardType::Hpki => {
                HPKI_PIN_LEN.contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic())
            }
        };
        if ok { Ok(Self(raw)) } else { Err(CardError::PinFormat) }
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpki_auth_pin_is_exactly_four_digits() {
        assert!(Pin::parse(CardType::Jpki, "0123".into()).is_ok());
        for bad in ["123", "12345", "12a4", "１２３４", "", "12 4"] {
            assert_eq!(
                Pin::parse(CardType::Jpki, bad.into()).unwrap_err(),
                CardError::PinFormat,
                "{bad}"
            );
        }
    }

    #[test]
    fn hpki_pin_is_four_to_sixteen_ascii() {
        for ok in ["1234", "abcDEF12!#", "0123456789abcdef"] {
            assert!(Pin::parse(CardType::Hpki, ok.into()).is_ok(), "{ok}");
        }
        for bad in ["123", "0123456789abcdefg", "pass word", "パスワード1", "abc\n"] {
            assert!(Pin::parse(CardType::Hpki, bad.into()).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_the_pin() {
        let pin = Pin::parse(CardType::Hpki, "s3cretPIN".into()).unwrap();
        let shown = format!("{pin:?} {pin:#?}");
        assert!(!shown.contains("s3cretPIN"), "{shown}");
        assert_eq!(pin.as_bytes(), b"s3cretPIN");
    }
}
