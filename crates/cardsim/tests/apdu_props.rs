//! The virtual cards take outside bytes: whatever pcscd relays through vpcd, from any PC/SC
//! program on the machine. Sequences of hostile APDUs (noise, real commands with damaged
//! lengths, chains that never end, PIN guesses) get an answer with a status word from every
//! card, never a panic; and vpcd frames of any shape are read or refused, never a panic.
//!
//! The case count is small for `make test`; `make fuzz` sets PROPTEST_CASES for a long run.

use std::sync::OnceLock;

use mahpki_cardsim::{Card, pki, profile, vpcd};
use proptest::prelude::*;

fn test_pki() -> &'static pki::TestPki {
    static PKI: OnceLock<pki::TestPki> = OnceLock::new();
    PKI.get_or_init(|| pki::generate(19).expect("test PKI"))
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Commands the cards know, so hostile sequences get past "INS not supported" and select files.
fn known() -> Vec<Vec<u8>> {
    let jma = profile::JMA.layout.auth_aid;
    let guideline = profile::GUIDELINE.layout.auth_aid;
    let mut v = vec![
        vec![
            0x00, 0xa4, 0x04, 0x0c, 0x0a, 0xd3, 0x92, 0xf0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00,
            0x01,
        ],
        vec![0x00, 0xa4, 0x02, 0x0c, 0x02, 0x00, 0x0a],
        vec![0x00, 0xa4, 0x02, 0x0c, 0x02, 0x00, 0x16],
        vec![0x00, 0xa4, 0x02, 0x0c, 0x02, 0x00, 0x18],
        vec![0x00, 0xa4, 0x02, 0x0c, 0x02, 0x00, 0x17],
        vec![0x00, 0xb0, 0x00, 0x00, 0x00],
        vec![0x00, 0xb0, 0x98, 0x00, 0x00],
        vec![0x00, 0xb0, 0x7f, 0xff, 0x00, 0xff, 0xff],
        vec![0x00, 0x20, 0x00, 0x80],
        vec![0x00, 0x20, 0x00, 0x88],
        vec![0x00, 0x20, 0x00, 0x96],
        vec![0x00, 0x22, 0x41, 0xb6, 0x04, 0x84, 0x02, 0x00, 0x0c],
        vec![0x00, 0x22, 0x41, 0xb6, 0x04, 0x81, 0x02, 0x00, 0x17],
    ];
    for aid in [jma, guideline] {
        for p2 in [0x0c, 0x00] {
            let mut s = vec![0x00, 0xa4, 0x04, p2, aid.len() as u8];
            s.extend_from_slice(aid);
            s.push(0x00);
            v.push(s);
        }
    }
    v
}

fn apdu() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // A known command, as is or damaged.
        4 => (prop::sample::select(known()), prop::collection::vec((any::<usize>(), any::<u8>()), 0..3), prop::option::of(any::<usize>()))
            .prop_map(|(mut c, sets, cut)| {
                for (i, b) in sets {
                    let i = i % c.len();
                    c[i] = b;
                }
                if let Some(n) = cut {
                    c.truncate(n % (c.len() + 1));
                }
                c
            }),
        // PSO / sign / VERIFY with data of any size, short, extended or chained (CLA 10).
        3 => (prop::sample::select(vec![[0x00u8, 0x2a, 0x9e, 0x9a], [0x10, 0x2a, 0x9e, 0x9a], [0x80, 0x2a, 0x00, 0x80], [0x00, 0x20, 0x00, 0x88], [0x10, 0x20, 0x00, 0x96]]),
              prop::collection::vec(any::<u8>(), 0..600), any::<bool>())
            .prop_map(|(h, data, extended)| {
                let mut c = h.to_vec();
                if extended || data.len() > 255 {
                    c.push(0);
                    c.extend((data.len() as u16).to_be_bytes());
                    c.extend(&data);
                    c.extend([0, 0]);
                } else {
                    c.push(data.len() as u8);
                    c.extend(&data);
                    c.push(0);
                }
                c
            }),
        2 => prop::collection::vec(any::<u8>(), 0..300),
    ]
}

fn cards() -> Vec<Box<dyn Card>> {
    let h = &test_pki().holders[0];
    let mut v: Vec<Box<dyn Card>> = vec![Box::new(h.jpki_card())];
    for p in profile::ALL {
        v.push(Box::new(h.hpki_card_with(p)));
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(32), ..ProptestConfig::default() })]

    #[test]
    fn every_card_answers_every_apdu_sequence(
        seq in prop::collection::vec((apdu(), prop::option::of(Just(()))), 1..40),
    ) {
        for mut card in cards() {
            card.power_on();
            for (apdu, reset) in &seq {
                if reset.is_some() && apdu.len() % 7 == 0 {
                    card.power_on();
                }
                let r = card.transmit(apdu);
                prop_assert!(r.len() >= 2, "answer without a status word to {:02x?}", apdu);
                let sw1 = r[r.len() - 2];
                prop_assert!(matches!(sw1 >> 4, 0x6 | 0x9), "SW1 {:02x} to {:02x?}", sw1, apdu);
            }
        }
    }

    #[test]
    fn vpcd_frames_are_read_or_refused(wire in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut r = wire.as_slice();
        // Every frame until the end or an error; each read consumes bytes, so this ends.
        while let Ok(Some(_)) = vpcd::read_request(&mut r) {}
    }
}
