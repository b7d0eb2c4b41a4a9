//! HPKI second certificates with a real SoftHSM2 token (made by scripts/softhsm-token.sh in a
//! temporary directory), the real `mahpki-server second-cert` commands, cardsim's test CA
//! issuing from the CSRs, openssl checking what comes out, on SQLite and PostgreSQL.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::LazyLock,
};

use common::{Db, binary::cli_env};
use mahpki_cardsim::pki::{self, TestPki};
use mahpki_protocol::ErrorCode;
use mahpki_server::{
    hsm::{Hsm, HsmConfig, HsmError, SignAlg},
    service::second_cert::{SecondCertError, SecondCerts},
    store::Store,
};
use sha2::{Digest as _, Sha256};
use x509_parser::prelude::FromDer as _;

const PIN: &str = "246810";
const HP1: &str = "HP0000000001";
const HP2: &str = "HP0000000002";

/// The test PKI with the first two demo holders (keys take a moment: made once).
static PKI: LazyLock<TestPki> = LazyLock::new(|| {
    pki::generate_for(7, pki::demo_holders().into_iter().take(2).collect()).unwrap()
});

/// One SoftHSM2 configuration for this process: the module reads `SOFTHSM2_CONF` when it
/// initialises, and it is one library per process. Each test makes its own token (own label)
/// in it; tests that use the module in this process take [`HSM_LOCK`] so one pool's C_Finalize
/// never cuts another's sessions.
static PROCESS_HSM: LazyLock<(tempfile::TempDir, PathBuf)> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    let conf = token(dir.path(), "process-first");
    // SAFETY: set once, before this process first loads the PKCS#11 module (every use of the
    // module goes through this LazyLock first); the CLI children get it explicitly.
    unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };
    (dir, conf)
});
static HSM_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A token labelled `label` under `dir` by the project's script; returns its SOFTHSM2_CONF.
fn token(dir: &Path, label: &str) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/softhsm-token.sh");
    let out = Command::new("bash").arg(script).arg(dir).arg(label).arg(PIN).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn unique_label(name: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!("{name}-{}", N.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
}

/// A data directory, the server's settings trusting the test PKI, its two holders imported,
/// and the HSM settings the commands run with.
struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
    data: PathBuf,
    db_url: Option<String>,
    softhsm_conf: PathBuf,
    label: String,
    pin: String,
}

impl Setup {
    /// `own_token`: a SoftHSM2 configuration of this test alone (to take it away); otherwise a
    /// token in the process's configuration (to use the same keys in this process too).
    async fn new(db: Db, own_token: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let label = unique_label("t");
        let softhsm_conf = if own_token {
            token(&dir.path().join("hsm"), &label)
        } else {
            let (process_dir, conf) = &*PROCESS_HSM;
            token(process_dir.path(), &label);
            conf.clone()
        };
        let pki_dir = dir.path().join("pki");
        pki::write_pki(&PKI, &pki_dir).unwrap();
        let config = dir.path().join("server.toml");
        let trust = std::fs::read_to_string(pki_dir.join(pki::SERVER_TRUST)).unwrap();
        std::fs::write(&config, format!("listen = \"127.0.0.1:0\"\n{trust}")).unwrap();
        let db_url = match db {
            Db::Sqlite => None,
            Db::Postgres => Some(common::postgres::fresh_database_url().await),
        };
        let s = Self {
            data: dir.path().join("data"),
            dir,
            config,
            db_url,
            softhsm_conf,
            label,
            pin: PIN.into(),
        };
        let register = pki_dir.join(pki::SERVER_IMPORT);
        s.ok(&["identity", "import", register.to_str().unwrap()]);
        s
    }

