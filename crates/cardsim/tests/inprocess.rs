//! The virtual cards driven in-process through the [`Card`] trait, byte for byte.

mod common;

use common::*;
use mahpki_cardsim::card::Card;
use mahpki_cardsim::profile;

const SELECT_JPKI: &str = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01";

fn tx(card: &mut dyn Card, apdu: &str) -> (Vec<u8>, u16) {
    let r = card.transmit(&hex(apdu));
    let (d, sw) = split(&r);
    (d.to_vec(), sw)
}

fn tx_bytes(card: &mut dyn Card, apdu: &[u8]) -> (Vec<u8>, u16) {
    let r = card.transmit(apdu);
    let (d, sw) = split(&r);
    (d.to_vec(), sw)
}

/// Reads the current EF in short READ BINARYs.
fn read_all_short(card: &mut dyn Card) -> Vec<u8> {
    common::read_ef_short(|apdu| tx_bytes(card, apdu))
}

#[test]
fn jpki_reads_certificates_without_pin() {
    let h = &pki().holders[0];
    let mut card = h.jpki_card();
    card.power_on();
    assert_eq!(card.atr(), hex("3B E0 00 FF 81 31 FE 45 14"));
    // Before the AP is selected, its EFs are not reachable.
    assert_eq!(tx(&mut card, "00 A4 02 0C 02 00 0A").1, 0x6A82);
    assert_eq!(tx(&mut card, SELECT_JPKI).1, 0x9000);
    assert_eq!(tx(&mut card, "00 A4 02 0C 02 00 0A").1, 0x9000);
    // The first 4 bytes give the DER length, as OpenSC and the helper use them.
    let (head, sw) = tx(&mut card, "00 B0 00 00 04");
    assert_eq!(sw, 0x9000);
    assert_eq!(head, h.jpki_auth_cert[..4]);
    assert_eq!(read_all_short(&mut card), h.jpki_auth_cert);
    // Extended Le reads the whole file in one go.
    let (all, sw) = tx(&mut card, "00 B0 00 00 00 00 00");
    assert_eq!((all.as_slice(), sw), (h.jpki_auth_cert.as_slice(), 0x9000));
    // Offset read.
    let (part, _) = tx(&mut card, "00 B0 01 00 10");
    assert_eq!(part, h.jpki_auth_cert[256..272]);
    // Past the end.
    let end = (h.jpki_auth_cert.len() as u16).to_be_bytes();
    assert_eq!(tx_bytes(&mut card, &[0x00, 0xB0, end[0], end[1], 0x01]).1, 0x6B00);
    // CA certificate and token.
    tx(&mut card, "00 A4 02 0C 02 00 0B");
    assert_eq!(read_all_short(&mut card), h.jpki_auth_ca);
    tx(&mut card, "00 A4 02 0C 02 00 06");
    assert_eq!(tx(&mut card, "00 B0 00 00 00").0, b"JPKIAPICCTOKEN2                 ");
    // The signing certificate needs the signing PIN.
    tx(&mut card, "00 A4 02 0C 02 00 01");
    assert_eq!(tx(&mut card, "00 B0 00 00 04").1, 0x6982);
    tx(&mut card, "00 A4 02 0C 02 00 1B");
    let pin = h.spec.jpki_sign_pin.as_bytes();
    let mut verify = vec![0x00, 0x20, 0x00, 0x80, pin.len() as u8];
    verify.extend(pin);
    assert_eq!(tx_bytes(&mut card, &verify).1, 0x9000);
    tx(&mut card, "00 A4 02 0C 02 00 01");
    assert_eq!(read_all_short(&mut card), h.jpki_sign_cert);
}

fn verify_apdu(pin: &str) -> Vec<u8> {
    let mut v = vec![0x00, 0x20, 0x00, 0x80, pin.len() as u8];
    v.extend(pin.as_bytes());
    v
}

fn jpki_sign_apdu(digest_info: &[u8]) -> Vec<u8> {
    let mut a = vec![0x80, 0x2A, 0x00, 0x80, digest_info.len() as u8];
    a.extend(digest_info);
    a.push(0x00);
    a
}

