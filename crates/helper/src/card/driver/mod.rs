//! Card drivers at the APDU level, over any [`Transport`]. `identify` finds out which card is
//! present by selecting applications (ATRs are not reliable across card batches); `jpki` and
//! `hpki` read the authentication certificate, report PIN tries and sign.

pub mod hpki;
pub mod iso7816;
pub mod jpki;

pub use iso7816::{
    CardInfo, PinStatus, pin_status, read_der_file, select_aid, select_ef, sign_outcome, verify,
    verify_outcome,
};

use mahpki_protocol::{
    card_profile::{self, HpkiProfile},
    helper::{CardPresence, CardType},
};

use crate::{card::transport::Transport, error::CardError};

/// Which card is in the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    Jpki,
    Hpki(&'static HpkiProfile),
    /// An HPKI card reached through the issuer's PKCS#11 middleware.
    HpkiToken,
    Unsupported,
}

impl Detected {
    pub fn card_type(self) -> Option<CardType> {
        match self {
            Self::Jpki => Some(CardType::Jpki),
            Self::Hpki(_) | Self::HpkiToken => Some(CardType::Hpki),
            Self::Unsupported => None,
        }
    }

    pub fn presence(self) -> CardPresence {
        match self {
            Self::Jpki => CardPresence::Jpki,
            Self::Hpki(_) | Self::HpkiToken => CardPresence::Hpki,
            Self::Unsupported => CardPresence::Unsupported,
        }
    }
}

/// Which card is in the reader, trying the My Number card's application first.
pub fn identify(t: &mut dyn Transport) -> Result<Detected, CardError> {
    identify_trying(t, CardType::Jpki)
}

/// Which card is in the reader, trying the applications of kind `first` before the others (the
/// card an operation waits for answers the first SELECT). The application found stays selected.
pub fn identify_trying(t: &mut dyn Transport, first: CardType) -> Result<Detected, CardError> {
    let kinds = match first {
        CardType::Jpki => [CardType::Jpki, CardType::Hpki],
        CardType::Hpki => [CardType::Hpki, CardType::Jpki],
    };
    for kind in kinds {
        match kind {
            CardType::Jpki => {
                if select_aid(t, jpki::AUTH_AP)? {
                    return Ok(Detected::Jpki);
                }
            }
            CardType::Hpki => {
                for &profile in card_profile::ALL {
                    if select_aid(t, profile.auth_aid)? {
                        return Ok(Detected::Hpki(profile));
                    }
                }
            }
        }
    }
    Ok(Detected::Unsupported)
}

/// [`jpki::read_info`] or [`hpki::read_info`] for a card `identify` just found, its application
/// still selected (in the same hold of the card), so it is not selected again.
pub fn read_selected(t: &mut dyn Transport, card: Detected) -> Result<CardInfo, CardError> {
    match card {
        Detected::Jpki => jpki::read_selected(t),
        Detected::Hpki(p) => hpki::read_selected(t, p),
        Detected::HpkiToken | Detected::Unsupported => Err(CardError::Unsupported),
    }
}
