//! The one interface every virtual card offers, and the ISO 7816-4 status words they answer with.

/// A smart card as a reader sees it: an ATR, a power line, and APDUs in, data+SW out.
///
/// This is the whole surface the helper (or a test) needs to drive a card byte-for-byte:
/// `power_on` once (or after every simulated reset), then `transmit` raw command APDUs exactly as
/// they would go over PC/SC; every answer is the response data followed by SW1 SW2.
pub trait Card: Send {
    /// The answer-to-reset bytes a reader reports for this card.
    fn atr(&self) -> &[u8];
    /// Cold or warm reset: forgets the selected application/file and every verified PIN. PIN
    /// retry counters survive, as on a physical card.
    fn power_on(&mut self);
    /// Processes one command APDU and returns response data followed by SW1 SW2.
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8>;
}

/// Status words (SW1 SW2) used by the cards.
pub mod sw {
    pub const OK: u16 = 0x9000;
    pub const WRONG_LENGTH: u16 = 0x6700;
    pub const LAST_COMMAND_OF_CHAIN_EXPECTED: u16 = 0x6883;
    pub const CHAINING_NOT_SUPPORTED: u16 = 0x6884;
    pub const SECURITY_STATUS_NOT_SATISFIED: u16 = 0x6982;
    pub const AUTH_METHOD_BLOCKED: u16 = 0x6983;
    pub const REFERENCE_DATA_NOT_USABLE: u16 = 0x6984;
    pub const CONDITIONS_NOT_SATISFIED: u16 = 0x6985;
    pub const COMMAND_NOT_ALLOWED_NO_EF: u16 = 0x6986;
    pub const WRONG_DATA: u16 = 0x6A80;
    pub const FILE_NOT_FOUND: u16 = 0x6A82;
    pub const WRONG_P1P2: u16 = 0x6A86;
    pub const REFERENCED_DATA_NOT_FOUND: u16 = 0x6A88;
    pub const WRONG_OFFSET: u16 = 0x6B00;
    pub const INS_NOT_SUPPORTED: u16 = 0x6D00;
    pub const CLA_NOT_SUPPORTED: u16 = 0x6E00;

    /// `63 Cx`: verification failed (or tries-left query), x tries left.
    pub fn tries_left(n: u8) -> u16 {
        0x63C0 | u16::from(n.min(15))
    }
}

/// Response with data: `data || SW1 SW2`.
pub(crate) fn respond(mut data: Vec<u8>, sw: u16) -> Vec<u8> {
    data.extend(sw.to_be_bytes());
    data
}

/// Response that is only a status word.
pub(crate) fn status(sw: u16) -> Vec<u8> {
    sw.to_be_bytes().to_vec()
}

/// READ BINARY semantics shared by both cards: at most `le` bytes from `offset`; a read that
/// starts at or past the end is `6B 00`; a read that runs past the end returns what there is.
pub(crate) fn read_slice(file: &[u8], offset: usize, le: Option<usize>) -> Vec<u8> {
    let Some(le) = le else {
        return status(sw::WRONG_LENGTH);
    };
    if offset >= file.len() {
        return status(sw::WRONG_OFFSET);
    }
    let end = file.len().min(offset + le);
    respond(file[offset..end].to_vec(), sw::OK)
}

/// A boxed card is a card, so `Box<dyn Card>` can be wrapped and shared like a concrete one.
impl<C: Card + ?Sized> Card for Box<C> {
    fn atr(&self) -> &[u8] {
        (**self).atr()
    }
    fn power_on(&mut self) {
        (**self).power_on()
    }
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        (**self).transmit(apdu)
    }
}
