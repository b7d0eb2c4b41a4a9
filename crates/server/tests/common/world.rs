//! The world of the phone tests (別紙2, スマートフォン変更, the confirmation): a server (the real
//! router) on a real database with one holder, PCs, phones with software passkeys, and the
//! PC's SSE stream.

use std::{
    sync::{Arc, LazyLock},
    time::Duration,
};

use super::{
    Db,
    browser::{Answer, Browser},
    pki::{self, HPKI_POLICY_STR},
    store,
};
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt as _;
use mahpki_protocol::{
    ErrorCode, HpkiId,
    api::{Ca, Holder, Qualification},
    enrol::{
        AssertionOptions, ChangeIssued, ChangeOpened, ChangeProved, CodeEvent, EnrolmentIssued,
        EnrolmentOpened, FinishEnrolment, PhoneBound, PhoneConfirm, PhoneConfirmEvent,
        RegisterPublicKeyCredential, RegistrationOptions,
    },
};
use mahpki_server::{
    Config,
    events::Events,
    http::{AppState, Clock, RateLimiter, router},
    pki::{TrustConfig, TrustStore},
    secret::ServerSecret,
    store::{IdentityRecord, Store},
};
use webauthn_authenticator_rs::{WebauthnAuthenticator as _, softpasskey::SoftPasskey};
use webauthn_rs_proto::{AuthenticatorAttachment, UserVerificationPolicy};
use x509_parser::prelude::*;

pub const ORIGIN: &str = "https://hpki.example.jp";
pub const PHONE_EVENTS: &str = "/api/phone/confirmation/events";
pub const CHANGE_EVENTS: &str = "/api/smartphone/change/current/events";
pub const HOLDER: &str = "JMA-0000001";

/// The server secret of every node in these tests (as all processes on one database share one).
pub static SECRET: LazyLock<Arc<ServerSecret>> = LazyLock::new(|| Arc::new(ServerSecret::random()));

pub struct World {
    pub app: Router,
    pub store: Store,
    pub clock: Clock,
    pub hpki_ca: pki::Ca,
    pub hpki_trust: TrustConfig,
    pub config: Config,
    pub _dirs: (tempfile::TempDir, tempfile::TempDir),
}

pub async fn world(db: Db) -> World {
    world_with_ttl(db, 300).await
}

pub async fn world_with_ttl(db: Db, ttl_secs: u32) -> World {
    world_with(db, Config { enrolment_ttl_secs: ttl_secs, ..config() }).await
}

pub async fn world_with(db: Db, config: Config) -> World {
    let (store, data) = store(db).await;
    world_on(store, Events::local(), data, config).await
}

pub fn config() -> Config {
    Config { public_origin: ORIGIN.into(), ..Config::default() }
}

/// A server (router) on `store`, with the holder registered.
pub async fn world_on(
    store: Store,
    events: Events,
    data: tempfile::TempDir,
    config: Config,
) -> World {
    let keys = pki::keys();
    let trust_dir = tempfile::tempdir().unwrap();
    let hpki_ca = pki::ca("HPKI test CA", &keys.hpki_ca);
    let hpki_trust =
        pki::trust_config(trust_dir.path(), "hpki", &hpki_ca, &keys.hpki_ca, HPKI_POLICY_STR, 2099);
    // The operator's commands (issue-link) judge standing by the configured anchors.
    let config = Config { hpki_trust: vec![hpki_trust.clone()], ..config };
    let (app, clock) = node(store.clone(), events, &hpki_trust, config.clone());
    let w = World { app, store, clock, hpki_ca, hpki_trust, config, _dirs: (data, trust_dir) };
    let cert = w.hpki_cert();
    let (_, c) = X509Certificate::from_der(&cert).unwrap();
    w.store
        .identity_upsert(&IdentityRecord {
            holder: Holder {
                hpki_id: HpkiId::parse(HOLDER).unwrap(),
                ca: Ca::Jma,
                qualification: Qualification::Doctor,
                name_kanji: "医師 花子".into(),
                name_kana: "イシ ハナコ".into(),
                name_roman: "ISHI HANAKO".into(),
            },
            registration_number: "123456".into(),
            hpki_card_mac: SECRET.card_id_mac("123456", "HPKI0001").to_vec(),
            cert_issuer: c.issuer().as_raw().to_vec(),
            cert_subject: c.subject().as_raw().to_vec(),
        })
        .await
        .unwrap();
    super::record_certificate(&w.store, HOLDER, &cert).await;
    w
}

