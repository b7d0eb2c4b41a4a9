//! `make bench`: remote signing through the CSC API v2 beside the raw PKCS#11 signing rate of
//! the same HSM, in one run (issue 13). A SoftHSM2 token made by scripts/softhsm-token.sh, the
//! holder's second certificate made as the operator makes it (an RSA-2048 key generated in the
//! token, the test CA's certificate imported), an access token with the signing scope from the
//! OpenID Provider's code flow.
//!
//! - Raw: `C_Sign` (`CKM_RSA_PKCS` over a SHA-256 DigestInfo, what signHash's
//!   sha256WithRSAEncryption asks of the token) with that key through `cryptoki`, each thread on
//!   its own logged-in session, the key found once; and through the server's pool, one
//!   signature per call. Measured at the start and at the end (the machine is shared); the
//!   better all-cores figure is the bound.
//! - API: concurrent callers through the real router, each `credentials/authorize` for new
//!   hashes then `signatures/signHash` of them (token and signing session checked, the SAD taken
//!   in the database in the transaction held open while the HSM signs, one audit row per
//!   signature): batches of `multisign` hashes (the batch signed on every core, and on one lane
//!   as the comparison) and single hashes, on SQLite and on PostgreSQL (a cluster of its own
//!   with fsync on, as deployed).
//!
//! Prints Markdown table rows for BENCHMARKS.md.

// The tests' world (PKI fixture, holder, PostgreSQL server); the bench uses part of it.
#[path = "../tests/common/mod.rs"]
mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use common::{
    Db,
    csc::{access_token, hsm_config, second_certificate, softhsm_token},
    holder::{Holder, call},
    world::{HOLDER, node_with, world_with},
};
use cryptoki::{
    mechanism::Mechanism,
    object::{Attribute, ObjectClass},
};
use mahpki_protocol::csc as p;
use mahpki_server::{
    Config,
    events::Events,
    hsm::{Hsm, HsmConfig, HsmError, SHA256_DIGEST_INFO_PREFIX, SignAlg},
    service::second_cert::SecondCerts,
};
use rsa::{pkcs8::DecodePublicKey as _, signature::Verifier as _};
use serde_json::json;
use sha2::{Digest as _, Sha256};

const SECONDS: u64 = 5;
/// Prescription systems signing at once.
const CALLERS: usize = 8;
const LABEL: &str = "bench";

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .unwrap();
    let hsm_dir = tempfile::tempdir().unwrap();
    let conf = softhsm_token(hsm_dir.path(), LABEL);
    // SAFETY: set before anything in this process loads the PKCS#11 module.
    unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };
    let keys_dir = tempfile::tempdir().unwrap();
    // Durable commits as a deployment makes them: this process's PostgreSQL fsyncs.
    common::postgres::durable();

    let mut first: Option<(Hsm, Vec<u8>, usize, Raw)> = None;
    let mut api_rows = Vec::new();
    for (db, name) in [(Db::Sqlite, "SQLite"), (Db::Postgres, "PostgreSQL")] {
        rt.block_on(async {
            let config = Config { hsm: hsm_config(LABEL), ..common::world::config() };
            let w = world_with(db, config).await.with_oidc_keys(&keys_dir.path().join("k.json"));
            let certs = SecondCerts::new(w.store.clone(), Hsm::new(hsm_config(LABEL)));
            let (record, cert) = second_certificate(&w, &certs, HOLDER).await;
            let key_id = mahpki_server::pki::unhex(&record.key_id).unwrap();
            let token = access_token(&w, &mut Holder::new(&w), "処方システム").await;
            let credential = record.credential_id.clone();
            if first.is_none() {
                let key = rsa::PublicKey::from_public_key_der(&record.public_key.unwrap()).unwrap();
                let bits = rsa::traits::PublicKeyParts::size(&key) * 8;
                let raw = raw(&certs.hsm, &key_id, cores).await;
                first = Some((certs.hsm.clone(), key_id.clone(), bits, raw));
            }
            // The API's signatures are real: one checked against the certificate first.
            check_one(&w.app, &token, &credential, &cert).await;
            // The same server signing each call's batch one signature after another.
            let one_lane = {
                let config = Config {
                    hsm: HsmConfig { parallel_signatures: 1, ..hsm_config(LABEL) },
                    ..w.config.clone()
                };
                let keys = config.oidc_keys(mahpki_server::store::now_ms()).unwrap();
                let file = config.oidc.key_file.clone().unwrap();
                let keys = mahpki_server::oidc_keys::SharedKeys::new(file, keys);
                node_with(w.store.clone(), Events::local(), &config, Some(keys)).0
            };
            let multisign = p::MULTISIGN as usize;
            for (batch, app, lanes) in
                [(multisign, &w.app, cores), (multisign, &one_lane, 1), (1, &w.app, cores)]
            {
                let r = api_rate(app, &token, &credential, batch).await;
                let what = format!(
                    "{name}, {CALLERS} callers, {batch} hash{} per authorize + signHash, {lanes} signing lane{}",
                    if batch == 1 { "" } else { "es" },
                    if lanes == 1 { "" } else { "s" },
                );
                api_rows.push((what, r));
            }
        });
    }
    let (hsm, key_id, bits, start) = first.unwrap();
    // Again at the end: the machine is shared, so the bound is the better of the two.
    let end = rt.block_on(raw(&hsm, &key_id, cores));
    let key = format!("RSA-{bits} CKM_RSA_PKCS (SoftHSM2)");
    println!(
        "| raw PKCS#11 C_Sign, {key}, 1 thread | {:.0} /s at the start, {:.0} /s at the end |",
        start.one, end.one
    );
    println!(
        "| raw PKCS#11 C_Sign, {key}, {cores} threads | {:.0} /s at the start, {:.0} /s at the end |",
        start.all, end.all
    );
    println!(
        "| the server's HSM pool, one signature per call (`Hsm::sign_digest`: a blocking thread, a pooled session, the key found, C_Sign), {cores} tasks | {:.0} /s at the start, {:.0} /s at the end |",
        start.pooled, end.pooled
    );
    let bound = start.all.max(end.all);
    for (what, r) in api_rows {
        println!(
            "| signHash through the API, {what} | {:.0} /s ({:.2} × raw on {cores} threads; a call takes {:.1} ms to authorize, {:.1} ms to signHash) |",
            r.per_sec,
            r.per_sec / bound,
            r.authorize_ms,
            r.sign_ms,
        );
    }
}

