//! The PKCS#11 backend against a real SoftHSM2 token holding an HPKI-labelled key and
//! certificate, driven end to end through the HTTP API: start, PIN page post (a wrong PIN, then
//! the right one), and a signature that verifies as RS256 over the origin-bound digest.
// Linux only: it loads SoftHSM2's Linux module (libsofthsm2.so) and runs softhsm2-util.
#![cfg(not(windows))]

mod common;

use common::*;
use std::{path::Path, process::Command, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use base64::Engine as _;
use mahpki_helper::{
    card::backend::pkcs11::{Pkcs11Backend, Pkcs11Labels},
    http,
    http::guard::Guard,
    operation::{OperationConfig, Operations},
};
use rsa::{Pkcs1v15Sign, PrivateKey, pkcs8::DecodePrivateKey as _};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const USER_PIN: &str = "1234";

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A fresh SoftHSM2 token in `dir` with the JAHIS labels.
fn provision(dir: &Path) {
    let conf = dir.join("softhsm2.conf");
    std::fs::create_dir(dir.join("tokens")).unwrap();
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.join("tokens").display()
        ),
    )
    .unwrap();
    // SAFETY: this test binary has a single test, so no other thread reads the environment.
    unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };
    run(Command::new("softhsm2-util").args([
        "--init-token",
        "--free",
        "--label",
        "HPKI Application",
        "--so-pin",
        "87654321",
        "--pin",
        USER_PIN,
    ]));
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    for (file, kind, label) in [
        ("test-key.der", "privkey", "Private key of HPKI"),
        ("test-cert.der", "cert", "HPKI END ENTITY CERTIFICATE"),
    ] {
        run(Command::new("pkcs11-tool")
            .args([
                "--module",
                MODULE,
                "--token-label",
                "HPKI Application",
                "--login",
                "--pin",
                USER_PIN,
            ])
            .args(["--write-object"])
            .arg(data.join(file))
            .args(["--type", kind, "--label", label, "--id", "17"]));
    }
}

async fn wait_state(app: &Router, id: &str, want: &str) -> Value {
    for _ in 0..500 {
        let v = state(app, id).await;
        if v["state"] == want {
            return v;
        }
        assert_ne!(v["state"], "failed", "{v}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never reached {want}: {}", state(app, id).await);
}

#[tokio::test]
async fn softhsm_token_authenticates_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    provision(dir.path());
    let backend =
        Pkcs11Backend::open(Path::new(MODULE), Pkcs11Labels::default()).expect("SoftHSM2 loads");
    let cfg = OperationConfig { poll: Duration::from_millis(20), ..Default::default() };
    let ops = Arc::new(Operations::new(Arc::new(backend), cfg));
    let app = http::router(Guard::new(HOST.parse().unwrap(), vec![SITE.into()]), ops);

    // The token shows up as a reader holding an HPKI card.
    let (code, status) = call(
        &app,
        Request::get("/v1/status")
            .header("host", HOST)
            .header("origin", SITE)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(status["readers"][0]["card"], "hpki", "{status}");

    let challenge = [0x42u8; 32];
    let id = start(&app, "hpki", &challenge).await;

    // A wrong PIN comes back to the holder; it is not retried.
    wait_state(&app, &id, "waiting_pin").await;
    assert_eq!(post_pin(&app, &id, "9999").await, StatusCode::ACCEPTED);
    let mut v = Value::Null;
    for _ in 0..500 {
        v = state(&app, &id).await;
        if v["state"] == "waiting_pin" && v["last_error"] == "pin_wrong" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(v["last_error"], "pin_wrong", "{v}");

    assert_eq!(post_pin(&app, &id, USER_PIN).await, StatusCode::ACCEPTED);
    let done = wait_state(&app, &id, "done").await;
    let result = &done["result"];
    assert_eq!(result["algorithm"], "RS256");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let cert = b64.decode(result["certificate"].as_str().unwrap()).unwrap();
    assert_eq!(cert, include_bytes!("../testdata/test-cert.der"));
    let signature = b64.decode(result["signature"].as_str().unwrap()).unwrap();

    // Recompute the signed digest independently and verify as a server would.
    let mut cat = Sha256::digest(SITE.as_bytes()).to_vec();
    cat.extend_from_slice(&Sha256::digest(challenge));
    let digest = Sha256::digest(&cat);
    let public = PrivateKey::from_pkcs8_pem(include_str!("../testdata/test-key.pem"))
        .unwrap()
        .to_public_key();
    public
        .verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &signature)
        .expect("RS256 signature verifies");
    // Bound to the origin: the same signature does not verify for another site.
    let mut other = Sha256::digest(b"https://evil.example").to_vec();
    other.extend_from_slice(&Sha256::digest(challenge));
    assert!(
        public.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(&other), &signature).is_err()
    );
}
