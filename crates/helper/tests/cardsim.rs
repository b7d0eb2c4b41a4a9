//! The drivers and the whole operation lifecycle against crates/cardsim's virtual cards: real
//! card behaviour (files, PIN counters, security state, extended length and chaining), reached
//! through the same `Transport` as PC/SC.

mod common;

use common::*;
use std::{
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use axum::{Router, http::StatusCode};
use base64::Engine as _;
use mahpki_cardsim::{Card, pki, profile as sim_profile};
use mahpki_helper::{
    card::backend::CardBackend as _,
    card::backend::virtual_card::{SharedCard, VirtualCard, VirtualReaders},
    card::driver::{self, Detected, PinStatus, hpki, jpki},
    card::transport::{Transport, TransportError},
    error::CardError,
    http,
    http::guard::Guard,
    operation::{OperationConfig, Operations},
    pin::Pin,
    signing::{authentication_digest, sha256_digest_info},
};
use mahpki_protocol::{
    card_profile::{HpkiProfile, JAHIS_ANNEX_B, JMA},
    helper::CardType,
};
use rsa::{Pkcs1v15Sign, PrivateKey};
use sha2::Sha256;

fn test_pki() -> &'static pki::TestPki {
    static PKI: OnceLock<pki::TestPki> = OnceLock::new();
    PKI.get_or_init(|| pki::generate(7).expect("test PKI"))
}

/// cardsim's `Card` as the helper's `VirtualCard`.
struct Sim<C>(C);

impl<C: Card> VirtualCard for Sim<C> {
    fn power_on(&mut self) {
        self.0.power_on();
    }
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.0.transmit(apdu)
    }
}

impl<C: Card> Transport for Sim<C> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        Ok(self.0.transmit(apdu))
    }
}

fn powered<C: Card>(mut c: C) -> Sim<C> {
    c.power_on();
    Sim(c)
}

fn verifies(key: &PrivateKey, digest: &[u8; 32], sig: &[u8]) -> bool {
    key.to_public_key().verify(Pkcs1v15Sign::new::<Sha256>(), digest, sig).is_ok()
}

/// The guideline's example layout on a card without extended APDUs: PSO must be chained.
const GUIDELINE_SHORT: HpkiProfile =
    HpkiProfile { name: "guideline-short", extended_length: false, ..JAHIS_ANNEX_B };

#[test]
fn identifies_cards_by_select() {
    let h = &test_pki().holders[0];
    assert_eq!(driver::identify(&mut powered(h.jpki_card())).unwrap(), Detected::Jpki);
    assert_eq!(
        driver::identify(&mut powered(h.hpki_card_with(&sim_profile::JMA))).unwrap(),
        Detected::Hpki(&JMA)
    );
    // The guideline's Annex B layout, with and without extended APDUs: same application.
    for sim in [&sim_profile::GUIDELINE, &sim_profile::GUIDELINE_SHORT] {
        assert_eq!(
            driver::identify(&mut powered(h.hpki_card_with(sim))).unwrap(),
            Detected::Hpki(&JAHIS_ANNEX_B)
        );
    }
}

#[test]
fn jpki_reads_counts_and_signs() {
    let h = &test_pki().holders[1];
    let mut card = powered(h.jpki_card());
    let info = jpki::read_info(&mut card).unwrap();
    assert_eq!(info.certificate, h.jpki_auth_cert);
    assert_eq!(info.ca_certificate.as_deref(), Some(h.jpki_auth_ca.as_slice()));
    assert_eq!(info.pin, PinStatus::TriesLeft(3));

    let digest = authentication_digest("https://hpki.example.jp", &[9; 32]);
    let di = sha256_digest_info(&digest);
    let wrong = Pin::parse(
        CardType::Jpki,
        if h.spec.jpki_auth_pin == "0000" { "1111" } else { "0000" }.into(),
    )
    .unwrap();
    assert_eq!(
        jpki::authenticate(&mut card, &wrong, &di),
        Err(CardError::PinWrong { tries_left: Some(2) })
    );
    assert_eq!(jpki::read_info(&mut card).unwrap().pin, PinStatus::TriesLeft(2));
    let pin = Pin::parse(CardType::Jpki, h.spec.jpki_auth_pin.clone()).unwrap();
    let sig = jpki::authenticate(&mut card, &pin, &di).unwrap();
    assert!(verifies(&h.jpki_auth_key, &digest, &sig));
    assert!(!verifies(
        &h.jpki_auth_key,
        &authentication_digest("https://evil.example", &[9; 32]),
        &sig
    ));
}

