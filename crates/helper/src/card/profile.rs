//! HPKI card profiles as data. Issuers lay out their cards differently within the JAHIS
//! guideline; adding an issuer means adding a profile here, not code in the driver.

/// How one issuer's HPKI card exposes its authentication key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpkiProfile {
    /// Short name for logs (`"jma"`).
    pub name: &'static str,
    /// AID of the authentication application (JAHIS: starts `E8 28 BD 08 0F`).
    pub auth_aid: &'static [u8],
    /// EF holding the authentication certificate (DER).
    pub cert_ef: [u8; 2],
    /// EF of the PIN, selected before VERIFY (`None` when P2 alone names it).
    pub pin_ef: Option<[u8; 2]>,
    /// VERIFY P2 for this PIN.
    pub verify_p2: u8,
    /// EF of the private key (referenced by `mse`; kept for documentation and diagnostics).
    pub key_ef: [u8; 2],
    /// MANAGE SECURITY ENVIRONMENT SET command, verbatim.
    pub mse: &'static [u8],
    /// PERFORM SECURITY OPERATION header (CLA INS P1 P2), signing a host-padded block.
    pub pso: [u8; 4],
    /// Whether to try extended APDUs first; the driver falls back to short READs and to command
    /// chaining for PSO when the card refuses them.
    pub extended_apdu: bool,
    /// PIN tries the issuer sets (for the page when the card cannot tell).
    pub pin_tries: u8,
}

/// JMA (日本医師会認証局) card.
pub const JMA: HpkiProfile = HpkiProfile {
    name: "jma",
    auth_aid: &[
        0xe8, 0x28, 0xbd, 0x08, 0x0f, 0xa0, 0x00, 0x00, 0x03, 0x91, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x02,
    ],
    cert_ef: [0x00, 0x16],
    pin_ef: Some([0x00, 0x02]),
    verify_p2: 0x88,
    key_ef: [0x00, 0x0c],
    mse: &[0x00, 0x22, 0x41, 0xb6, 0x04, 0x84, 0x02, 0x00, 0x0c],
    pso: [0x00, 0x2a, 0x9e, 0x9a],
    extended_apdu: true,
    pin_tries: 15,
};

/// The example layout of the JAHIS HPKI card guideline 3.1, Annex B: PIN by short EF identifier
/// 16 (VERIFY P2 `96`, nothing to select), key 17, certificate 18. The guideline leaves the AID's
/// PIX to MHLW; this one is the placeholder crates/cardsim's guideline cards use, until issuers'
/// real AIDs are known. Cards of this layout may lack extended APDUs: the driver then chains.
pub const JAHIS_ANNEX_B: HpkiProfile = HpkiProfile {
    name: "jahis-annex-b",
    auth_aid: &[0xe8, 0x28, 0xbd, 0x08, 0x0f, b'J', b'A', b'H', b'I', b'S', 0x00, 0x02],
    cert_ef: [0x00, 0x18],
    pin_ef: None,
    verify_p2: 0x96,
    key_ef: [0x00, 0x17],
    mse: &[0x00, 0x22, 0x41, 0xb6, 0x04, 0x81, 0x02, 0x00, 0x17],
    pso: [0x00, 0x2a, 0x9e, 0x9a],
    extended_apdu: true,
    pin_tries: 15,
};

/// Every profile the helper tries, in order, when identifying a card.
pub const PROFILES: &[&HpkiProfile] = &[&JMA, &JAHIS_ANNEX_B];

#[cfg(test)]
mod tests {
    use super::*;
    use mahpki_protocol::apdu::Command;

    #[test]
    fn profiles_are_well_formed() {
        for p in PROFILES {
            assert_eq!(
                &p.auth_aid[..5],
                &[0xe8, 0x28, 0xbd, 0x08, 0x0f],
                "{} JAHIS prefix",
                p.name
            );
            let mse = Command::from_short_bytes(p.mse).expect("MSE parses");
            assert_eq!((mse.ins, mse.p1, mse.p2), (0x22, 0x41, 0xb6), "{}", p.name);
            // The MSE must reference the key EF the profile names.
            assert!(mse.data.windows(2).any(|w| w == p.key_ef), "{}", p.name);
            assert_eq!(p.pso[1], 0x2a);
        }
    }
}
