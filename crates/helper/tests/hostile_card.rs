//! A hostile or broken card, generated: every answer of a real cardsim card may be replaced,
//! truncated, padded, bit-flipped or given another status word (`61xx` that never ends, `6Cxx`,
//! `63Cx`, …), and certificate files may carry garbage DER lengths. The drivers, reached through
//! `Transport` and through the backend's `CardSession`, must answer every such card with a value
//! or a typed `CardError`, never a panic, and never talk to a card without end.
//!
//! The case count is small for `make test`; `make fuzz` sets PROPTEST_CASES for a long run.

use std::sync::{Arc, Mutex, OnceLock};

use mahpki_cardsim::{Card, pki, profile as sim_profile};
use mahpki_helper::{
    card::backend::virtual_card::{SharedCard, VirtualCard, VirtualReaders},
    card::backend::{CardBackend as _, Search, find_card, survey},
    card::der,
    card::driver::{self, Detected, hpki, jpki},
    card::transport::{Transport, TransportError},
    error::CardError,
    pin::Pin,
    signing::{authentication_digest, sha256_digest_info},
};
use mahpki_protocol::{
    card_profile::{self, JAHIS_ANNEX_B, JMA},
    helper::CardType,
};
use proptest::prelude::*;

fn test_pki() -> &'static pki::TestPki {
    static PKI: OnceLock<pki::TestPki> = OnceLock::new();
    PKI.get_or_init(|| pki::generate(11).expect("test PKI"))
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// More APDUs than any honest card conversation needs by far (the longest, a 32 KiB file read
/// in single bytes, is ~33 000): past this the driver is talking to the card without end.
const APDU_BOUND: usize = 200_000;

/// What the hostile card does to one answer of the real card behind it.
#[derive(Debug, Clone)]
enum Fault {
    Pass,
    /// Keep the data, answer this status word instead.
    Sw(u16),
    /// Keep only the first `n` bytes of the raw answer (data ‖ SW), even fewer than two.
    Truncate(usize),
    /// Extra bytes before the status word (an oversized answer).
    Pad(Vec<u8>),
    /// Flip bits of one byte (index modulo the answer's length).
    Flip(usize, u8),
    /// A whole made-up raw answer.
    Replace(Vec<u8>),
    /// A certificate header with a garbage DER length, then `90 00`.
    BadDerHeader(Vec<u8>),
}

impl Fault {
    fn apply(&self, mut raw: Vec<u8>) -> Vec<u8> {
        match self {
            Self::Pass => raw,
            Self::Sw(sw) => {
                let keep = raw.len().saturating_sub(2);
                raw.truncate(keep);
                raw.extend(sw.to_be_bytes());
                raw
            }
            Self::Truncate(n) => {
                raw.truncate(*n);
                raw
            }
            Self::Pad(extra) => {
                let at = raw.len().saturating_sub(2);
                let sw = raw.split_off(at);
                raw.extend(extra);
                raw.extend(sw);
                raw
            }
            Self::Flip(i, mask) => {
                if !raw.is_empty() {
                    let i = i % raw.len();
                    raw[i] ^= mask;
                }
                raw
            }
            Self::Replace(r) => r.clone(),
            Self::BadDerHeader(h) => {
                let mut out = h.clone();
                out.extend([0x90, 0x00]);
                out
            }
        }
    }
}

/// Which real card answers behind the faults.
#[derive(Debug, Clone, Copy)]
enum Behind {
    Jpki,
    Hpki(&'static sim_profile::HpkiProfile),
    /// No card at all: every answer is `90 00` unless the script says otherwise.
    Nothing,
}

#[derive(Debug, Clone)]
struct Script {
    behind: Behind,
    /// One fault per APDU, in order; then `after` for every further APDU.
    faults: Vec<Fault>,
    after: Fault,
}

struct HostileCard {
    real: Option<Box<dyn Card>>,
    script: Script,
    sent: usize,
}

impl HostileCard {
    fn new(script: Script) -> Self {
        let h = &test_pki().holders[0];
        let real: Option<Box<dyn Card>> = match script.behind {
            Behind::Jpki => Some(Box::new(h.jpki_card())),
            Behind::Hpki(p) => Some(Box::new(h.hpki_card_with(p))),
            Behind::Nothing => None,
        };
        let mut card = Self { real, script, sent: 0 };
        VirtualCard::power_on(&mut card);
        card
    }

