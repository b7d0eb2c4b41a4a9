//! Certificates, CRLs and CA certificates under hostile bytes. A card's certificate reaches the
//! server in `…/finish` bodies, CRLs and anchors come from files an operator drops in: each is
//! parsed from DER that may be truncated, bit-flipped, carry garbage lengths or be pure noise.
//! Every such input gets a typed `CertError` / `AnchorError`, never a panic; and nothing the CA
//! did not sign is ever accepted (a mutated certificate or CRL that still loads has the very
//! bytes the CA signed).
//!
//! Starts from cardsim's test PKI (the same certificates and CRLs the virtual cards carry).
//! The case count is small for `make test`; `make fuzz` sets PROPTEST_CASES for a long run.

use std::{path::Path, sync::OnceLock};

use mahpki_cardsim::pki;
use mahpki_server::pki::{TrustConfig, TrustStore, verify_signed_challenge};
use proptest::prelude::*;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use x509_parser::prelude::*;

const ORIGIN: &str = "https://hpki.example.jp";
const CHALLENGE: [u8; 32] = [0x42; 32];

fn test_pki() -> &'static pki::TestPki {
    static PKI: OnceLock<pki::TestPki> = OnceLock::new();
    PKI.get_or_init(|| pki::generate(13).expect("test PKI"))
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The trust configuration as an operator writes it (through serde, as the config file is read,
/// so fields this test does not name keep their defaults).
fn trust_config(ca_cert: &Path, crls: &[&Path]) -> TrustConfig {
    serde_json::from_value(serde_json::json!({ "ca_cert": ca_cert, "crls": crls }))
        .expect("a trust configuration")
}

/// The JMA issuing CA with its CRL, loaded from files as the server loads them.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

fn jma() -> (&'static pki::Ca, &'static [u8]) {
    let p = test_pki();
    let holder = &p.holders[0];
    let crl = &p.hpki_crls.iter().find(|(i, _)| *i == holder.spec.issuer).unwrap().1;
    (p.hpki_ca(holder.spec.issuer), crl)
}

/// The honest trust store: the JMA CA and its real CRL.
fn honest_store() -> &'static TrustStore {
    static STORE: OnceLock<TrustStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let (ca, crl) = jma();
        let files = Files::new();
        let cfg = trust_config(&files.write("ca.der", &ca.cert), &[&files.write("ca.crl", crl)]);
        TrustStore::load(&[cfg]).expect("the honest anchor loads")
    })
}

/// A moment inside the holder certificate's validity.
fn now() -> i64 {
    let (_, c) = X509Certificate::from_der(&test_pki().holders[0].hpki_cert).unwrap();
    c.validity().not_before.timestamp() + 86_400
}

fn holder_signature() -> Vec<u8> {
    let key = test_pki().holders[0].hpki_key.clone();
    rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key)
        .sign(&mahpki_server::pki::signed_data(ORIGIN, &CHALLENGE))
        .to_vec()
}