/// The HSM's own rates: raw C_Sign on one thread and on every core, and through the pool.
struct Raw {
    one: f64,
    all: f64,
    pooled: f64,
}

async fn raw(hsm: &Hsm, key_id: &[u8], cores: usize) -> Raw {
    Raw {
        one: raw_rate(hsm, key_id, 1),
        all: raw_rate(hsm, key_id, cores),
        pooled: pooled_rate(hsm, key_id, cores).await,
    }
}

/// Raw signatures per second of `key_id` with `threads` threads, each on its own session.
fn raw_rate(hsm: &Hsm, key_id: &[u8], threads: usize) -> f64 {
    let mut info = SHA256_DIGEST_INFO_PREFIX.to_vec();
    info.extend_from_slice(&Sha256::digest(b"prescription"));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(SECONDS);
    let done: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    hsm.with_session(|s| {
                        let template = [
                            Attribute::Class(ObjectClass::PRIVATE_KEY),
                            Attribute::Id(key_id.to_vec()),
                        ];
                        let device = |e: cryptoki::error::Error| HsmError::Device(e.to_string());
                        let key = s.find_objects(&template).map_err(device)?[0];
                        let mut n = 0u64;
                        while Instant::now() < deadline {
                            let sig = s.sign(&Mechanism::RsaPkcs, key, &info).map_err(device)?;
                            assert_eq!(sig.len(), 256);
                            n += 1;
                        }
                        Ok(n)
                    })
                    .unwrap()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    done as f64 / start.elapsed().as_secs_f64()
}

async fn post(app: &Router, path: &str, token: &str, body: serde_json::Value) -> serde_json::Value {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body.to_string()))
        .unwrap();
    let a = call(app, req).await;
    assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.text);
    a.json()
}

