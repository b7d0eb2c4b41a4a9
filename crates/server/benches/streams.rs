//! `make bench`: many PCs waiting on their enrolment codes (別紙2) on one server process. Each
//! PC has its own HPKI-signed-in session and its own code, and holds the code's live-event
//! stream (SSE) open over its own TCP connection, as a browser does. Measured: the server
//! process's resident memory per open stream, and how soon a completion (a phone's `finish`)
//! reaches its PC's stream while all the others wait.
//!
//! Three processes of this binary: `setup` writes the holders, sessions and codes into a SQLite
//! database (on /dev/shm: the setup's commits are not what is measured), `serve` is the server
//! (the real router under `axum::serve`, as `mahpki-server serve` runs it) started fresh on that
//! database, and the parent plays the PCs and the phones over loopback TCP and reads the
//! server's RSS from /proc. Prints Markdown table rows for BENCHMARKS.md.

#[path = "../tests/common/pki.rs"]
#[allow(dead_code)]
mod pki;

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    http::{Request, header},
};
use http_body_util::BodyExt as _;
use mahpki_protocol::{
    HpkiId,
    api::{Ca, Holder, Qualification},
    enrol::{EnrolmentIssued, EnrolmentOpened, FinishEnrolment, PhoneConfirm, RegistrationOptions},
};
use mahpki_server::{
    Config,
    config::StreamLimits,
    http::{AppState, RateLimiter, router, session},
    pki::{TrustConfig, TrustStore},
    store::{CurrentCert, IdentityRecord, Store},
};
use tokio::{
    io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader},
    net::TcpStream,
};
use webauthn_authenticator_rs::{WebauthnAuthenticator as _, softpasskey::SoftPasskey};
use x509_parser::prelude::*;

const ORIGIN: &str = "https://hpki.example.jp";
/// Waiting PCs (issue 14: 10 000 on one process).
const PCS: usize = 10_000;
/// Completions timed while the others wait.
const ROUNDS: usize = 30;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    let rt = rt.unwrap();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[1..] {
        ["setup", dir] => rt.block_on(setup(Path::new(dir))),
        ["serve", dir] => rt.block_on(serve(Path::new(dir))),
        _ => rt.block_on(measure()),
    }
}

/// The HPKI anchor and its CRL, which `setup` writes into `dir`.
fn trust(dir: &Path) -> TrustConfig {
    TrustConfig {
        ca_cert: dir.join("hpki.der"),
        policies: vec![pki::HPKI_POLICY_STR.into()],
        signing_policies: vec![],
        crls: vec![dir.join("hpki.crl")],
    }
}

fn config(dir: &Path) -> Config {
    Config {
        public_origin: ORIGIN.into(),
        hpki_trust: vec![trust(dir)],
        // Long enough for the whole run: no code expires while measured.
        enrolment_ttl_secs: 3600,
        streams: StreamLimits { per_session: 3, per_server: 2 * PCS as u32 },
        ..Config::default()
    }
}

fn state(store: Store, dir: &Path) -> AppState {
    let config = config(dir);
    let hpki = TrustStore::load(&config.hpki_trust).unwrap();
    let mut state = AppState::new(config, store, hpki, TrustStore::default());
    // Every PC of the bench comes from one address.
    state.limiter = RateLimiter::new(u32::MAX, u32::MAX);
    state.secret = Some(std::sync::Arc::new(mahpki_server::secret::ServerSecret::random()));
    state
}

