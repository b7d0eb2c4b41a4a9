//! An HPKI card's authentication application, driven by an [`HpkiProfile`]: SELECT by AID,
//! READ BINARY by current EF or SFI, VERIFY, MSE SET DST, and PSO COMPUTE DIGITAL SIGNATURE over
//! a block the host already padded (raw RSA on the card), with extended length or chaining.

use rsa::PrivateKey;
use tracing::debug;

use crate::card::{Card, read_slice, respond, status, sw};
use crate::pin::{Pin, Verify};
use crate::profile::{EfRef, HpkiProfile};
use crate::rsakey;
use mahpki_protocol::apdu::Command;

/// What goes on an HPKI card.
pub struct HpkiContents {
    pub cert: Vec<u8>,
    /// CA certificates, in the order of the profile's `ca_cert_efs` (extra ones are ignored).
    pub ca_certs: Vec<Vec<u8>>,
    pub key: PrivateKey,
    pub pin: String,
}

/// A virtual HPKI card.
pub struct HpkiCard {
    profile: HpkiProfile,
    c: HpkiContents,
    pin: Pin,
    /// ISO 7816-15 information files derived from the profile.
    cia_files: Vec<(EfRef, Vec<u8>)>,
    ap_selected: bool,
    current_ef: Option<u16>,
    verified: bool,
    key_set: bool,
    /// Data of a command chain in progress: (INS, P1, P2, data so far).
    chain: Option<(u8, u8, u8, Vec<u8>)>,
}

impl HpkiCard {
    pub fn new(profile: &HpkiProfile, c: HpkiContents) -> Self {
        Self {
            pin: Pin::new(&c.pin, profile.layout.pin_tries, sw::REFERENCE_DATA_NOT_USABLE),
            cia_files: crate::cia::files(profile),
            profile: profile.clone(),
            c,
            ap_selected: false,
            current_ef: None,
            verified: false,
            key_set: false,
            chain: None,
        }
    }

    pub fn profile(&self) -> &HpkiProfile {
        &self.profile
    }

    pub fn pin_tries_left(&self) -> u8 {
        self.pin.tries_left()
    }

    fn reset_security(&mut self) {
        self.current_ef = None;
        self.verified = false;
        self.key_set = false;
        self.chain = None;
    }