    fn answer(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.sent += 1;
        assert!(self.sent < APDU_BOUND, "the driver kept talking to a hostile card");
        let raw = match &mut self.real {
            Some(card) => card.transmit(apdu),
            None => vec![0x90, 0x00],
        };
        let fault = self.script.faults.get(self.sent - 1).unwrap_or(&self.script.after);
        fault.apply(raw)
    }
}

impl Transport for HostileCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        Ok(self.answer(apdu))
    }
}

impl VirtualCard for HostileCard {
    fn power_on(&mut self) {
        if let Some(card) = &mut self.real {
            card.power_on();
        }
    }
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.answer(apdu)
    }
}

fn sw() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(0x9000u16),
        any::<u8>().prop_map(|x| 0x6100 | u16::from(x)),
        any::<u8>().prop_map(|x| 0x6c00 | u16::from(x)),
        (0u16..16).prop_map(|x| 0x63c0 | x),
        prop::sample::select(vec![
            0x6282u16, 0x6700, 0x6982, 0x6983, 0x6984, 0x6a82, 0x6a86, 0x6a87, 0x6a88, 0x6b00,
            0x6d00, 0x6e00, 0x6f00,
        ]),
        any::<u16>(),
    ]
}

/// DER headers whose length is garbage: huge, indefinite, too many length bytes, erased.
fn bad_der_header() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (any::<u8>(), any::<u8>()).prop_map(|(a, b)| vec![0x30, 0x82, a, b]),
        (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, c)| vec![0x30, 0x83, a, b, c]),
        prop::collection::vec(any::<u8>(), 0..4).prop_map(|v| [vec![0x30, 0x84], v].concat()),
        Just(vec![0x30, 0x80]),
        Just(vec![0x30]),
        Just(vec![0xff, 0xff, 0xff, 0xff, 0xff]),
        Just(vec![0x00; 5]),
        prop::collection::vec(any::<u8>(), 0..6),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        6 => Just(Fault::Pass),
        2 => sw().prop_map(Fault::Sw),
        1 => (0usize..4).prop_map(Fault::Truncate),
        1 => (0usize..600).prop_map(Fault::Truncate),
        1 => prop_oneof![
            prop::collection::vec(any::<u8>(), 1..64),
            (0usize..70_000).prop_map(|n| vec![0xa5; n]),
        ].prop_map(Fault::Pad),
        1 => (any::<usize>(), 1u8..=255).prop_map(|(i, m)| Fault::Flip(i, m)),
        1 => (prop::collection::vec(any::<u8>(), 0..300), sw()).prop_map(|(mut d, sw)| {
            d.extend(sw.to_be_bytes());
            Fault::Replace(d)
        }),
        1 => prop::collection::vec(any::<u8>(), 0..3).prop_map(Fault::Replace),
        1 => bad_der_header().prop_map(Fault::BadDerHeader),
    ]
}

fn script() -> impl Strategy<Value = Script> {
    let behind = prop_oneof![
        Just(Behind::Jpki),
        prop::sample::select(sim_profile::ALL.to_vec()).prop_map(Behind::Hpki),
        Just(Behind::Nothing),
    ];
    // Persistent faults: a card that always says 61xx, always truncates, always lies the same way.
    let after = prop_oneof![
        4 => Just(Fault::Pass),
        1 => fault(),
    ];
    (behind, prop::collection::vec(fault(), 0..40), after)
        .prop_map(|(behind, faults, after)| Script { behind, faults, after })
}

fn is_honest(s: &Script) -> bool {
    s.faults.iter().chain([&s.after]).all(|f| matches!(f, Fault::Pass))
}

fn pins() -> (Pin, Pin) {
    let h = &test_pki().holders[0];
    (
        Pin::parse(CardType::Jpki, h.spec.jpki_auth_pin.clone()).unwrap(),
        Pin::parse(CardType::Hpki, h.spec.hpki_pin.clone()).unwrap(),
    )
}

/// A certificate the driver read must be exactly the DER object its header sized.
fn check_read(cert: &[u8]) -> Result<(), TestCaseError> {
    prop_assert_eq!(der::total_len(cert), Ok(cert.len()));
    Ok(())
}

