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

pub fn identify(t: &mut dyn Transport) -> Result<Detected, CardError> {
    if select_aid(t, jpki::AUTH_AP)? {
        return Ok(Detected::Jpki);
    }
    for &profile in card_profile::ALL {
        if select_aid(t, profile.auth_aid)? {
            return Ok(Detected::Hpki(profile));
        }
    }
    Ok(Detected::Unsupported)
}
