//! The PC/SC backend through the real stack: pcsc crate → pcscd → vpcd → a cardsim card. Uses
//! reader "Virtual PCD 00 00" (cardsim's own suites use 00 01) and cardsim's pcscd fixture.
// Linux only: it starts pcscd and vpcd, Linux programs (the Windows build under Wine is
// tried against them by scripts/wine-helper-pcsc.sh instead).
#![cfg(not(windows))]

mod common;

use common::*;
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use axum::http::StatusCode;
use base64::Engine as _;
use mahpki_cardsim::{
    pcscd::{self, Pcscd},
    pki,
    serve::{SharedCard, VpcdLink},
};
use mahpki_helper::{
    card::backend::CardBackend as _,
    card::backend::pcsc::PcscBackend,
    http,
    http::guard::Guard,
    operation::{OperationConfig, Operations},
    signing::authentication_digest,
};
use rsa::Pkcs1v15Sign;
use sha2::Sha256;

const READER: &str = pcscd::READER_0.0;

fn test_pki() -> &'static pki::TestPki {
    static PKI: OnceLock<pki::TestPki> = OnceLock::new();
    PKI.get_or_init(|| pki::generate(7).expect("test PKI"))
}

fn vpcd() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], pcscd::READER_0.1))
}

/// One pcscd, one reader: the scenarios run one after the other in a single test.
#[tokio::test(flavor = "multi_thread")]
async fn pcsc_backend_through_pcscd() {
    let _pcscd = Pcscd::ensure(READER).expect("pcscd with vpcd");
    jpki_waits_for_the_card_and_signs().await;
    hpki_removed_mid_operation().await;
}

async fn jpki_waits_for_the_card_and_signs() {
    let h = &test_pki().holders[1];
    let backend = Arc::new(PcscBackend::new());
    assert!(backend.readers().unwrap().iter().any(|r| r == READER));

    let cfg = OperationConfig { poll: Duration::from_millis(100), ..Default::default() };
    let ops = Arc::new(Operations::new(backend, cfg));
    let app = http::router(Guard::new(HOST.parse().unwrap(), vec![SITE.into()]), ops);
    let challenge = [0x5a; 32];
    let id = start(&app, "jpki", &challenge).await;
    wait(&app, &id, |v| v["state"] == "waiting_card" && v["reason"] == "no_card").await;

    // First the HPKI card (wrong one), then the My Number card.
    let hpki: SharedCard = Arc::new(Mutex::new(h.hpki_card()));
    let link = VpcdLink::start(hpki, vpcd());
    let v = wait(&app, &id, |v| v["state"] == "change_card").await;
    assert_eq!(v["present"], "hpki");
    link.stop();
    let jpki: SharedCard = Arc::new(Mutex::new(h.jpki_card()));
    let link = VpcdLink::start(jpki, vpcd());
    let v = wait(&app, &id, |v| v["state"] == "waiting_pin").await;
    assert_eq!(v["tries_left"], 3);

    assert_eq!(post_pin(&app, &id, &h.spec.jpki_auth_pin).await, StatusCode::ACCEPTED);
    let v = wait(&app, &id, |v| v["state"] == "done" || v["state"] == "failed").await;
    assert_eq!(v["state"], "done", "{v}");
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(v["result"]["signature"].as_str().unwrap())
        .unwrap();
    let digest = authentication_digest(SITE, &challenge);
    h.jpki_auth_key.to_public_key().verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &sig).unwrap();
    link.stop();
}

async fn hpki_removed_mid_operation() {
    let h = &test_pki().holders[0];
    let ops = Arc::new(Operations::new(Arc::new(PcscBackend::new()), OperationConfig::default()));
    let app = http::router(Guard::new(HOST.parse().unwrap(), vec![SITE.into()]), ops);
    let link = VpcdLink::start(Arc::new(Mutex::new(h.hpki_card())), vpcd());
    let id = start(&app, "hpki", &[1u8; 32]).await;
    let v = wait(&app, &id, |v| v["state"] == "waiting_pin").await;
    assert_eq!(v["tries_left"], 15);
    // Pulled while the holder types: reported at once, and a late PIN goes nowhere.
    link.stop();
    let v = wait(&app, &id, |v| v["state"] == "failed").await;
    assert_eq!(v["error"], "card_removed");
    assert_eq!(post_pin(&app, &id, &h.spec.hpki_pin).await, StatusCode::BAD_REQUEST);
}
