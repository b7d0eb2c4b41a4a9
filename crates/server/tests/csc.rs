//! Issue 13, the CSC API v2 (`/csc/v2/*`) through the real router on SQLite and PostgreSQL: a
//! holder signs in with the HPKI card, a relying service gets an access token by the code flow,
//! and signs hashes with the holder's HPKI second certificate, whose key is in a real SoftHSM2
//! token (scripts/softhsm-token.sh) and whose certificate the test HPKI CA issued from the
//! server's CSR. Signatures are checked by openssl; each refusal signs nothing.

mod common;

use std::{path::PathBuf, process::Command, sync::LazyLock};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use base64::{
    Engine as _, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD,
};
use common::{
    Db,
    csc::{
        RP_CALLBACK, SIGNING, access_token, access_token_of, hsm_config, register,
        second_certificate, softhsm_token,
    },
    holder::{Holder, Reply, call, form, query_of},
    world::{HOLDER, World, world_with},
};
use mahpki_protocol::{account::Account, audit::AuditAction, csc as p};
use mahpki_server::{
    Config,
    hsm::Hsm,
    service::{oidc::s256, second_cert::SecondCerts},
    store::AuditEvent,
};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

static KEY_DIR: LazyLock<tempfile::TempDir> = LazyLock::new(|| tempfile::tempdir().unwrap());

/// One SoftHSM2 configuration for the process (the module reads it once); one token per test.
static PROCESS_HSM: LazyLock<(tempfile::TempDir, PathBuf)> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    let conf = softhsm_token(dir.path(), "process-first");
    // SAFETY: set once, before this process first loads the PKCS#11 module.
    unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };
    (dir, conf)
});
/// The pools of one process share the module: one test at a time uses it.
static HSM_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn unique_label() -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!("csc-{}", N.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
}

/// The world with an OpenID Provider and an HSM token; the holder's second certificate made
/// by the server's `request`, issued by the test HPKI CA, and imported.
struct Csc {
    w: World,
    browser: Holder,
    token: String,
    credential: String,
    cert: Vec<u8>,
    certs: SecondCerts,
    dir: tempfile::TempDir,
    label: String,
}

async fn setup(db: Db) -> Csc {
    let (process_dir, _) = &*PROCESS_HSM;
    let label = unique_label();
    softhsm_token(process_dir.path(), &label);
    let config = Config { hsm: hsm_config(&label), ..common::world::config() };
    let w = world_with(db, config).await.with_oidc_keys(&KEY_DIR.path().join("keys.json"));
    let certs = SecondCerts::new(w.store.clone(), Hsm::new(hsm_config(&label)));
    let (record, cert) = second_certificate(&w, &certs, HOLDER).await;
    let mut browser = Holder::new(&w);
    let token = access_token(&w, &mut browser, "薬局システム").await;
    Csc {
        w,
        browser,
        token,
        credential: record.credential_id,
        cert,
        certs,
        dir: tempfile::tempdir().unwrap(),
        label,
    }
}

async fn csc_on(app: &Router, path: &str, token: Option<&str>, body: &str) -> Reply {
    let mut req = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    call(app, req.body(Body::from(body.to_owned())).unwrap()).await
}

impl Csc {
    async fn csc(&self, path: &str, body: Value) -> Reply {
        csc_on(&self.w.app, path, Some(&self.token), &body.to_string()).await
    }

    async fn authorize(&self, hashes: &[[u8; 32]]) -> Reply {
        let hashes: Vec<String> = hashes.iter().map(|h| STANDARD.encode(h)).collect();
        self.csc(
            p::CREDENTIALS_AUTHORIZE_PATH,
            json!({ "credentialID": self.credential, "numSignatures": hashes.len(),
                    "hashes": hashes, "hashAlgorithmOID": p::OID_SHA256 }),
        )
        .await
    }

    async fn sad(&self, hashes: &[[u8; 32]]) -> String {
        let a = self.authorize(hashes).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.json()["expiresIn"], 300);
        a.json()["SAD"].as_str().unwrap().to_owned()
    }

    fn sign_body(&self, sad: &str, hashes: &[[u8; 32]], algo: &str) -> Value {
        let hashes: Vec<String> = hashes.iter().map(|h| STANDARD.encode(h)).collect();
        json!({ "credentialID": self.credential, "SAD": sad, "hashes": hashes,
                "hashAlgorithmOID": p::OID_SHA256, "signAlgo": algo })
    }

    async fn sign(&self, sad: &str, hashes: &[[u8; 32]], algo: &str) -> Reply {
        self.csc(p::SIGN_HASH_PATH, self.sign_body(sad, hashes, algo)).await
    }

    async fn signed_count(&self) -> usize {
        let log = self.w.store.audit_tail(10_000).await.unwrap();
        log.iter().filter(|r| r.action == "csc.sign" && r.outcome == "ok").count()
    }

    /// A refusal: its status and CSC error, and no signature in the answer.
    fn refused(a: &Reply, status: StatusCode, error: &str) -> String {
        assert_eq!(a.status, status, "{}", a.text);
        assert_eq!(a.json()["error"], error, "{}", a.text);
        assert!(a.json().get("signatures").is_none() && a.json().get("SAD").is_none());
        a.json()["error_description"].as_str().unwrap().to_owned()
    }
}

