//! One hand-written APDU transcript per HPKI card profile: the commands the driver sends to a
//! cardsim card of that layout, written out byte by byte from the issuer's layout (JMA) and the
//! JAHIS guideline's Annex B, not derived from `mahpki_protocol::card_profile`. The driver and
//! cardsim both read that table, so they agree with each other even if the table is wrong; these
//! transcripts are the independent check of the table itself.

use std::sync::OnceLock;

use mahpki_cardsim::{Card, pki, profile as sim_profile};
use mahpki_helper::{
    card::{
        driver::{PinStatus, hpki},
        transport::{Transport, TransportError},
    },
    pin::Pin,
    signing::{authentication_digest, sha256_digest_info},
};
use mahpki_protocol::{
    card_profile::{self, HpkiProfile},
    helper::CardType,
};

fn test_pki() -> &'static pki::TestPki {
    static PKI: OnceLock<pki::TestPki> = OnceLock::new();
    PKI.get_or_init(|| pki::generate(7).expect("test PKI"))
}

/// A cardsim card that records every command APDU it is sent.
struct Recorder<C> {
    card: C,
    sent: Vec<Vec<u8>>,
}

impl<C: Card> Transport for Recorder<C> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.sent.push(apdu.to_vec());
        Ok(self.card.transmit(apdu))
    }
}

