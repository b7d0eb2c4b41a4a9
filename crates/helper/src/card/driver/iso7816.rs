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

/// Where a READ BINARY reads: the current EF from an offset, or an EF named by its short
/// identifier (from offset 0), which the READ also makes current.
#[derive(Debug, Clone, Copy)]
enum ReadAt {
    Current(usize),
    Sfi(u8),
}

fn read_binary(
    t: &mut dyn Transport,
    at: ReadAt,
    le: usize,
    extended: bool,
) -> Result<crate::card::transport::Response, CardError> {
    let [p1, p2] = match at {
        // P1 = 100x xxxx: the short EF identifier; P2 the offset.
        ReadAt::Sfi(sfi) => [0x80 | (sfi & 0x1f), 0],
        // P1 bit 8 set would mean a short EF identifier: offsets stop at 32767.
        ReadAt::Current(offset) if offset > 0x7fff => {
            return Err(CardError::Communication(format!(
                "offset {offset} beyond READ BINARY's range"
            )));
        }
        ReadAt::Current(offset) => (offset as u16).to_be_bytes(),
    };
    Ok(exchange(t, &Command::new([0x00, 0xb0, p1, p2], &[], Some(le)), extended)?)
}

/// Status words with which a card refuses an APDU's length form (extended length, or this Le).
pub fn is_length_refusal(sw: u16) -> bool {
    matches!(sw, 0x6700 | 0x6d00 | 0x6e00) || sw >> 8 == 0x6c
}

/// The most one READ BINARY asks for: Le 0000 (extended) is up to 65 536 bytes, Le 00 is 256.
const fn max_le(extended: bool) -> usize {
    if extended { 65536 } else { 256 }
}

/// Reads a transparent EF holding one DER object, sized from its header: the EF named by its
/// short identifier `sfi` (no SELECT needed), or else the current EF. The first READ asks for
/// the whole file (Le 0), in one extended APDU where `try_extended` and the card takes it (a
/// certificate in one command), else a short one (256 bytes); further READs, as few as the
/// answers allow, go on from where the previous answer stopped.
pub fn read_der_file(
    t: &mut dyn Transport,
    sfi: Option<u8>,
    try_extended: bool,
) -> Result<Vec<u8>, CardError> {
    let first_at = sfi.map_or(ReadAt::Current(0), ReadAt::Sfi);
    let mut extended = try_extended;
    let mut first = read_binary(t, first_at, max_le(extended), extended)?;
    if extended && is_length_refusal(first.sw) {
        // The card wants short APDUs.
        tracing::debug!(sw = format_args!("{:04X}", first.sw), "extended READ BINARY refused");
        extended = false;
        first = read_binary(t, first_at, max_le(extended), extended)?;
    }
    match first.sw {
        // 6282: end of file before Le bytes, which Le 0 expects.
        0x9000 | 0x6282 => {}
        // No such file: not the card we took it for.
        0x6a82 => return Err(CardError::Unsupported),
        sw => return Err(CardError::Status { step: "READ BINARY", sw }),
    }
    let total = der::total_len(&first.data).map_err(|e| CardError::Communication(e.to_string()))?;
    let mut out = first.data;
    while out.len() < total {
        let want = (total - out.len()).min(max_le(extended));
        let r = read_binary(t, ReadAt::Current(out.len()), want, extended)?;
        if !matches!(r.sw, 0x9000 | 0x6282) || r.data.is_empty() {
            return Err(CardError::Status { step: "READ BINARY", sw: r.sw });
        }
        out.extend_from_slice(&r.data);
    }
    // The EF may be larger than the object it holds.
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
    use crate::card::transport::TransportError;

    /// One transparent EF (current, or SFI 1) on a card that answers at most `cap` bytes per
    /// READ BINARY with 9000, and refuses extended APDUs unless `extended`.
    struct FileCard {
        file: Vec<u8>,
        cap: usize,
        extended: bool,
        sent: Vec<Vec<u8>>,
    }

    impl Transport for FileCard {
        fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.sent.push(apdu.to_vec());
            let p = Command::parse(apdu).map_err(|e| TransportError::Io(e.to_string()))?;
            if p.extended && !self.extended {
                return Ok(vec![0x67, 0x00]);
            }
            let c = p.command;
            let offset = match c.p1 {
                0x81 => usize::from(c.p2),
                p1 if p1 & 0x80 == 0 => usize::from(u16::from_be_bytes([c.p1, c.p2])),
                _ => return Ok(vec![0x6a, 0x82]),
            };
            let end = self.file.len().min(offset + c.le.unwrap_or(0).min(self.cap));
            let mut out = self.file[offset.min(end)..end].to_vec();
            out.extend([0x90, 0x00]);
            Ok(out)
        }
    }

    fn reads(file: &[u8], cap: usize, extended: bool, sfi: Option<u8>) -> (Vec<u8>, Vec<Vec<u8>>) {
        let mut card = FileCard { file: file.to_vec(), cap, extended, sent: vec![] };
        let out = read_der_file(&mut card, sfi, true).unwrap();
        (out, card.sent)
    }

    #[test]
    fn a_der_file_is_read_in_as_few_reads_as_the_card_answers() {
        // A 1000-byte object (30 82 03 E4 …) in a 1200-byte EF: the padding is not returned.
        let mut file = vec![0x30, 0x82, 0x03, 0xe4];
        file.extend((0..996).map(|i| i as u8));
        file.resize(1200, 0xff);
        let object = &file[..1000];

        // Whole in one extended READ (Le 0000), by SFI.
        let (out, sent) = reads(&file, usize::MAX, true, Some(1));
        assert_eq!((out.as_slice(), sent), (object, vec![vec![0x00, 0xb0, 0x81, 0, 0, 0, 0]]));

        // An extended answer capped at 600 bytes: one more extended READ from offset 600.
        let (out, sent) = reads(&file, 600, true, None);
        assert_eq!(out, object);
        assert_eq!(
            sent,
            [vec![0x00, 0xb0, 0, 0, 0, 0, 0], vec![0x00, 0xb0, 0x02, 0x58, 0, 0x01, 0x90]]
        );

        // Extended refused (67 00): short READs of 256 bytes, the last for the 232 left.
        let (out, sent) = reads(&file, usize::MAX, false, None);
        assert_eq!(out, object);
        assert_eq!(
            sent,
            [
                vec![0x00, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00],
                vec![0x00, 0xb0, 0x00, 0x00, 0x00],
                vec![0x00, 0xb0, 0x01, 0x00, 0x00],
                vec![0x00, 0xb0, 0x02, 0x00, 0x00],
                vec![0x00, 0xb0, 0x03, 0x00, 232],
            ]
        );

        // No such SFI: not the card we took it for.
        let mut card = FileCard { file, cap: usize::MAX, extended: true, sent: vec![] };
        assert_eq!(read_der_file(&mut card, Some(2), true), Err(CardError::Unsupported));
    }

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
