//! `make bench`: sign-in throughput through the real router — the HPKI card (challenge, then
//! finish: challenge taken from the store, certificate chain and CRL, signature, holder lookup,
//! session rotation, audit), the My Number card's daily sign-in (the same card path, then a
//! signing session) and the passkey on the phone (begin, then finish: WebAuthn verification,
//! counter update, signing session, audit) — on SQLite and on PostgreSQL (a cluster of its own
//! with fsync on, as deployed), beside the crypto that bounds them, measured in the same run.
//! Prints Markdown table rows for BENCHMARKS.md.

// The tests' world (PKI fixture, browser, phones with soft passkeys, PostgreSQL server); the
// bench uses only part of it (common/mod.rs allows the dead code itself).
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "common/doctor.rs"]
mod doctor;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Router, http::StatusCode};
use common::{Db, browser::Browser, pki, world::*};
use doctor::doctor;
use mahpki_protocol::enrol::{AssertionOptions, PublicKeyCredential};
use mahpki_server::{
    events::Events,
    http::{AppState, RateLimiter, router},
    pki::{TrustStore, signed_data},
};
use rsa::{pkcs8::DecodePublicKey as _, signature::Verifier as _};
use serde_json::Value;
use webauthn_authenticator_rs::{WebauthnAuthenticator as _, softpasskey::SoftPasskey};
use webauthn_rs_proto::AllowCredentials;
use x509_parser::prelude::*;

/// How long each raw crypto rate is measured.
const SECONDS: u64 = 5;
/// Browsers signing in at once (clinics at opening time).
const CLIENTS: usize = 16;
/// Sign-ins per row: their cards' RSA-3072 signatures take a few seconds on two cores.
const SIGN_INS: usize = 800;

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .unwrap();
    let keys = pki::keys();

    // Raw RSA PKCS#1 v1.5 verify and sign with the fixture's keys (RSA-3072), P-256 ECDSA verify,
    // one core each.
    let dir = tempfile::tempdir().unwrap();
    let ca = pki::ca("HPKI bench CA", &keys.hpki_ca);
    let _ = pki::trust_config(dir.path(), "hpki", &ca, &keys.hpki_ca, pki::HPKI_POLICY_STR, 2099);
    let cert = pki::holder_cert(&ca);
    let (_, parsed) = X509Certificate::from_der(&cert).unwrap();
    let public = rsa::PublicKey::from_public_key_der(parsed.public_key().raw).unwrap();
    let verifier = rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(public);
    let msg = signed_data(ORIGIN, &[7; 32]);
    let sig = keys.holder.sign_challenge(ORIGIN, &[7; 32]);
    let bits = sig.len() * 8;
    let sig = rsa::pkcs1v15::Signature::try_from(sig.as_slice()).unwrap();
    let rsa_verify = rate(|| assert!(verifier.verify(&msg, &sig).is_ok()));
    // The fixture's keys are RSA-3072 (tests/common/pki.rs); HPKI and JPKI cards carry
    // RSA-2048, whose verification is about twice as fast: the bound below is the fixture's.
    let rsa_sign =
        rate(|| assert_eq!(keys.holder.sign_challenge(ORIGIN, &[7; 32]).len() * 8, bits));
    let p256_verify = {
        use p256::ecdsa::{Signature, SigningKey, signature::Signer as _};
        let key = SigningKey::from_slice(&[0x42; 32]).unwrap();
        let sig: Signature = key.sign(&msg);
        let vk = *key.verifying_key();
        rate(|| assert!(vk.verify(&msg, &sig).is_ok()))
    };
    println!("| RSA-{bits} PKCS#1 v1.5 verify, raw, 1 thread | {rsa_verify:.0} /s |");
    println!("| P-256 ECDSA verify, raw, 1 thread | {p256_verify:.0} /s |");
    println!(
        "| RSA-{bits} sign, raw, 1 thread (the bench's own cards sign with it, between the timed windows) | {rsa_sign:.0} /s |"
    );
    // Two RSA verifications per card sign-in (the certificate's, the challenge's); one P-256
    // verification per passkey sign-in.
    let card_bound = rsa_verify * cores as f64 / 2.0;
    let passkey_bound = p256_verify * cores as f64;
    println!(
        "| crypto bound, card sign-in: {rsa_verify:.0} × {cores} cores ÷ 2 RSA-{bits} verifications | {card_bound:.0} /s |"
    );
    println!(
        "| crypto bound, passkey sign-in: {p256_verify:.0} × {cores} cores ÷ 1 P-256 verification | {passkey_bound:.0} /s |"
    );
    // What one durable commit costs on this disk: SQLite's one writer syncs its WAL once per
    // durable commit, and each sign-in makes one (scripts/bench-signin-writes.md).
    let syncs = {
        use std::io::Write as _;
        let mut f = std::fs::File::create(dir.path().join("wal")).unwrap();
        rate(|| {
            f.write_all(&[0; 4096]).unwrap();
            f.sync_data().unwrap();
        })
    };
    println!(
        "| write + fdatasync of 4 KiB, the data directory's disk, 1 thread: one SQLite writer's durable commits a second, at most | {syncs:.0} /s |"
    );

    // Durable commits as a deployment makes them: this process's PostgreSQL fsyncs.
    common::postgres::durable();
    for (db, name) in [(Db::Sqlite, "SQLite"), (Db::Postgres, "PostgreSQL")] {
        rt.block_on(async {
            let w = world(db).await;
            let app = unthrottled(&w);
            let hpki = Arc::new(w.hpki_cert());
            let t = card_signins(&app, "/api/hpki/challenge", "/api/hpki/finish", &hpki).await;
            row(&format!("HPKI card: challenge + finish, {name}"), &t, card_bound);

            let card = Arc::new(w.jpki_cert(0x5001));
            bind_mynumber(&app, &hpki, &card).await;
            let t =
                card_signins(&app, "/api/signin/mynumber/challenge", "/api/signin/mynumber", &card)
                    .await;
            row(&format!("My Number card: challenge + sign-in, {name}"), &t, card_bound);

            // A passkey's counter only moves forward, so each client signs in as its own holder
            // with its own phone, its sign-ins in order.
            let mut phones = Vec::new();
            for i in 0..CLIENTS {
                phones.push(holder_with_phone(&w, &app, i).await);
            }
            let t = passkey_signins(&app, phones).await;
            row(&format!("passkey on the phone: begin + finish, {name}"), &t, passkey_bound);
        });
    }
}

