//! The one seam between card drivers and how bytes reach a card: PC/SC, or an in-process
//! virtual card. Drivers speak [`Command`]s; [`exchange`] adds the ISO 7816-3/4 housekeeping
//! (`61xx` GET RESPONSE, `6Cxx` resend) that T=0 readers and virtual cards may leave to the host.

use zeroize::{Zeroize as _, Zeroizing};

use mahpki_protocol::apdu::{Command, EncodeError};

use crate::error::CardError;

/// Anything that sends a raw command APDU and returns the raw response (data ‖ SW1 SW2).
pub trait Transport {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("the card was removed")]
    Removed,
    #[error("the card was reset by another program")]
    Reset,
    #[error("the card answered with fewer than two bytes")]
    ShortResponse,
    #[error("cannot encode command: {0}")]
    Encode(#[from] EncodeError),
    #[error("reader I/O failed: {0}")]
    Io(String),
}

// Here rather than beside `CardError`, so the error type needs nothing from the card layer.
impl From<TransportError> for CardError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Removed | TransportError::Reset => Self::Removed,
            other => Self::Communication(other.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub sw: u16,
}

impl Response {
    pub fn ok(&self) -> bool {
        self.sw == 0x9000
    }
}

fn split(mut raw: Vec<u8>) -> Result<Response, TransportError> {
    if raw.len() < 2 {
        return Err(TransportError::ShortResponse);
    }
    let sw = u16::from_be_bytes([raw[raw.len() - 2], raw[raw.len() - 1]]);
    raw.truncate(raw.len() - 2);
    Ok(Response { data: raw, sw })
}

/// Sends one command and collects its whole answer.
pub fn exchange(
    t: &mut dyn Transport,
    cmd: &Command,
    extended: bool,
) -> Result<Response, TransportError> {
    // The encoded bytes may hold a PIN: wipe them whatever the card answered.
    let mut raw = Zeroizing::new(cmd.encode(extended)?);
    let sent = t.transmit(&raw);
    raw.zeroize();
    let mut resp = split(sent?)?;
    if resp.sw >> 8 == 0x6c && cmd.le.is_some() {
        // Wrong Le: the card tells the right one; resend once with it.
        let le = match resp.sw & 0xff {
            0 => 256,
            n => n as usize,
        };
        let retry = Command { le: Some(le), ..cmd.clone() };
        resp = split(t.transmit(&retry.encode(extended)?)?)?;
    }
    let mut data = std::mem::take(&mut resp.data);
    // More data waiting: fetch it with GET RESPONSE until the card says it is done. Bounded so
    // a misbehaving card cannot keep us looping.
    for _ in 0..256 {
        if resp.sw >> 8 != 0x61 {
            break;
        }
        let le = match resp.sw & 0xff {
            0 => 256,
            n => n as usize,
        };
        // GET RESPONSE is an interindustry command: CLA 00 whatever class the command had.
        let get = Command::new([0x00, 0xc0, 0x00, 0x00], &[], Some(le));
        resp = split(t.transmit(&get.encode(false)?)?)?;
        data.append(&mut resp.data);
    }
    Ok(Response { data, sw: resp.sw })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A T=0-style card: answers every command's data through GET RESPONSE (`61xx`), in pieces
    /// of at most `Le`, and insists on an exact Le (`6Cxx`) when asked for more than it has.
    struct T0Card {
        answer: Vec<u8>,
        pending: Vec<u8>,
        sent: Vec<Vec<u8>>,
    }

    impl Transport for T0Card {
        fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.sent.push(apdu.to_vec());
            let le = |b: u8| if b == 0 { 256 } else { b as usize };
            if apdu[1] == 0xc0 {
                let n = le(apdu[4]).min(self.pending.len());
                let mut out: Vec<u8> = self.pending.drain(..n).collect();
                let rest = self.pending.len();
                out.extend(if rest == 0 { [0x90, 0x00] } else { [0x61, rest.min(255) as u8] });
                return Ok(out);
            }
            if apdu.len() == 5 && le(apdu[4]) != self.answer.len() {
                return Ok(vec![0x6c, self.answer.len() as u8]);
            }
            self.pending = self.answer.clone();
            Ok(vec![0x61, self.answer.len().min(255) as u8])
        }
    }

    #[test]
    fn get_response_and_wrong_le_are_handled_for_the_driver() {
        let answer: Vec<u8> = (0..200).collect();
        let mut card = T0Card { answer: answer.clone(), pending: vec![], sent: vec![] };
        let read = Command::new([0x00, 0xb0, 0x00, 0x00], &[], Some(256));
        let r = exchange(&mut card, &read, false).unwrap();
        assert_eq!(r, Response { data: answer, sw: 0x9000 });
        // 6C C8 → resent with Le C8, then 61 C8 → GET RESPONSE with CLA 00.
        assert_eq!(card.sent[1], [0x00, 0xb0, 0x00, 0x00, 0xc8]);
        assert_eq!(card.sent[2], [0x00, 0xc0, 0x00, 0x00, 0xc8]);

        let sign = Command::new([0x80, 0x2a, 0x00, 0x80], &[1; 51], Some(256));
        let mut card = T0Card { answer: vec![7; 256], pending: vec![], sent: vec![] };
        let r = exchange(&mut card, &sign, false).unwrap();
        assert_eq!((r.data.len(), r.sw), (256, 0x9000));
        assert!(card.sent[1..].iter().all(|a| a[0] == 0x00 && a[1] == 0xc0));
    }

    #[test]
    fn response_split_takes_the_last_two_bytes_as_sw() {
        assert_eq!(
            split(vec![1, 2, 0x90, 0x00]).unwrap(),
            Response { data: vec![1, 2], sw: 0x9000 }
        );
        assert_eq!(split(vec![0x63, 0xc2]).unwrap(), Response { data: vec![], sw: 0x63c2 });
        assert_eq!(split(vec![0x90]), Err(TransportError::ShortResponse));
    }
}