/// The holders (one per PC), each signed in on its own PC and with a code issued: one line per
/// PC, `cookie <TAB> 2D code's URL`, in `dir/pcs`.
async fn setup(dir: &Path) {
    let keys = pki::keys();
    let ca = pki::ca("HPKI bench CA", &keys.hpki_ca);
    pki::trust_config(dir, "hpki", &ca, &keys.hpki_ca, pki::HPKI_POLICY_STR, 2099);
    let (_, ca_cert) = X509Certificate::from_der(&ca.cert_der).unwrap();
    let issuer = ca_cert.subject().as_raw().to_vec();
    let store = Store::open_sqlite(dir).await.unwrap();
    let app = router(state(store.clone(), dir), None);
    let now = mahpki_server::store::now_ms();
    let mut lines = String::new();
    for i in 0..PCS {
        let hpki_id = format!("JMA-{:07}", 1_000_000 + i);
        store
            .identity_upsert(&IdentityRecord {
                holder: Holder {
                    hpki_id: HpkiId::parse(&hpki_id).unwrap(),
                    ca: Ca::Jma,
                    qualification: Qualification::Doctor,
                    name_kanji: "医師 太郎".into(),
                    name_kana: "イシ タロウ".into(),
                    name_roman: "ISHI TARO".into(),
                },
                registration_number: i.to_string(),
                hpki_card_mac: i.to_be_bytes().to_vec(),
                cert_issuer: issuer.clone(),
                cert_subject: format!("holder {i}").into_bytes(),
            })
            .await
            .unwrap();
        // As a login with the card records it: the holder is in good standing.
        let cert = CurrentCert { serial_hex: format!("{i:x}"), not_after_ms: now + 86_400_000 };
        store.hpki_cert_seen(&hpki_id, &cert, None).await.unwrap();
        // The session a card login leaves (tests/auth.rs drives the login itself).
        let (_, anon_hash) = session::new_id();
        store.session_insert(&anon_hash, now).await.unwrap();
        let (id, hash) = session::new_id();
        store.session_authenticate(&anon_hash, &hash, &hpki_id, now).await.unwrap();
        let cookie = format!("{}={id}", session::cookie_name(true));
        let req = Request::post("/api/smartphone/enrolments")
            .header(header::COOKIE, &cookie)
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"replace":false}"#))
            .unwrap();
        let res = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
        assert!(res.status().is_success(), "{}", res.status());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let issued: EnrolmentIssued = serde_json::from_slice(&bytes).unwrap();
        lines.push_str(&format!("{cookie}\t{}\n", issued.url));
    }
    std::fs::write(dir.join("pcs"), lines).unwrap();
}

/// The server on `dir`'s database, as `mahpki-server serve` runs it; prints its port.
async fn serve(dir: &Path) {
    raise_fd_limit();
    let store = Store::open_sqlite(dir).await.unwrap();
    let app = router(state(store, dir), None)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap().port());
    axum::serve(listener, app).await.unwrap();
}

/// Lets this process hold as many descriptors as the hard limit allows (a deployment raises
/// both: `LimitNOFILE=` in its systemd unit).
fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit write/read the struct we pass.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = lim.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
    lim.rlim_cur
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