    fn run_with(&self, env: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
        let conf = self.softhsm_conf.to_str().unwrap();
        let mut all = vec![
            ("SOFTHSM2_CONF", conf),
            ("MAHPKI_HSM_TOKEN_LABEL", self.label.as_str()),
            ("MAHPKI_HSM_PIN", self.pin.as_str()),
        ];
        all.extend_from_slice(env);
        cli_env(&self.config, &self.data, self.db_url.as_deref(), &all, args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run_with(&[], args);
        assert!(ok, "{args:?} failed: {err}");
        out
    }

    /// Runs a command that must fail with `code`; returns its stderr.
    fn refused_with(&self, env: &[(&str, &str)], args: &[&str], code: ErrorCode) -> String {
        let (ok, out, err) = self.run_with(env, args);
        assert!(!ok, "{args:?} succeeded: {out}");
        assert!(
            err.contains(&format!("[{}]", code.wire())),
            "{args:?}: expected {code:?}, got {err}"
        );
        err
    }

    /// `second-cert request` for `hpki_id`: the CSR's DER (also left as `<hpki_id>.csr.pem`).
    fn request(&self, hpki_id: &str) -> Vec<u8> {
        let path = self.dir.path().join(format!("{hpki_id}.csr.pem"));
        self.ok(&["second-cert", "request", hpki_id, "--out", path.to_str().unwrap()]);
        let pem = std::fs::read(&path).unwrap();
        x509_parser::pem::parse_x509_pem(&pem).unwrap().1.contents
    }

    /// Writes `der` as a PEM certificate file and returns its path.
    fn cert_file(&self, name: &str, der: &[u8]) -> String {
        let path = self.dir.path().join(format!("{name}.pem"));
        std::fs::write(&path, pki::certificate_pem(der)).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn list(&self, hpki_id: Option<&str>) -> Vec<serde_json::Value> {
        let mut args = vec!["second-cert", "list"];
        args.extend(hpki_id);
        self.ok(&args).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    fn audit_actions(&self) -> Vec<String> {
        self.ok(&["audit", "tail", "-n", "200"])
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["action"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .filter(|a| a.starts_with("second_cert."))
            .collect()
    }

    async fn store(&self) -> Store {
        Store::open(&self.data, self.db_url.as_deref()).await.unwrap()
    }

    fn hsm_config(&self) -> HsmConfig {
        HsmConfig {
            token_label: self.label.clone(),
            pin: Some(zeroize::Zeroizing::new(self.pin.clone())),
            ..HsmConfig::default()
        }
    }
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn state_of(rows: &[serde_json::Value]) -> Vec<&str> {
    rows.iter().map(|r| r["state"].as_str().unwrap()).collect()
}

/// request → CSR verified by openssl → the CA issues → import → list; a second request while
/// one is active is refused; revoke; a new request after it.
async fn life_cycle(db: Db) {
    let s = Setup::new(db, true).await;
    let csr = s.request(HP1);
    let csr_path = s.dir.path().join(format!("{HP1}.csr.pem"));
    let (ok, text) =
        openssl(&["req", "-in", csr_path.to_str().unwrap(), "-verify", "-noout", "-subject"]);
    assert!(ok && text.contains("verify OK"), "{text}");
    assert!(text.contains(&format!("serialNumber = {HP1}")), "subject from the holder: {text}");
    let rows = s.list(Some(HP1));
    assert_eq!(state_of(&rows), ["requested"]);
    let credential = rows[0]["credential_id"].as_str().unwrap().to_owned();

    // Asking again before the import hands out the same key (idempotent), not a second one.
    let again = s.request(HP1);
    let key = |der: &[u8]| {
        let (_, req) =
            x509_parser::certification_request::X509CertificationRequest::from_der(der).unwrap();
        req.certification_request_info.subject_pki.raw.to_vec()
    };
    assert_eq!(key(&again), key(&csr));
    assert_eq!(s.list(None).len(), 1);

    let cert = PKI.second_certificate(HP1, &csr).unwrap();
    let path = s.cert_file("hp1", &cert);
    let imported: serde_json::Value =
        serde_json::from_str(s.ok(&["second-cert", "import", HP1, &path]).trim()).unwrap();
    assert_eq!(imported["state"], "active");
    assert_eq!(imported["credential_id"], credential.as_str());
    let rows = s.list(None);
    assert_eq!(state_of(&rows), ["active"]);
    assert!(rows[0]["issuer"].as_str().unwrap().contains("JMA"), "{rows:?}");

    // One open credential per holder: a new request, or importing again, is refused.
    s.refused_with(&[], &["second-cert", "request", HP1], ErrorCode::SecondCertExists);
    s.refused_with(&[], &["second-cert", "import", HP1, &path], ErrorCode::SecondCertExists);
    assert_eq!(s.list(None).len(), 1, "nothing was added");

    // Revoke by credential id; the key is destroyed; a second revoke finds nothing open.
    let out = s.ok(&["second-cert", "revoke", &credential, "--reason", "left the clinic"]);
    assert!(out.contains("\"revoked\""), "{out}");
    s.refused_with(&[], &["second-cert", "revoke", HP1], ErrorCode::SecondCertUnknown);
    let rows = s.list(Some(HP1));
    assert_eq!(state_of(&rows), ["revoked"]);
    assert_eq!(rows[0]["revoked_reason"], "left the clinic");

    // After the revocation the holder may request anew: a new credential and key.
    let renewed = s.request(HP1);
    assert_ne!(key(&renewed), key(&csr));
    let rows = s.list(Some(HP1));
    assert_eq!(state_of(&rows), ["revoked", "requested"]);
    assert_ne!(rows[1]["credential_id"], credential.as_str());
    s.refused_with(&[], &["second-cert", "request", "HP0000000099"], ErrorCode::HolderUnknown);

    assert_eq!(
        s.audit_actions(),
        [
            "second_cert.request",
            "second_cert.request",
            "second_cert.import",
            "second_cert.revoke",
            "second_cert.request"
        ]
    );
}

/// Each certificate that is not the right one for the request is refused with its own code,
/// and the request stays as it was; the right one then imports.
async fn import_refusals(db: Db) {
    let s = Setup::new(db, true).await;
    let csr1 = s.request(HP1);
    let csr2 = s.request(HP2);
    let h1 = &PKI.holder(HP1).unwrap().spec;
    let h2 = &PKI.holder(HP2).unwrap().spec;
    let jma = PKI.hpki_ca(h1.issuer);
    let (from, to) = (rcgen::date_time_ymd(2025, 4, 1), rcgen::date_time_ymd(2030, 3, 31));
    let import = |name: &str, der: &[u8], code| {
        let path = s.cert_file(name, der);
        s.refused_with(&[], &["second-cert", "import", HP1, &path], code)
    };
    // HP1's name on HP2's key (a CA mix-up, or someone else's request).
    let other_key = pki::issue_second_certificate(&csr2, h1, jma, from, to).unwrap();
    import("other-key", &other_key, ErrorCode::SecondCertKeyMismatch);
    // HP1's key, HP2's name.
    let other_subject = pki::issue_second_certificate(&csr1, h2, jma, from, to).unwrap();
    import("other-subject", &other_subject, ErrorCode::SecondCertSubjectMismatch);
    // Issued by a CA that is not a configured HPKI anchor (the JPKI signing CA).
    let foreign = pki::issue_second_certificate(&csr1, h1, &PKI.jpki_sign_ca, from, to).unwrap();
    import("foreign", &foreign, ErrorCode::CertificateUntrusted);
    // Expired.
    let (old_from, old_to) = (rcgen::date_time_ymd(2020, 1, 1), rcgen::date_time_ymd(2021, 1, 1));
    let expired = pki::issue_second_certificate(&csr1, h1, jma, old_from, old_to).unwrap();
    import("expired", &expired, ErrorCode::CertificateExpired);
    // The card's authentication certificate (the auth policy, not a second certificate's).
    let card = PKI.holder(HP1).unwrap().hpki_cert.clone();
    import("card", &card, ErrorCode::CertificatePolicy);

    assert_eq!(state_of(&s.list(None)), ["requested", "requested"], "nothing changed");
    assert!(!s.audit_actions().contains(&"second_cert.import".to_owned()));

    // HP2's certificate imported for HP1 is HP2's subject and key: refused; for HP2 it is fine.
    let good2 = PKI.second_certificate(HP2, &csr2).unwrap();
    let p2 = s.cert_file("good2", &good2);
    s.refused_with(&[], &["second-cert", "import", HP1, &p2], ErrorCode::SecondCertSubjectMismatch);
    s.ok(&["second-cert", "import", HP2, &p2]);
    let good1 = PKI.second_certificate(HP1, &csr1).unwrap();
    let p1 = s.cert_file("good1", &good1);
    s.ok(&["second-cert", "import", HP1, &p1]);
    assert_eq!(state_of(&s.list(None)), ["active", "active"]);
}

/// The HSM unavailable (wrong PIN, no such token, the token's files gone): a typed 503-class
/// refusal, nothing written; once it is back, the same commands work.
async fn hsm_unavailable(db: Db) {
    let s = Setup::new(db, true).await;
    let unavailable = ErrorCode::HsmUnavailable;
    assert_eq!(unavailable.http_status(), 503);
    let request = ["second-cert", "request", HP1];
    let err = s.refused_with(&[("MAHPKI_HSM_PIN", "000000")], &request, unavailable);
    assert!(err.contains("PIN"), "{err}");
    assert!(!err.contains("000000"), "the PIN is never printed: {err}");
    let err = s.refused_with(&[("MAHPKI_HSM_TOKEN_LABEL", "nope")], &request, unavailable);
    assert!(err.contains("nope"), "{err}");
    s.refused_with(&[("MAHPKI_HSM_MODULE", "/nonexistent/pkcs11.so")], &request, unavailable);
    assert!(s.list(None).is_empty(), "nothing written");

    // The token's files go away.
    let tokens = s.dir.path().join("hsm/tokens");
    let away = s.dir.path().join("hsm/tokens-away");
    std::fs::rename(&tokens, &away).unwrap();
    std::fs::create_dir(&tokens).unwrap();
    s.refused_with(&[], &request, unavailable);
    assert!(s.list(None).is_empty(), "nothing written");
    assert!(s.audit_actions().is_empty());
    // ... and come back.
    std::fs::remove_dir(&tokens).unwrap();
    std::fs::rename(&away, &tokens).unwrap();
    let csr = s.request(HP1);

    // Gone again between request and import: the import is refused and the request stays.
    let path = s.cert_file("hp1", &PKI.second_certificate(HP1, &csr).unwrap());
    std::fs::rename(&tokens, &away).unwrap();
    std::fs::create_dir(&tokens).unwrap();
    s.refused_with(&[], &["second-cert", "import", HP1, &path], unavailable);
    assert_eq!(state_of(&s.list(None)), ["requested"]);
    std::fs::remove_dir(&tokens).unwrap();
    std::fs::rename(&away, &tokens).unwrap();
    s.ok(&["second-cert", "import", HP1, &path]);
    assert_eq!(state_of(&s.list(None)), ["active"]);
}

/// Signatures made through the pool verify with openssl against the imported certificate
/// (PKCS#1 v1.5 and PSS); the private key is sensitive and never extractable; a revoked
/// credential signs nothing.
async fn signatures_verify(db: Db) {
    let _hsm = HSM_LOCK.lock().await;
    let s = Setup::new(db, false).await;
    let csr = s.request(HP1);
    let cert = PKI.second_certificate(HP1, &csr).unwrap();
    let cert_path = s.cert_file("hp1", &cert);
    s.ok(&["second-cert", "import", HP1, &cert_path]);
    let rows = s.list(Some(HP1));
    let credential = rows[0]["credential_id"].as_str().unwrap().to_owned();
    let key_id = rows[0]["key_id"].as_str().unwrap().to_owned();

    let certs = SecondCerts::new(s.store().await, Hsm::new(s.hsm_config()));
    let now = mahpki_server::store::now_ms();
    let data = "処方箋 SignedInfo".as_bytes();
    let data_path = s.dir.path().join("data.bin");
    std::fs::write(&data_path, data).unwrap();
    let digest: [u8; 32] = Sha256::digest(data).into();
    let (ok, pubkey) = openssl(&["x509", "-in", &cert_path, "-pubkey", "-noout"]);
    assert!(ok, "{pubkey}");
    let pub_path = s.dir.path().join("pub.pem");
    std::fs::write(&pub_path, pubkey).unwrap();
    for (alg, opts) in [
        (SignAlg::RsaPkcs1Sha256, vec![]),
        (
            SignAlg::RsaPssSha256,
            vec!["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"],
        ),
    ] {
        let sig = certs.sign_digest(&credential, digest, alg, now).await.unwrap();
        let sig_path = s.dir.path().join("sig.bin");
        std::fs::write(&sig_path, &sig).unwrap();
        let mut args = vec!["dgst", "-sha256", "-verify", pub_path.to_str().unwrap()];
        args.extend(opts);
        args.extend(["-signature", sig_path.to_str().unwrap(), data_path.to_str().unwrap()]);
        let (ok, text) = openssl(&args);
        assert!(ok && text.contains("Verified OK"), "{alg:?}: {text}");
        // Over other data it does not verify (the check can fail).
        let other = s.dir.path().join("other.bin");
        std::fs::write(&other, b"another prescription").unwrap();
        *args.last_mut().unwrap() = other.to_str().unwrap();
        assert!(!openssl(&args).0, "{alg:?} verified other data");
    }
    let public = certs.public_key(&credential, now).await.unwrap();
    let (_, parsed) = x509_parser::parse_x509_certificate(&cert).unwrap();
    use rsa::pkcs8::DecodePublicKey as _;
    assert_eq!(public, rsa::PublicKey::from_public_key_der(parsed.public_key().raw).unwrap());

    let attrs =
        certs.hsm.key_attributes(mahpki_server::pki::unhex(&key_id).unwrap()).await.unwrap();
    assert!(attrs.sensitive && attrs.always_sensitive, "{attrs:?}");
    assert!(!attrs.extractable && attrs.never_extractable, "{attrs:?}");

    // Unknown credential, then revoked: refused, nothing signed.
    let e = certs.sign_digest("nope", digest, SignAlg::RsaPkcs1Sha256, now).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::SecondCertUnknown);
    s.ok(&["second-cert", "revoke", HP1]);
    let e = certs.sign_digest(&credential, digest, SignAlg::RsaPkcs1Sha256, now).await.unwrap_err();
    assert!(matches!(e, SecondCertError::Unknown(_)), "{e:?}");
    // The key itself is gone from the token.
    let gone = certs.hsm.key_attributes(mahpki_server::pki::unhex(&key_id).unwrap()).await;
    assert!(matches!(gone, Err(HsmError::KeyMissing(_))), "{gone:?}");
}

/// Three operators request one holder's certificate at the same moment: one credential and one
/// key in the token, whoever wins; the others get the same request or `second_cert_exists`.
async fn concurrent_requests(db: Db) {
    let s = Setup::new(db, true).await;
    let results: Vec<(bool, String, Vec<u8>)> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..3)
            .map(|i| {
                let s = &s;
                scope.spawn(move || {
                    let path = s.dir.path().join(format!("race{i}.csr.pem"));
                    let (ok, _, err) = s.run_with(
                        &[],
                        &["second-cert", "request", HP2, "--out", path.to_str().unwrap()],
                    );
                    let csr = std::fs::read(&path).unwrap_or_default();
                    (ok, err, csr)
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut keys = std::collections::BTreeSet::new();
    for (ok, err, csr) in &results {
        if *ok {
            let der = x509_parser::pem::parse_x509_pem(csr).unwrap().1.contents;
            let (_, req) =
                x509_parser::certification_request::X509CertificationRequest::from_der(&der)
                    .unwrap();
            keys.insert(req.certification_request_info.subject_pki.raw.to_vec());
        } else {
            // Refused because another request holds the holder's credential, or (SoftHSM2 reads
            // its token directory afresh in each process, and may miss a token another process
            // is writing) the HSM was unavailable: both typed, and neither writes anything,
            // which the counts below check.
            assert!(
                err.contains("[second_cert_exists]") || err.contains("[hsm_unavailable]"),
                "{err}"
            );
        }
    }
    assert_eq!(keys.len(), 1, "every request that succeeded hands out the same key");
    assert_eq!(s.list(None).len(), 1, "one credential");
    let out = Command::new("pkcs11-tool")
        .args(["--module", mahpki_server::hsm::DEFAULT_MODULE, "--token-label", &s.label])
        .args(["--login", "--pin", PIN, "--list-objects", "--type", "privkey"])
        .env("SOFTHSM2_CONF", &s.softhsm_conf)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listing.matches("Private Key Object").count(), 1, "{listing}");
}

on_both_databases!(
    life_cycle,
    import_refusals,
    hsm_unavailable,
    signatures_verify,
    concurrent_requests
);

/// The pool without its token comes up when the token appears, and reconnects by itself when
/// the module was finalised under it (what a removed and re-inserted HSM looks like).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_recovers_when_the_hsm_returns() {
    let _hsm = HSM_LOCK.lock().await;
    let (dir, conf) = &*PROCESS_HSM;
    let label = unique_label("late");
    let hsm = Hsm::new(HsmConfig {
        token_label: label.clone(),
        pin: Some(zeroize::Zeroizing::new(PIN.into())),
        ..HsmConfig::default()
    });
    let key_id = b"recovery-key".to_vec();
    let err = hsm.ensure_key_pair(key_id.clone(), "k".into()).await.unwrap_err();
    assert_eq!(err, HsmError::NoToken(label.clone()));
    assert_eq!(err.code(), ErrorCode::HsmUnavailable);

    token(dir.path(), &label);
    assert_eq!(std::env::var_os("SOFTHSM2_CONF").unwrap(), conf.as_os_str());
    let public = hsm.ensure_key_pair(key_id.clone(), "k".into()).await.unwrap();
    // Asking again finds the same key rather than making a second one.
    assert_eq!(hsm.ensure_key_pair(key_id.clone(), "k".into()).await.unwrap(), public);

    // Another user of the module in this process finalises it: every session of the pool is
    // gone. The next operation reconnects and succeeds.
    let other = cryptoki::context::Pkcs11::new(mahpki_server::hsm::DEFAULT_MODULE).unwrap();
    other.finalize().unwrap();
    let digest = [7u8; 32];
    let sig = hsm.sign_digest(key_id.clone(), SignAlg::RsaPkcs1Sha256, digest).await.unwrap();
    let verifier = rsa::pkcs1v15::Pkcs1v15Sign::new::<Sha256>();
    public.verify(verifier, &digest, &sig).unwrap();

    // A wrong PIN is refused as such (and not retried into a lock-out).
    let wrong = Hsm::new(HsmConfig {
        token_label: label,
        pin: Some(zeroize::Zeroizing::new("999999".into())),
        ..HsmConfig::default()
    });
    drop(hsm);
    assert_eq!(wrong.check().await.unwrap_err(), HsmError::PinRefused);
}