/// The server's pool signing back to back from `tasks` tasks, each signature its own call.
async fn pooled_rate(hsm: &Hsm, key_id: &[u8], tasks: usize) -> f64 {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(SECONDS);
    let digest: [u8; 32] = Sha256::digest(b"prescription").into();
    let workers: Vec<_> = (0..tasks)
        .map(|_| {
            let (hsm, key_id) = (hsm.clone(), key_id.to_vec());
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let sig = hsm
                        .sign_digest(key_id.clone(), SignAlg::RsaPkcs1Sha256, digest)
                        .await
                        .unwrap();
                    assert_eq!(sig.len(), 256);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut done = 0;
    for w in workers {
        done += w.await.unwrap();
    }
    done as f64 / start.elapsed().as_secs_f64()
}

/// What a caller measured: signatures, and the time its two calls took.
#[derive(Default)]
struct Timed {
    signatures: u64,
    authorize: Duration,
    sign: Duration,
    calls: u32,
}

/// A SAD for `hashes` then their signatures, through the router.
async fn sign(app: &Router, token: &str, credential: &str, hashes: &[[u8; 32]]) -> Vec<Vec<u8>> {
    sign_timed(app, token, credential, hashes, &mut Timed::default()).await
}

async fn sign_timed(
    app: &Router,
    token: &str,
    credential: &str,
    hashes: &[[u8; 32]],
    t: &mut Timed,
) -> Vec<Vec<u8>> {
    let began = Instant::now();
    let b64: Vec<String> = hashes.iter().map(|h| STANDARD.encode(h)).collect();
    let a = post(
        app,
        p::CREDENTIALS_AUTHORIZE_PATH,
        token,
        json!({ "credentialID": credential, "numSignatures": hashes.len(), "hashes": b64,
                "hashAlgorithmOID": p::OID_SHA256 }),
    )
    .await;
    let sad = a["SAD"].as_str().unwrap();
    let authorized = Instant::now();
    let a = post(
        app,
        p::SIGN_HASH_PATH,
        token,
        json!({ "credentialID": credential, "SAD": sad, "hashes": b64,
                "hashAlgorithmOID": p::OID_SHA256, "signAlgo": p::OID_SHA256_WITH_RSA }),
    )
    .await;
    let sigs = a["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), hashes.len());
    t.authorize += authorized - began;
    t.sign += authorized.elapsed();
    t.calls += 1;
    t.signatures += hashes.len() as u64;
    sigs.iter().map(|s| STANDARD.decode(s.as_str().unwrap()).unwrap()).collect()
}

async fn check_one(app: &Router, token: &str, credential: &str, cert: &[u8]) {
    use x509_parser::prelude::*;
    let doc = b"a prescription";
    let sig = sign(app, token, credential, &[Sha256::digest(doc).into()]).await.remove(0);
    let (_, c) = X509Certificate::from_der(cert).unwrap();
    let key = rsa::PublicKey::from_public_key_der(c.public_key().raw).unwrap();
    let verifier = rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(key);
    let sig = rsa::pkcs1v15::Signature::try_from(sig.as_slice()).unwrap();
    verifier.verify(doc, &sig).expect("the API's signature verifies with the certificate");
}

struct ApiRate {
    per_sec: f64,
    /// Mean time of one call, milliseconds.
    authorize_ms: f64,
    sign_ms: f64,
}

/// Signatures per second through the router: [`CALLERS`] callers, each authorising `batch`
/// new hashes and signing them, back to back for [`SECONDS`].
async fn api_rate(app: &Router, token: &str, credential: &str, batch: usize) -> ApiRate {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(SECONDS);
    let (token, credential) = (Arc::new(token.to_owned()), Arc::new(credential.to_owned()));
    let callers: Vec<_> = (0..CALLERS)
        .map(|c| {
            let (app, token, credential) = (app.clone(), token.clone(), credential.clone());
            tokio::spawn(async move {
                let mut t = Timed::default();
                let mut round = 0u64;
                while Instant::now() < deadline {
                    let hashes: Vec<[u8; 32]> = (0..batch)
                        .map(|i| Sha256::digest(format!("{batch} {c} {round} {i}")).into())
                        .collect();
                    sign_timed(&app, &token, &credential, &hashes, &mut t).await;
                    round += 1;
                }
                t
            })
        })
        .collect();
    let mut all = Timed::default();
    for c in callers {
        let t = c.await.unwrap();
        all.signatures += t.signatures;
        all.authorize += t.authorize;
        all.sign += t.sign;
        all.calls += t.calls;
    }
    let per_call = |d: Duration| d.as_secs_f64() * 1000.0 / f64::from(all.calls.max(1));
    ApiRate {
        per_sec: all.signatures as f64 / start.elapsed().as_secs_f64(),
        authorize_ms: per_call(all.authorize),
        sign_ms: per_call(all.sign),
    }
}