#[test]
fn jpki_locks_after_three_wrong_pins() {
    let h = &test_pki().holders[0];
    let mut card = powered(h.jpki_card());
    let di = sha256_digest_info(&[0; 32]);
    let wrong = Pin::parse(
        CardType::Jpki,
        if h.spec.jpki_auth_pin == "0000" { "1111" } else { "0000" }.into(),
    )
    .unwrap();
    assert_eq!(
        jpki::authenticate(&mut card, &wrong, &di),
        Err(CardError::PinWrong { tries_left: Some(2) })
    );
    assert_eq!(
        jpki::authenticate(&mut card, &wrong, &di),
        Err(CardError::PinWrong { tries_left: Some(1) })
    );
    assert!(matches!(
        jpki::authenticate(&mut card, &wrong, &di),
        Err(CardError::PinLocked(CardType::Jpki))
    ));
    assert_eq!(jpki::read_info(&mut card).unwrap().pin, PinStatus::Locked);
    let right = Pin::parse(CardType::Jpki, h.spec.jpki_auth_pin.clone()).unwrap();
    assert!(matches!(
        jpki::authenticate(&mut card, &right, &di),
        Err(CardError::PinLocked(CardType::Jpki))
    ));
}

#[test]
fn hpki_extended_and_chained_signatures_verify() {
    let h = &test_pki().holders[0];
    let digest = authentication_digest("https://hpki.example.jp", &[3; 32]);
    let di = sha256_digest_info(&digest);
    let pin = Pin::parse(CardType::Hpki, h.spec.hpki_pin.clone()).unwrap();
    for (sim, ours) in [
        (&sim_profile::JMA, &JMA),
        (&sim_profile::GUIDELINE, &JAHIS_ANNEX_B),
        // Extended first, refused, then chained.
        (&sim_profile::GUIDELINE_SHORT, &JAHIS_ANNEX_B),
        // Chained from the start.
        (&sim_profile::GUIDELINE_SHORT, &GUIDELINE_SHORT),
    ] {
        let mut card = powered(h.hpki_card_with(sim));
        let info = hpki::read_info(&mut card, ours).unwrap();
        assert_eq!(info.certificate, h.hpki_cert, "{}", ours.name);
        assert!(matches!(info.pin, PinStatus::TriesLeft(15)), "{}: {:?}", ours.name, info.pin);
        let sig = hpki::authenticate(&mut card, ours, &info.certificate, &pin, &di).unwrap();
        assert!(verifies(&h.hpki_key, &digest, &sig), "{}", ours.name);
    }
    let mut card = powered(h.hpki_card_with(&sim_profile::JMA));
    let wrong = Pin::parse(CardType::Hpki, format!("{}x", h.spec.hpki_pin)).unwrap();
    let cert = hpki::read_info(&mut card, &JMA).unwrap().certificate;
    assert_eq!(
        hpki::authenticate(&mut card, &JMA, &cert, &wrong, &di),
        Err(CardError::PinWrong { tries_left: Some(14) })
    );
}

#[test]
fn session_over_virtual_reader_reports_removal() {
    let h = &test_pki().holders[0];
    let readers = VirtualReaders::new(&["Reader A"]);
    let card: SharedCard = Arc::new(Mutex::new(Sim(h.jpki_card())));
    readers.insert("Reader A", card.clone());
    let mut session = readers.connect("Reader A").unwrap();
    assert_eq!(session.identify().unwrap(), Detected::Jpki);
    readers.remove("Reader A");
    assert_eq!(session.read_info(Detected::Jpki), Err(CardError::Removed));
    // Same card back in: an old session stays dead, a new one works.
    readers.insert("Reader A", card);
    assert_eq!(session.identify(), Err(CardError::Removed));
}

// ---- The whole lifecycle through the HTTP API, with cards moving in and out of a reader. ----

