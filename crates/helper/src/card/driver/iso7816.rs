//! The ISO/IEC 7816-4 commands both drivers use (SELECT, READ BINARY of a DER file, VERIFY, and
//! the status words of signing), and what they report about a card.

use mahpki_protocol::{apdu::Command, helper::CardType};
use zeroize::Zeroize as _;

use crate::{
    card::der,
    card::transport::{Transport, exchange},
    error::CardError,
    pin::Pin,
};

/// What the helper learns from a card before asking for the PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardInfo {
    pub certificate: Vec<u8>,
    /// The CA certificate the card carries (JPKI only).
    pub ca_certificate: Option<Vec<u8>>,
    pub pin: PinStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinStatus {
    TriesLeft(u8),
    /// The card said 9000 to an empty VERIFY: already verified in this session; count unknown.
    Verified,
    /// The token cannot tell (PKCS#11 middleware without a counter).
    Unknown,
    Locked,
}

/// SELECT by AID, answering whether the application exists.
pub fn select_aid(t: &mut dyn Transport, aid: &[u8]) -> Result<bool, CardError> {
    Ok(exchange(t, &Command::new([0x00, 0xa4, 0x04, 0x0c], aid, None), false)?.ok())
}

/// SELECT EF under the current application. A missing file means this is not the card we took it
/// for.
pub fn select_ef(t: &mut dyn Transport, fid: [u8; 2]) -> Result<(), CardError> {
    let r = exchange(t, &Command::new([0x00, 0xa4, 0x02, 0x0c], &fid, None), false)?;
    match r.sw {
        0x9000 => Ok(()),
        0x6a82 | 0x6a86 | 0x6a87 => Err(CardError::Unsupported),
        sw => Err(CardError::Status { step: "SELECT EF", sw }),
    }
}

fn read_binary(
    t: &mut dyn Transport,
    offset: usize,
    le: usize,
    extended: bool,
) -> Result<crate::card::transport::Response, CardError> {
    // P1 bit 8 set would mean a short EF identifier: offsets stop at 32767.
    if offset > 0x7fff {
        return Err(CardError::Communication(format!(
            "offset {offset} beyond READ BINARY's range"
        )));
    }
    let [p1, p2] = (offset as u16).to_be_bytes();
    Ok(exchange(t, &Command::new([0x00, 0xb0, p1, p2], &[], Some(le)), extended)?)
}

/// Reads the selected transparent EF holding one DER object, sized from its header: one short
/// READ for the header, then the rest in one extended READ when the card takes it, else in
/// 256-byte short READs.
pub fn read_der_file(t: &mut dyn Transport, try_extended: bool) -> Result<Vec<u8>, CardError> {
    const HEADER: usize = 5;
    let head = read_binary(t, 0, HEADER, false)?;
    // 6282: end of file before Le bytes; fine if the header is in.
    if !matches!(head.sw, 0x9000 | 0x6282) {
        return Err(CardError::Status { step: "READ BINARY", sw: head.sw });
    }
    let total = der::total_len(&head.data).map_err(|e| CardError::Communication(e.to_string()))?;
    let mut out = head.data;
    out.truncate(total);
    if try_extended && out.len() < total {
        let rest = read_binary(t, out.len(), total - out.len(), true)?;
        if rest.ok() && rest.data.len() == total - out.len() {
            out.extend_from_slice(&rest.data);
            return Ok(out);
        }
        // 6700 and friends: the card wants short APDUs; fall through.
        tracing::debug!(sw = format_args!("{:04X}", rest.sw), "extended READ BINARY refused");
    }
    while out.len() < total {
        let want = (total - out.len()).min(256);
        let r = read_binary(t, out.len(), want, false)?;
        if !matches!(r.sw, 0x9000 | 0x6282) || r.data.is_empty() {
            return Err(CardError::Status { step: "READ BINARY", sw: r.sw });
        }
        out.extend_from_slice(&r.data);
    }
    out.truncate(total);
    Ok(out)
}

/// PIN tries left: VERIFY with no data asks without spending a try.
pub fn pin_status(t: &mut dyn Transport, p2: u8) -> Result<PinStatus, CardError> {
    let r = exchange(t, &Command::new([0x00, 0x20, 0x00, p2], &[], None), false)?;
    match r.sw {
        0x9000 => Ok(PinStatus::Verified),
        0x63c0 | 0x6983 | 0x6984 => Ok(PinStatus::Locked),
        sw if sw & 0xfff0 == 0x63c0 => Ok(PinStatus::TriesLeft((sw & 0x0f) as u8)),
        0x6a88 | 0x6a82 => Err(CardError::Unsupported),
        sw => Err(CardError::Status { step: "VERIFY (tries)", sw }),
    }
}

/// VERIFY once. A wrong PIN is reported with the tries left and never retried here.
pub fn verify(t: &mut dyn Transport, p2: u8, pin: &Pin, card: CardType) -> Result<(), CardError> {
    let mut cmd = Command::new([0x00, 0x20, 0x00, p2], pin.as_bytes(), None);
    let r = exchange(t, &cmd, false);
    cmd.data.zeroize();
    verify_outcome(r?.sw, card)
}

/// Status word of a VERIFY carrying a PIN, as a typed outcome.
pub fn verify_outcome(sw: u16, card: CardType) -> Result<(), CardError> {
    match sw {
        0x9000 => Ok(()),
        0x63c0 | 0x6983 | 0x6984 => Err(CardError::PinLocked(card)),
        sw if sw & 0xfff0 == 0x63c0 => {
            Err(CardError::PinWrong { tries_left: Some((sw & 0x0f) as u8) })
        }
        sw => Err(CardError::Status { step: "VERIFY", sw }),
    }
}

/// Status word of a signing command.
pub fn sign_outcome(sw: u16) -> Result<(), CardError> {
    match sw {
        0x9000 => Ok(()),
        // Security status not satisfied: the PIN state was lost (card reset by another program).
        0x6982 => Err(CardError::Removed),
        sw => Err(CardError::Status { step: "sign", sw }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_status_words_map_to_typed_errors() {
        use CardType::*;
        assert_eq!(verify_outcome(0x9000, Jpki), Ok(()));
        assert_eq!(verify_outcome(0x63c2, Jpki), Err(CardError::PinWrong { tries_left: Some(2) }));
        assert_eq!(verify_outcome(0x63ce, Hpki), Err(CardError::PinWrong { tries_left: Some(14) }));
        assert_eq!(verify_outcome(0x63c0, Jpki), Err(CardError::PinLocked(Jpki)));
        assert_eq!(verify_outcome(0x6984, Hpki), Err(CardError::PinLocked(Hpki)));
        assert_eq!(verify_outcome(0x6983, Hpki), Err(CardError::PinLocked(Hpki)));
        assert_eq!(
            verify_outcome(0x6700, Hpki),
            Err(CardError::Status { step: "VERIFY", sw: 0x6700 })
        );
        assert_eq!(sign_outcome(0x6982), Err(CardError::Removed));
        assert_eq!(
            CardError::PinLocked(Jpki).code(),
            mahpki_protocol::error::ErrorCode::JpkiPinLocked
        );
        assert_eq!(
            CardError::PinLocked(Hpki).code(),
            mahpki_protocol::error::ErrorCode::HpkiPinLocked
        );
    }
}