/// The two timed steps of [`SIGN_INS`] sign-ins, each step's requests made by [`CLIENTS`]
/// clients at once; what the clients' own cards or phones do between them is not timed.
struct Steps {
    first: Duration,
    second: Duration,
}

impl Steps {
    fn per_sec(&self) -> f64 {
        SIGN_INS as f64 / (self.first + self.second).as_secs_f64()
    }
}

/// Card sign-ins: every challenge taken (timed), then signed by the card on every core (not
/// timed: a real card signs in the holder's reader, not on the server's cores), then every
/// answer sent (timed).
async fn card_signins(app: &Router, challenge: &str, finish: &str, cert: &Arc<Vec<u8>>) -> Steps {
    let (first, taken) = lanes(spread((0..SIGN_INS).collect()), {
        let (app, challenge) = (app.clone(), challenge.to_owned());
        move |_| {
            let (app, challenge) = (app.clone(), challenge.clone());
            async move {
                let mut b = Browser::new(&app);
                let c = b.challenge(&challenge).await;
                (b, c)
            }
        }
    })
    .await;
    let signed: Vec<Vec<_>> = std::thread::scope(|scope| {
        let lanes: Vec<_> = taken
            .into_iter()
            .map(|lane| {
                scope.spawn(move || {
                    lane.into_iter()
                        .map(|(b, c)| {
                            let sig = pki::keys().holder.sign_challenge(ORIGIN, &c);
                            (b, c, sig)
                        })
                        .collect()
                })
            })
            .collect();
        lanes.into_iter().map(|l| l.join().unwrap()).collect()
    });
    let (second, _) = lanes(signed, {
        let (finish, cert) = (finish.to_owned(), cert.clone());
        move |(mut b, c, sig): (Browser, Vec<u8>, Vec<u8>)| {
            let (finish, cert) = (finish.clone(), cert.clone());
            async move {
                let a = b.finish(&finish, &c, &cert, &sig).await;
                assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
            }
        }
    })
    .await;
    Steps { first, second }
}

/// Passkey sign-ins, one lane per phone: every begin (timed), the phone's assertion (not
/// timed), every finish in each phone's order (timed).
async fn passkey_signins(app: &Router, phones: Vec<(SoftPasskey, Vec<u8>)>) -> Steps {
    let (first, begun) = lanes(spread((0..SIGN_INS).collect()), {
        let app = app.clone();
        move |_| {
            let app = app.clone();
            async move {
                let mut b = Browser::new(&app);
                let a = b.send("POST", "/api/signin/passkey/begin", None).await;
                assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
                (b, a.body)
            }
        }
    })
    .await;
    let answered: Vec<Vec<_>> = begun
        .into_iter()
        .zip(phones)
        .map(|(lane, (mut key, id))| {
            lane.into_iter().map(|(b, options)| (b, answer(&mut key, options, &id))).collect()
        })
        .collect();
    let (second, _) = lanes(answered, |(mut b, cred): (Browser, PublicKeyCredential)| async move {
        let body = serde_json::json!({ "credential": cred }).to_string();
        let a = b.send("POST", "/api/signin/passkey/finish", Some(body)).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    })
    .await;
    Steps { first, second }
}