fn app(readers: &VirtualReaders) -> Router {
    let cfg = OperationConfig { poll: Duration::from_millis(20), ..Default::default() };
    let ops = Arc::new(Operations::new(Arc::new(readers.clone()), cfg));
    http::router(Guard::new(HOST.parse().unwrap(), vec![SITE.into()]), ops)
}

#[tokio::test]
async fn jpki_lifecycle_change_card_wrong_pin_then_done() {
    let h = &test_pki().holders[1];
    let readers = VirtualReaders::new(&["Reader A"]);
    let app = app(&readers);
    // The HPKI card is still in from the previous step.
    readers.insert("Reader A", Arc::new(Mutex::new(Sim(h.hpki_card_with(&sim_profile::JMA)))));
    let challenge = [0x11; 32];
    let id = start(&app, "jpki", &challenge).await;
    let v = wait(&app, &id, |v| v["state"] == "change_card").await;
    assert_eq!(v["present"], "hpki");

    readers.remove("Reader A");
    wait(&app, &id, |v| v["state"] == "waiting_card" && v["reason"] == "no_card").await;
    let my_number: SharedCard = Arc::new(Mutex::new(Sim(h.jpki_card())));
    readers.insert("Reader A", my_number.clone());
    let v = wait(&app, &id, |v| v["state"] == "waiting_pin").await;
    assert_eq!(v["tries_left"], 3);

    let wrong = if h.spec.jpki_auth_pin == "0000" { "1111" } else { "0000" };
    assert_eq!(post_pin(&app, &id, wrong).await, StatusCode::ACCEPTED);
    let v =
        wait(&app, &id, |v| v["state"] == "waiting_pin" && v["last_error"] == "pin_wrong").await;
    assert_eq!(v["tries_left"], 2);

    assert_eq!(post_pin(&app, &id, &h.spec.jpki_auth_pin).await, StatusCode::ACCEPTED);
    let v = wait(&app, &id, |v| v["state"] == "done" || v["state"] == "failed").await;
    assert_eq!(v["state"], "done", "{v}");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let r = &v["result"];
    assert_eq!(b64.decode(r["certificate"].as_str().unwrap()).unwrap(), h.jpki_auth_cert);
    assert_eq!(b64.decode(r["ca_certificate"].as_str().unwrap()).unwrap(), h.jpki_auth_ca);
    let sig = b64.decode(r["signature"].as_str().unwrap()).unwrap();
    assert!(verifies(&h.jpki_auth_key, &authentication_digest(SITE, &challenge), &sig));

    // The helper reset the card after signing: another program cannot sign without the PIN.
    let mut card = my_number.lock().unwrap();
    let sw = |r: Vec<u8>| u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]);
    let mut select_ap = vec![0x00, 0xa4, 0x04, 0x0c, 0x0a];
    select_ap.extend_from_slice(jpki::AUTH_AP);
    assert_eq!(sw(card.transmit(&select_ap)), 0x9000);
    assert_eq!(sw(card.transmit(&[0x00, 0xa4, 0x02, 0x0c, 0x02, 0x00, 0x17])), 0x9000);
    let mut sign = vec![0x80, 0x2a, 0x00, 0x80, 51];
    sign.extend_from_slice(&sha256_digest_info(&[0; 32]));
    sign.push(0x00);
    assert_eq!(sw(card.transmit(&sign)), 0x6982);
}

#[tokio::test]
async fn hpki_card_removed_while_waiting_for_pin() {
    let h = &test_pki().holders[0];
    let readers = VirtualReaders::new(&["Reader A"]);
    let app = app(&readers);
    readers.insert("Reader A", Arc::new(Mutex::new(Sim(h.hpki_card_with(&sim_profile::JMA)))));
    let id = start(&app, "hpki", &[0x22; 32]).await;
    let v = wait(&app, &id, |v| v["state"] == "waiting_pin").await;
    assert_eq!(v["tries_left"], 15);
    // Pulled while the holder types: reported at once, and a late PIN goes nowhere.
    readers.remove("Reader A");
    let v = wait(&app, &id, |v| v["state"] == "failed").await;
    assert_eq!(v["error"], "card_removed");
    assert_eq!(post_pin(&app, &id, &h.spec.hpki_pin).await, StatusCode::BAD_REQUEST);
}