#[test]
fn jpki_auth_pin_and_signature() {
    let h = &pki().holders[1];
    let mut card = h.jpki_card();
    card.power_on();
    tx(&mut card, SELECT_JPKI);
    let msg = b"challenge from the server";
    let di = digest_info_sha256(msg);

    // Key selected, PIN not verified.
    tx(&mut card, "00 A4 02 0C 02 00 17");
    assert_eq!(tx_bytes(&mut card, &jpki_sign_apdu(&di)).1, 0x6982);

    tx(&mut card, "00 A4 02 0C 02 00 18");
    assert_eq!(tx(&mut card, "00 20 00 80").1, 0x63C3);
    assert_eq!(tx_bytes(&mut card, &verify_apdu("9999")).1, 0x63C2);
    assert_eq!(tx(&mut card, "00 20 00 80").1, 0x63C2);
    assert_eq!(tx_bytes(&mut card, &verify_apdu(&h.spec.jpki_auth_pin)).1, 0x9000);
    assert_eq!(tx(&mut card, "00 20 00 80").1, 0x63C3, "success resets the counter");

    tx(&mut card, "00 A4 02 0C 02 00 17");
    let (sig, sw) = tx_bytes(&mut card, &jpki_sign_apdu(&di));
    assert_eq!(sw, 0x9000);
    assert_eq!(sig.len(), 256);
    assert!(verify_sha256(&h.jpki_auth_cert, msg, &sig));
    assert!(!verify_sha256(&h.jpki_sign_cert, msg, &sig), "signed with the auth key only");

    // The signing key wants the signing PIN, not the auth PIN.
    tx(&mut card, "00 A4 02 0C 02 00 1A");
    assert_eq!(tx_bytes(&mut card, &jpki_sign_apdu(&di)).1, 0x6982);

    // Re-selecting the AP drops the verification.
    tx(&mut card, SELECT_JPKI);
    tx(&mut card, "00 A4 02 0C 02 00 17");
    assert_eq!(tx_bytes(&mut card, &jpki_sign_apdu(&di)).1, 0x6982);

    // So does a reset.
    tx(&mut card, "00 A4 02 0C 02 00 18");
    assert_eq!(tx_bytes(&mut card, &verify_apdu(&h.spec.jpki_auth_pin)).1, 0x9000);
    card.power_on();
    tx(&mut card, SELECT_JPKI);
    tx(&mut card, "00 A4 02 0C 02 00 17");
    assert_eq!(tx_bytes(&mut card, &jpki_sign_apdu(&di)).1, 0x6982);

    // Signing key with the signing PIN.
    tx(&mut card, "00 A4 02 0C 02 00 1B");
    assert_eq!(tx(&mut card, "00 20 00 80").1, 0x63C5);
    assert_eq!(tx_bytes(&mut card, &verify_apdu(&h.spec.jpki_sign_pin)).1, 0x9000);
    tx(&mut card, "00 A4 02 0C 02 00 1A");
    let (sig, sw) = tx_bytes(&mut card, &jpki_sign_apdu(&di));
    assert_eq!(sw, 0x9000);
    assert!(verify_sha256(&h.jpki_sign_cert, msg, &sig));
}

#[test]
fn jpki_locks_after_three_wrong_pins_and_stays_locked() {
    let h = &pki().holders[2];
    let mut card = h.jpki_card();
    card.power_on();
    tx(&mut card, SELECT_JPKI);
    tx(&mut card, "00 A4 02 0C 02 00 18");
    for left in [2u16, 1, 0] {
        assert_eq!(tx_bytes(&mut card, &verify_apdu("0000")).1, 0x63C0 | left);
    }
    assert_eq!(tx_bytes(&mut card, &verify_apdu(&h.spec.jpki_auth_pin)).1, 0x6983);
    assert_eq!(tx(&mut card, "00 20 00 80").1, 0x6983);
    card.power_on();
    tx(&mut card, SELECT_JPKI);
    tx(&mut card, "00 A4 02 0C 02 00 18");
    assert_eq!(tx(&mut card, "00 20 00 80").1, 0x6983, "a reset does not unblock");
    assert_eq!(card.auth_tries_left(), 0);
    // The signing PIN is independent.
    tx(&mut card, "00 A4 02 0C 02 00 1B");
    assert_eq!(tx(&mut card, "00 20 00 80").1, 0x63C5);
}

