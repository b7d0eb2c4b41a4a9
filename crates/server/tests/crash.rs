//! Durability: the real server binary, a stream of My Number bindings from several clients, and
//! SIGKILL in the middle of it. After a restart every acknowledged binding is there, and nothing
//! is half-written (each binding row has its audit row, written in the same transaction).

mod common;

use std::{
    collections::HashSet,
    io::{BufRead as _, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use common::pki::{self, HPKI_POLICY, HPKI_POLICY_STR, JPKI_POLICY};
use mahpki_protocol::api::{CardSignature, Challenge, MyNumberBound, SignatureAlgorithm};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const BIN: &str = env!("CARGO_BIN_EXE_mahpki-server");
const ORIGIN: &str = "http://localhost:9";
const HOLDERS: u32 = 60;

struct Server {
    child: Child,
    addr: String,
}

fn start(config: &Path, data: &Path) -> Server {
    let mut child = Command::new(BIN)
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("MAHPKI_DATA_DIR", data)
        .env("MAHPKI_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "{line}");
    Server { child, addr }
}

fn cli(config: &Path, data: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .env("MAHPKI_DATA_DIR", data)
        .env("MAHPKI_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A minimal HTTP/1.1 client: one request per connection, as a browser's fetch would send it.
async fn post(
    addr: &str,
    path: &str,
    cookie: Option<&str>,
    body: &str,
) -> std::io::Result<(u16, Option<String>, String)> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n{cookie}Connection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or(std::io::ErrorKind::UnexpectedEof)?;
    let status =
        head.get(9..12).and_then(|s| s.parse().ok()).ok_or(std::io::ErrorKind::InvalidData)?;
    let set_cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .map(|v| v.split(';').next().unwrap().to_owned());
    Ok((status, set_cookie, body.to_owned()))
}

async fn card_round(
    addr: &str,
    cookie: &mut Option<String>,
    prefix: &str,
    cert: &[u8],
) -> std::io::Result<(u16, String)> {
    let (status, set, body) =
        post(addr, &format!("/api/{prefix}/challenge"), cookie.as_deref(), "").await?;
    if let Some(c) = set {
        *cookie = Some(c);
    }
    if status != 200 {
        return Ok((status, body));
    }
    let c: Challenge = serde_json::from_str(&body).unwrap();
    let challenge = URL_SAFE_NO_PAD.decode(&c.challenge).unwrap();
    let sig = CardSignature {
        challenge: c.challenge,
        certificate: URL_SAFE_NO_PAD.encode(cert),
        algorithm: SignatureAlgorithm::Rs256,
        signature: URL_SAFE_NO_PAD.encode(pki::keys().holder.sign_challenge(ORIGIN, &challenge)),
    };
    let (status, set, body) = post(
        addr,
        &format!("/api/{prefix}/finish"),
        cookie.as_deref(),
        &serde_json::to_string(&sig).unwrap(),
    )
    .await?;
    if let Some(c) = set {
        *cookie = Some(c);
    }
    Ok((status, body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_no_acknowledged_binding() {
    let keys = pki::keys();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let hpki_ca = pki::ca("HPKI test CA", &keys.hpki_ca);
    let jpki_ca = pki::ca("JPKI test CA", &keys.jpki_ca);
    let hpki =
        pki::trust_config(dir.path(), "hpki", &hpki_ca, &keys.hpki_ca, HPKI_POLICY_STR, 2099);
    let jpki = pki::trust_config(
        dir.path(),
        "jpki",
        &jpki_ca,
        &keys.jpki_ca,
        "1.2.392.200149.8.5.1.3.30",
        2099,
    );
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\npublic_origin = \"{ORIGIN}\"\n\
             rate_limit = {{ burst = 1000, per_minute = 1000 }}\n\
             [[hpki_trust]]\nca_cert = {:?}\npolicies = [{:?}]\ncrls = [{:?}]\n\
             [[jpki_trust]]\nca_cert = {:?}\ncrls = [{:?}]\n",
            hpki.ca_cert, hpki.policies[0], hpki.crls[0], jpki.ca_cert, jpki.crls[0]
        ),
    )
    .unwrap();

    // The CA operator's register, imported through the real CLI.
    let mut rows = Vec::new();
    let mut hpki_certs = Vec::new();
    for n in 1..=HOLDERS {
        let cert = pki::issue(
            &pki::ee_params(&format!("holder {n}"), u64::from(n), HPKI_POLICY),
            &keys.holder,
            &hpki_ca.params,
            &keys.hpki_ca,
        );
        std::fs::write(dir.path().join(format!("h{n}.der")), &cert).unwrap();
        rows.push(serde_json::json!({
            "hpki_id": format!("MEDIS-{n:05}"), "ca": "MEDIS", "qualification": "pharmacist",
            "name_kanji": "薬剤師 一郎", "name_kana": "ヤクザイシ イチロウ", "name_roman": "YAKUZAISHI ICHIRO",
            "registration_number": format!("{n}"), "hpki_card_id": format!("C{n}"), "certificate": format!("h{n}.der"),
        }));
        hpki_certs.push(cert);
    }
    let import = dir.path().join("holders.json");
    std::fs::write(&import, serde_json::to_string(&rows).unwrap()).unwrap();
    assert!(
        cli(&config, &data, &["identity", "import", import.to_str().unwrap()])
            .contains(&format!("imported {HOLDERS}"))
    );

    let mut server = start(&config, &data);
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let jpki_certs: Vec<Vec<u8>> = (1..=HOLDERS)
        .map(|n| {
            pki::issue(
                &pki::ee_params("", 0x9000 + u64::from(n), JPKI_POLICY),
                &keys.holder,
                &jpki_ca.params,
                &keys.jpki_ca,
            )
        })
        .collect();
    let mut clients = Vec::new();
    for worker in 0..4u32 {
        let (addr, acked) = (server.addr.clone(), acked.clone());
        let (hpki_certs, jpki_certs) = (hpki_certs.clone(), jpki_certs.clone());
        clients.push(tokio::spawn(async move {
            for n in (worker..HOLDERS).step_by(4) {
                let mut cookie = None;
                let Ok((200, _)) =
                    card_round(&addr, &mut cookie, "hpki", &hpki_certs[n as usize]).await
                else {
                    return;
                };
                let Ok((status, body)) =
                    card_round(&addr, &mut cookie, "mynumber", &jpki_certs[n as usize]).await
                else {
                    return;
                };
                assert_eq!(status, 200, "{body}");
                let bound: MyNumberBound = serde_json::from_str(&body).unwrap();
                acked
                    .lock()
                    .unwrap()
                    .push((format!("MEDIS-{:05}", n + 1), bound.binding.fingerprint));
            }
        }));
    }
    // Kill the server while the stream is in full flow.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while acked.lock().unwrap().len() < 12 {
        assert!(tokio::time::Instant::now() < deadline, "bindings did not progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.child.wait().unwrap();
    for c in clients {
        c.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() < HOLDERS as usize, "the kill came too late to test anything");

    // Restart: the server opens the same database and serves again.
    let mut server = start(&config, &data);
    let (status, _, _) = post(&server.addr, "/api/hpki/challenge", None, "").await.unwrap();
    assert_eq!(status, 200);
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let bindings: Vec<serde_json::Value> = cli(&config, &data, &["binding", "list"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stored: HashSet<(String, String)> = bindings
        .iter()
        .filter(|b| b["revoked_ms"].is_null())
        .map(|b| {
            (
                b["hpki_id"].as_str().unwrap().to_owned(),
                b["fingerprint"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for a in &acked {
        assert!(stored.contains(a), "acknowledged binding {a:?} was lost");
    }
    // Nothing half-written: each binding has exactly the audit event of its transaction.
    let audit = cli(&config, &data, &["audit", "tail", "-n", "100000"]);
    let bind_events = audit.lines().filter(|l| l.contains("\"action\":\"mynumber.bind\"")).count();
    assert_eq!(bind_events, bindings.len());
    let holders: HashSet<_> = bindings.iter().map(|b| b["hpki_id"].as_str().unwrap()).collect();
    assert_eq!(holders.len(), bindings.len(), "a holder has two bindings");
    // At most the requests in flight at the kill may have committed without being acknowledged.
    assert!(
        bindings.len() <= acked.len() + 4,
        "{} stored, {} acknowledged",
        bindings.len(),
        acked.len()
    );
}
