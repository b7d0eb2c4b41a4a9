//! `make bench`: 10 000 PCs waiting on their enrolment codes (別紙2, the smartphone's 2D code) on
//! one server process (issue 14, goal 4). Each PC has its own signed-in session and its own code,
//! and holds that code's live-event stream (SSE, `EnrolmentEvents`) open over its own TCP
//! connection, as the PC's page does. Measured: the server process's resident memory without
//! streams and with all of them open (so per stream), and how soon a completion (a phone's
//! `finish`) reaches its PC's stream while all the others wait. On SQLite with one process, and on
//! PostgreSQL with two: the PCs' streams on one, the phones on the other, so every completion
//! crosses between them through LISTEN/NOTIFY. Prints Markdown table rows for BENCHMARKS.md.
//!
//! The servers are the real `mahpki-server serve` (the bench profile's build), configured by a
//! TOML file the way deploy/server.toml configures a deployment: behind a proxy
//! (`client_ip_header`), every PC and phone with its own address, the default rate limits. Two
//! settings differ from the defaults: the per-process stream cap (`[streams] per_server`, 2000 by
//! default) admits the 10 000, and the codes live an hour so none expires during the run.
//!
//! The 10 000 signed-in sessions are made cheaply, but by the real code: per PC, the holder is
//! registered as `identity import` records one (`Store::identity_upsert`, `hpki_cert_seen`), and
//! the session as an HPKI card login commits it (`session_insert`, the anonymous page session
//! its challenge opens, then `session_authenticate`, the signed-in session under a fresh id),
//! leaving out only the card's signature and its check. Each PC's code is then issued by the
//! real `POST /api/smartphone/enrolments` (CSRF guard, rate limit, session, standing, store),
//! through the router in this process on the same database, before the measured server starts:
//! its memory holds none of the setup.
//!
//! File descriptors: each stream is one socket in the server and one here. The bench raises its
//! soft `RLIMIT_NOFILE` to the hard limit, as a deployment's `LimitNOFILE=` does, and the servers
//! inherit it; it stops at once if the hard limit cannot hold the run.
//!
//! `MAHPKI_BENCH_PCS` sets fewer PCs, for a trial run.

#[path = "common/doctor.rs"]
mod doctor;
#[path = "common/latency.rs"]
mod latency;
// The tests' shared code (PKI fixture, PostgreSQL server, the real binary); the bench uses part
// of it (common/mod.rs allows the dead code itself).
#[path = "../tests/common/mod.rs"]
mod common;