#[test]
fn jpki_status_words_for_bad_commands() {
    let mut card = pki().holders[0].jpki_card();
    card.power_on();
    tx(&mut card, SELECT_JPKI);
    // Lc says 4, only 2 bytes follow.
    assert_eq!(tx(&mut card, "00 20 00 80 04 31 32").1, 0x6700);
    assert_eq!(tx(&mut card, "00 A4").1, 0x6700);
    assert_eq!(tx(&mut card, "00 CA 00 00 00").1, 0x6D00);
    assert_eq!(tx(&mut card, "A0 A4 02 0C 02 00 0A").1, 0x6E00);
    assert_eq!(tx(&mut card, "80 A4 02 0C 02 00 0A").1, 0x6E00);
    assert_eq!(tx(&mut card, "00 A4 02 0C 02 12 34").1, 0x6A82);
    assert_eq!(tx(&mut card, "00 A4 04 0C 05 A0 00 00 00 01").1, 0x6A82);
    assert_eq!(tx(&mut card, "00 A4 07 0C 02 00 0A").1, 0x6A86);
    tx(&mut card, SELECT_JPKI);
    tx(&mut card, "00 A4 02 0C 02 00 18");
    assert_eq!(tx(&mut card, "00 20 00 81").1, 0x6A86);
    // Keys and PINs are not readable.
    assert_eq!(tx(&mut card, "00 B0 00 00 00").1, 0x6986);
    // Signature with no key EF selected.
    tx(&mut card, "00 A4 02 0C 02 00 0A");
    let di = digest_info_sha256(b"x");
    assert_eq!(tx_bytes(&mut card, &jpki_sign_apdu(&di)).1, 0x6985);
}

fn hpki_verify(p2: u8, pin: &str) -> Vec<u8> {
    let mut v = vec![0x00, 0x20, 0x00, p2, pin.len() as u8];
    v.extend(pin.as_bytes());
    v
}

fn select_aid(aid: &[u8], p2: u8) -> Vec<u8> {
    let mut a = vec![0x00, 0xA4, 0x04, p2, aid.len() as u8];
    a.extend(aid);
    if p2 == 0x00 {
        a.push(0x00);
    }
    a
}

fn pso_extended(block: &[u8]) -> Vec<u8> {
    let mut a = vec![0x00, 0x2A, 0x9E, 0x9A, 0x00, 0x01, 0x00];
    a.extend(block);
    a.extend([0x00, 0x00]);
    a
}

#[test]
fn hpki_jma_profile_authenticates() {
    let h = &pki().holders[0];
    assert_eq!(h.spec.hpki_profile, "jma");
    let mut card = h.hpki_card();
    card.power_on();
    let p = &profile::JMA;
    // SELECT with FCI.
    let (fci, sw) = tx_bytes(&mut card, &select_aid(p.layout.auth_aid, 0x00));
    assert_eq!(sw, 0x9000);
    assert_eq!(&fci[..4], &[0x6F, 18, 0x84, 16]);
    assert_eq!(&fci[4..], p.layout.auth_aid);
    assert_eq!(tx_bytes(&mut card, &select_aid(p.layout.auth_aid, 0x0C)), (vec![], 0x9000));
    // The JPKI AP is not on an HPKI card: detect-by-SELECT tells them apart.
    assert_eq!(tx(&mut card, SELECT_JPKI).1, 0x6A82);

    tx(&mut card, "00 A4 02 0C 02 00 16");
    let (cert, sw) = tx(&mut card, "00 B0 00 00 00 00 00");
    assert_eq!((cert.as_slice(), sw), (h.hpki_cert.as_slice(), 0x9000));
    assert_eq!(read_all_short(&mut card), h.hpki_cert);

    let msg = b"SHA-256(origin) || SHA-256(challenge)";
    let block = pkcs1_block(&digest_info_sha256(msg), 256);
    // PSO before MSE, then before VERIFY.
    assert_eq!(tx_bytes(&mut card, &pso_extended(&block)).1, 0x6985);
    assert_eq!(tx_bytes(&mut card, p.layout.mse_set).1, 0x9000);
    assert_eq!(tx_bytes(&mut card, &pso_extended(&block)).1, 0x6982);

    assert_eq!(tx(&mut card, "00 20 00 88").1, 0x63CF);
    assert_eq!(tx_bytes(&mut card, &hpki_verify(0x88, "0000")).1, 0x63CE);
    assert_eq!(tx_bytes(&mut card, &hpki_verify(0x81, &h.spec.hpki_pin)).1, 0x6A88);
    assert_eq!(tx_bytes(&mut card, &hpki_verify(0x88, &h.spec.hpki_pin)).1, 0x9000);
    let (sig, sw) = tx_bytes(&mut card, &pso_extended(&block));
    assert_eq!(sw, 0x9000);
    assert!(verify_sha256(&h.hpki_cert, msg, &sig));

    // Raw RSA: a short block is the wrong length; the card does not pad.
    assert_eq!(tx_bytes(&mut card, &pso_extended(&block[..255])).1 & 0xFF00, 0x6700);
    // Chaining is not offered by this card.
    let mut chained = vec![0x10, 0x2A, 0x9E, 0x9A, 0x80];
    chained.extend(&block[..128]);
    assert_eq!(tx_bytes(&mut card, &chained).1, 0x6884);
    // Reset forgets PIN and MSE.
    card.power_on();
    tx_bytes(&mut card, &select_aid(p.layout.auth_aid, 0x0C));
    tx_bytes(&mut card, p.layout.mse_set);
    assert_eq!(tx_bytes(&mut card, &pso_extended(&block)).1, 0x6982);
}

