//! `make bench`: throughput of the HPKI `finish` path (challenge, then finish: challenge taken
//! from the store, certificate chain and CRL, signature, holder lookup, session rotation) through
//! the real router on SQLite, beside the raw RSA-2048 verify rate on the same machine.
//! Prints Markdown table rows for BENCHMARKS.md.

// The tests' PKI fixture and browser; the bench uses only part of them.
#[path = "../tests/common/browser.rs"]
#[allow(dead_code)]
mod browser;
#[path = "../tests/common/pki.rs"]
#[allow(dead_code)]
mod pki;

use std::time::{Duration, Instant};

use mahpki_protocol::{
    HpkiId,
    api::{Ca, Holder, Qualification},
};
use mahpki_server::{
    Config,
    http::{AppState, RateLimiter, router},
    pki::{TrustStore, signed_data},
    store::{IdentityRecord, Store},
};
use rsa::{pkcs8::DecodePublicKey as _, signature::Verifier as _};
use x509_parser::prelude::*;

const ORIGIN: &str = "https://hpki.example.jp";
const SECONDS: u64 = 5;

fn main() {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap();
    let keys = pki::keys();
    let dir = tempfile::tempdir().unwrap();
    let ca = pki::ca("HPKI bench CA", &keys.hpki_ca);
    let trust =
        pki::trust_config(dir.path(), "hpki", &ca, &keys.hpki_ca, pki::HPKI_POLICY_STR, 2099);
    let cert = pki::issue(
        &pki::ee_params("bench holder", 1, pki::HPKI_POLICY),
        &keys.holder,
        &ca.params,
        &keys.hpki_ca,
    );

    // Raw RSA-2048 PKCS#1 v1.5 verify, one core.
    let (_, parsed) = X509Certificate::from_der(&cert).unwrap();
    let public = rsa::PublicKey::from_public_key_der(parsed.public_key().raw).unwrap();
    let verifier = rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(public);
    let msg = signed_data(ORIGIN, &[7; 32]);
    let sig =
        rsa::pkcs1v15::Signature::try_from(keys.holder.sign_challenge(ORIGIN, &[7; 32]).as_slice())
            .unwrap();
    let raw = rate(|| assert!(verifier.verify(&msg, &sig).is_ok()));

    let per_sec = rt.block_on(async {
        let store = Store::open_sqlite(&dir.path().join("data")).await.unwrap();
        store
            .identity_upsert(&IdentityRecord {
                holder: Holder {
                    hpki_id: HpkiId::parse("JMA-0000001").unwrap(),
                    ca: Ca::Jma,
                    qualification: Qualification::Doctor,
                    name_kanji: "医師 太郎".into(),
                    name_kana: "イシ タロウ".into(),
                    name_roman: "ISHI TARO".into(),
                },
                registration_number: "1".into(),
                hpki_card_mac: b"C1".to_vec(),
                cert_issuer: parsed.issuer().as_raw().to_vec(),
                cert_subject: parsed.subject().as_raw().to_vec(),
            })
            .await
            .unwrap();
        let config = Config { public_origin: ORIGIN.into(), ..Config::default() };
        let mut state = AppState::new(
            config,
            store,
            TrustStore::load(&[trust]).unwrap(),
            TrustStore::default(),
        );
        state.limiter = RateLimiter::new(u32::MAX, u32::MAX);
        let app = router(state, None);
        let deadline = Instant::now() + Duration::from_secs(SECONDS);
        let workers: Vec<_> = (0..threads * 2)
            .map(|_| {
                let (app, cert) = (app.clone(), cert.clone());
                tokio::spawn(async move {
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        login(&app, &cert).await;
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        let start = Instant::now();
        let mut total = 0;
        for w in workers {
            total += w.await.unwrap();
        }
        total as f64 / start.elapsed().as_secs_f64()
    });
    println!("| RSA-2048 PKCS#1 v1.5 verify, raw, 1 thread | {raw:.0} /s |");
    println!(
        "| HPKI challenge + finish through the router, SQLite, {threads} worker threads | {per_sec:.0} /s |"
    );
}

fn rate(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(SECONDS) {
        f();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

async fn login(app: &axum::Router, cert: &[u8]) {
    let a = browser::Browser::new(app).hpki_login(cert, &pki::keys().holder, ORIGIN).await;
    assert!(a.status.is_success(), "{}", a.status);
}