    fn all_efs(&self) -> impl Iterator<Item = EfRef> + '_ {
        [self.profile.layout.cert_ef, self.profile.layout.pin_ef, self.profile.layout.key_ef]
            .into_iter()
            .chain(self.profile.ca_cert_efs.iter().copied())
            .chain(self.cia_files.iter().map(|(e, _)| *e))
    }

    /// The readable content of a transparent EF, or the SW explaining why not.
    fn file(&self, fid: u16) -> Result<&[u8], u16> {
        if fid == self.profile.layout.cert_ef.fid {
            return Ok(&self.c.cert);
        }
        if let Some(i) = self.profile.ca_cert_efs.iter().position(|e| e.fid == fid) {
            return self.c.ca_certs.get(i).map(Vec::as_slice).ok_or(sw::FILE_NOT_FOUND);
        }
        if let Some((_, data)) = self.cia_files.iter().find(|(e, _)| e.fid == fid) {
            return Ok(data);
        }
        if fid == self.profile.layout.pin_ef.fid || fid == self.profile.layout.key_ef.fid {
            // Internal EFs.
            return Err(sw::COMMAND_NOT_ALLOWED_NO_EF);
        }
        Err(sw::FILE_NOT_FOUND)
    }

    fn select(&mut self, c: &Command) -> Vec<u8> {
        match c.p1 {
            0x04 => {
                if c.data != self.profile.layout.auth_aid {
                    return status(sw::FILE_NOT_FOUND);
                }
                self.ap_selected = true;
                self.reset_security();
                match c.p2 {
                    // FCI: 6F L 84 L <DF name>, as guideline A.3.1 shows.
                    0x00 => {
                        let aid = self.profile.layout.auth_aid;
                        let mut fci = vec![0x6F, (aid.len() + 2) as u8, 0x84, aid.len() as u8];
                        fci.extend_from_slice(aid);
                        let le = c.le.unwrap_or(0);
                        if le == 0 {
                            status(sw::OK)
                        } else {
                            fci.truncate(le);
                            respond(fci, sw::OK)
                        }
                    }
                    0x0C => status(sw::OK),
                    _ => status(sw::WRONG_P1P2),
                }
            }
            0x02 => {
                if c.p2 != 0x0C && c.p2 != 0x00 {
                    return status(sw::WRONG_P1P2);
                }
                let [hi, lo] = c.data.as_slice() else {
                    return status(sw::WRONG_LENGTH);
                };
                let fid = u16::from_be_bytes([*hi, *lo]);
                if !self.ap_selected || !self.all_efs().any(|e| e.fid == fid) {
                    return status(sw::FILE_NOT_FOUND);
                }
                self.current_ef = Some(fid);
                status(sw::OK)
            }
            _ => status(sw::WRONG_P1P2),
        }
    }

    fn read_binary(&mut self, c: &Command) -> Vec<u8> {
        // An extended READ BINARY on a card without extended length was refused in transmit.
        let (fid, offset) = if c.p1 & 0x80 != 0 {
            // P1 = 100xxxxx: short EF identifier, P2 the offset; the EF becomes current.
            let sfi = c.p1 & 0x1F;
            if c.p1 & 0x60 != 0 {
                return status(sw::WRONG_P1P2);
            }
            let found = self.all_efs().find(|e| e.sfi == Some(sfi) && self.ap_selected);
            let Some(ef) = found else {
                return status(sw::FILE_NOT_FOUND);
            };
            self.current_ef = Some(ef.fid);
            (ef.fid, usize::from(c.p2))
        } else {
            let Some(fid) = self.current_ef else {
                return status(sw::COMMAND_NOT_ALLOWED_NO_EF);
            };
            (fid, usize::from(u16::from_be_bytes([c.p1, c.p2])))
        };
        match self.file(fid) {
            Ok(file) => read_slice(file, offset, c.le),
            Err(s) => status(s),
        }
    }

    fn verify(&mut self, c: &Command) -> Vec<u8> {
        if !self.ap_selected {
            return status(sw::CONDITIONS_NOT_SATISFIED);
        }
        if c.p1 != 0x00 {
            return status(sw::WRONG_P1P2);
        }
        if c.p2 != self.profile.layout.verify_p2 {
            return status(sw::REFERENCED_DATA_NOT_FOUND);
        }
        match self.pin.verify(&c.data) {
            Verify::Ok => {
                self.verified = true;
                status(sw::OK)
            }
            Verify::Sw(s) => {
                if !c.data.is_empty() {
                    self.verified = false;
                }
                debug!(sw = format_args!("{s:04X}"), "HPKI VERIFY failed");
                status(s)
            }
        }
    }

    fn mse(&mut self, apdu: &[u8], c: &Command) -> Vec<u8> {
        if (c.p1, c.p2) != (0x41, 0xB6) {
            return status(sw::WRONG_P1P2);
        }
        // Compare the data, not the whole APDU, so an MSE with a trailing Le still works.
        if c.data != self.profile.layout.mse_set[5..] {
            debug!(len = apdu.len(), "MSE SET names another key");
            return status(sw::REFERENCED_DATA_NOT_FOUND);
        }
        self.key_set = true;
        status(sw::OK)
    }

    fn pso_cds(&mut self, c: &Command) -> Vec<u8> {
        if (c.p1, c.p2) != (0x9E, 0x9A) {
            return status(sw::WRONG_P1P2);
        }
        if !self.key_set {
            return status(sw::CONDITIONS_NOT_SATISFIED);
        }
        if !self.verified {
            return status(sw::SECURITY_STATUS_NOT_SATISFIED);
        }
        match rsakey::raw_rsa(&self.c.key, &c.data) {
            Some(sig) => respond(sig, sw::OK),
            None if c.data.len() != 256 => status(sw::WRONG_LENGTH),
            None => status(sw::WRONG_DATA),
        }
    }

    fn dispatch(&mut self, apdu: &[u8], c: &Command) -> Vec<u8> {
        match c.ins {
            0xA4 => self.select(c),
            0xB0 => self.read_binary(c),
            0x20 => self.verify(c),
            0x22 => self.mse(apdu, c),
            0x2A => self.pso_cds(c),
            _ => status(sw::INS_NOT_SUPPORTED),
        }
    }
}

impl Card for HpkiCard {
    fn atr(&self) -> &[u8] {
        self.profile.atr
    }

    fn power_on(&mut self) {
        self.ap_selected = false;
        self.reset_security();
    }

    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        let (mut c, extended) = match Command::parse(apdu) {
            Ok(p) => (p.command, p.extended),
            Err(_) => return status(sw::WRONG_LENGTH),
        };
        if extended && !self.profile.layout.extended_length {
            // A card without extended-length support cannot even frame such a command.
            self.chain = None;
            return status(sw::WRONG_LENGTH);
        }
        if c.cla & !0x10 != 0x00 {
            return status(sw::CLA_NOT_SUPPORTED);
        }
        let chained = c.cla & 0x10 != 0;
        if chained || self.chain.is_some() {
            if !self.profile.chaining {
                self.chain = None;
                return status(sw::CHAINING_NOT_SUPPORTED);
            }
            let mut chain = self.chain.take().unwrap_or_else(|| (c.ins, c.p1, c.p2, Vec::new()));
            if (chain.0, chain.1, chain.2) != (c.ins, c.p1, c.p2) {
                // Another command arrived in the middle of a chain: the chain is abandoned.
                return status(sw::LAST_COMMAND_OF_CHAIN_EXPECTED);
            }
            chain.3.extend_from_slice(&c.data);
            if chained {
                if chain.3.len() > 4096 {
                    return status(sw::WRONG_LENGTH);
                }
                self.chain = Some(chain);
                return status(sw::OK);
            }
            c.data = chain.3;
        }
        self.dispatch(apdu, &c)
    }
}
