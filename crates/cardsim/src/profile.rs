//! HPKI card profiles as data: every issuer lays its card out differently inside the JAHIS
//! guideline's frame, and the helper must cope with each. Adding a profile is adding a value here.

/// An elementary file: its file identifier and, if the card supports it, its short EF identifier
/// (READ BINARY with P1 = 0x80 | SFI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EfRef {
    pub fid: u16,
    pub sfi: Option<u8>,
}

/// Where an application keeps its ISO/IEC 7816-15 cryptographic information files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CiaLayout {
    pub cia_info: EfRef,
    pub od: EfRef,
    pub aod: EfRef,
    pub prkd: EfRef,
    pub cd: EfRef,
}

/// How one HPKI card's authentication application is laid out and driven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpkiProfile {
    /// Short name used by the control interface and tests.
    pub name: &'static str,
    pub atr: &'static [u8],
    /// DF name of the authentication application (starts with `E8 28 BD 08 0F`).
    pub auth_aid: &'static [u8],
    /// End-entity (auth) certificate.
    pub cert_ef: EfRef,
    /// CA certificates on the card (root, issuing CA), if the issuer stores them.
    pub ca_cert_efs: &'static [EfRef],
    /// PIN IEF; VERIFY uses `verify_p2` to name it.
    pub pin_ef: EfRef,
    pub verify_p2: u8,
    /// Private-key IEF named by MSE SET.
    pub key_ef: EfRef,
    /// The full MSE SET DST APDU the card accepts (`00 22 41 B6 Lc <key reference>`).
    pub mse_set: &'static [u8],
    /// Whether the card accepts extended-length APDUs (PSO CDS of 256 bytes in one command).
    pub extended_length: bool,
    /// Whether the card accepts ISO command chaining (CLA bit 0x10).
    pub chaining: bool,
    pub pin_tries: u8,
    /// The ISO/IEC 7816-15 files describing the application, if the card carries them
    /// (contents are derived from this profile by `cia`).
    pub cia: Option<CiaLayout>,
}

/// ATR for the simulated HPKI cards: T=1, historical bytes "HPKI-SIM", with a valid TCK.
pub const HPKI_ATR: &[u8] =
    &[0x3B, 0x88, 0x80, 0x01, b'H', b'P', b'K', b'I', b'-', b'S', b'I', b'M', 0x69];

/// The JMA (日本医師会) HPKI card's authentication application.
pub const JMA: HpkiProfile = HpkiProfile {
    name: "jma",
    atr: HPKI_ATR,
    auth_aid: &[
        0xE8, 0x28, 0xBD, 0x08, 0x0F, 0xA0, 0x00, 0x00, 0x03, 0x91, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x02,
    ],
    cert_ef: EfRef { fid: 0x0016, sfi: None },
    ca_cert_efs: &[],
    pin_ef: EfRef { fid: 0x0002, sfi: None },
    verify_p2: 0x88,
    key_ef: EfRef { fid: 0x000C, sfi: None },
    mse_set: &[0x00, 0x22, 0x41, 0xB6, 0x04, 0x84, 0x02, 0x00, 0x0C],
    extended_length: true,
    chaining: false,
    pin_tries: 15,
    // Not known for this issuer's card; the helper addresses it by AID and EF directly.
    cia: None,
};

/// The example layout of JAHIS HPKI card guideline 3.1, Annex B (table B.1 and A.3): SFIs 16
/// (PIN), 17 (key), 18 (EE cert), 19 (HPKI root CA cert), 1A (issuing CA cert); VERIFY P2 `96`;
/// MSE `81 02 00 17`. The guideline leaves the PIX to MHLW, so this AID's PIX is our own.
pub const GUIDELINE: HpkiProfile = HpkiProfile {
    name: "guideline",
    atr: HPKI_ATR,
    auth_aid: &[0xE8, 0x28, 0xBD, 0x08, 0x0F, b'J', b'A', b'H', b'I', b'S', 0x00, 0x02],
    cert_ef: EfRef { fid: 0x0018, sfi: Some(0x18) },
    ca_cert_efs: &[EfRef { fid: 0x0019, sfi: Some(0x19) }, EfRef { fid: 0x001A, sfi: Some(0x1A) }],
    pin_ef: EfRef { fid: 0x0016, sfi: Some(0x16) },
    verify_p2: 0x96,
    key_ef: EfRef { fid: 0x0017, sfi: Some(0x17) },
    mse_set: &[0x00, 0x22, 0x41, 0xB6, 0x04, 0x81, 0x02, 0x00, 0x17],
    extended_length: true,
    chaining: true,
    pin_tries: 15,
    // Table B.1: CIAInfo 5032 (SFI 12), OD 5031 (SFI 11); AOD/PrKD/CD FIDs are the issuer's.
    cia: Some(CiaLayout {
        cia_info: EfRef { fid: 0x5032, sfi: Some(0x12) },
        od: EfRef { fid: 0x5031, sfi: Some(0x11) },
        aod: EfRef { fid: 0x0013, sfi: Some(0x13) },
        prkd: EfRef { fid: 0x0014, sfi: Some(0x14) },
        cd: EfRef { fid: 0x0015, sfi: Some(0x15) },
    }),
};

/// The guideline layout on a card without extended-length support: the 256-byte PSO CDS must be
/// sent with command chaining, and certificates read in 256-byte pieces.
pub const GUIDELINE_SHORT: HpkiProfile =
    HpkiProfile { name: "guideline-short", extended_length: false, chaining: true, ..GUIDELINE };

/// Every built-in profile.
pub const ALL: [&HpkiProfile; 3] = [&JMA, &GUIDELINE, &GUIDELINE_SHORT];

/// Looks a profile up by its `name`.
pub fn by_name(name: &str) -> Option<&'static HpkiProfile> {
    ALL.into_iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atr_check_byte_is_valid() {
        // TCK makes the XOR of T0..TCK zero (ISO 7816-3), required when T=1 is offered.
        assert_eq!(HPKI_ATR[1..].iter().fold(0u8, |a, b| a ^ b), 0);
        let jpki = crate::jpki::JPKI_ATR;
        assert_eq!(jpki[1..].iter().fold(0u8, |a, b| a ^ b), 0);
    }

    #[test]
    fn profiles_are_consistent() {
        for p in ALL {
            assert_eq!(&p.auth_aid[..5], &[0xE8, 0x28, 0xBD, 0x08, 0x0F], "{}", p.name);
            assert!(p.auth_aid.len() <= 16);
            assert_eq!(&p.mse_set[..4], &[0x00, 0x22, 0x41, 0xB6]);
            assert_eq!(usize::from(p.mse_set[4]), p.mse_set.len() - 5);
            assert!(p.extended_length || p.chaining, "{} cannot take a 256-byte PSO", p.name);
            assert_eq!(by_name(p.name), Some(p));
        }
    }
}
