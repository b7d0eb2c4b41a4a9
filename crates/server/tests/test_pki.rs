//! The server against cardsim's test PKI, the one the demo and the virtual cards use: its
//! realistic certificates (two-level HPKI hierarchy, hcRole in subjectDirectoryAttributes,
//! critical policies, a JPKI certificate with no name) pass, its revoked holder does not, and
//! the files it writes for the server (register, trust configuration) are read as written.

mod common;

use axum::http::StatusCode;
use common::browser::Browser;
use mahpki_cardsim::pki;
use mahpki_protocol::{
    ErrorCode,
    api::{MyNumberBound, SessionInfo},
};
use mahpki_server::{
    Config,
    http::{AppState, RateLimiter, router},
    import,
    pki::{TrustStore, signed_data},
    store::Store,
};
use rsa::signature::{SignatureEncoding as _, Signer as _};

const ORIGIN: &str = "http://localhost:8080";

fn sign(key: &rsa::PrivateKey, challenge: &[u8]) -> Vec<u8> {
    rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(key.clone())
        .sign(&signed_data(ORIGIN, challenge))
        .to_vec()
}

#[tokio::test]
async fn demo_holders_authenticate_and_bind_and_the_revoked_one_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let test_pki = pki::generate(1).unwrap();
    pki::write_pki(&test_pki, dir.path()).unwrap();

    // The server configured from the files the test PKI wrote, as `make demo` does.
    let trust = std::fs::read_to_string(dir.path().join(pki::SERVER_TRUST)).unwrap();
    let config: Config = toml::from_str(&format!("public_origin = \"{ORIGIN}\"\n{trust}")).unwrap();
    let store = Store::open_sqlite(&dir.path().join("data")).await.unwrap();
    let secret = mahpki_server::secret::ServerSecret::random();
    let holders = import::read(&dir.path().join(pki::SERVER_IMPORT), &secret).unwrap();
    assert_eq!(holders.len(), test_pki.holders.len());
    store.identity_import(&holders, false, Some("cli")).await.unwrap();
    let hpki = TrustStore::load(&config.hpki_trust).unwrap();
    let jpki = TrustStore::load(&config.jpki_trust).unwrap();
    let mut state = AppState::new(config, store, hpki, jpki);
    state.limiter = RateLimiter::new(1000, 1000);
    let app = router(state, None);

    for holder in &test_pki.holders {
        let mut b = Browser::new(&app);
        let c = b.challenge("/api/hpki/challenge").await;
        let a =
            b.finish("/api/hpki/finish", &c, &holder.hpki_cert, &sign(&holder.hpki_key, &c)).await;
        if holder.spec.revoked {
            assert_eq!(a.code(), Some(ErrorCode::CertificateRevoked), "{}", holder.spec.hpki_id);
            continue;
        }
        assert_eq!(a.status, StatusCode::OK, "{}: {:?}", holder.spec.hpki_id, a.body);
        let info: SessionInfo = serde_json::from_value(a.body).unwrap();
        assert_eq!(info.holder.hpki_id.as_str(), holder.spec.hpki_id);
        assert_eq!(info.holder.name_kanji, holder.spec.name_kanji);

        let c = b.challenge("/api/mynumber/challenge").await;
        let a = b
            .finish(
                "/api/mynumber/finish",
                &c,
                &holder.jpki_auth_cert,
                &sign(&holder.jpki_auth_key, &c),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}: {:?}", holder.spec.hpki_id, a.body);
        let bound: MyNumberBound = serde_json::from_value(a.body).unwrap();
        assert_eq!(bound.replaced, None);
    }
}