/// One server process: the real router over `store`, with a clock the test moves.
pub fn node(store: Store, events: Events, hpki: &TrustConfig, config: Config) -> (Router, Clock) {
    node_with(store, events, hpki, config, None)
}

/// [`node`] with the OpenID Provider's signing keys loaded.
pub fn node_with(
    store: Store,
    events: Events,
    hpki: &TrustConfig,
    config: Config,
    oidc_keys: Option<mahpki_server::oidc_keys::SharedKeys>,
) -> (Router, Clock) {
    let mut state = AppState::new(
        config,
        store,
        TrustStore::load(std::slice::from_ref(hpki)).unwrap(),
        TrustStore::load(&[]).unwrap(),
    );
    let clock = Clock::manual();
    state.clock = clock.clone();
    state.limiter = RateLimiter::new(1000, 1000);
    state.events = events;
    state.secret = Some(SECRET.clone());
    state.oidc_keys = oidc_keys;
    (router(state, None), clock)
}

impl World {
    /// The same server (a new node on the same database, with its own manual clock) with the
    /// OpenID Provider's signing keys from `key_file` (created if missing).
    pub fn with_oidc_keys(mut self, key_file: &std::path::Path) -> Self {
        let config = Config {
            oidc: mahpki_server::config::OidcConfig {
                key_file: Some(key_file.into()),
                ..self.config.oidc.clone()
            },
            ..self.config.clone()
        };
        let keys = config.oidc_keys(mahpki_server::store::now_ms()).unwrap();
        let shared = mahpki_server::oidc_keys::SharedKeys::new(key_file.into(), keys);
        let (app, clock) = node_with(
            self.store.clone(),
            Events::local(),
            &self.hpki_trust,
            config.clone(),
            Some(shared),
        );
        self.app = app;
        self.clock = clock;
        self.config = config;
        self
    }

    pub fn hpki_cert(&self) -> Vec<u8> {
        pki::holder_cert(&self.hpki_ca)
    }

    /// A PC whose session is authenticated with the holder's HPKI card.
    pub async fn pc(&self) -> Browser {
        let mut b = Browser::new(&self.app);
        let a = b.hpki_login(&self.hpki_cert(), &pki::keys().holder, ORIGIN).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        b
    }

    pub fn phone(&self) -> Phone {
        Phone::on(&self.app)
    }

    /// A second server process on the same database.
    pub async fn second_node(&self, url: &str) -> Router {
        let store = Store::open_postgres(url).await.unwrap();
        let events = Events::postgres(url).await.unwrap();
        node(store, events, &self.hpki_trust, self.config.clone()).0
    }

    pub async fn active_phone(&self) -> Option<Vec<u8>> {
        self.store.phone_active(HOLDER).await.unwrap().map(|p| p.credential_id)
    }

    pub async fn actions(&self) -> Vec<(String, String)> {
        let log = self.store.audit_tail(100).await.unwrap();
        log.into_iter().map(|r| (r.action, r.outcome)).collect()
    }
}

pub async fn issue(pc: &mut Browser, replace: bool) -> Answer {
    let body = serde_json::json!({ "replace": replace }).to_string();
    pc.send("POST", "/api/smartphone/enrolments", Some(body)).await
}

pub async fn issued(pc: &mut Browser, replace: bool) -> EnrolmentIssued {
    let a = issue(pc, replace).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    serde_json::from_value(a.body).unwrap()
}

pub fn refused(a: &Answer, code: ErrorCode) {
    assert_eq!(a.code(), Some(code), "{} {:?}", a.status, a.body);
    assert_eq!(a.status.as_u16(), code.http_status());
}

/// A phone: its own browser (cookie jar) and a software passkey standing in for its platform
/// authenticator.
pub struct Phone {
    pub b: Browser,
    pub key: SoftPasskey,
    /// The confirmation code this phone shows now (from `open`, or from a change's `finish`).
    pub shown: Option<String>,
    /// Where its enrolment calls go: `/api/enrol`, or the old spelling `/api/enroll` when it
    /// opened an old `/enroll#…` link (as a page loaded before the rename would call).
    pub api: &'static str,
}