/// One expected command: exactly these bytes, or these leading bytes and this total length (for
/// commands carrying the PIN, a certificate length or the signature block).
enum Apdu {
    Exact(&'static str),
    Starts(&'static str, usize),
}

fn hex(s: &str) -> Vec<u8> {
    let digits: String = s.split_whitespace().collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

fn check(name: &str, sent: &[Vec<u8>], expected: &[Apdu]) {
    assert_eq!(sent.len(), expected.len(), "{name}: {} commands sent: {sent:02x?}", sent.len());
    for (i, (got, want)) in sent.iter().zip(expected).enumerate() {
        match want {
            Apdu::Exact(h) => assert_eq!(got, &hex(h), "{name}: command {i}"),
            Apdu::Starts(h, len) => {
                let head = hex(h);
                assert_eq!(&got[..head.len().min(got.len())], &head[..], "{name}: command {i}");
                assert_eq!(got.len(), *len, "{name}: command {i} length");
            }
        }
    }
}

/// Reads the card and signs with it through the driver, returning what was sent.
fn drive<C: Card>(mut card: C, profile: &HpkiProfile) -> (Vec<Vec<u8>>, usize, usize) {
    let h = &test_pki().holders[0];
    card.power_on();
    let mut t = Recorder { card, sent: vec![] };
    let info = hpki::read_info(&mut t, profile).unwrap();
    assert_eq!(info.certificate, h.hpki_cert, "{}", profile.name);
    assert_eq!(info.pin, PinStatus::TriesLeft(15), "{}", profile.name);
    let pin = Pin::parse(CardType::Hpki, h.spec.hpki_pin.clone()).unwrap();
    let di = sha256_digest_info(&authentication_digest("https://hpki.example.jp", &[9; 32]));
    let sig = hpki::authenticate(&mut t, profile, &info.certificate, &pin, &di).unwrap();
    assert_eq!(sig.len(), 256, "{}", profile.name);
    (t.sent, info.certificate.len(), h.spec.hpki_pin.len())
}

#[test]
fn jma_card_transcript() {
    let h = &test_pki().holders[0];
    let (sent, _, pin_len) = drive(h.hpki_card_with(&sim_profile::JMA), &card_profile::JMA);
    check(
        "jma",
        &sent,
        &[
            // SELECT the JMA authentication application by its DF name.
            Apdu::Exact("00 a4 04 0c 10 e8 28 bd 08 0f a0 00 00 03 91 00 00 00 00 00 02"),
            // SELECT EF 0016 (certificate); READ it whole in one extended READ (Le 0000).
            Apdu::Exact("00 a4 02 0c 02 00 16"),
            Apdu::Exact("00 b0 00 00 00 00 00"),
            // SELECT EF 0002 (PIN), then an empty VERIFY P2 88 for the tries left.
            Apdu::Exact("00 a4 02 0c 02 00 02"),
            Apdu::Exact("00 20 00 88"),
            // Authenticate: application, PIN EF, VERIFY with the PIN.
            Apdu::Exact("00 a4 04 0c 10 e8 28 bd 08 0f a0 00 00 03 91 00 00 00 00 00 02"),
            Apdu::Exact("00 a4 02 0c 02 00 02"),
            Apdu::Starts("00 20 00 88", 5 + pin_len),
            // MSE SET DST: private key reference 84 02 00 0C.
            Apdu::Exact("00 22 41 b6 04 84 02 00 0c"),
            // PSO CDS of the 256-byte block in one extended APDU (Lc 000100, Le 0000).
            Apdu::Starts("00 2a 9e 9a 00 01 00", 7 + 256 + 2),
        ],
    );
}

#[test]
fn jahis_annex_b_card_transcript() {
    let h = &test_pki().holders[0];
    let (sent, _, pin_len) =
        drive(h.hpki_card_with(&sim_profile::GUIDELINE), &card_profile::JAHIS_ANNEX_B);
    check(
        "jahis-annex-b",
        &sent,
        &[
            // SELECT the application: RID E8 28 BD 08 0F, our placeholder PIX "JAHIS" 00 02.
            Apdu::Exact("00 a4 04 0c 0c e8 28 bd 08 0f 4a 41 48 49 53 00 02"),
            // READ the certificate by its short EF identifier 18 (P1 98), nothing selected, whole
            // in one extended READ.
            Apdu::Exact("00 b0 98 00 00 00 00"),
            // The PIN is SFI 16: VERIFY P2 96 names it, nothing is selected.
            Apdu::Exact("00 20 00 96"),
            Apdu::Exact("00 a4 04 0c 0c e8 28 bd 08 0f 4a 41 48 49 53 00 02"),
            Apdu::Starts("00 20 00 96", 5 + pin_len),
            // MSE SET DST: key reference 81 02 00 17 (Annex B's key, SFI 17).
            Apdu::Exact("00 22 41 b6 04 81 02 00 17"),
            Apdu::Starts("00 2a 9e 9a 00 01 00", 7 + 256 + 2),
        ],
    );
}

#[test]
fn jahis_annex_b_card_without_extended_length_transcript() {
    let h = &test_pki().holders[0];
    let short = HpkiProfile { extended_length: false, ..card_profile::JAHIS_ANNEX_B };
    let (sent, cert_len, pin_len) = drive(h.hpki_card_with(&sim_profile::GUIDELINE_SHORT), &short);
    // The certificate in 256-byte short READs: the first by SFI, the others from their offset.
    let mut expected = vec![
        Apdu::Exact("00 a4 04 0c 0c e8 28 bd 08 0f 4a 41 48 49 53 00 02"),
        Apdu::Exact("00 b0 98 00 00"),
    ];
    for offset in (256..cert_len).step_by(256) {
        let le = (cert_len - offset).min(256) as u8; // 256 encodes as 00
        let read = format!("00 b0 {:02x} {:02x} {le:02x}", offset >> 8, offset & 0xff);
        expected.push(Apdu::Exact(Box::leak(read.into_boxed_str())));
    }
    expected.extend([
        Apdu::Exact("00 20 00 96"),
        Apdu::Exact("00 a4 04 0c 0c e8 28 bd 08 0f 4a 41 48 49 53 00 02"),
        Apdu::Starts("00 20 00 96", 5 + pin_len),
        Apdu::Exact("00 22 41 b6 04 81 02 00 17"),
        // PSO CDS chained: CLA 10 with the first 255 bytes, then CLA 00 with the last and Le 00.
        Apdu::Starts("10 2a 9e 9a ff", 5 + 255),
        Apdu::Starts("00 2a 9e 9a 01", 5 + 1 + 1),
    ]);
    check("jahis-annex-b without extended length", &sent, &expected);
}