/// `items` dealt round-robin into [`CLIENTS`] lanes.
fn spread<T>(items: Vec<T>) -> Vec<Vec<T>> {
    let mut lanes: Vec<Vec<T>> = (0..CLIENTS).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        lanes[i % CLIENTS].push(item);
    }
    lanes
}

/// Each lane a client on the runtime's threads, doing its items in order; how long until the
/// last is done, and each lane's results.
async fn lanes<T, U, F, Fut>(lanes: Vec<Vec<T>>, one: F) -> (Duration, Vec<Vec<U>>)
where
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = U> + Send + 'static,
{
    let start = Instant::now();
    let clients: Vec<_> = lanes
        .into_iter()
        .map(|lane| {
            let one = one.clone();
            tokio::spawn(async move {
                let mut done = Vec::with_capacity(lane.len());
                for item in lane {
                    done.push(one(item).await);
                }
                done
            })
        })
        .collect();
    let mut results = Vec::new();
    for c in clients {
        results.push(c.await.unwrap());
    }
    (start.elapsed(), results)
}

fn row(what: &str, t: &Steps, bound: f64) {
    let per_sec = t.per_sec();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / SIGN_INS as f64;
    println!(
        "| {what}, {CLIENTS} clients | {per_sec:.0} /s ({:.2} × its bound; the two steps {:.2} + {:.2} ms of the run a sign-in) |",
        per_sec / bound,
        ms(t.first),
        ms(t.second),
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

/// The router of `w`'s server without its per-client rate limit (every bench client comes from
/// the same address) and on the wall clock.
fn unthrottled(w: &World) -> Router {
    let mut state = AppState::new(
        w.config.clone(),
        w.store.clone(),
        TrustStore::load(&w.config.hpki_trust).unwrap(),
        TrustStore::load(&w.config.jpki_trust).unwrap(),
    );
    state.limiter = RateLimiter::new(u32::MAX, u32::MAX);
    state.events = Events::local();
    state.secret = Some(SECRET.clone());
    router(state, None)
}

/// Binds `card` (a My Number card) to the holder (別紙1), from a PC signed in with `hpki`.
async fn bind_mynumber(app: &Router, hpki: &[u8], card: &[u8]) {
    let mut pc = Browser::new(app);
    let a = pc.hpki_login(hpki, &pki::keys().holder, ORIGIN).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let c = pc.challenge("/api/mynumber/challenge").await;
    let sig = pki::keys().holder.sign_challenge(ORIGIN, &c);
    let a = pc.finish("/api/mynumber/finish", &c, card, &sig).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
}

/// Holder number `i` (its own HPKI certificate) with a phone bound through 別紙2: the phone's
/// soft passkey and its credential id.
async fn holder_with_phone(w: &World, app: &Router, i: usize) -> (SoftPasskey, Vec<u8>) {
    let keys = pki::keys();
    let serial = 2000 + i as u64;
    let cert = pki::issue(
        &pki::ee_params(&format!("HPKI bench holder {i}"), serial, pki::HPKI_POLICY),
        &keys.holder,
        &w.hpki_ca.params,
        &keys.hpki_ca,
    );
    let hpki_id = format!("JMA-{serial:07}");
    let (_, c) = X509Certificate::from_der(&cert).unwrap();
    w.store
        .identity_upsert(&doctor(
            &hpki_id,
            serial.to_string(),
            SECRET.card_id_mac(&serial.to_string(), "HPKI0001").to_vec(),
            c.issuer().as_raw().to_vec(),
            c.subject().as_raw().to_vec(),
        ))
        .await
        .unwrap();
    common::record_certificate(&w.store, &hpki_id, &cert).await;
    let mut pc = Browser::new(app);
    let a = pc.hpki_login(&cert, &keys.holder, ORIGIN).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let mut phone = Phone::on(app);
    phone.enrol_from(&mut pc, false).await;
    let id = w.store.phone_active(&hpki_id).await.unwrap().unwrap().credential_id;
    (phone.key, id)
}

/// The phone's authenticator answering discoverable options; the soft passkey cannot discover,
/// so it is handed the id a phone would pick (as in tests/signin_passkey.rs).
fn answer(key: &mut SoftPasskey, options: Value, id: &[u8]) -> PublicKeyCredential {
    let mut o: AssertionOptions = serde_json::from_value(options).unwrap();
    o.options.public_key.allow_credentials =
        vec![AllowCredentials { type_: "public-key".into(), id: id.to_vec(), transports: None }];
    key.do_authentication(url::Url::parse(ORIGIN).unwrap(), o.options).unwrap()
}