/// Every driver entry point against one card.
fn drive(t: &mut dyn Transport, honest: bool) -> Result<(), TestCaseError> {
    let (jpki_pin, hpki_pin) = pins();
    let di = sha256_digest_info(&authentication_digest("https://hpki.example.jp", &[7; 32]));
    let detected = driver::identify(t);
    if let Ok(info) = jpki::read_info(t) {
        check_read(&info.certificate)?;
        prop_assert!(info.ca_certificate.is_some());
        if let Some(ca) = &info.ca_certificate {
            check_read(ca)?;
        }
    }
    let signed = jpki::authenticate(t, &jpki_pin, &di);
    let mut hpki_signed = Err(CardError::Unsupported);
    for &p in card_profile::ALL {
        match hpki::read_info(t, p) {
            Ok(info) => {
                check_read(&info.certificate)?;
                let sig = hpki::authenticate(t, p, &info.certificate, &hpki_pin, &di);
                if let Ok(sig) = &sig {
                    prop_assert_eq!(Ok(sig.len()), der::rsa_modulus_len(&info.certificate));
                }
                hpki_signed = hpki_signed.or(sig);
            }
            Err(e) => {
                // Typed: every error names a catalogued code.
                let _ = e.code();
            }
        }
    }
    if honest {
        // The faults are the only reason to fail: an honest card works (the test can fail).
        let detected = detected.expect("an honest card identifies");
        match detected {
            Detected::Jpki => prop_assert!(signed.is_ok(), "{:?}", signed),
            Detected::Hpki(_) => prop_assert!(hpki_signed.is_ok(), "{:?}", hpki_signed),
            other => prop_assert!(false, "honest card identified as {:?}", other),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(32), ..ProptestConfig::default() })]

    /// The drivers over the raw `Transport`.
    #[test]
    fn drivers_answer_hostile_cards_with_typed_errors(s in script()) {
        let honest = is_honest(&s) && !matches!(s.behind, Behind::Nothing);
        let mut card = HostileCard::new(s);
        drive(&mut card, honest)?;
    }

    /// The same card in a virtual reader, through the backend the operation runner uses:
    /// `survey` (what `/v1/status` shows), `find_card`, and the session's three calls.
    #[test]
    fn backend_sessions_answer_hostile_cards_with_typed_errors(s in script()) {
        let readers = VirtualReaders::new(&["Reader A"]);
        let card: SharedCard = Arc::new(Mutex::new(HostileCard::new(s)));
        readers.insert("Reader A", card);
        let shown = survey(&readers);
        prop_assert_eq!(shown.len(), 1);
        let (jpki_pin, hpki_pin) = pins();
        let di = sha256_digest_info(&[9; 32]);
        for wanted in [CardType::Jpki, CardType::Hpki] {
            let Ok(Search::Found(mut session, detected, info)) = find_card(&readers, wanted, &|| {})
            else {
                continue;
            };
            prop_assert_eq!(detected.card_type(), Some(wanted));
            let Ok(info) = info else { continue };
            check_read(&info.certificate)?;
            let pin = if wanted == CardType::Jpki { &jpki_pin } else { &hpki_pin };
            let _ = session.authenticate(detected, &info, pin, &di);
        }
        let mut session = readers.connect("Reader A").expect("a card is inserted");
        let _ = session.identify();
        for d in [Detected::Jpki, Detected::Hpki(&JMA), Detected::Hpki(&JAHIS_ANNEX_B)] {
            let _ = session.read_info(d);
        }
    }

    /// `authenticate` trusts nothing about the certificate it is handed (it came from the
    /// card): real certificates bit-flipped, truncated or with garbage lengths give typed errors.
    #[test]
    fn hpki_signing_survives_garbage_certificates(
        flips in prop::collection::vec((any::<usize>(), 1u8..=255), 0..6),
        cut in prop::option::of(any::<usize>()),
        header in prop::option::of(bad_der_header()),
        profile in prop::sample::select(sim_profile::ALL.to_vec()),
    ) {
        let h = &test_pki().holders[0];
        let mut cert = h.hpki_cert.clone();
        for (i, m) in flips {
            let i = i % cert.len();
            cert[i] ^= m;
        }
        if let Some(n) = cut {
            cert.truncate(n % (cert.len() + 1));
        }
        if let Some(head) = header {
            let n = head.len().min(cert.len());
            let mut out = head;
            out.extend_from_slice(&cert[n..]);
            cert = out;
        }
        let (_, pin) = pins();
        let di = sha256_digest_info(&[1; 32]);
        let mut card = HostileCard::new(Script {
            behind: Behind::Hpki(profile),
            faults: vec![],
            after: Fault::Pass,
        });
        let ours = if profile.name == "jma" { &JMA } else { &JAHIS_ANNEX_B };
        match hpki::authenticate(&mut card, ours, &cert, &pin, &di) {
            Ok(sig) => prop_assert_eq!(Ok(sig.len()), der::rsa_modulus_len(&cert)),
            Err(e) => { let _ = e.code(); }
        }
        let _ = der::rsa_modulus_len(&cert);
        let _ = der::total_len(&cert);
    }
}
