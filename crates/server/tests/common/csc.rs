//! Remote signing's world (`tests/csc.rs`, `benches/csc.rs`): a SoftHSM2 token made by the
//! project's script, the holder's HPKI second certificate (key and CSR by the server, issued by
//! the test HPKI CA, imported), and a relying service's code flow up to its access token.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use base64::{
    Engine as _, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD,
};
use mahpki_protocol::{
    HpkiId,
    oidc::{ConsentOutcome, TokenResponse},
};
use mahpki_server::{
    hsm::HsmConfig,
    pki::{TrustConfig, TrustStore},
    service::{oidc::s256, oidc_client, second_cert::SecondCerts},
    store::SecondCertRecord,
};
use serde_json::json;

use super::{
    holder::{Holder, call, form, query_of},
    pki,
    world::World,
};

pub const HSM_PIN: &str = "246810";
pub const RP_CALLBACK: &str = "https://rp.example/callback";
/// What a relying service that signs asks for: the signing scope (CSC's `service`).
pub const SIGNING: &str = "openid profile service";

/// A SoftHSM2 token labelled `label` under `dir` (scripts/softhsm-token.sh); the
/// `SOFTHSM2_CONF` that finds it.
pub fn softhsm_token(dir: &Path, label: &str) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/softhsm-token.sh");
    let out = Command::new("bash").arg(script).arg(dir).arg(label).arg(HSM_PIN).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

pub fn hsm_config(label: &str) -> HsmConfig {
    HsmConfig {
        token_label: label.into(),
        pin: Some(zeroize::Zeroizing::new(HSM_PIN.into())),
        ..HsmConfig::default()
    }
}

/// A public key for rcgen to certify: the HSM key's.
struct HsmPublicKey(Vec<u8>);

impl rcgen::PublicKeyData for HsmPublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

/// `hpki_id`'s second certificate as the operator makes it: `second-cert request` (key in the
/// HSM of `certs`), the test HPKI CA of `w` issues it (non-repudiation, the HPKI policy), then
/// `second-cert import`. The active credential and its certificate (DER).
pub async fn second_certificate(
    w: &World,
    certs: &SecondCerts,
    hpki_id: &str,
) -> (SecondCertRecord, Vec<u8>) {
    use rsa::{pkcs1::EncodeRsaPublicKey as _, pkcs8::DecodePublicKey as _};
    let trust = TrustStore::load(&[TrustConfig {
        signing_policies: vec![pki::HPKI_POLICY_STR.into()],
        ..w.hpki_trust.clone()
    }])
    .unwrap();
    let holder = HpkiId::parse(hpki_id).unwrap();
    let now = mahpki_server::store::now_ms();
    let requested = certs.request(&holder, &trust, now).await.unwrap();
    let key = rsa::PublicKey::from_public_key_der(&requested.record.public_key.unwrap()).unwrap();
    let mut params = pki::ee_params("HPKI holder 1", 2001, pki::HPKI_POLICY);
    params.key_usages = vec![rcgen::KeyUsagePurpose::ContentCommitment];
    let ca_kp = pki::keys().hpki_ca.keypair();
    let issuer = rcgen::Issuer::new(w.hpki_ca.params.clone(), &ca_kp);
    let cert = params
        .signed_by(&HsmPublicKey(key.to_pkcs1_der().unwrap().into_vec()), &issuer)
        .unwrap()
        .der()
        .to_vec();
    let record = certs.import(&holder, &cert, &trust, now).await.unwrap();
    (record, cert)
}

/// A relying service the operator registered: its client id and secret.
pub struct Rp {
    pub client_id: String,
    pub secret: String,
}

pub async fn register(w: &World, name: &str) -> Rp {
    let r = oidc_client::register(&w.store, name, &[RP_CALLBACK.into()], None, w.clock.now_ms())
        .await
        .unwrap();
    Rp { client_id: r.client_id, secret: r.secret.unwrap() }
}

/// A new relying service's code flow up to its access token, with the signing scope.
pub async fn access_token(w: &World, b: &mut Holder, name: &str) -> String {
    let rp = register(w, name).await;
    access_token_of(w, b, &rp, SIGNING).await
}

/// `rp`'s code flow up to its access token, asking `scope` (the holder signs in with the HPKI
/// card if `b` is not signed in); the consent page, when the holder has not agreed to that
/// scope with `rp` yet, approved.
pub async fn access_token_of(w: &World, b: &mut Holder, rp: &Rp, scope: &str) -> String {
    let verifier = URL_SAFE_NO_PAD.encode([7u8; 32]);
    let challenge = s256(&verifier);
    let url = format!(
        "/oidc/authorize?{}",
        form(&[
            ("response_type", "code"),
            ("client_id", &rp.client_id),
            ("redirect_uri", RP_CALLBACK),
            ("scope", scope),
            ("state", "st"),
            ("nonce", "no"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
    );
    let a = b.send("GET", &url, None, false).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    let mut to = a.location.unwrap();
    if to.starts_with("/signin?continue=") {
        let resume = query_of(&to)["continue"].clone();
        b.sign_in().await;
        let a = b.send("GET", &resume, None, false).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
        to = a.location.unwrap();
    }
    if to.starts_with("/consent?request=") {
        let request = query_of(&to)["request"].clone();
        let body = json!({ "request": request, "approve": true }).to_string();
        let a = b.send("POST", "/api/oidc/consent", Some(body), true).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        to = serde_json::from_str::<ConsentOutcome>(&a.text).unwrap().redirect_to;
    }
    assert!(to.starts_with(RP_CALLBACK), "{to}");
    let code = query_of(&to)["code"].clone();
    let basic = STANDARD.encode(format!("{}:{}", rp.client_id, rp.secret));
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", RP_CALLBACK),
        ("code_verifier", &verifier),
    ]);
    let req = Request::post("/oidc/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::AUTHORIZATION, format!("Basic {basic}"))
        .body(Body::from(body))
        .unwrap();
    let a = call(&w.app, req).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let t = serde_json::from_str::<TokenResponse>(&a.text).unwrap();
    assert_eq!(t.scope, scope);
    t.access_token
}