/// How DER is damaged: bit flips, a cut, bytes spliced in, a garbage length at a TLV header.
#[derive(Debug, Clone)]
enum Damage {
    Flip(usize, u8),
    Cut(usize),
    Insert(usize, Vec<u8>),
    /// Overwrite the length byte(s) after position `at` with a hostile length form.
    Length(usize, Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    let length = prop_oneof![
        Just(vec![0x80]),
        Just(vec![0x84, 0xff, 0xff, 0xff, 0xff]),
        Just(vec![0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        (any::<u8>(), any::<u8>()).prop_map(|(a, b)| vec![0x82, a, b]),
        any::<u8>().prop_map(|a| vec![0x81, a]),
        (0x80u8..=0xff).prop_map(|a| vec![a]),
    ];
    prop_oneof![
        4 => (any::<usize>(), 1u8..=255).prop_map(|(i, m)| Damage::Flip(i, m)),
        1 => any::<usize>().prop_map(Damage::Cut),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| Damage::Insert(i, b)),
        2 => (any::<usize>(), length).prop_map(|(i, l)| Damage::Length(i, l)),
    ]
}

fn damaged(original: &[u8], damages: &[Damage]) -> Vec<u8> {
    let mut v = original.to_vec();
    for d in damages {
        let at = |i: usize, v: &Vec<u8>| if v.is_empty() { 0 } else { i % v.len() };
        match d {
            Damage::Flip(i, m) => {
                if !v.is_empty() {
                    let i = at(*i, &v);
                    v[i] ^= m;
                }
            }
            Damage::Cut(i) => v.truncate(i % (v.len() + 1)),
            Damage::Insert(i, bytes) => {
                let i = at(*i, &v);
                let tail = v.split_off(i);
                v.extend(bytes);
                v.extend(tail);
            }
            Damage::Length(i, len) => {
                let i = (at(*i, &v) + 1).min(v.len());
                let end = (i + len.len()).min(v.len());
                let tail = v.split_off(end);
                v.truncate(i);
                v.extend(len);
                v.extend(tail);
            }
        }
    }
    v
}

fn tbs_of_cert(der: &[u8]) -> Option<Vec<u8>> {
    let (_, c) = X509Certificate::from_der(der).ok()?;
    Some(c.tbs_certificate.as_ref().to_vec())
}

fn tbs_of_crl(der: &[u8]) -> Option<Vec<u8>> {
    let (_, c) = CertificateRevocationList::from_der(der).ok()?;
    Some(c.tbs_cert_list.as_ref().to_vec())
}

#[test]
fn the_honest_certificate_verifies() {
    // Without this, every property below could pass by refusing everything.
    let cert = &test_pki().holders[0].hpki_cert;
    let v = verify_signed_challenge(
        honest_store(),
        cert,
        ORIGIN,
        &CHALLENGE,
        &holder_signature(),
        now(),
    );
    assert!(v.is_ok(), "{v:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(64), ..ProptestConfig::default() })]

    /// A holder certificate as a card (or an attacker) sends it: damaged DER is refused with a
    /// typed error; whatever still verifies carries the very TBS the CA signed.
    #[test]
    fn damaged_certificates_get_typed_errors(
        damages in prop::collection::vec(damage(), 1..5),
    ) {
        let original = &test_pki().holders[0].hpki_cert;
        let cert = damaged(original, &damages);
        let sig = holder_signature();
        match verify_signed_challenge(honest_store(), &cert, ORIGIN, &CHALLENGE, &sig, now()) {
            Ok(v) => {
                prop_assert_eq!(tbs_of_cert(&cert), tbs_of_cert(original));
                prop_assert_eq!(v.der, cert);
            }
            Err(e) => { let _ = e.to_string(); }
        }
    }

    /// Pure noise and DER-looking noise as a certificate, and as a signature.
    #[test]
    fn noise_certificates_and_signatures_get_typed_errors(
        cert in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..2048),
            (any::<u16>(), prop::collection::vec(any::<u8>(), 0..512))
                .prop_map(|(n, b)| [vec![0x30, 0x82], n.to_be_bytes().to_vec(), b].concat()),
        ],
        sig in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let _ = verify_signed_challenge(honest_store(), &cert, ORIGIN, &CHALLENGE, &sig, now());
        let real = &test_pki().holders[0].hpki_cert;
        let r = verify_signed_challenge(honest_store(), real, ORIGIN, &CHALLENGE, &sig, now());
        prop_assert!(r.is_err() || sig == holder_signature());
    }

    /// A CRL file the operator dropped in, damaged: the anchor refuses to load with a typed
    /// error, or loads a CRL whose signed body is the CA's own.
    #[test]
    fn damaged_crls_are_refused_or_unchanged(
        damages in prop::collection::vec(damage(), 1..5),
    ) {
        let (ca, crl) = jma();
        let bad = damaged(crl, &damages);
        let files = Files::new();
        let cfg = trust_config(&files.write("ca.der", &ca.cert), &[&files.write("x.crl", &bad)]);
        match TrustStore::load(&[cfg]) {
            Ok(_) => prop_assert_eq!(tbs_of_crl(&bad), tbs_of_crl(crl)),
            Err(e) => { let _ = e.to_string(); }
        }
    }

    /// A CA certificate file, damaged or noise: typed refusal; if it still loads as an anchor,
    /// verifying a real holder certificate under it answers without panicking.
    #[test]
    fn damaged_ca_certificates_are_refused_or_harmless(
        damages in prop::collection::vec(damage(), 0..5),
        noise in prop::option::of(prop::collection::vec(any::<u8>(), 0..1024)),
        pem in any::<bool>(),
    ) {
        let (ca, _) = jma();
        let mut bytes = noise.unwrap_or_else(|| damaged(&ca.cert, &damages));
        if pem {
            // PEM framing around the damage: read_der's PEM path.
            let mut framed = b"-----BEGIN CERTIFICATE-----\n".to_vec();
            framed.extend(bytes.iter().map(|b| b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef+/="[*b as usize % 35]));
            framed.extend(b"\n-----END CERTIFICATE-----\n");
            bytes = framed;
        }
        let files = Files::new();
        let cfg = trust_config(&files.write("ca", &bytes), &[]);
        if let Ok(store) = TrustStore::load(&[cfg]) {
            let h = &test_pki().holders[0];
            let _ = verify_signed_challenge(
                &store, &h.hpki_cert, ORIGIN, &CHALLENGE, &holder_signature(), now(),
            );
        }
    }
}