/// The code a phone's answer tells it to show, if any.
pub fn shown_code(confirm: &PhoneConfirm) -> Option<String> {
    match confirm {
        PhoneConfirm::Show { code } => Some(code.clone()),
        _ => None,
    }
}

/// The holder types `code` on the PC (`POST /api/smartphone/confirm`, both flows).
pub async fn confirm(pc: &mut Browser, code: &str) -> Answer {
    let body = serde_json::json!({ "code": code }).to_string();
    pc.send("POST", "/api/smartphone/confirm", Some(body)).await
}

/// A six-digit code that is not `right`.
pub fn wrong_code(right: &str) -> String {
    let n: u32 = right.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

impl Phone {
    pub fn on(app: &Router) -> Self {
        Self { b: Browser::new(app), key: SoftPasskey::new(true), shown: None, api: "/api/enrol" }
    }

    /// The holder reads the code off this phone and types it on `pc`; it must be accepted.
    pub async fn confirm_on(&self, pc: &mut Browser) {
        let code = self.shown.as_deref().expect("the phone shows a confirmation code");
        let a = confirm(pc, code).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    }

    /// Opens the 2D code's URL: the page takes the token from the fragment.
    pub async fn open(&mut self, url: &str) -> Answer {
        let (page, token) = url.split_once('#').expect("token in the fragment");
        self.api = match page.strip_prefix(ORIGIN) {
            Some("/enrol") => "/api/enrol",
            Some("/enroll") => "/api/enroll",
            _ => panic!("not an enrolment page: {page}"),
        };
        let body = serde_json::json!({ "token": token }).to_string();
        let a = self.b.send("POST", &format!("{}/open", self.api), Some(body)).await;
        if a.status == StatusCode::OK {
            let opened: EnrolmentOpened = serde_json::from_value(a.body.clone()).unwrap();
            self.shown = shown_code(&opened.confirm);
        }
        a
    }

    pub async fn begin(&mut self) -> Answer {
        self.b.send("POST", &format!("{}/begin", self.api), None).await
    }

    /// What the phone's browser and authenticator answer to `begin`'s options.
    pub fn create(&mut self, options: serde_json::Value) -> RegisterPublicKeyCredential {
        let mut o: RegistrationOptions = serde_json::from_value(options).unwrap();
        let sel = o.options.public_key.authenticator_selection.as_mut().unwrap();
        // What the server demands of the phone…
        assert_eq!(sel.authenticator_attachment, Some(AuthenticatorAttachment::Platform));
        assert_eq!(sel.user_verification, UserVerificationPolicy::Required);
        assert_eq!(o.options.public_key.rp.id, "hpki.example.jp");
        // …which the soft passkey cannot claim to be (it refuses "platform"); it does perform
        // user verification (`SoftPasskey::new(true)`), which the server checks.
        sel.authenticator_attachment = None;
        self.key.do_registration(url::Url::parse(ORIGIN).unwrap(), o.options).unwrap()
    }

    pub async fn finish(
        &mut self,
        credential: &RegisterPublicKeyCredential,
        label: &str,
    ) -> Answer {
        let body = FinishEnrolment { credential: credential.clone(), label: label.into() };
        let path = format!("{}/finish", self.api);
        self.b.send("POST", &path, Some(serde_json::to_string(&body).unwrap())).await
    }

    /// The old phone's side of スマートフォン変更: open the first code, prove with the passkey
    /// made for `origin` (the real one, or a phishing one).
    pub async fn prove(&mut self, url: &str, origin: &str) -> Answer {
        let (page, token) = url.split_once('#').expect("token in the fragment");
        assert_eq!(page, format!("{ORIGIN}/change"));
        let body = serde_json::json!({ "token": token }).to_string();
        let a = self.b.send("POST", "/api/change/open", Some(body)).await;
        if a.status != StatusCode::OK {
            return a;
        }
        let _: ChangeOpened = serde_json::from_value(a.body).unwrap();
        let body = serde_json::json!({ "hpki_id": HOLDER }).to_string();
        let a = self.b.send("POST", "/api/change/begin", Some(body)).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let o: AssertionOptions = serde_json::from_value(a.body).unwrap();
        let credential =
            self.key.do_authentication(url::Url::parse(origin).unwrap(), o.options).unwrap();
        let body = serde_json::json!({ "credential": credential }).to_string();
        let a = self.b.send("POST", "/api/change/finish", Some(body)).await;
        if a.status == StatusCode::OK {
            let proved: ChangeProved = serde_json::from_value(a.body.clone()).unwrap();
            self.shown = shown_code(&proved.confirm);
        }
        a
    }

    /// `pc` issues a code (`replace` as asked) and this phone enrols with it.
    pub async fn enrol_from(&mut self, pc: &mut Browser, replace: bool) -> PhoneBound {
        let url = issued(pc, replace).await.url.clone();
        self.enrol(Some(pc), &url).await
    }

    /// Open, confirm on `pc` (a PC's code), begin, create, finish: the whole phone side of
    /// 別紙2. `pc` is `None` for a CA's link, which has no PC and shows no code.
    pub async fn enrol(&mut self, pc: Option<&mut Browser>, url: &str) -> PhoneBound {
        let a = self.open(url).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        match pc {
            Some(pc) => self.confirm_on(pc).await,
            None => assert_eq!(self.shown, None, "a CA's link needs no confirmation"),
        }
        let a = self.begin().await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let credential = self.create(a.body);
        let a = self.finish(&credential, "私のスマートフォン").await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        serde_json::from_value(a.body).unwrap()
    }
}

/// The PC's SSE connection.
pub struct PcEvents {
    pub body: Body,
    pub buf: String,
}

impl PcEvents {
    pub async fn connect(pc: &Browser) -> Self {
        match Self::try_connect(pc).await {
            Ok(e) => e,
            Err(a) => panic!("events refused: {} {:?}", a.status, a.body),
        }
    }

    pub async fn try_connect(pc: &Browser) -> Result<Self, Answer> {
        Self::try_connect_to(pc, "/api/smartphone/enrolments/current/events").await
    }

    pub async fn connect_to(pc: &Browser, path: &str) -> Self {
        match Self::try_connect_to(pc, path).await {
            Ok(e) => e,
            Err(a) => panic!("events refused: {} {:?}", a.status, a.body),
        }
    }

    pub async fn try_connect_to(pc: &Browser, path: &str) -> Result<Self, Answer> {
        let mut req = Request::get(path);
        if let Some(c) = &pc.cookie {
            req = req.header(header::COOKIE, c);
        }
        let res =
            tower::ServiceExt::oneshot(pc.app.clone(), req.body(Body::empty()).unwrap()).await;
        let res = res.unwrap();
        if res.status() != StatusCode::OK {
            let status = res.status();
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            return Err(Answer { status, body: serde_json::from_slice(&bytes).unwrap() });
        }
        let ct = res.headers().get(header::CONTENT_TYPE).unwrap().to_str().unwrap();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        Ok(Self { body: res.into_body(), buf: String::new() })
    }

    pub async fn next(&mut self) -> Option<CodeEvent> {
        let (name, data) = self.next_raw().await?;
        let event: CodeEvent = serde_json::from_str(&data).unwrap();
        assert_eq!(name.as_deref(), Some(event.name()));
        Some(event)
    }

    /// The phone's stream of its confirmation (`/api/phone/confirmation/events`).
    pub async fn next_phone(&mut self) -> Option<PhoneConfirmEvent> {
        let (name, data) = self.next_raw().await?;
        let event: PhoneConfirmEvent = serde_json::from_str(&data).unwrap();
        assert_eq!(name.as_deref(), Some(event.name()));
        Some(event)
    }

    pub async fn next_change(&mut self) -> Option<CodeEvent> {
        let (name, data) = self.next_raw().await?;
        let event: CodeEvent = serde_json::from_str(&data).unwrap();
        assert_eq!(name.as_deref(), Some(event.name()));
        Some(event)
    }

    /// The next event's name and data, or `None` when the server closed the stream.
    pub async fn next_raw(&mut self) -> Option<(Option<String>, String)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut name = None;
                let mut data = None;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data = Some(v.trim().to_owned());
                    }
                }
                let Some(data) = data else { continue }; // keep-alive comment
                return Some((name, data));
            }
            let frame = tokio::time::timeout(Duration::from_secs(10), self.body.frame())
                .await
                .expect("no event within 10 s")?
                .unwrap();
            if let Ok(data) = frame.into_data() {
                self.buf.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    }
}

/// スマートフォン変更's first code, asked for by `pc`.
pub async fn change_code(pc: &mut Browser) -> ChangeIssued {
    let a = pc.send("POST", "/api/smartphone/change", None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    serde_json::from_value(a.body).unwrap()
}
