//! My Number card, JPKI user-authentication side (利用者証明用電子証明書). The card pads PKCS#1
//! itself: the host sends the DigestInfo.

use mahpki_protocol::helper::CardType;

use super::iso7816::{
    CardInfo, pin_status, read_der_file, select_aid, select_ef, sign_outcome, verify,
};
use mahpki_protocol::apdu::Command;

use crate::{
    card::transport::{Transport, exchange},
    error::CardError,
    pin::Pin,
};

pub const AUTH_AP: &[u8] = &[0xd3, 0x92, 0xf0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
pub const AUTH_CERT_EF: [u8; 2] = [0x00, 0x0a];
pub const AUTH_CA_EF: [u8; 2] = [0x00, 0x0b];
pub const AUTH_PIN_EF: [u8; 2] = [0x00, 0x18];
pub const AUTH_KEY_EF: [u8; 2] = [0x00, 0x17];
/// VERIFY P2 for the PIN of the currently selected PIN EF.
const VERIFY_P2: u8 = 0x80;
/// Try an extended READ first; cards that refuse get short READs.
const TRY_EXTENDED_READ: bool = true;

fn select_ap(t: &mut dyn Transport) -> Result<(), CardError> {
    if select_aid(t, AUTH_AP)? { Ok(()) } else { Err(CardError::WrongCard) }
}

/// Certificates (readable without PIN) and the PIN's tries left.
pub fn read_info(t: &mut dyn Transport) -> Result<CardInfo, CardError> {
    select_ap(t)?;
    read_selected(t)
}

/// [`read_info`] once the AP is selected (by `identify`, in the same hold of the card).
pub fn read_selected(t: &mut dyn Transport) -> Result<CardInfo, CardError> {
    // The card has no short EF identifiers: each EF is selected.
    select_ef(t, AUTH_CERT_EF)?;
    let certificate = read_der_file(t, None, TRY_EXTENDED_READ)?;
    select_ef(t, AUTH_CA_EF)?;
    let ca_certificate = Some(read_der_file(t, None, TRY_EXTENDED_READ)?);
    select_ef(t, AUTH_PIN_EF)?;
    let pin = pin_status(t, VERIFY_P2)?;
    Ok(CardInfo { certificate, ca_certificate, pin })
}

/// VERIFY the authentication PIN, then sign `digest_info` with the authentication key.
pub fn authenticate(
    t: &mut dyn Transport,
    pin: &Pin,
    digest_info: &[u8],
) -> Result<Vec<u8>, CardError> {
    select_ap(t)?;
    select_ef(t, AUTH_PIN_EF)?;
    verify(t, VERIFY_P2, pin, CardType::Jpki)?;
    select_ef(t, AUTH_KEY_EF)?;
    let r = exchange(t, &Command::new([0x80, 0x2a, 0x00, 0x80], digest_info, Some(256)), false)?;
    sign_outcome(r.sw)?;
    Ok(r.data)
}
