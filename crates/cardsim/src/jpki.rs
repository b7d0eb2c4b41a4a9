//! The JPKI application of a My Number card (個人番号カード), as OpenSC's `jpki` driver and the
//! helper use it: one AP, certificate EFs, PIN EFs selected before VERIFY, key EFs selected before
//! the proprietary `80 2A 00 80` signature command (the card pads PKCS#1 v1.5 itself).

use rsa::PrivateKey;
use tracing::debug;

use crate::card::{Card, read_slice, respond, status, sw};
use crate::pin::{Pin, Verify};
use crate::rsakey;
use mahpki_protocol::apdu::Command;

/// The JPKI AP's DF name.
pub const JPKI_AID: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
/// The ATR real My Number cards give (and the one OpenSC's jpki driver matches).
pub const JPKI_ATR: [u8; 9] = [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];

/// EF identifiers inside the JPKI AP.
pub mod ef {
    pub const TOKEN: u16 = 0x0006;
    pub const SIGN_CERT: u16 = 0x0001;
    pub const SIGN_CA_CERT: u16 = 0x0002;
    pub const AUTH_CERT: u16 = 0x000A;
    pub const AUTH_CA_CERT: u16 = 0x000B;
    pub const AUTH_KEY: u16 = 0x0017;
    pub const AUTH_PIN: u16 = 0x0018;
    pub const SIGN_KEY: u16 = 0x001A;
    pub const SIGN_PIN: u16 = 0x001B;
}

/// The token EF's content on real cards: "JPKIAPICCTOKEN2" padded with spaces to 32 bytes.
pub const TOKEN: &[u8; 32] = b"JPKIAPICCTOKEN2                 ";

pub const AUTH_PIN_TRIES: u8 = 3;
pub const SIGN_PIN_TRIES: u8 = 5;

/// What goes on a JPKI card.
pub struct JpkiContents {
    pub auth_cert: Vec<u8>,
    pub auth_ca_cert: Vec<u8>,
    pub auth_key: PrivateKey,
    /// 4 digits.
    pub auth_pin: String,
    pub sign_cert: Vec<u8>,
    pub sign_ca_cert: Vec<u8>,
    pub sign_key: PrivateKey,
    /// 6–16 alphanumerics.
    pub sign_pin: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Auth,
    Sign,
}

/// A virtual My Number card.
pub struct JpkiCard {
    c: JpkiContents,
    auth_pin: Pin,
    sign_pin: Pin,
    ap_selected: bool,
    current_ef: Option<u16>,
    auth_verified: bool,
    sign_verified: bool,
}

impl JpkiCard {
    pub fn new(c: JpkiContents) -> Self {
        let auth_pin = Pin::new(&c.auth_pin, AUTH_PIN_TRIES, sw::AUTH_METHOD_BLOCKED);
        let sign_pin = Pin::new(&c.sign_pin, SIGN_PIN_TRIES, sw::AUTH_METHOD_BLOCKED);
        Self {
            c,
            auth_pin,
            sign_pin,
            ap_selected: false,
            current_ef: None,
            auth_verified: false,
            sign_verified: false,
        }
    }

    /// Tries left on the auth PIN (for tests and the control interface; a host asks with VERIFY).
    pub fn auth_tries_left(&self) -> u8 {
        self.auth_pin.tries_left()
    }

    pub fn sign_tries_left(&self) -> u8 {
        self.sign_pin.tries_left()
    }

    fn reset_security(&mut self) {
        self.current_ef = None;
        self.auth_verified = false;
        self.sign_verified = false;
    }

    fn select(&mut self, c: &Command) -> Vec<u8> {
        // P2 0C: no FCI returned (how OpenSC and the helper select); 00 is accepted too, and
        // since this card has no FCI to give it also answers with SW only.
        if c.p2 != 0x0C && c.p2 != 0x00 {
            return status(sw::WRONG_P1P2);
        }
        match c.p1 {
            0x04 => {
                if c.data == JPKI_AID {
                    self.ap_selected = true;
                    self.reset_security();
                    status(sw::OK)
                } else {
                    // Other APs (券面AP etc.) exist on the real card but not here. A failed
                    // SELECT leaves the current selection as it was (ISO 7816-4).
                    status(sw::FILE_NOT_FOUND)
                }
            }
            0x02 => {
                let [hi, lo] = c.data.as_slice() else {
                    return status(sw::WRONG_LENGTH);
                };
                let fid = u16::from_be_bytes([*hi, *lo]);
                if !self.ap_selected || !self.ef_exists(fid) {
                    return status(sw::FILE_NOT_FOUND);
                }
                self.current_ef = Some(fid);
                status(sw::OK)
            }
            _ => status(sw::WRONG_P1P2),
        }
    }

