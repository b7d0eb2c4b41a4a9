//! ISO/IEC 7816-4 command APDUs: the four cases, short and extended length.

/// A parsed command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Vec<u8>,
    /// Expected response length; `Some(0)` never occurs: an Le byte of `00` means 256 (short) or
    /// 65536 (extended).
    pub le: Option<usize>,
    pub extended: bool,
}

/// Why bytes are not a command APDU. A card answers these with `67 00` (wrong length).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("APDU shorter than its 4-byte header")]
    TooShort,
    #[error("APDU length fields do not match its size")]
    WrongLength,
}

impl Command {
    pub fn parse(b: &[u8]) -> Result<Self, ParseError> {
        let [cla, ins, p1, p2, body @ ..] = b else {
            return Err(ParseError::TooShort);
        };
        let head = |data: &[u8], le, extended| Self {
            cla: *cla,
            ins: *ins,
            p1: *p1,
            p2: *p2,
            data: data.to_vec(),
            le,
            extended,
        };
        let short_le = |x: u8| Some(if x == 0 { 256 } else { usize::from(x) });
        let ext_le = |hi: u8, lo: u8| {
            let n = usize::from(u16::from_be_bytes([hi, lo]));
            Some(if n == 0 { 65536 } else { n })
        };
        match body {
            // Case 1.
            [] => Ok(head(&[], None, false)),
            // Case 2 short.
            [le] => Ok(head(&[], short_le(*le), false)),
            // Case 2 extended: 00 Le1 Le2.
            [0, hi, lo] => Ok(head(&[], ext_le(*hi, *lo), true)),
            // Extended cases 3 and 4: 00 Lc1 Lc2 data [Le1 Le2].
            [0, hi, lo, rest @ ..] if !rest.is_empty() => {
                let lc = usize::from(u16::from_be_bytes([*hi, *lo]));
                if lc == 0 {
                    return Err(ParseError::WrongLength);
                }
                match rest.len().checked_sub(lc) {
                    Some(0) => Ok(head(rest, None, true)),
                    Some(2) => Ok(head(&rest[..lc], ext_le(rest[lc], rest[lc + 1]), true)),
                    _ => Err(ParseError::WrongLength),
                }
            }
            // Short cases 3 and 4: Lc data [Le].
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                match rest.len().checked_sub(lc) {
                    Some(0) => Ok(head(rest, None, false)),
                    Some(1) => Ok(head(&rest[..lc], short_le(rest[lc]), false)),
                    _ => Err(ParseError::WrongLength),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_short_cases() {
        let c = Command::parse(&[0x00, 0xA4, 0x04, 0x0C]).unwrap();
        assert_eq!((c.ins, c.data.len(), c.le), (0xA4, 0, None));
        let c = Command::parse(&[0x00, 0xB0, 0x00, 0x00, 0x00]).unwrap();
        assert_eq!(c.le, Some(256));
        let c = Command::parse(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]).unwrap();
        assert_eq!((c.data, c.le), (vec![0x00, 0x0A], None));
        let c = Command::parse(&[0x80, 0x2A, 0x00, 0x80, 0x01, 0xAA, 0x00]).unwrap();
        assert_eq!((c.cla, c.data, c.le, c.extended), (0x80, vec![0xAA], Some(256), false));
    }

    #[test]
    fn parses_extended_cases() {
        let c = Command::parse(&[0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00]).unwrap();
        assert_eq!((c.le, c.extended), (Some(65536), true));
        let mut apdu = vec![0x00, 0x2A, 0x9E, 0x9A, 0x00, 0x01, 0x00];
        apdu.extend([0x5A; 256]);
        apdu.extend([0x00, 0x00]);
        let c = Command::parse(&apdu).unwrap();
        assert_eq!((c.data.len(), c.le, c.extended), (256, Some(65536), true));
    }

    #[test]
    fn rejects_inconsistent_lengths() {
        assert_eq!(Command::parse(&[0x00, 0xA4, 0x04]), Err(ParseError::TooShort));
        assert_eq!(
            Command::parse(&[0x00, 0x20, 0x00, 0x80, 0x04, 0x31, 0x32]),
            Err(ParseError::WrongLength)
        );
        assert_eq!(
            Command::parse(&[0x00, 0x20, 0x00, 0x80, 0x01, 0x31, 0x32, 0x33]),
            Err(ParseError::WrongLength)
        );
        assert_eq!(
            Command::parse(&[0x00, 0x2A, 0x9E, 0x9A, 0x00, 0x00, 0x00, 0x01]),
            Err(ParseError::WrongLength)
        );
    }
}
