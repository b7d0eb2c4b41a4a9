//! What can go wrong with a card, typed, so the page can tell the holder what to do.

use mahpki_protocol::{error::ErrorCode, helper::CardType};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("no card reader")]
    NoReader,
    #[error("no card in the reader")]
    NoCard,
    #[error("the card is not the one asked for")]
    WrongCard,
    #[error("the card was removed during the operation")]
    Removed,
    /// `tries_left` is `None` when the card (or middleware) does not say.
    #[error("wrong PIN, {tries_left:?} tries left")]
    PinWrong { tries_left: Option<u8> },
    #[error("the PIN is locked")]
    PinLocked(CardType),
    #[error("the PIN does not have the card's format")]
    PinFormat,
    #[error("unsupported card")]
    Unsupported,
    #[error("the card answered {sw:04X} to {step}")]
    Status { step: &'static str, sw: u16 },
    #[error("card communication failed: {0}")]
    Communication(String),
}

impl CardError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NoReader => ErrorCode::NoReader,
            Self::NoCard => ErrorCode::NoCard,
            Self::WrongCard => ErrorCode::WrongCard,
            Self::Removed => ErrorCode::CardRemoved,
            Self::PinWrong { .. } => ErrorCode::PinWrong,
            Self::PinLocked(CardType::Jpki) => ErrorCode::JpkiPinLocked,
            Self::PinLocked(CardType::Hpki) => ErrorCode::HpkiPinLocked,
            Self::PinFormat => ErrorCode::PinFormat,
            Self::Unsupported => ErrorCode::UnsupportedCard,
            Self::Status { .. } | Self::Communication(_) => ErrorCode::CardCommunication,
        }
    }
}