    fn ef_exists(&self, fid: u16) -> bool {
        matches!(
            fid,
            ef::TOKEN
                | ef::SIGN_CERT
                | ef::SIGN_CA_CERT
                | ef::AUTH_CERT
                | ef::AUTH_CA_CERT
                | ef::AUTH_KEY
                | ef::AUTH_PIN
                | ef::SIGN_KEY
                | ef::SIGN_PIN
        )
    }

    fn read_binary(&self, c: &Command) -> Vec<u8> {
        if c.p1 & 0x80 != 0 {
            // Short EF identifiers are not used on this card.
            return status(sw::WRONG_P1P2);
        }
        let Some(fid) = self.current_ef else {
            return status(sw::COMMAND_NOT_ALLOWED_NO_EF);
        };
        let file: &[u8] = match fid {
            ef::TOKEN => TOKEN,
            ef::AUTH_CERT => &self.c.auth_cert,
            ef::AUTH_CA_CERT => &self.c.auth_ca_cert,
            ef::SIGN_CA_CERT => &self.c.sign_ca_cert,
            ef::SIGN_CERT if self.sign_verified => &self.c.sign_cert,
            // The signing certificate carries the holder's 4 facts: PIN-protected.
            ef::SIGN_CERT => return status(sw::SECURITY_STATUS_NOT_SATISFIED),
            // PIN and key EFs are internal EFs, never readable.
            _ => return status(sw::COMMAND_NOT_ALLOWED_NO_EF),
        };
        let offset = usize::from(u16::from_be_bytes([c.p1, c.p2]));
        read_slice(file, offset, c.le)
    }

    fn verify(&mut self, c: &Command) -> Vec<u8> {
        if c.p1 != 0x00 || c.p2 != 0x80 {
            return status(sw::WRONG_P1P2);
        }
        let which = match self.current_ef {
            Some(ef::AUTH_PIN) => Which::Auth,
            Some(ef::SIGN_PIN) => Which::Sign,
            _ => return status(sw::REFERENCED_DATA_NOT_FOUND),
        };
        let (pin, verified) = match which {
            Which::Auth => (&mut self.auth_pin, &mut self.auth_verified),
            Which::Sign => (&mut self.sign_pin, &mut self.sign_verified),
        };
        match pin.verify(&c.data) {
            Verify::Ok => {
                *verified = true;
                status(sw::OK)
            }
            Verify::Sw(s) => {
                // A failed attempt also drops an earlier successful verification.
                if !c.data.is_empty() {
                    *verified = false;
                }
                debug!(?which, sw = format_args!("{s:04X}"), "JPKI VERIFY failed");
                status(s)
            }
        }
    }

    fn sign(&mut self, c: &Command) -> Vec<u8> {
        if c.p1 != 0x00 || c.p2 != 0x80 {
            return status(sw::WRONG_P1P2);
        }
        let (key, ok) = match self.current_ef {
            Some(ef::AUTH_KEY) => (&self.c.auth_key, self.auth_verified),
            Some(ef::SIGN_KEY) => (&self.c.sign_key, self.sign_verified),
            _ => return status(sw::CONDITIONS_NOT_SATISFIED),
        };
        if !ok {
            return status(sw::SECURITY_STATUS_NOT_SATISFIED);
        }
        if c.data.is_empty() {
            return status(sw::WRONG_LENGTH);
        }
        match rsakey::sign_pkcs1(key, &c.data) {
            Some(sig) => respond(sig, sw::OK),
            // Too long to fit PKCS#1 v1.5 padding in the modulus.
            None => status(sw::WRONG_DATA),
        }
    }
}

impl Card for JpkiCard {
    fn atr(&self) -> &[u8] {
        &JPKI_ATR
    }

    fn power_on(&mut self) {
        self.ap_selected = false;
        self.reset_security();
    }

    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        let c = match Command::parse(apdu) {
            Ok(p) => p.command,
            Err(_) => return status(sw::WRONG_LENGTH),
        };
        match (c.cla, c.ins) {
            (0x00, 0xA4) => self.select(&c),
            (0x00, 0xB0) => self.read_binary(&c),
            (0x00, 0x20) => self.verify(&c),
            (0x80, 0x2A) => self.sign(&c),
            (0x00 | 0x80, 0xA4 | 0xB0 | 0x20 | 0x2A) => status(sw::CLA_NOT_SUPPORTED),
            (0x00 | 0x80, _) => status(sw::INS_NOT_SUPPORTED),
            _ => status(sw::CLA_NOT_SUPPORTED),
        }
    }
}
