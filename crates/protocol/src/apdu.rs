//! ISO/IEC 7816-4 command APDUs, the wire format to the cards: encoded by the helper (short or
//! extended, or chained for cards that take no extended APDUs) and parsed by the virtual cards.

/// Largest data field of a short APDU.
pub const SHORT_MAX_DATA: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Vec<u8>,
    /// Expected response length: `None` = no response data; 256 (short) or 65536 (extended)
    /// mean "as much as there is" and encode as zero.
    pub le: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{0} bytes of data do not fit this APDU form")]
    DataTooLong(usize),
    #[error("Le {0} does not fit this APDU form")]
    BadLe(usize),
}

/// A command as a card received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub command: Command,
    /// Whether it came in the extended-length form (cards without extended-length support
    /// must refuse it).
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
    pub fn new(header: [u8; 4], data: &[u8], le: Option<usize>) -> Self {
        let [cla, ins, p1, p2] = header;
        Self { cla, ins, p1, p2, data: data.to_vec(), le }
    }

    /// A complete short APDU given as bytes (profiles keep e.g. the MSE command verbatim).
    pub fn from_short_bytes(bytes: &[u8]) -> Option<Self> {
        Self::parse(bytes).ok().filter(|p| !p.extended).map(|p| p.command)
    }

    /// Parses a command APDU exactly as a card would, in any of the four cases, short or
    /// extended; `extended` tells which form it came in.
    pub fn parse(b: &[u8]) -> Result<Parsed, ParseError> {
        let [cla, ins, p1, p2, body @ ..] = b else {
            return Err(ParseError::TooShort);
        };
        let head = |data: &[u8], le, extended| Parsed {
            command: Self { cla: *cla, ins: *ins, p1: *p1, p2: *p2, data: data.to_vec(), le },
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

    pub fn encode(&self, extended: bool) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![self.cla, self.ins, self.p1, self.p2];
        let n = self.data.len();
        if !extended {
            if n > SHORT_MAX_DATA {
                return Err(EncodeError::DataTooLong(n));
            }
            if n > 0 {
                out.push(n as u8);
                out.extend_from_slice(&self.data);
            }
            if let Some(le) = self.le {
                if !(1..=256).contains(&le) {
                    return Err(EncodeError::BadLe(le));
                }
                out.push(le as u8); // 256 wraps to 00
            }
            return Ok(out);
        }
        if n > 65535 {
            return Err(EncodeError::DataTooLong(n));
        }
        if n > 0 {
            out.push(0x00);
            out.extend_from_slice(&(n as u16).to_be_bytes());
            out.extend_from_slice(&self.data);
        }
        if let Some(le) = self.le {
            if !(1..=65536).contains(&le) {
                return Err(EncodeError::BadLe(le));
            }
            if n == 0 {
                out.push(0x00); // extended marker only precedes the first length field
            }
            out.extend_from_slice(&(le as u16).to_be_bytes()); // 65536 wraps to 00 00
        }
        Ok(out)
    }

    /// Splits into short APDUs with command chaining (CLA bit 0x10 on all but the last); only the
    /// last carries Le.
    pub fn chained(&self) -> Vec<Command> {
        if self.data.len() <= SHORT_MAX_DATA {
            return vec![self.clone()];
        }
        let chunks: Vec<&[u8]> = self.data.chunks(SHORT_MAX_DATA).collect();
        let last = chunks.len() - 1;
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, chunk)| Command {
                cla: if i == last { self.cla } else { self.cla | 0x10 },
                data: chunk.to_vec(),
                le: if i == last { self.le } else { None },
                ..*self
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms() {
        let select = Command::new([0x00, 0xa4, 0x02, 0x0c], &[0x00, 0x0a], None);
        assert_eq!(select.encode(false).unwrap(), [0x00, 0xa4, 0x02, 0x0c, 0x02, 0x00, 0x0a]);
        let read = Command::new([0x00, 0xb0, 0x01, 0x00], &[], Some(256));
        assert_eq!(read.encode(false).unwrap(), [0x00, 0xb0, 0x01, 0x00, 0x00]);
        let sign = Command::new([0x80, 0x2a, 0x00, 0x80], &[1, 2, 3], Some(256));
        assert_eq!(sign.encode(false).unwrap(), [0x80, 0x2a, 0x00, 0x80, 3, 1, 2, 3, 0x00]);
        let verify_empty = Command::new([0x00, 0x20, 0x00, 0x80], &[], None);
        assert_eq!(verify_empty.encode(false).unwrap(), [0x00, 0x20, 0x00, 0x80]);
        assert_eq!(
            Command::new([0; 4], &[0; 256], None).encode(false),
            Err(EncodeError::DataTooLong(256))
        );
        assert_eq!(
            Command::new([0; 4], &[], Some(257)).encode(false),
            Err(EncodeError::BadLe(257))
        );
    }

    #[test]
    fn extended_forms() {
        let read = Command::new([0x00, 0xb0, 0x00, 0x04], &[], Some(0x5a1));
        assert_eq!(read.encode(true).unwrap(), [0x00, 0xb0, 0x00, 0x04, 0x00, 0x05, 0xa1]);
        let pso = Command::new([0x00, 0x2a, 0x9e, 0x9a], &[0xaa; 256], Some(65536));
        let bytes = pso.encode(true).unwrap();
        assert_eq!(&bytes[..7], &[0x00, 0x2a, 0x9e, 0x9a, 0x00, 0x01, 0x00]);
        assert_eq!(bytes.len(), 7 + 256 + 2);
        assert_eq!(&bytes[263..], &[0x00, 0x00]);
    }

    #[test]
    fn chaining_splits_256_bytes_into_255_plus_1() {
        let data: Vec<u8> = (0..=255).collect();
        let pso = Command::new([0x00, 0x2a, 0x9e, 0x9a], &data, Some(256));
        let parts = pso.chained();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].cla, 0x10);
        assert_eq!(parts[0].data.len(), 255);
        assert_eq!(parts[0].le, None);
        assert_eq!(parts[1].cla, 0x00);
        assert_eq!(parts[1].data, [255]);
        assert_eq!(parts[1].le, Some(256));
        let rejoined: Vec<u8> = parts.iter().flat_map(|c| c.data.clone()).collect();
        assert_eq!(rejoined, data);
        for p in &parts {
            p.encode(false).unwrap();
        }
        assert_eq!(Command::new([0; 4], &[1; 10], None).chained().len(), 1);
        assert_eq!(Command::new([0; 4], &[1; 511], None).chained().len(), 3);
    }

    #[test]
    fn parses_verbatim_profile_commands() {
        let mse =
            Command::from_short_bytes(&[0x00, 0x22, 0x41, 0xb6, 0x04, 0x84, 0x02, 0x00, 0x0c])
                .unwrap();
        assert_eq!((mse.ins, mse.p1, mse.p2), (0x22, 0x41, 0xb6));
        assert_eq!(mse.data, [0x84, 0x02, 0x00, 0x0c]);
        assert_eq!(mse.le, None);
        assert_eq!(
            mse.encode(false).unwrap(),
            [0x00, 0x22, 0x41, 0xb6, 0x04, 0x84, 0x02, 0x00, 0x0c]
        );
        assert!(Command::from_short_bytes(&[0x00, 0x22, 0x41, 0xb6, 0x05, 0x84]).is_none());
    }

    #[test]
    fn parses_all_short_cases() {
        let c = parse_ok(&[0x00, 0xA4, 0x04, 0x0C]);
        assert_eq!((c.ins, c.data.len(), c.le), (0xA4, 0, None));
        let c = parse_ok(&[0x00, 0xB0, 0x00, 0x00, 0x00]);
        assert_eq!(c.le, Some(256));
        let c = parse_ok(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]);
        assert_eq!((c.data, c.le), (vec![0x00, 0x0A], None));
        let c = parse_ok(&[0x80, 0x2A, 0x00, 0x80, 0x01, 0xAA, 0x00]);
        assert_eq!((c.cla, c.data, c.le, c.extended), (0x80, vec![0xAA], Some(256), false));
    }

    #[test]
    fn parses_extended_cases() {
        let c = parse_ok(&[0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00]);
        assert_eq!((c.le, c.extended), (Some(65536), true));
        let mut apdu = vec![0x00, 0x2A, 0x9E, 0x9A, 0x00, 0x01, 0x00];
        apdu.extend([0x5A; 256]);
        apdu.extend([0x00, 0x00]);
        let c = parse_ok(&apdu);
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

    fn parse_ok(b: &[u8]) -> Flat {
        let p = Command::parse(b).unwrap();
        let c = p.command;
        Flat {
            cla: c.cla,
            ins: c.ins,
            p1: c.p1,
            p2: c.p2,
            data: c.data,
            le: c.le,
            extended: p.extended,
        }
    }

    /// The parsed command and its form side by side, as the assertions read them.
    struct Flat {
        cla: u8,
        ins: u8,
        #[allow(dead_code)]
        p1: u8,
        #[allow(dead_code)]
        p2: u8,
        data: Vec<u8>,
        le: Option<usize>,
        extended: bool,
    }
}