#[test]
fn hpki_blocks_after_fifteen_wrong_pins() {
    let h = &pki().holders[0];
    let mut card = h.hpki_card();
    card.power_on();
    tx_bytes(&mut card, &select_aid(profile::JMA.layout.auth_aid, 0x0C));
    for left in (0..15u16).rev() {
        assert_eq!(tx_bytes(&mut card, &hpki_verify(0x88, "0000")).1, 0x63C0 | left);
    }
    assert_eq!(tx_bytes(&mut card, &hpki_verify(0x88, &h.spec.hpki_pin)).1, 0x6984);
    assert_eq!(tx(&mut card, "00 20 00 88").1, 0x6984);
    assert_eq!(card.pin_tries_left(), 0);
}

#[test]
fn hpki_guideline_profile_reads_by_sfi() {
    let h = &pki().holders[1];
    let mut card = h.hpki_card_with(&profile::GUIDELINE);
    card.power_on();
    tx_bytes(&mut card, &select_aid(profile::GUIDELINE.layout.auth_aid, 0x0C));
    // READ BINARY with SFI 18 (P1 98) and extended Le, as guideline A.3.2 does.
    let (cert, sw) = tx(&mut card, "00 B0 98 00 00 00 00");
    assert_eq!((cert.as_slice(), sw), (h.hpki_cert.as_slice(), 0x9000));
    // SFI read made EF 18 current: continue at offset 0x0100 with P1 01.
    let (part, _) = tx(&mut card, "00 B0 01 00 00");
    assert_eq!(part, h.hpki_cert[256..512.min(h.hpki_cert.len())]);
    assert_eq!(tx(&mut card, "00 B0 99 00 00 00 00").0, h.hpki_chain[0]);
    assert_eq!(tx(&mut card, "00 B0 9A 00 00 00 00").0, h.hpki_chain[1]);
    assert_eq!(tx(&mut card, "00 B0 9F 00 00").1, 0x6A82);

    let msg = b"guideline";
    let block = pkcs1_block(&digest_info_sha256(msg), 256);
    assert_eq!(tx_bytes(&mut card, &hpki_verify(0x96, &h.spec.hpki_pin)).1, 0x9000);
    assert_eq!(tx(&mut card, "00 22 41 B6 04 84 02 00 0C").1, 0x6A88, "JMA key ref");
    assert_eq!(tx(&mut card, "00 22 41 B6 04 81 02 00 17").1, 0x9000);
    let (sig, sw) = tx_bytes(&mut card, &pso_extended(&block));
    assert_eq!(sw, 0x9000);
    assert!(verify_sha256(&h.hpki_cert, msg, &sig));
}

#[test]
fn hpki_short_profile_needs_chaining() {
    let h = &pki().holders[2];
    assert_eq!(h.spec.hpki_profile, "guideline-short");
    let mut card = h.hpki_card();
    card.power_on();
    tx_bytes(&mut card, &select_aid(profile::GUIDELINE_SHORT.layout.auth_aid, 0x0C));
    assert_eq!(tx(&mut card, "00 B0 98 00 00 00 00").1, 0x6700, "no extended Le");
    tx(&mut card, "00 A4 02 0C 02 00 18");
    assert_eq!(read_all_short(&mut card), h.hpki_cert);

    let msg = b"chained";
    let block = pkcs1_block(&digest_info_sha256(msg), 256);
    tx_bytes(&mut card, &hpki_verify(0x96, &h.spec.hpki_pin));
    tx(&mut card, "00 22 41 B6 04 81 02 00 17");
    assert_eq!(tx_bytes(&mut card, &pso_extended(&block)).1, 0x6700);

    let mut first = vec![0x10, 0x2A, 0x9E, 0x9A, 0x80];
    first.extend(&block[..128]);
    let mut last = vec![0x00, 0x2A, 0x9E, 0x9A, 0x80];
    last.extend(&block[128..]);
    last.push(0x00);
    assert_eq!(tx_bytes(&mut card, &first), (vec![], 0x9000));
    let (sig, sw) = tx_bytes(&mut card, &last);
    assert_eq!(sw, 0x9000);
    assert!(verify_sha256(&h.hpki_cert, msg, &sig));

    // A different command in the middle of a chain is refused and ends the chain.
    assert_eq!(tx_bytes(&mut card, &first).1, 0x9000);
    assert_eq!(tx(&mut card, "00 B0 00 00 04").1, 0x6883);
    assert_eq!(tx(&mut card, "00 B0 00 00 04").1, 0x9000);
}

