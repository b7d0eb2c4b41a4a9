//! vpcd wire format: every message is a 2-byte big-endian length and a payload. A 1-byte payload
//! from vpcd is a control code; anything longer is a command APDU.

use std::io::{self, Read, Write};

/// What vpcd asks of the virtual card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    PowerOff,
    PowerOn,
    Reset,
    GetAtr,
    Apdu(Vec<u8>),
}

/// Reads one message. `Ok(None)` means vpcd closed the connection.
pub fn read_request(r: &mut impl Read) -> io::Result<Option<Request>> {
    let mut len = [0u8; 2];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    r.read_exact(&mut payload)?;
    Ok(Some(match payload.as_slice() {
        [0x00] => Request::PowerOff,
        [0x01] => Request::PowerOn,
        [0x02] => Request::Reset,
        [0x04] => Request::GetAtr,
        [code] => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unknown vpcd control {code:#04x}"),
            ));
        }
        _ => Request::Apdu(payload),
    }))
}

/// Writes one message (an ATR or a response APDU).
pub fn write_message(w: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len()).map_err(|_| {
        io::Error::new(io::ErrorKind::InvalidInput, "vpcd message over 65535 bytes")
    })?;
    // One write: a separate 2-byte write would meet Nagle and delayed ACK on the other side.
    let mut frame = Vec::with_capacity(2 + payload.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    w.write_all(&frame)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_frames() {
        let mut wire = Vec::new();
        write_message(&mut wire, &[0x01]).unwrap();
        write_message(&mut wire, &[0x00, 0xA4, 0x04, 0x0C]).unwrap();
        assert_eq!(&wire[..3], &[0x00, 0x01, 0x01]);
        let mut r = wire.as_slice();
        assert_eq!(read_request(&mut r).unwrap(), Some(Request::PowerOn));
        assert_eq!(
            read_request(&mut r).unwrap(),
            Some(Request::Apdu(vec![0x00, 0xA4, 0x04, 0x0C]))
        );
        assert_eq!(read_request(&mut r).unwrap(), None);
    }

    #[test]
    fn rejects_unknown_control_and_truncated_frames() {
        assert!(read_request(&mut [0x00, 0x01, 0x07].as_slice()).is_err());
        assert!(read_request(&mut [0x00, 0x05, 0x00].as_slice()).is_err());
    }
}