fn digest(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

// ---------------------------------------------------------------------------------------------

/// info, credentials/list and /info, then a SAD for two hashes: one PKCS#1 v1.5 and one PSS
/// signature, each verified by openssl with the imported certificate; the SAD is then used up.
async fn signs_hashes_that_openssl_verifies(db: Db) {
    let _hsm = HSM_LOCK.lock().await;
    let s = setup(db).await;
    let a = csc_on(&s.w.app, p::INFO_PATH, None, "{}").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let info = a.json();
    assert_eq!(info["authType"], json!(["oauth2code"]));
    assert_eq!(info["oauth2"], s.w.config.issuer());
    assert_eq!(info["signAlgorithms"]["algos"], json!([p::OID_SHA256_WITH_RSA, p::OID_RSASSA_PSS]));

    let a = s.csc(p::CREDENTIALS_LIST_PATH, json!({})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["credentialIDs"], json!([s.credential]));
    let a = s
        .csc(
            p::CREDENTIALS_INFO_PATH,
            json!({ "credentialID": s.credential, "certificates": "chain" }),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let i = a.json();
    assert_eq!(i["key"]["status"], "enabled");
    assert_eq!(i["key"]["len"], 2048);
    assert_eq!(i["auth"]["mode"], "explicit");
    assert_eq!(i["SCAL"], "2");
    assert_eq!(i["cert"]["status"], "valid");
    let chain: Vec<Vec<u8>> = i["cert"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| STANDARD.decode(c.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(chain, vec![s.cert.clone(), s.w.hpki_ca.cert_der.clone()]);

    let cert_path = s.dir.path().join("cert.pem");
    std::fs::write(&cert_path, pki_pem(&s.cert)).unwrap();
    let (ok, pubkey) = openssl(&["x509", "-in", cert_path.to_str().unwrap(), "-pubkey", "-noout"]);
    assert!(ok, "{pubkey}");
    let pub_path = s.dir.path().join("pub.pem");
    std::fs::write(&pub_path, pubkey).unwrap();

    let docs: [&[u8]; 2] = ["処方箋 1".as_bytes(), "処方箋 2".as_bytes()];
    let hashes = [digest(docs[0]), digest(docs[1])];
    let sad = s.sad(&hashes).await;
    let algos = [p::OID_SHA256_WITH_RSA, p::OID_RSASSA_PSS];
    for (n, (doc, algo)) in docs.iter().zip(algos).enumerate() {
        let a = s.sign(&sad, &[hashes[n]], algo).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let sigs = a.json()["signatures"].as_array().unwrap().clone();
        assert_eq!(sigs.len(), 1);
        let sig = STANDARD.decode(sigs[0].as_str().unwrap()).unwrap();
        let (doc_path, sig_path) = (s.dir.path().join("doc"), s.dir.path().join("sig"));
        std::fs::write(&doc_path, doc).unwrap();
        std::fs::write(&sig_path, &sig).unwrap();
        let mut args = vec!["dgst", "-sha256", "-verify", pub_path.to_str().unwrap()];
        if algo == p::OID_RSASSA_PSS {
            args.extend(["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]);
        }
        args.extend(["-signature", sig_path.to_str().unwrap(), doc_path.to_str().unwrap()]);
        let (ok, text) = openssl(&args);
        assert!(ok && text.contains("Verified OK"), "{algo}: {text}");
        // The other document does not verify with it (the check can fail).
        std::fs::write(&doc_path, docs[1 - n]).unwrap();
        assert!(!openssl(&args).0, "{algo} verified another document");
    }
    assert_eq!(s.signed_count().await, 2);
    // Used up (two signatures granted, two made): replaying it signs nothing.
    let a = s.sign(&sad, &[hashes[0]], p::OID_SHA256_WITH_RSA).await;
    Csc::refused(&a, StatusCode::BAD_REQUEST, "invalid_sad");
    assert_eq!(s.signed_count().await, 2);
    let detail = s.w.store.audit_tail(50).await.unwrap();
    let row = detail.iter().find(|r| r.action == "csc.sign" && r.outcome == "ok").unwrap();
    let d = row.detail.as_deref().unwrap();
    assert!(d.contains(&s.credential) && d.contains("sid="), "{d}");
    assert!(row.client.is_some(), "{row:?}");
}

fn pki_pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> =
        b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// Malformed requests and SADs that do not fit: each its error, nothing signed.
async fn every_bad_request_is_refused(db: Db) {
    let _hsm = HSM_LOCK.lock().await;
    let s = setup(db).await;
    let h = digest(b"prescription");
    let sad = s.sad(&[h]).await;
    let bad = StatusCode::BAD_REQUEST;
    let r = |a: &Reply, e| Csc::refused(a, bad, e);

    // Tokens.
    let body = s.sign_body(&sad, &[h], p::OID_SHA256_WITH_RSA).to_string();
    let a = csc_on(&s.w.app, p::SIGN_HASH_PATH, None, &body).await;
    Csc::refused(&a, StatusCode::UNAUTHORIZED, "invalid_token");
    let a = csc_on(&s.w.app, p::SIGN_HASH_PATH, Some(&"x".repeat(43)), &body).await;
    Csc::refused(&a, StatusCode::UNAUTHORIZED, "invalid_token");
    let a = csc_on(&s.w.app, p::CREDENTIALS_LIST_PATH, Some("nope"), "{}").await;
    Csc::refused(&a, StatusCode::UNAUTHORIZED, "invalid_token");

    // Malformed.
    let a = csc_on(&s.w.app, p::SIGN_HASH_PATH, Some(&s.token), "{not json").await;
    r(&a, "invalid_request");
    let mut b = s.sign_body(&sad, &[h], p::OID_SHA256_WITH_RSA);
    b["hashes"] = json!(["***"]);
    r(&s.csc(p::SIGN_HASH_PATH, b.clone()).await, "invalid_request");
    b["hashes"] = json!([STANDARD.encode([1u8; 20])]);
    let d = r(&s.csc(p::SIGN_HASH_PATH, b.clone()).await, "invalid_request");
    assert!(d.contains("32 bytes"), "{d}");
    let mut b = s.sign_body(&sad, &[h], "1.2.840.113549.1.1.5");
    r(&s.csc(p::SIGN_HASH_PATH, b.clone()).await, "invalid_request");
    b["signAlgo"] = json!(p::OID_SHA256_WITH_RSA);
    b["hashAlgorithmOID"] = json!("1.3.14.3.2.26");
    r(&s.csc(p::SIGN_HASH_PATH, b.clone()).await, "invalid_request");
    b["hashAlgorithmOID"] = json!("not an oid");
    r(&s.csc(p::SIGN_HASH_PATH, b).await, "invalid_request");

    // Authorize: more than multisign, zero, count ≠ hashes, malformed hash, OID, unknown or
    // another holder's credential (the same answer).
    let many: Vec<[u8; 32]> = (0..=p::MULTISIGN).map(|i| digest(&i.to_be_bytes())).collect();
    let d = r(&s.authorize(&many).await, "invalid_request");
    assert!(d.contains("multisign"), "{d}");
    let auth = |v: Value| s.csc(p::CREDENTIALS_AUTHORIZE_PATH, v);
    let e = STANDARD.encode(h);
    let c = s.credential.clone();
    r(&auth(json!({"credentialID": c, "numSignatures": 0, "hashes": [], "hashAlgorithmOID": p::OID_SHA256})).await, "invalid_request");
    r(&auth(json!({"credentialID": c, "numSignatures": 2, "hashes": [e], "hashAlgorithmOID": p::OID_SHA256})).await, "invalid_request");
    r(&auth(json!({"credentialID": c, "numSignatures": 1, "hashes": ["%%"], "hashAlgorithmOID": p::OID_SHA256})).await, "invalid_request");
    r(&auth(json!({"credentialID": c, "numSignatures": 1, "hashes": [e], "hashAlgorithmOID": "1.2.3"})).await, "invalid_request");
    r(
        &auth(json!({"credentialID": c, "numSignatures": 1, "hashes": [e]})).await,
        "invalid_request",
    );
    r(&auth(json!({"credentialID": "someone-else", "numSignatures": 1, "hashes": [e], "hashAlgorithmOID": p::OID_SHA256})).await, "invalid_request");

    // SADs: for other hashes, unknown, for another credential name.
    let other = digest(b"another prescription");
    let d = r(&s.sign(&sad, &[other], p::OID_SHA256_WITH_RSA).await, "invalid_sad");
    assert!(d.contains("cover"), "{d}");
    r(
        &s.sign(&URL_SAFE_NO_PAD.encode([0u8; 32]), &[h], p::OID_SHA256_WITH_RSA).await,
        "invalid_sad",
    );
    let mut b = s.sign_body(&sad, &[h], p::OID_SHA256_WITH_RSA);
    b["credentialID"] = json!("someone-else");
    r(&s.csc(p::SIGN_HASH_PATH, b).await, "invalid_sad");
    // Two signatures from a SAD for one.
    r(&s.sign(&sad, &[h, h], p::OID_SHA256_WITH_RSA).await, "invalid_sad");
    assert_eq!(s.signed_count().await, 0, "nothing signed");

    // Another client's token cannot spend this client's SAD.
    let token2 = access_token(&s.w, &mut s.browser_clone(), "他のサービス").await;
    let body = s.sign_body(&sad, &[h], p::OID_SHA256_WITH_RSA).to_string();
    let a = csc_on(&s.w.app, p::SIGN_HASH_PATH, Some(&token2), &body).await;
    r(&a, "invalid_sad");
    assert_eq!(s.signed_count().await, 0, "nothing signed");

    // The SAD is still good for its one signature; then it is spent.
    let a = s.sign(&sad, &[h], p::OID_SHA256_WITH_RSA).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    r(&s.sign(&sad, &[h], p::OID_SHA256_WITH_RSA).await, "invalid_sad");

    // Expired after five minutes.
    let sad = s.sad(&[h]).await;
    s.w.clock.advance_ms(5 * 60 * 1000);
    let d = r(&s.sign(&sad, &[h], p::OID_SHA256_WITH_RSA).await, "invalid_sad");
    assert!(d.contains("expired"), "{d}");
    assert_eq!(s.signed_count().await, 1);
}

impl Csc {
    fn browser_clone(&self) -> Holder {
        Holder {
            app: self.w.app.clone(),
            cookies: self.browser.cookies.clone(),
            cert: self.browser.cert.clone(),
            origin: self.browser.origin.clone(),
        }
    }
}

/// The day's sign-in over (sign-out, suspension, expiry): `invalid_token` saying to sign in
/// again; a revoked credential or token: refused; nothing signed.
async fn no_signature_without_the_days_sign_in(db: Db) {
    let _hsm = HSM_LOCK.lock().await;
    let h = digest(b"prescription");

    // Sign-out.
    let mut s = setup(db).await;
    let sad = s.sad(&[h]).await;
    let a = s.browser.send("POST", "/api/signin/end", None, true).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    let d = Csc::refused(
        &s.sign(&sad, &[h], p::OID_SHA256_WITH_RSA).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    assert!(d.contains("sign in again"), "{d}");
    let d = Csc::refused(&s.authorize(&[h]).await, StatusCode::UNAUTHORIZED, "invalid_token");
    assert!(d.contains("sign in again"), "{d}");

    // Signed in again: a new token; suspension of the holder ends it too.
    s.token = access_token(&s.w, &mut s.browser_clone(), "薬局システム2").await;
    let sad = s.sad(&[h]).await;
    s.w.store.identity_suspend(HOLDER, "test", None).await.unwrap();
    let d = Csc::refused(
        &s.sign(&sad, &[h], p::OID_SHA256_WITH_RSA).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    assert!(d.contains("sign in again"), "{d}");
    s.w.store.identity_resume(HOLDER, None).await.unwrap();
    let a = s.sign(&sad, &[h], p::OID_SHA256_WITH_RSA).await;
    assert_eq!(a.status, StatusCode::OK, "resumed holder, same live session: {}", a.text);

    // The credential revoked: access_denied.
    let sad = s.sad(&[h]).await;
    s.certs.revoke(HOLDER, "test").await.unwrap();
    Csc::refused(
        &s.sign(&sad, &[h], p::OID_SHA256_WITH_RSA).await,
        StatusCode::FORBIDDEN,
        "access_denied",
    );
    Csc::refused(&s.authorize(&[h]).await, StatusCode::FORBIDDEN, "access_denied");
    let a = s.csc(p::CREDENTIALS_LIST_PATH, json!({})).await;
    assert_eq!(a.json()["credentialIDs"], json!([]));
    assert_eq!(s.signed_count().await, 1);

    // The token's expiry (and the session's) after the day: invalid_token.
    s.w.clock.advance_ms(24 * 3600 * 1000);
    Csc::refused(&s.authorize(&[h]).await, StatusCode::UNAUTHORIZED, "invalid_token");
}

/// The HSM unavailable: 503 `temporarily_unavailable`, nothing signed and the SAD unspent (the
/// same SAD signs once the HSM is back).
async fn hsm_unavailable_spends_nothing(db: Db) {
    let _hsm = HSM_LOCK.lock().await;
    let s = setup(db).await;
    let h = digest(b"prescription");
    let sad = s.sad(&[h]).await;
    // A node of the same server whose HSM has no such token.
    let config = Config { hsm: hsm_config("no-such-token"), ..s.w.config.clone() };
    let keys = config.oidc_keys(mahpki_server::store::now_ms()).unwrap();
    let key_file = config.oidc.key_file.clone().unwrap();
    let (down, _) = common::world::node_with(
        s.w.store.clone(),
        mahpki_server::events::Events::local(),
        &config,
        Some(mahpki_server::oidc_keys::SharedKeys::new(key_file, keys)),
    );
    let body = s.sign_body(&sad, &[h], p::OID_SHA256_WITH_RSA).to_string();
    let a = csc_on(&down, p::SIGN_HASH_PATH, Some(&s.token), &body).await;
    Csc::refused(&a, StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable");
    let ready = call(&down, Request::get("/api/health/ready").body(Body::empty()).unwrap()).await;
    assert_eq!(ready.json()["hsm_reachable"], false, "{}", ready.text);
    assert_eq!(s.signed_count().await, 0);
    let a = s.sign(&sad, &[h], p::OID_SHA256_WITH_RSA).await;
    assert_eq!(a.status, StatusCode::OK, "the SAD was not spent: {}", a.text);
    let ready =
        call(&s.w.app, Request::get("/api/health/ready").body(Body::empty()).unwrap()).await;
    assert_eq!(ready.json()["hsm_reachable"], true, "{}", ready.text);
    let _ = &s.label;
}

/// Parallel signHash calls on a SAD for N signatures: exactly N signatures.
async fn parallel_calls_sign_exactly_what_was_granted(db: Db) {
    let _hsm = HSM_LOCK.lock().await;
    let s = setup(db).await;
    for (granted, calls) in [(1usize, 8usize), (3, 20)] {
        let hashes: Vec<[u8; 32]> =
            (0..granted).map(|i| digest(format!("rx {granted} {i}").as_bytes())).collect();
        let sad = s.sad(&hashes).await;
        let before = s.signed_count().await;
        let replies = futures_util::future::join_all((0..calls).map(|i| {
            let body = s.sign_body(&sad, &[hashes[i % granted]], p::OID_SHA256_WITH_RSA);
            let app = s.w.app.clone();
            let token = s.token.clone();
            async move {
                tokio::spawn(async move {
                    csc_on(&app, p::SIGN_HASH_PATH, Some(&token), &body.to_string()).await
                })
                .await
                .unwrap()
            }
        }))
        .await;
        let ok = replies.iter().filter(|a| a.status == StatusCode::OK).count();
        for a in replies.iter().filter(|a| a.status != StatusCode::OK) {
            Csc::refused(a, StatusCode::BAD_REQUEST, "invalid_sad");
        }
        assert_eq!(ok, granted, "{replies:?}");
        assert_eq!(s.signed_count().await - before, granted);
    }
}

const RSA: &str = p::OID_SHA256_WITH_RSA;

/// How many successful signatures the audit log records for `hash`.
async fn signed_hash_count(s: &Csc, hash: &[u8; 32]) -> usize {
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    let log = s.w.store.audit_tail(10_000).await.unwrap();
    log.iter()
        .filter(|r| r.action == "csc.sign" && r.outcome == "ok")
        .filter(|r| r.detail.as_deref().is_some_and(|d| d.contains(&format!("hash={hex}"))))
        .count()
}

/// Each hash a SAD covers is signed at most once: the same hash twice in one call, again in a
/// second call, by parallel calls racing, and (below the service's checks) straight at the
/// store, which refuses it by itself.
async fn each_hash_signs_once(db: Db) {
    let _hsm = HSM_LOCK.lock().await;
    let s = setup(db).await;
    let bad = StatusCode::BAD_REQUEST;
    let (h1, h2) = (digest(b"rx once 1"), digest(b"rx once 2"));

    // Twice in one call: refused whole, nothing signed, the SAD untouched.
    let sad = s.sad(&[h1, h2]).await;
    let d = Csc::refused(&s.sign(&sad, &[h1, h1], RSA).await, bad, "invalid_sad");
    assert!(d.contains("once"), "{d}");
    assert_eq!(s.signed_count().await, 0);

    // Twice in two calls: the second is refused although the SAD has a signature left.
    let a = s.sign(&sad, &[h1], RSA).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let d = Csc::refused(&s.sign(&sad, &[h1], RSA).await, bad, "invalid_sad");
    assert!(d.contains("signed"), "{d}");
    // With h1 (signed) beside h2: refused whole, h2 not signed.
    Csc::refused(&s.sign(&sad, &[h2, h1], RSA).await, bad, "invalid_sad");
    assert_eq!(s.signed_count().await, 1);
    // The other hash still signs, once.
    let a = s.sign(&sad, &[h2], RSA).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    Csc::refused(&s.sign(&sad, &[h2], RSA).await, bad, "invalid_sad");
    assert_eq!((signed_hash_count(&s, &h1).await, signed_hash_count(&s, &h2).await), (1, 1));

    // Racing: a SAD for two hashes, 24 parallel calls, each signing one of them (12 each):
    // exactly one signature of each.
    let (h3, h4) = (digest(b"rx race 3"), digest(b"rx race 4"));
    let sad = s.sad(&[h3, h4]).await;
    let replies = futures_util::future::join_all((0..24).map(|i| {
        let body = s.sign_body(&sad, &[if i % 2 == 0 { h3 } else { h4 }], RSA);
        let (app, token) = (s.w.app.clone(), s.token.clone());
        async move {
            tokio::spawn(async move {
                csc_on(&app, p::SIGN_HASH_PATH, Some(&token), &body.to_string()).await
            })
            .await
            .unwrap()
        }
    }))
    .await;
    let ok = replies.iter().filter(|a| a.status == StatusCode::OK).count();
    for a in replies.iter().filter(|a| a.status != StatusCode::OK) {
        Csc::refused(a, bad, "invalid_sad");
    }
    assert_eq!(ok, 2, "{replies:?}");
    assert_eq!((signed_hash_count(&s, &h3).await, signed_hash_count(&s, &h4).await), (1, 1));

    // The store alone: a hash repeated in one spend, or spent again, takes nothing.
    let (h5, h6) = (digest(b"rx store 5"), digest(b"rx store 6"));
    let sad = s.sad(&[h5, h6]).await;
    let id = s.w.store.csc_sad_get(&Sha256::digest(sad.as_bytes())).await.unwrap().unwrap().id;
    let now = s.w.clock.now_ms();
    assert!(s.w.store.csc_sad_spend(id, &[h5, h5], now).await.unwrap().is_none());
    assert!(s.w.store.csc_sad_spend(id, &[digest(b"not covered")], now).await.unwrap().is_none());
    s.w.store.csc_sad_spend(id, &[h5], now).await.unwrap().unwrap().commit(&[]).await.unwrap();
    assert!(s.w.store.csc_sad_spend(id, &[h5], now).await.unwrap().is_none());
    // A dropped spend (the HSM failed) gives its hash back.
    drop(s.w.store.csc_sad_spend(id, &[h6], now).await.unwrap().unwrap());
    let spend = s.w.store.csc_sad_spend(id, &[h6], now).await.unwrap();
    assert!(spend.is_some(), "the rolled-back hash is signable again");
    drop(spend);
    assert_eq!(
        s.w.store.csc_sad_get(&Sha256::digest(sad.as_bytes())).await.unwrap().unwrap().remaining,
        1
    );
}

/// The holder's page lists their successful remote signatures: per service and minute, newest
/// first, the service by its name (its id once it has none); refused calls and another
/// holder's signatures (of the same service, at the same time) never appear.
async fn account_page_lists_remote_signatures(db: Db) {
    let _hsm = HSM_LOCK.lock().await;
    let mut s = setup(db).await;
    let page = |a: Reply| -> Account {
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        serde_json::from_str(&a.text).unwrap()
    };
    let a = s.browser.send("GET", "/api/account", None, true).await;
    assert_eq!(page(a).signatures, vec![], "nothing signed yet");

    let hashes = [digest(b"page 1"), digest(b"page 2"), digest(b"page 3")];
    let sad = s.sad(&hashes).await;
    assert_eq!(s.sign(&sad, &hashes[..2], RSA).await.status, StatusCode::OK);
    // Refused (signed already): not a signature.
    Csc::refused(&s.sign(&sad, &hashes[..1], RSA).await, StatusCode::BAD_REQUEST, "invalid_sad");
    assert_eq!(s.sign(&sad, &hashes[2..], RSA).await.status, StatusCode::OK);
    // Another holder's signature by the same service, and one of this holder by a client no
    // longer registered (a row as csc.rs writes it).
    let client = s.w.store.audit_tail(10).await.unwrap().into_iter().rev();
    let client = client.filter_map(|r| r.client).next().unwrap();
    for (holder, client) in [("JMA-0000002", client.as_str()), (HOLDER, "gone-client")] {
        let e = AuditEvent {
            hpki_id: Some(holder.into()),
            action: AuditAction::CscSign,
            client: Some(client.into()),
            outcome: "ok".into(),
            detail: Some("credential=x sid=y hash=00".into()),
        };
        s.w.store.audit(&e).await.unwrap();
    }
    let a = s.browser.send("GET", "/api/account", None, true).await;
    let shown = page(a).signatures;
    // The service's three signatures fall in one minute unless the calls straddled one.
    let log = s.w.store.audit_tail(100).await.unwrap();
    let mut minutes: Vec<i64> = log
        .iter()
        .filter(|r| r.hpki_id.as_deref() == Some(HOLDER) && r.client.as_ref() == Some(&client))
        .filter(|r| r.action == "csc.sign" && r.outcome == "ok")
        .map(|r| r.at_ms / 60_000)
        .collect();
    minutes.dedup();
    assert_eq!(shown.len(), 1 + minutes.len(), "{shown:?}");
    assert_eq!((shown[0].service.as_str(), shown[0].count), ("gone-client", 1), "newest first");
    assert!(shown[1..].iter().all(|b| b.service == "薬局システム"), "{shown:?}");
    assert_eq!(shown[1..].iter().map(|b| b.count).sum::<u32>(), 3, "{shown:?}");
    assert!(shown.windows(2).all(|w| w[0].at >= w[1].at), "{shown:?}");
    // The other holder's row is theirs alone.
    let theirs = s.w.store.signatures_of("JMA-0000002", 20).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].count, 1);

    // At most 20 rows.
    for n in 0..25 {
        let e = AuditEvent {
            hpki_id: Some(HOLDER.into()),
            action: AuditAction::CscSign,
            client: Some(format!("client-{n}")),
            outcome: "ok".into(),
            detail: None,
        };
        s.w.store.audit(&e).await.unwrap();
    }
    let a = s.browser.send("GET", "/api/account", None, true).await;
    let shown = page(a).signatures;
    assert_eq!(shown.len(), 20);
    assert_eq!(shown[0].service, "client-24");
}

fn document(doc: &[u8]) -> Value {
    json!({ "document": STANDARD.encode(doc), "signature_format": "C",
            "conformance_level": "Ades-B-B", "signAlgo": RSA,
            "signed_envelope_property": "Detached" })
}

impl Csc {
    async fn sign_doc(&self, sad: &str, documents: Vec<Value>) -> Reply {
        let body = json!({ "credentialID": self.credential, "SAD": sad, "documents": documents });
        self.csc(p::SIGN_DOC_PATH, body).await
    }
}

/// signDoc: a detached CAdES B-B signature that `openssl cms -verify` accepts against the HPKI
/// CA for the document (and refuses for another), with the four signed attributes (the
/// signing-certificate-v2 naming the credential's certificate's SHA-256); the SAD covers the
/// document's hash and signs it once.
async fn sign_doc_makes_cades_that_openssl_verifies(db: Db) {
    let _hsm = HSM_LOCK.lock().await;
    let s = setup(db).await;
    let a = csc_on(&s.w.app, p::INFO_PATH, None, "{}").await;
    let methods = a.json()["methods"].clone();
    assert!(methods.as_array().unwrap().contains(&json!("signatures/signDoc")), "{methods}");
    assert_eq!(a.json()["conformance_levels"], json!(["Ades-B-B"]));

    let doc = "処方箋\n患者: 山田太郎\nRp1 アムロジピン錠5mg 1錠 分1 朝食後 14日分\n".as_bytes();
    let sad = s.sad(&[digest(doc)]).await;
    let a = s.sign_doc(&sad, vec![document(doc)]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let objects = a.json()["signatureObject"].as_array().unwrap().clone();
    assert_eq!(objects.len(), 1);
    let cms = STANDARD.decode(objects[0].as_str().unwrap()).unwrap();

    let dir = s.dir.path();
    let path = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    std::fs::write(path("sig.der"), &cms).unwrap();
    std::fs::write(path("doc"), doc).unwrap();
    std::fs::write(path("ca.pem"), pki_pem(&s.w.hpki_ca.cert_der)).unwrap();
    let verify = |content: &str| {
        openssl(&[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            &path("sig.der"),
            "-content",
            content,
            "-CAfile",
            &path("ca.pem"),
            "-out",
            &path("out"),
        ])
    };
    let (ok, text) = verify(&path("doc"));
    assert!(ok && text.contains("Verification successful"), "{text}");
    std::fs::write(path("other"), b"another prescription").unwrap();
    let (ok, text) = verify(&path("other"));
    assert!(!ok, "another document verified: {text}");

    let (ok, printed) =
        openssl(&["cms", "-cmsout", "-print", "-inform", "DER", "-in", &path("sig.der")]);
    assert!(ok, "{printed}");
    for attribute in
        ["contentType", "signingTime", "messageDigest", "id-smime-aa-signingCertificateV2"]
    {
        assert!(printed.contains(attribute), "{attribute} missing: {printed}");
    }
    assert!(printed.contains("eContent: <ABSENT>"), "not detached: {printed}");
    let cert_hash: [u8; 32] = Sha256::digest(&s.cert).into();
    assert!(cms.windows(32).any(|w| w == cert_hash), "signing-certificate-v2 names the cert");

    // The SAD covered this document once.
    let d = Csc::refused(
        &s.sign_doc(&sad, vec![document(doc)]).await,
        StatusCode::BAD_REQUEST,
        "invalid_sad",
    );
    assert!(d.contains("signed") || d.contains("used up"), "{d}");
    let sad = s.sad(&[digest(doc), digest(b"second")]).await;
    let d = Csc::refused(
        &s.sign_doc(&sad, vec![document(doc), document(doc)]).await,
        StatusCode::BAD_REQUEST,
        "invalid_sad",
    );
    assert!(d.contains("once"), "{d}");
    let d = Csc::refused(
        &s.sign_doc(&sad, vec![document(b"not covered")]).await,
        StatusCode::BAD_REQUEST,
        "invalid_sad",
    );
    assert!(d.contains("cover"), "{d}");
    assert_eq!(s.signed_count().await, 1);
}

/// signDoc's refusals: each its typed error and nothing signed; the SAD still signs after.
async fn sign_doc_refusals(db: Db) {
    let _hsm = HSM_LOCK.lock().await;
    let s = setup(db).await;
    let doc = b"prescription for signDoc";
    let sad = s.sad(&[digest(doc)]).await;
    let bad = StatusCode::BAD_REQUEST;
    let with = |k: &str, v: Value| {
        let mut d = document(doc);
        d[k] = v;
        d
    };
    for (d, says) in [
        (with("signature_format", json!("X")), "signature_format"),
        (with("signature_format", json!("P")), "signature_format"),
        (with("conformance_level", json!("Ades-B-T")), "conformance_level"),
        (with("signed_envelope_property", json!("Enveloping")), "Detached"),
        (with("signAlgo", json!(p::OID_RSASSA_PSS)), "signAlgo"),
        (with("document", json!("")), "empty"),
    ] {
        let text = Csc::refused(&s.sign_doc(&sad, vec![d]).await, bad, "invalid_request");
        assert!(text.contains(says), "{says}: {text}");
    }
    let big = vec![b'x'; p::MAX_DOCUMENT_BYTES + 1];
    let text = Csc::refused(&s.sign_doc(&sad, vec![document(&big)]).await, bad, "invalid_request");
    assert!(text.contains("32 KiB"), "{text}");
    let text = Csc::refused(
        &s.sign_doc(&sad, vec![with("document", json!("%%%"))]).await,
        bad,
        "invalid_request",
    );
    assert!(text.contains("base64"), "{text}");
    Csc::refused(&s.sign_doc(&sad, vec![]).await, bad, "invalid_request");
    let body = json!({ "credentialID": s.credential, "SAD": sad, "documents": [document(doc)],
                       "documentDigests": [{ "hashes": [STANDARD.encode(digest(doc))],
                                              "hashAlgorithmOID": p::OID_SHA256 }] });
    let text = Csc::refused(&s.csc(p::SIGN_DOC_PATH, body).await, bad, "invalid_request");
    assert!(text.contains("documentDigests"), "{text}");
    let a = csc_on(&s.w.app, p::SIGN_DOC_PATH, None, "{}").await;
    Csc::refused(&a, StatusCode::UNAUTHORIZED, "invalid_token");
    // The catalogued code is what the audit log keeps.
    let log = s.w.store.audit_tail(100).await.unwrap();
    assert!(
        log.iter().any(|r| r.action == "csc.sign" && r.outcome.contains("csc_document_refused")),
        "{log:?}"
    );
    assert_eq!(s.signed_count().await, 0);
    let a = s.sign_doc(&sad, vec![document(doc)]).await;
    assert_eq!(a.status, StatusCode::OK, "nothing was spent: {}", a.text);
}

/// A token for signing the holder in only (`openid profile`, without the signing scope
/// `service`): every method but `info` refuses it with `insufficient_scope` (403, the challenge
/// naming the scope), each refusal audited with the service and the holder; no SAD is made and
/// nothing is signed, not even with a SAD the same service got with the signing scope in the
/// same sign-in (same holder, client and session). Let sign, the same service signs. An unknown
/// scope is refused at the authorization endpoint.
async fn a_token_without_the_signing_scope_signs_nothing(db: Db) {
    let _hsm = HSM_LOCK.lock().await;
    let s = setup(db).await;
    let rp = register(&s.w, "ログインだけのサービス").await;
    let signin_only = access_token_of(&s.w, &mut s.browser_clone(), &rp, "openid profile").await;
    let h = digest(b"a prescription in the doctor's name");
    let hashes = json!([STANDARD.encode(h)]);
    let some_sad = URL_SAFE_NO_PAD.encode([1u8; 32]);
    let c = s.credential.clone();
    let calls = [
        (p::CREDENTIALS_LIST_PATH, json!({ "credentialInfo": true })),
        (p::CREDENTIALS_INFO_PATH, json!({ "credentialID": c })),
        (
            p::CREDENTIALS_AUTHORIZE_PATH,
            json!({ "credentialID": c, "numSignatures": 1, "hashes": hashes,
                    "hashAlgorithmOID": p::OID_SHA256 }),
        ),
        (
            p::SIGN_HASH_PATH,
            json!({ "credentialID": c, "SAD": some_sad, "hashes": hashes,
                    "hashAlgorithmOID": p::OID_SHA256, "signAlgo": RSA }),
        ),
        (
            p::SIGN_DOC_PATH,
            json!({ "credentialID": c, "SAD": some_sad, "documents": [document(b"rx")] }),
        ),
    ];
    let challenge = "Bearer error=\"insufficient_scope\", scope=\"service\"";
    for (path, body) in &calls {
        let a = csc_on(&s.w.app, path, Some(&signin_only), &body.to_string()).await;
        let d = Csc::refused(&a, StatusCode::FORBIDDEN, "insufficient_scope");
        assert!(d.contains("not granted the signing scope"), "{path}: {d}");
        assert_eq!(a.www_authenticate.as_deref(), Some(challenge), "{path}");
        assert!(a.json().get("credentialIDs").is_none() && a.json().get("key").is_none());
    }
    // `info` needs no token at all.
    let a = csc_on(&s.w.app, p::INFO_PATH, Some(&signin_only), "{}").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);

    let log = s.w.store.audit_tail(200).await.unwrap();
    let refusals: Vec<_> = log.iter().filter(|r| r.outcome == "csc_scope_insufficient").collect();
    assert_eq!(refusals.len(), calls.len(), "{log:?}");
    for r in &refusals {
        assert_eq!(r.client.as_deref(), Some(rp.client_id.as_str()), "{r:?}");
        assert_eq!(r.hpki_id.as_deref(), Some(HOLDER), "{r:?}");
    }
    let signing_refusals = refusals.iter().filter(|r| r.action == "csc.sign").count();
    assert_eq!(signing_refusals, 2, "{refusals:?}");
    let granted = |log: &[mahpki_server::store::AuditRecord]| {
        log.iter()
            .filter(|r| r.action == "csc.authorize" && r.outcome == "ok")
            .filter(|r| r.client.as_deref() == Some(rp.client_id.as_str()))
            .count()
    };
    assert_eq!(granted(&log), 0, "no SAD for the sign-in-only token");
    assert_eq!(s.signed_count().await, 0);

    // The same service asks to sign (a second consent, same sign-in): its SAD still signs
    // nothing for the sign-in-only token.
    let signing = access_token_of(&s.w, &mut s.browser_clone(), &rp, SIGNING).await;
    let body = calls[2].1.to_string();
    let a = csc_on(&s.w.app, p::CREDENTIALS_AUTHORIZE_PATH, Some(&signing), &body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let sad = a.json()["SAD"].as_str().unwrap().to_owned();
    assert_eq!(granted(&s.w.store.audit_tail(200).await.unwrap()), 1);
    let body = s.sign_body(&sad, &[h], RSA).to_string();
    let a = csc_on(&s.w.app, p::SIGN_HASH_PATH, Some(&signin_only), &body).await;
    Csc::refused(&a, StatusCode::FORBIDDEN, "insufficient_scope");
    assert_eq!(s.signed_count().await, 0);
    let a = csc_on(&s.w.app, p::SIGN_HASH_PATH, Some(&signing), &body).await;
    assert_eq!(a.status, StatusCode::OK, "the SAD was not spent: {}", a.text);
    assert_eq!(s.signed_count().await, 1);

    // A scope the provider does not know: back to the service with invalid_scope, no code.
    let url = format!(
        "/oidc/authorize?{}",
        form(&[
            ("response_type", "code"),
            ("client_id", &rp.client_id),
            ("redirect_uri", RP_CALLBACK),
            ("scope", "openid service sign"),
            ("state", "st"),
            ("code_challenge", &s256(&URL_SAFE_NO_PAD.encode([7u8; 32]))),
            ("code_challenge_method", "S256"),
        ])
    );
    let a = s.browser_clone().send("GET", &url, None, false).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    let q = query_of(a.location.as_deref().unwrap());
    assert_eq!(q.get("error").map(String::as_str), Some("invalid_scope"), "{q:?}");
    assert!(!q.contains_key("code"), "{q:?}");
}

on_both_databases!(
    a_token_without_the_signing_scope_signs_nothing,
    signs_hashes_that_openssl_verifies,
    every_bad_request_is_refused,
    no_signature_without_the_days_sign_in,
    hsm_unavailable_spends_nothing,
    parallel_calls_sign_exactly_what_was_granted,
    each_hash_signs_once,
    sign_doc_makes_cades_that_openssl_verifies,
    sign_doc_refusals,
    account_page_lists_remote_signatures
);