#[test]
fn hpki_guideline_discovery_files() {
    // Guideline A.3.2/A.3.3: CIAInfo (SFI 12), OD (11), AOD (13), PrKD (14), CD (15), each a
    // well-formed DER sequence of objects pointing at the PIN, key and certificates.
    let h = &pki().holders[1];
    let mut card = h.hpki_card_with(&profile::GUIDELINE);
    card.power_on();
    tx_bytes(&mut card, &select_aid(profile::GUIDELINE.layout.auth_aid, 0x0C));
    let mut files = Vec::new();
    for p1 in [0x92u8, 0x91, 0x93, 0x94, 0x95] {
        let (d, sw) = tx_bytes(&mut card, &[0x00, 0xB0, p1, 0x00, 0x00]);
        assert_eq!(sw, 0x9000, "SFI {:02X}", p1 & 0x1F);
        // Every file parses as a run of complete DER objects.
        let mut rest = d.as_slice();
        while !rest.is_empty() {
            let (r, _) = der_parser::parse_der(rest).expect("DER");
            rest = r;
        }
        files.push(d);
    }
    let (od, aod, prkd, cd) = (&files[1], &files[2], &files[3], &files[4]);
    assert_eq!(&od[..7], &[0xA8, 0x05, 0x30, 0x03, 0x04, 0x01, 0x98]);
    assert!(aod.windows(4).any(|w| w == [0x80, 0x02, 0x00, 0x96]));
    assert!(prkd.windows(3).any(|w| w == [0x04, 0x01, 0xB8]));
    // The CD's end-entity path (C0 = SFI 18) reads back the holder's certificate.
    assert!(cd.windows(3).any(|w| w == [0x04, 0x01, 0xC0]));
    assert_eq!(tx(&mut card, "00 B0 98 00 00 00 00").0, h.hpki_cert);
    // The JMA layout has no such files.
    let mut jma = h.hpki_card_with(&profile::JMA);
    jma.power_on();
    tx_bytes(&mut jma, &select_aid(profile::JMA.layout.auth_aid, 0x0C));
    assert_eq!(tx(&mut jma, "00 B0 92 00 00").1, 0x6A82);
}

#[test]
fn hpki_status_words_for_bad_commands() {
    let h = &pki().holders[0];
    let mut card = h.hpki_card();
    card.power_on();
    assert_eq!(tx(&mut card, "00 20 00 88 04 31 32 33 34").1, 0x6985, "no AP selected");
    tx_bytes(&mut card, &select_aid(profile::JMA.layout.auth_aid, 0x0C));
    assert_eq!(tx(&mut card, "80 A4 02 0C 02 00 16").1, 0x6E00);
    assert_eq!(tx(&mut card, "00 CA 01 00 00").1, 0x6D00);
    assert_eq!(tx(&mut card, "00 A4 02 0C 02 12 34").1, 0x6A82);
    assert_eq!(tx(&mut card, "00 A4 04 0C 03 E8 28 BD").1, 0x6A82);
    assert_eq!(tx(&mut card, "00 22 41 A4 04 84 02 00 0C").1, 0x6A86);
    assert_eq!(tx(&mut card, "00 2A 9E 9B 01 00").1, 0x6A86);
    assert_eq!(tx(&mut card, "00 20 00 88 04 31 32").1, 0x6700);
    // PIN and key EFs are internal.
    tx(&mut card, "00 A4 02 0C 02 00 0C");
    assert_eq!(tx(&mut card, "00 B0 00 00 00").1, 0x6986);
    // No current EF after a fresh SELECT of the AP.
    tx_bytes(&mut card, &select_aid(profile::JMA.layout.auth_aid, 0x0C));
    assert_eq!(tx(&mut card, "00 B0 00 00 00").1, 0x6986);
}
