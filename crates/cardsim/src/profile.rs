//! The simulated HPKI cards: each is an issuer's layout from the one profile table the helper's
//! driver also reads (`mahpki_protocol::card_profile`), plus what only a simulator needs: its
//! ATR, the CA certificates it carries, whether it takes command chaining, its ISO/IEC 7816-15
//! files, and a variant of a layout (a card without extended APDUs).

use mahpki_protocol::card_profile;
pub use mahpki_protocol::card_profile::EfRef;

/// Where an application keeps its ISO/IEC 7816-15 cryptographic information files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CiaLayout {
    pub cia_info: EfRef,
    pub od: EfRef,
    pub aod: EfRef,
    pub prkd: EfRef,
    pub cd: EfRef,
}

/// One simulated HPKI card: the issuer's layout and the simulator's own facts beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpkiProfile {
    /// Short name used by the control interface and tests.
    pub name: &'static str,
    /// The issuer's layout, from the table the helper's driver reads.
    pub layout: card_profile::HpkiProfile,
    pub atr: &'static [u8],
    /// CA certificates on the card (root, issuing CA), if the issuer stores them.
    pub ca_cert_efs: &'static [EfRef],
    /// Whether the card accepts ISO command chaining (CLA bit 0x10).
    pub chaining: bool,
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
    layout: card_profile::JMA,
    atr: HPKI_ATR,
    ca_cert_efs: &[],
    chaining: false,
    // Not known for this issuer's card; the helper addresses it by AID and EF directly.
    cia: None,
};

/// The example layout of JAHIS HPKI card guideline 3.1, Annex B, with what table B.1 adds: the
/// HPKI root CA certificate (SFI 19) and the issuing CA certificate (SFI 1A), and the CIA files.
pub const GUIDELINE: HpkiProfile = HpkiProfile {
    name: "guideline",
    layout: card_profile::JAHIS_ANNEX_B,
    atr: HPKI_ATR,
    ca_cert_efs: &[EfRef { fid: 0x0019, sfi: Some(0x19) }, EfRef { fid: 0x001A, sfi: Some(0x1A) }],
    chaining: true,
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
pub const GUIDELINE_SHORT: HpkiProfile = HpkiProfile {
    name: "guideline-short",
    layout: card_profile::HpkiProfile { extended_length: false, ..card_profile::JAHIS_ANNEX_B },
    chaining: true,
    ..GUIDELINE
};

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
            assert!(
                p.layout.extended_length || p.chaining,
                "{} cannot take a 256-byte PSO",
                p.name
            );
            assert_eq!(by_name(p.name), Some(p));
        }
    }
}
