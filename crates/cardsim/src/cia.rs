//! ISO/IEC 7816-15 cryptographic information files (EF.CIAInfo, EF.OD, EF.AOD, EF.PrKD, EF.CD)
//! for an HPKI application, derived from its profile as in JAHIS HPKI card guideline 3.1 annex
//! B.4, so a host can discover the PIN reference, key and certificate paths as the guideline's
//! sequence A.3.2/A.3.3 does.
//!
//! Paths use the guideline's one-byte form: `efidOrPath` = SFI << 3 (e.g. SFI 18 → `C0`).

use yasna::{DERWriter, Tag};

use crate::profile::{CiaLayout, EfRef, HpkiProfile};

/// A one-byte SFI path if the EF has an SFI, else its 2-byte file identifier.
fn path_bytes(ef: EfRef) -> Vec<u8> {
    match ef.sfi {
        Some(sfi) => vec![sfi << 3],
        None => ef.fid.to_be_bytes().to_vec(),
    }
}

/// The object identifier the guideline uses: the EF's SFI (or low FID byte).
fn id_of(ef: EfRef) -> u8 {
    ef.sfi.unwrap_or(ef.fid.to_be_bytes()[1])
}

fn write_path(w: DERWriter, ef: EfRef) {
    w.write_sequence(|w| w.next().write_bytes(&path_bytes(ef)));
}

/// DER BIT STRING for a NamedBitList with the given bit numbers set (trailing zeros dropped).
fn write_flags(w: DERWriter, bits: &[usize]) {
    let len = bits.iter().max().map_or(0, |b| b + 1);
    let mut bytes = vec![0u8; len.div_ceil(8)];
    for &b in bits {
        bytes[b / 8] |= 0x80 >> (b % 8);
    }
    w.write_bitvec_bytes(&bytes, len);
}

pub fn cia_info() -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_u8(1); // v2
            w.next().write_tagged_implicit(Tag::context(0), |w| {
                w.write_utf8_string("HPKI Application")
            });
            // cardflags { authRequired(1), prnGeneration(2) }
            write_flags(w.next(), &[1, 2]);
        })
    })
}

pub fn od(l: &CiaLayout) -> Vec<u8> {
    // PKCS15Objects is a CHOICE, so its tags are explicit: A0 { Path } etc.
    let mut out = Vec::new();
    for (tag, ef) in [(8, l.aod), (0, l.prkd), (4, l.cd)] {
        out.extend(yasna::construct_der(|w| {
            w.write_tagged(Tag::context(tag), |w| write_path(w, ef))
        }));
    }
    out
}

pub fn aod(p: &HpkiProfile) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| {
                w.next().write_utf8_string("PIN");
                write_flags(w.next(), &[1]); // modifiable
            });
            w.next().write_sequence(|w| w.next().write_bytes(&[id_of(p.layout.pin_ef)]));
            w.next().write_tagged(Tag::context(1), |w| {
                w.write_sequence(|w| {
                    // case-sensitive(0), local(1), initialized(4)
                    write_flags(w.next(), &[0, 1, 4]);
                    w.next().write_enum(2); // utf8
                    w.next().write_u8(4);
                    w.next().write_u8(16);
                    w.next().write_u8(16);
                    w.next()
                        .write_tagged_implicit(Tag::context(0), |w| w.write_u8(p.layout.verify_p2));
                })
            });
        })
    })
}

pub fn prkd(p: &HpkiProfile) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| {
                w.next().write_utf8_string("Private key of HPKI");
                write_flags(w.next(), &[0]); // private
                w.next().write_bytes(&[id_of(p.layout.pin_ef)]); // authId
            });
            w.next().write_sequence(|w| {
                w.next().write_bytes(&[id_of(p.layout.key_ef)]);
                write_flags(w.next(), &[2]); // sign (authentication application)
            });
            w.next().write_tagged(Tag::context(1), |w| {
                w.write_sequence(|w| {
                    write_path(w.next(), p.layout.key_ef);
                    w.next().write_u16(2048);
                })
            });
        })
    })
}

pub fn cd(p: &HpkiProfile) -> Vec<u8> {
    let labels = ["MHLW CA CERTIFICATE", "HPKI ROOT CA CERTIFICATE", "HPKI CA CERTIFICATE"];
    let mut entries =
        vec![("HPKI END ENTITY CERTIFICATE", p.layout.cert_ef, id_of(p.layout.key_ef), false)];
    for (ef, label) in p.ca_cert_efs.iter().zip(labels) {
        entries.push((label, *ef, id_of(*ef), true));
    }
    let mut out = Vec::new();
    for (label, ef, id, authority) in entries {
        out.extend(yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_sequence(|w| w.next().write_utf8_string(label));
                w.next().write_sequence(|w| {
                    w.next().write_bytes(&[id]);
                    if authority {
                        w.next().write_bool(true);
                    }
                });
                w.next().write_tagged(Tag::context(1), |w| {
                    w.write_sequence(|w| write_path(w.next(), ef))
                });
            })
        }));
    }
    out
}

/// Every CIA file of the profile with its content, if the profile carries them.
pub fn files(p: &HpkiProfile) -> Vec<(EfRef, Vec<u8>)> {
    let Some(l) = &p.cia else {
        return Vec::new();
    };
    vec![(l.cia_info, cia_info()), (l.od, od(l)), (l.aod, aod(p)), (l.prkd, prkd(p)), (l.cd, cd(p))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::GUIDELINE;

    #[test]
    fn od_points_where_the_guideline_says() {
        // authObjects [8] → 98, privateKeys [0] → A0, certificates [4] → A8 (B.4.3).
        let l = GUIDELINE.cia.as_ref().unwrap();
        assert_eq!(
            od(l),
            [
                0xA8, 0x05, 0x30, 0x03, 0x04, 0x01, 0x98, 0xA0, 0x05, 0x30, 0x03, 0x04, 0x01, 0xA0,
                0xA4, 0x05, 0x30, 0x03, 0x04, 0x01, 0xA8
            ]
        );
    }

    #[test]
    fn aod_names_the_verify_reference_and_prkd_the_key() {
        let a = aod(&GUIDELINE);
        // pwdReference [0] 0x96 as a DER INTEGER (leading zero: 0x96 has its top bit set).
        assert!(a.windows(4).any(|w| w == [0x80, 0x02, 0x00, 0x96]));
        assert!(a.windows(4).any(|w| w == [0x03, 0x02, 0x03, 0xC8]), "pwdFlags");
        let k = prkd(&GUIDELINE);
        assert!(k.windows(5).any(|w| w == [0x30, 0x03, 0x04, 0x01, 0xB8]), "key path SFI 17");
        assert!(k.windows(4).any(|w| w == [0x02, 0x02, 0x08, 0x00]), "modulusLength 2048");
        let c = cd(&GUIDELINE);
        for p in [0xC0, 0xC8, 0xD0] {
            assert!(c.windows(3).any(|w| w == [0x04, 0x01, p]), "CD path {p:02X}");
        }
        assert_eq!(cia_info()[0], 0x30);
    }
}