async fn measure() {
    let limit = raise_fd_limit();
    assert!(limit as usize > PCS + 100, "RLIMIT_NOFILE hard limit {limit} < {PCS} streams");
    let dir = tempfile::tempdir_in("/dev/shm").unwrap();
    let me = std::env::current_exe().unwrap();
    let setup_started = Instant::now();
    let ok = Command::new(&me).arg("setup").arg(dir.path()).status().unwrap();
    assert!(ok.success());
    let setup_secs = setup_started.elapsed().as_secs_f64();
    let pcs: Vec<(String, String)> = std::fs::read_to_string(dir.path().join("pcs"))
        .unwrap()
        .lines()
        .map(|l| {
            let (c, u) = l.split_once('\t').unwrap();
            (c.to_owned(), u.to_owned())
        })
        .collect();
    let mut server =
        Command::new(&me).arg("serve").arg(dir.path()).stdout(Stdio::piped()).spawn().unwrap();
    let port = {
        use std::io::BufRead as _;
        let mut line = String::new();
        std::io::BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
        line.trim().parse::<u16>().unwrap()
    };
    let addr = format!("127.0.0.1:{port}");
    let pid = server.id();
    // Warm the server up (pools, first requests) before the baseline.
    for (cookie, _) in &pcs[..10] {
        let (status, ..) = http(&addr, "GET", "/api/session", Some(cookie), None).await;
        assert_eq!(status, 200);
    }
    let before = rss_kb(pid);

    // Every PC opens its stream and hears `waiting`.
    let opened = Instant::now();
    let mut streams = Vec::with_capacity(PCS);
    for chunk in pcs.chunks(500) {
        let mut opening = Vec::new();
        for (cookie, _) in chunk {
            let (addr, cookie) = (addr.clone(), cookie.clone());
            opening.push(tokio::spawn(async move {
                let mut s = Stream::open(&addr, &cookie).await;
                assert_eq!(s.next().await, "waiting");
                s
            }));
        }
        for o in opening {
            streams.push(o.await.unwrap());
        }
    }
    let open_secs = opened.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kb(pid);
    let per_stream = (after.saturating_sub(before)) as f64 * 1024.0 / PCS as f64;

    // Completions, one PC at a time, while the others wait.
    let mut ms = Vec::new();
    for (round, (cookie, url)) in pcs.iter().take(ROUNDS).enumerate() {
        let stream = &mut streams[round];
        let token = url.split_once('#').unwrap().1;
        let body = serde_json::json!({ "token": token }).to_string();
        let (status, phone, body) = http(&addr, "POST", "/api/enrol/open", None, Some(body)).await;
        assert_eq!(status, 200, "{body}");
        let phone = phone.expect("the phone's cookie");
        let opened: EnrolmentOpened = serde_json::from_str(&body).unwrap();
        assert_eq!(stream.next().await, "confirm");
        let PhoneConfirm::Show { code } = opened.confirm else { panic!("no confirmation code") };
        let body = serde_json::json!({ "code": code }).to_string();
        let (status, _, body) =
            http(&addr, "POST", "/api/smartphone/confirm", Some(cookie), Some(body)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(stream.next().await, "opened");
        let (status, _, body) = http(&addr, "POST", "/api/enrol/begin", Some(&phone), None).await;
        assert_eq!(status, 200, "{body}");
        let mut o: RegistrationOptions = serde_json::from_str(&body).unwrap();
        // The soft passkey cannot claim to be a platform authenticator (see tests/enrol.rs).
        o.options.public_key.authenticator_selection.as_mut().unwrap().authenticator_attachment =
            None;
        let credential = SoftPasskey::new(true)
            .do_registration(url::Url::parse(ORIGIN).unwrap(), o.options)
            .unwrap();
        let body =
            serde_json::to_string(&FinishEnrolment { credential, label: "bench".into() }).unwrap();
        let start = Instant::now();
        let finish = http(&addr, "POST", "/api/enrol/finish", Some(&phone), Some(body));
        let (answer, heard) = tokio::join!(finish, async {
            assert_eq!(stream.next().await, "completed");
            Instant::now()
        });
        assert_eq!(answer.0, 200, "{}", answer.2);
        ms.push(heard.duration_since(start).as_secs_f64() * 1000.0);
    }
    let open_now = streams.len();
    drop(streams);
    let _ = server.kill();
    let _ = server.wait();

    ms.sort_by(f64::total_cmp);
    let pick = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "| SQLite, one server process | {open_now} | {:.0} | {:.0} | {:.1} | {ROUNDS} | {:.1} | {:.1} | {:.1} |",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        per_stream / 1024.0,
        pick(0.5),
        pick(0.95),
        ms[ms.len() - 1],
    );
    eprintln!(
        "setup {setup_secs:.0} s, {PCS} streams opened in {open_secs:.1} s, fd limit {limit}"
    );
}

/// One request on its own connection: status, the cookie it sets (if any), body.
async fn http(
    addr: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<String>,
) -> (u16, Option<String>, String) {
    let mut c = TcpStream::connect(addr).await.unwrap();
    let body = body.unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: hpki.example.jp\r\nconnection: close\r\n\
         sec-fetch-site: same-origin\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n",
        body.len()
    );
    if let Some(c) = cookie {
        req.push_str(&format!("cookie: {c}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    c.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let set = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("set-cookie")
            .then(|| value.trim().split(';').next().unwrap().to_owned())
    });
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    (status, set, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    loop {
        let (len, rest) = s.split_once("\r\n").unwrap();
        let n = usize::from_str_radix(len.trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
}

/// A PC's open event stream.
struct Stream {
    r: BufReader<TcpStream>,
}

impl Stream {
    async fn open(addr: &str, cookie: &str) -> Self {
        let mut c = TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "GET /api/smartphone/enrolments/current/events HTTP/1.1\r\nhost: hpki.example.jp\r\n\
             accept: text/event-stream\r\ncookie: {cookie}\r\n\r\n"
        );
        c.write_all(req.as_bytes()).await.unwrap();
        let mut r = BufReader::with_capacity(1024, c);
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        loop {
            line.clear();
            r.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
        }
        Self { r }
    }

    /// The next event's name (chunk sizes and keep-alive comments skipped).
    async fn next(&mut self) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = tokio::time::timeout(Duration::from_secs(30), self.r.read_line(&mut line))
                .await
                .expect("no event within 30 s")
                .unwrap();
            assert!(n > 0, "stream ended");
            if let Some(name) = line.strip_prefix("event:") {
                return name.trim().to_owned();
            }
        }
    }
}
