//! HPKI card profiles as data: every issuer lays out its card's authentication application
//! differently inside the JAHIS guideline's frame. The helper's driver reads a card by this table
//! and cardsim builds its cards from it (adding what only a simulator needs: ATR, CA certificate
//! files, chaining, ISO/IEC 7816-15 files), so the two cannot drift apart; each profile's
//! hand-written APDU transcript (crates/helper/tests/transcripts.rs) checks the table itself.
//! Adding an issuer is adding a value here, not code in the driver.
//!
//! Only the card-side crates compile this (cargo feature `card-profile`); the web app does not.

/// An elementary file: its file identifier and, if the card supports it, its short EF identifier
/// (READ BINARY with P1 = 0x80 | SFI; VERIFY names a PIN by P2 = 0x80 | SFI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EfRef {
    pub fid: u16,
    pub sfi: Option<u8>,
}

impl EfRef {
    /// The file identifier as SELECT sends it.
    pub const fn fid_bytes(self) -> [u8; 2] {
        self.fid.to_be_bytes()
    }
}

/// How one issuer's HPKI card exposes its authentication key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HpkiProfile {
    /// Short name for logs (`"jma"`).
    pub name: &'static str,
    /// DF name of the authentication application (JAHIS: starts `E8 28 BD 08 0F`).
    pub auth_aid: &'static [u8],
    /// EF of the authentication (end-entity) certificate, DER.
    pub cert_ef: EfRef,
    /// The PIN's internal EF. One with a short EF identifier is named by VERIFY's P2 alone; one
    /// without is selected before VERIFY.
    pub pin_ef: EfRef,
    /// VERIFY P2 for this PIN.
    pub verify_p2: u8,
    /// The private key's internal EF, named by `mse_set`.
    pub key_ef: EfRef,
    /// The MANAGE SECURITY ENVIRONMENT SET (DST) APDU the card accepts, verbatim
    /// (`00 22 41 B6 Lc <key reference>`).
    pub mse_set: &'static [u8],
    /// PERFORM SECURITY OPERATION header (CLA INS P1 P2), signing a host-padded block.
    pub pso: [u8; 4],
    /// Whether the card takes extended-length APDUs (a 256-byte PSO CDS in one command). The
    /// driver tries them first and falls back to short READs and command chaining if refused.
    pub extended_length: bool,
    /// PIN tries the issuer sets (for the page when the card cannot tell).
    pub pin_tries: u8,
}

impl HpkiProfile {
    /// The EF to SELECT before VERIFY, if P2 does not name the PIN by itself.
    pub fn pin_ef_to_select(&self) -> Option<EfRef> {
        self.pin_ef.sfi.is_none().then_some(self.pin_ef)
    }
}

/// The JMA (日本医師会認証局) HPKI card.
pub const JMA: HpkiProfile = HpkiProfile {
    name: "jma",
    auth_aid: &[
        0xe8, 0x28, 0xbd, 0x08, 0x0f, 0xa0, 0x00, 0x00, 0x03, 0x91, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x02,
    ],
    cert_ef: EfRef { fid: 0x0016, sfi: None },
    pin_ef: EfRef { fid: 0x0002, sfi: None },
    verify_p2: 0x88,
    key_ef: EfRef { fid: 0x000c, sfi: None },
    mse_set: &[0x00, 0x22, 0x41, 0xb6, 0x04, 0x84, 0x02, 0x00, 0x0c],
    pso: [0x00, 0x2a, 0x9e, 0x9a],
    extended_length: true,
    pin_tries: 15,
};

/// The example layout of the JAHIS HPKI card guideline 3.1, Annex B (tables B.1 and A.3): PIN
/// by short EF identifier 16 (VERIFY P2 `96`, nothing to select), key 17, certificate 18; MSE
/// `81 02 00 17`. The guideline leaves the AID's PIX to MHLW; this one is our placeholder until
/// issuers' real AIDs are known.
pub const JAHIS_ANNEX_B: HpkiProfile = HpkiProfile {
    name: "jahis-annex-b",
    auth_aid: &[0xe8, 0x28, 0xbd, 0x08, 0x0f, b'J', b'A', b'H', b'I', b'S', 0x00, 0x02],
    cert_ef: EfRef { fid: 0x0018, sfi: Some(0x18) },
    pin_ef: EfRef { fid: 0x0016, sfi: Some(0x16) },
    verify_p2: 0x96,
    key_ef: EfRef { fid: 0x0017, sfi: Some(0x17) },
    mse_set: &[0x00, 0x22, 0x41, 0xb6, 0x04, 0x81, 0x02, 0x00, 0x17],
    pso: [0x00, 0x2a, 0x9e, 0x9a],
    extended_length: true,
    pin_tries: 15,
};

/// Every profile, in the order the helper tries them when identifying a card.
pub const ALL: &[&HpkiProfile] = &[&JMA, &JAHIS_ANNEX_B];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::Command;

    #[test]
    fn profiles_are_well_formed() {
        for p in ALL {
            assert_eq!(
                &p.auth_aid[..5],
                &[0xe8, 0x28, 0xbd, 0x08, 0x0f],
                "{} JAHIS prefix",
                p.name
            );
            assert!(p.auth_aid.len() <= 16, "{}", p.name);
            let mse = Command::from_short_bytes(p.mse_set).expect("MSE parses");
            assert_eq!((mse.ins, mse.p1, mse.p2), (0x22, 0x41, 0xb6), "{}", p.name);
            assert_eq!(usize::from(p.mse_set[4]), p.mse_set.len() - 5, "{}", p.name);
            // The MSE must reference the key EF the profile names.
            assert!(mse.data.windows(2).any(|w| w == p.key_ef.fid_bytes()), "{}", p.name);
            assert_eq!(p.pso[1], 0x2a);
            // A PIN named by SFI has P2 = 0x80 | SFI.
            if let Some(sfi) = p.pin_ef.sfi {
                assert_eq!(p.verify_p2, 0x80 | sfi, "{}", p.name);
            }
            let names = ALL.iter().filter(|q| q.name == p.name).count();
            assert_eq!(names, 1, "{} named twice", p.name);
        }
    }
}