use std::{
    path::PathBuf,
    process::Command,
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    http::{Request, header},
};
use common::{binary, pki, postgres};
use doctor::doctor;
use http_body_util::BodyExt as _;
use mahpki_protocol::{
    endpoints::{self as ep, Endpoint as _},
    enrol::{EnrolmentIssued, EnrolmentOpened, FinishEnrolment, PhoneConfirm, RegistrationOptions},
};
use mahpki_server::{
    Config,
    http::{AppState, router, session},
    pki::TrustStore,
    store::{CurrentCert, Store},
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
const ROUNDS: usize = 100;
/// Streams opened at once (PCs arriving together, well inside the listener's backlog).
const OPENING: usize = 500;
/// Setup tasks at once (the store's pools hold 16 connections at most).
const SETUP_TASKS: usize = 16;

fn main() {
    let pcs = std::env::var("MAHPKI_BENCH_PCS").map_or(PCS, |v| v.parse().unwrap());
    let (soft, hard) = raise_fd_limit();
    // The server: a socket per stream plus its database pools, log and listener; this process
    // the same on the client side.
    let needed = pcs as u64 + 200;
    assert!(
        hard >= needed,
        "RLIMIT_NOFILE hard limit {hard} < {needed}: raise it (ulimit -Hn, or LimitNOFILE= for a service)"
    );
    eprintln!("file descriptors: soft limit {soft} raised to the hard limit {hard}");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    rt.unwrap().block_on(async {
        let run = Run::new(pcs, None);
        let m = run.measure(false).await;
        m.row("SQLite, one server process");

        postgres::durable();
        let url = postgres::fresh_database_url().await;
        let run = Run::new(pcs, Some(url));
        let m = run.measure(true).await;
        m.row("PostgreSQL, two server processes: the streams on one, the phones on the other (LISTEN/NOTIFY)");
    });
}

/// Sets the soft limit on open files to the hard one (what `LimitNOFILE=` sets for a service):
/// (soft before, hard).
fn raise_fd_limit() -> (u64, u64) {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        let soft = lim.rlim_cur;
        lim.rlim_cur = lim.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        (soft, lim.rlim_max)
    }
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A distinct client address, as the proxy's `X-Forwarded-For` names it: `net.x.y.z`.
fn address(net: u8, i: usize) -> String {
    format!("{net}.{}.{}.{}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)
}

/// A browser as the server sees it through the proxy: its cookie (once it has one) and its
/// address.
struct Client {
    cookie: Option<String>,
    addr: String,
}

/// A waiting PC, and its code's 2D-code URL.
struct Pc {
    client: Client,
    url: String,
}

/// One database with its configuration and PCs.
struct Run {
    pcs: usize,
    db_url: Option<String>,
    dir: tempfile::TempDir,
    config: PathBuf,
}

struct Measured {
    streams: usize,
    rss_before_kb: u64,
    rss_after_kb: u64,
    completions: Vec<f64>,
}

impl Measured {
    fn row(&self, what: &str) {
        let per_stream =
            self.rss_after_kb.saturating_sub(self.rss_before_kb) as f64 / self.streams as f64;
        println!(
            "| {what} | {} | {:.1} | {:.1} | {per_stream:.1} | {} |",
            self.streams,
            self.rss_before_kb as f64 / 1024.0,
            self.rss_after_kb as f64 / 1024.0,
            latency::Spread::of(&self.completions).cells(),
        );
    }
}

impl Run {
    /// The server's files: the test HPKI CA with a current CRL, and the TOML.
    fn new(pcs: usize, db_url: Option<String>) -> Self {
        let keys = pki::keys();
        let dir = tempfile::tempdir().unwrap();
        let ca = pki::ca("HPKI bench CA", &keys.hpki_ca);
        let trust =
            pki::trust_config(dir.path(), "hpki", &ca, &keys.hpki_ca, pki::HPKI_POLICY_STR, 2099);
        std::fs::write(dir.path().join("ca-subject"), subject(&ca.cert_der)).unwrap();
        let database =
            db_url.as_ref().map(|u| format!("database_url = {u:?}\n")).unwrap_or_default();
        let config = dir.path().join("server.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:0\"\npublic_origin = {ORIGIN:?}\ndata_dir = {:?}\n{database}\
                 client_ip_header = \"x-forwarded-for\"\nenrolment_ttl_secs = 3600\n\
                 [streams]\nper_server = {pcs}\n\
                 [[hpki_trust]]\nca_cert = {:?}\npolicies = [{:?}]\ncrls = {:?}\n",
                dir.path().join("data"),
                trust.ca_cert,
                pki::HPKI_POLICY_STR,
                trust.crls,
            ),
        )
        .unwrap();
        Self { pcs, db_url, dir, config }
    }

    /// The holders, their signed-in sessions and their codes (see the top of the file).
    async fn setup(&self) -> Vec<Pc> {
        let config = Config::load(Some(&self.config)).unwrap();
        let store = match &self.db_url {
            None => Store::open_sqlite(&config.data_dir).await.unwrap(),
            Some(url) => Store::open_postgres(url).await.unwrap(),
        };
        let hpki = TrustStore::load(&config.hpki_trust).unwrap();
        let app = router(AppState::new(config, store.clone(), hpki, TrustStore::default()), None);
        let issuer = std::fs::read(self.dir.path().join("ca-subject")).unwrap();
        let mut pcs = Vec::with_capacity(self.pcs);
        let all: Vec<usize> = (0..self.pcs).collect();
        for batch in all.chunks(SETUP_TASKS) {
            let tasks: Vec<_> = batch
                .iter()
                .map(|&i| tokio::spawn(signed_in_pc(store.clone(), app.clone(), issuer.clone(), i)))
                .collect();
            for t in tasks {
                pcs.push(t.await.unwrap());
            }
        }
        store.close().await;
        pcs
    }

    fn start(&self) -> binary::Server {
        let mut cmd = Command::new(binary::BIN);
        cmd.arg("--config").arg(&self.config).arg("serve").env("MAHPKI_LOG", "warn");
        binary::Server::spawn(cmd, 1)
    }

    /// Setup, then the servers, the streams and the completions. `two`: the phones on a second
    /// process.
    async fn measure(&self, two: bool) -> Measured {
        let started = Instant::now();
        let pcs = self.setup().await;
        eprintln!(
            "setup: {} signed-in PCs with codes in {:.0} s",
            pcs.len(),
            started.elapsed().as_secs_f64()
        );

        let pc_node = self.start();
        // Answers once serving (the first start also makes the OIDC keys, which a second
        // process must find made), and warms the pools up before the baseline.
        for pc in &pcs[..10.min(pcs.len())] {
            let a = http(&pc_node.addr, "GET", ep::Session::URL, &pc.client, None).await;
            assert_eq!(a.status, 200, "{}", a.body);
        }
        let phone_node = two.then(|| self.start());
        let phones = phone_node.as_ref().unwrap_or(&pc_node).addr.clone();
        let pid = pc_node.child.id();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss_before_kb = rss_kb(pid);

        // Every PC opens its stream and hears `waiting`.
        let opened = Instant::now();
        let mut streams = Vec::with_capacity(pcs.len());
        for batch in pcs.chunks(OPENING) {
            let opening: Vec<_> = batch
                .iter()
                .map(|pc| {
                    let node = pc_node.addr.clone();
                    let cookie = pc.client.cookie.clone().unwrap();
                    let addr = pc.client.addr.clone();
                    tokio::spawn(async move {
                        let mut s = Stream::open(&node, &cookie, &addr).await;
                        assert_eq!(s.next().await, "waiting");
                        s
                    })
                })
                .collect();
            for o in opening {
                streams.push(o.await.unwrap());
            }
        }
        eprintln!("{} streams open in {:.1} s", streams.len(), opened.elapsed().as_secs_f64());
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss_after_kb = rss_kb(pid);

        // Completions, one PC at a time, spread over the PCs, while the others wait.
        let rounds = ROUNDS.min(pcs.len());
        let mut completions = Vec::with_capacity(rounds);
        for round in 0..rounds {
            let i = round * pcs.len() / rounds;
            let ms = complete(&pc_node.addr, &phones, &pcs[i], &mut streams[i], round).await;
            completions.push(ms);
        }
        let open = streams.len();
        drop(streams);
        drop(phone_node);
        drop(pc_node);
        Measured { streams: open, rss_before_kb, rss_after_kb, completions }
    }
}

fn subject(ca_der: &[u8]) -> Vec<u8> {
    let (_, ca) = X509Certificate::from_der(ca_der).unwrap();
    ca.subject().as_raw().to_vec()
}

/// Holder `i`, signed in on its own PC, with its code issued.
async fn signed_in_pc(store: Store, app: Router, issuer: Vec<u8>, i: usize) -> Pc {
    let hpki_id = format!("JMA-{:07}", 1_000_000 + i);
    store
        .identity_upsert(&doctor(
            &hpki_id,
            (100_000 + i).to_string(),
            (i as u64).to_be_bytes().to_vec(),
            issuer,
            format!("bench holder {i}").into_bytes(),
        ))
        .await
        .unwrap();
    // Its card's certificate (serial as the store keeps it: the DER bytes in hex), valid to 2099.
    let cert = CurrentCert {
        serial_hex: format!("{:08x}", 0x1000_0000 + i),
        not_after_ms: 4_070_908_800_000,
    };
    store.hpki_cert_seen(&hpki_id, &cert, None).await.unwrap();
    let now = mahpki_server::store::now_ms();
    let (_, anonymous) = session::new_id();
    store.session_insert(&anonymous, now).await.unwrap();
    let (id, hash) = session::new_id();
    store.session_authenticate(&anonymous, &hash, &hpki_id, now, None).await.unwrap();
    let cookie = format!("{}={id}", session::cookie_name(true));
    let addr = address(10, i);
    let req = Request::post(ep::EnrolmentIssue::URL)
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "same-origin")
        .header("x-forwarded-for", &addr)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"replace":false}"#))
        .unwrap();
    let res = tower::ServiceExt::oneshot(app, req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    assert!(status.is_success(), "{status} {}", String::from_utf8_lossy(&bytes));
    let issued: EnrolmentIssued = serde_json::from_slice(&bytes).unwrap();
    Pc { client: Client { cookie: Some(cookie), addr }, url: issued.url.clone() }
}

/// The phone of round `round` enrols with `pc`'s code through `phones`, `pc` entering the
/// confirmation code on `pcs`: milliseconds from the phone sending `finish` to `pc`'s stream
/// delivering `completed`.
async fn complete(pcs: &str, phones: &str, pc: &Pc, stream: &mut Stream, round: usize) -> f64 {
    let token = pc.url.split_once('#').unwrap().1;
    let body = serde_json::json!({ "token": token }).to_string();
    let mut phone = Client { cookie: None, addr: address(172, round) };
    let a = http(phones, "POST", ep::EnrolOpen::URL, &phone, Some(body)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    phone.cookie = Some(a.cookie.expect("the phone's cookie"));
    let opened: EnrolmentOpened = serde_json::from_str(&a.body).unwrap();
    assert_eq!(stream.next().await, "confirm");
    let PhoneConfirm::Show { code } = opened.confirm else { panic!("no confirmation code") };
    let body = serde_json::json!({ "code": code }).to_string();
    let a = http(pcs, "POST", ep::Confirm::URL, &pc.client, Some(body)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(stream.next().await, "opened");
    let a = http(phones, "POST", ep::EnrolBegin::URL, &phone, None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let mut o: RegistrationOptions = serde_json::from_str(&a.body).unwrap();
    // What the soft passkey can do of what a phone's platform authenticator does.
    common::world::soft_key_can(o.options.public_key.authenticator_selection.as_mut().unwrap());
    let credential =
        SoftPasskey::new(true).do_registration(url::Url::parse(ORIGIN).unwrap(), o.options);
    let body = FinishEnrolment { credential: credential.unwrap(), label: "bench".into() };
    let body = serde_json::to_string(&body).unwrap();
    let start = Instant::now();
    let finish = http(phones, "POST", ep::EnrolFinish::URL, &phone, Some(body));
    let (a, heard) = tokio::join!(finish, async {
        assert_eq!(stream.next().await, "completed");
        Instant::now()
    });
    assert_eq!(a.status, 200, "{}", a.body);
    heard.duration_since(start).as_secs_f64() * 1000.0
}

struct Answer {
    status: u16,
    /// The cookie it sets, if any (`name=value`).
    cookie: Option<String>,
    body: String,
}

/// One request from `who` on its own connection, as its browser sends it through the proxy.
async fn http(node: &str, method: &str, path: &str, who: &Client, body: Option<String>) -> Answer {
    let mut c = TcpStream::connect(node).await.unwrap();
    let body = body.unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: hpki.example.jp\r\nconnection: close\r\n\
         sec-fetch-site: same-origin\r\ncontent-type: application/json\r\n\
         x-forwarded-for: {}\r\ncontent-length: {}\r\n",
        who.addr,
        body.len()
    );
    if let Some(cookie) = &who.cookie {
        req.push_str(&format!("cookie: {cookie}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    c.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let cookie = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("set-cookie")
            .then(|| value.trim().split(';').next().unwrap().to_owned())
    });
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    Answer { status, cookie, body: if chunked { dechunk(rest) } else { rest.to_owned() } }
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
    async fn open(node: &str, cookie: &str, addr: &str) -> Self {
        let mut c = TcpStream::connect(node).await.unwrap();
        let req = format!(
            "GET {} HTTP/1.1\r\nhost: hpki.example.jp\r\naccept: text/event-stream\r\n\
             x-forwarded-for: {addr}\r\ncookie: {cookie}\r\n\r\n",
            ep::EnrolmentEvents::URL
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
