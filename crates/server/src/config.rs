//! Server configuration: a TOML file, then `MAHPKI_*` environment variables on top, so an operator
//! can keep a file under version control and override one value per deployment.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use mahpki_protocol::api::Ca;
use serde::Deserialize;

use crate::{hsm::HsmConfig, pki::TrustConfig};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on. Port 0 picks a free port (tests, demo).
    pub listen: SocketAddr,
    /// The origin holders' browsers use, e.g. `https://hpki.example.jp`. Signatures are checked
    /// against it, so it must be exactly what the browser sends in `Origin`.
    pub public_origin: String,
    /// Where the SQLite database (and later other state) lives.
    pub data_dir: PathBuf,
    /// Whether the file or the environment named `data_dir` (not left at `data`): only then may
    /// an operator's command start a new database, never one by accident in the working directory.
    #[serde(skip)]
    pub data_dir_named: bool,
    /// `postgres://…` to use PostgreSQL instead of the embedded SQLite file.
    pub database_url: Option<String>,
    /// The server secret: 32 random bytes, created (mode 0600) on first start, that key the
    /// hashes of the JMA path's numbers. Kept outside the database so a copy of the database
    /// alone reveals nothing; back it up apart from it (losing it disables every holder's JMA
    /// path until the CA re-imports its register). Unset: `<data_dir>/server-secret`. Several
    /// processes on one PostgreSQL database must all read the same file (copy it from the first
    /// node, or mount one file on all): a process whose secret differs refuses to start.
    pub secret_file: Option<PathBuf>,
    /// The built web app (Trunk's `dist/`). Absent: the server answers only `/api/*`.
    pub dist_dir: Option<PathBuf>,
    /// Origins of local helpers the page may call (CSP `connect-src`).
    pub helper_origins: Vec<String>,
    /// `json` for one JSON object per log line (production), anything else for readable text.
    pub log_format: String,
    /// HPKI CAs whose authentication certificates identify holders.
    pub hpki_trust: Vec<TrustConfig>,
    /// JPKI CAs whose user-authentication certificates may be bound. Empty: the real JPKI
    /// authentication CA shipped with the server.
    pub jpki_trust: Vec<TrustConfig>,
    /// CRL files (J-LIS's) for the shipped JPKI anchor, used when `jpki_trust` is empty.
    pub jpki_builtin_crls: Vec<PathBuf>,
    /// Every how many seconds the CRL files are read again (also on SIGHUP).
    pub crl_reload_secs: u64,
    /// How long after its thisUpdate a CRL that names no nextUpdate still counts as current.
    pub crl_max_age_secs: i64,
    /// Attempts per client address on the card endpoints.
    pub rate_limit: RateLimitConfig,
    /// Behind a reverse proxy: the header it sets to the client's address (e.g.
    /// `x-forwarded-for`; its last entry is used). Unset: the socket's peer address. Set it only
    /// when the proxy overwrites the header, or clients could choose their own address.
    pub client_ip_header: Option<String>,
    /// How long a smartphone enrolment code may be opened, and then how long the phone that
    /// opened it has to finish (別紙2).
    pub enrolment_ttl_secs: u32,
    /// Per-CA rules for phone bindings and the JMA path, keyed by CA (`JMA`, `JPA`, `MEDIS`).
    /// A CA without an entry gets [`CaPolicy::default`].
    pub ca_policy: BTreeMap<String, CaPolicy>,
    /// Caps on the PC's live-event (SSE) streams.
    pub streams: StreamLimits,
    /// How often ended codes, sessions and ceremony states are deleted, and how long ended codes
    /// are kept first.
    pub retention: RetentionConfig,
    /// Where `/metrics` (Prometheus text format) is served, on a listener of its own so it is
    /// never reachable through the public origin. Unset: no metrics listener.
    pub metrics_listen: Option<SocketAddr>,
    /// Where a holder whose PC has no helper downloads `mahpki-helper` (issue 17): shown on the
    /// "helper missing" screen. Default: the project's README section on the helper.
    pub helper_download_url: String,
    /// The HSM holding the HPKI second certificates' keys (`[hsm]`; PKCS#11).
    pub hsm: HsmConfig,
    /// The OpenID Provider for the services that sign (issue 12).
    pub oidc: OidcConfig,
}

/// The OpenID Provider's keys and token lifetimes. Clients are registered with `oidc-client add`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    /// The signing keys (JSON, mode 0600), created on first start; `oidc rotate-key` adds one.
    /// Unset: `<data_dir>/oidc-signing-keys.json`. Every server process on one database must
    /// read the same file, like the server secret.
    pub key_file: Option<PathBuf>,
    /// How long a rotated-in key is published before it signs: longer than the processes take to
    /// reload the file (`crl_reload_secs`, or SIGHUP) and the services take to fetch the JWKS.
    pub key_publish_ahead_secs: u32,
    /// Lifetime of an ID token (and how long a replaced key stays published after it).
    pub id_token_ttl_secs: u32,
    /// Lifetime of an access token; never past the signing session.
    pub access_token_ttl_secs: u32,
    /// Lifetime of a refresh token; never past the signing session it came from.
    pub refresh_token_ttl_secs: u32,
}

impl Default for OidcConfig {
    /// ID and access tokens short (5 and 10 minutes): the signing session is the long-lived
    /// thing, and a refresh token (up to 18 hours, the JMA CA's session) renews them while it
    /// lives. A new key signs after 10 minutes, twice the default CRL reload period.
    fn default() -> Self {
        Self {
            key_file: None,
            key_publish_ahead_secs: 600,
            id_token_ttl_secs: 300,
            access_token_ttl_secs: 600,
            refresh_token_ttl_secs: 18 * 60 * 60,
        }
    }
}

/// Live-event streams one browser session, and the whole server process, may hold open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StreamLimits {
    pub per_session: u32,
    pub per_server: u32,
}

impl Default for StreamLimits {
    /// A PC watches one code; a reload may overlap the old stream for a moment, hence 3. A
    /// stream costs a task and a connection: 2000 stays well inside a small server.
    fn default() -> Self {
        Self { per_session: 3, per_server: 2000 }
    }
}

/// The retention job (also `maintenance purge`). The audit log is never purged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Seconds between runs in the server; 0 turns the periodic job off (run the CLI instead).
    pub interval_secs: u64,
    /// Days an ended enrolment or change code (used, expired, cancelled) is kept before it is
    /// deleted; expired challenges, ceremony states, grants and sessions go at once.
    pub ended_code_days: u32,
}

impl Default for RetentionConfig {
    /// Every minute; ended codes kept 30 days, long enough to look into a holder's question
    /// about last month (the audit log keeps the trail beyond that).
    fn default() -> Self {
        Self { interval_secs: 60, ended_code_days: 30 }
    }
}

impl RetentionConfig {
    pub fn ended_code_ms(&self) -> i64 {
        i64::from(self.ended_code_days) * 24 * 60 * 60 * 1000
    }
}

/// What one CA allows its holders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaPolicy {
    /// Phones that may ever be bound to one holder, replaced ones included (one CA allows only
    /// one, ever). Unset: no limit.
    pub max_phones: Option<u32>,
    /// Whether a bound phone may be replaced by a new one.
    pub allow_replace: bool,
    /// Whether holders may prove themselves with 医籍登録番号 and カードID instead of the HPKI
    /// card (the JMA path: weaker, so rate limited and backing off after 5 failures).
    pub jma_path: bool,
    /// Whether the JMA path may also replace a bound phone. Off: it enrols a first phone only,
    /// since anyone who saw the card has its numbers; replacing needs the HPKI card or the
    /// registered phone (スマートフォン変更).
    pub jma_replace: bool,
    /// How long a daily sign-in lasts (hours). The JMA CA keeps a remote-signing sign-in valid
    /// 18 hours; it never outlasts the holder's HPKI certificate.
    pub signing_session_hours: u32,
}

impl Default for CaPolicy {
    fn default() -> Self {
        Self {
            max_phones: None,
            allow_replace: true,
            jma_path: false,
            jma_replace: false,
            signing_session_hours: 18,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub burst: u32,
    pub per_minute: u32,
}

impl Default for RateLimitConfig {
    /// A holder needs a handful of attempts (a wrong PIN, a swapped card); a burst of 20 and 20
    /// a minute leaves room for that and none for brute force.
    fn default() -> Self {
        Self { burst: 20, per_minute: 20 }
    }
}

/// Where `mahpki-helper` is described and built from, until an operator names its own download.
pub const DEFAULT_HELPER_DOWNLOAD_URL: &str = "https://github.com/mahpki/mahpki#local-helper";

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_origin: "http://localhost:8080".to_owned(),
            data_dir: PathBuf::from("data"),
            data_dir_named: false,
            database_url: None,
            secret_file: None,
            dist_dir: None,
            helper_origins: vec!["http://127.0.0.1:24365".to_owned()],
            log_format: "text".to_owned(),
            hpki_trust: Vec::new(),
            jpki_trust: Vec::new(),
            jpki_builtin_crls: Vec::new(),
            crl_reload_secs: 300,
            crl_max_age_secs: crate::pki::DEFAULT_CRL_MAX_AGE_SECS,
            rate_limit: RateLimitConfig::default(),
            client_ip_header: None,
            enrolment_ttl_secs: 300,
            ca_policy: BTreeMap::new(),
            streams: StreamLimits::default(),
            retention: RetentionConfig::default(),
            metrics_listen: None,
            helper_download_url: DEFAULT_HELPER_DOWNLOAD_URL.to_owned(),
            hsm: HsmConfig::default(),
            oidc: OidcConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("configuration file {path} is not valid: {source}")]
    Parse { path: PathBuf, source: Box<toml::de::Error> },
    #[error("environment variable {name} is not valid: {reason}")]
    Env { name: &'static str, reason: String },
    #[error("public_origin {0:?} must be an origin such as https://hpki.example.jp (no path)")]
    Origin(String),
    #[error("ca_policy names {0:?}; the CAs are JMA, JPA and MEDIS")]
    PolicyCa(String),
    #[error("ca_policy.{0}.signing_session_hours must be 1 to 24 (a daily sign-in)")]
    SigningSessionHours(String),
    #[error("helper_download_url {0:?} must be an https:// (or http://) address")]
    DownloadUrl(String),
}

impl Config {
    /// Loads `file` (if given), then applies environment overrides, then validates.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        config.validate()?;
        Ok(config)
    }

    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        let parse_err = |e| ConfigError::Parse { path: path.to_owned(), source: Box::new(e) };
        let mut config: Self = toml::from_str(&text).map_err(parse_err)?;
        config.data_dir_named =
            toml::from_str::<toml::Table>(&text).map_err(parse_err)?.contains_key("data_dir");
        Ok(config)
    }

    /// `get` abstracts the environment so tests need not mutate the process's variables.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = get("MAHPKI_LISTEN") {
            self.listen = v.parse().map_err(|e: std::net::AddrParseError| ConfigError::Env {
                name: "MAHPKI_LISTEN",
                reason: e.to_string(),
            })?;
        }
        if let Some(v) = get("MAHPKI_PUBLIC_ORIGIN") {
            self.public_origin = v;
        }
        if let Some(v) = get("MAHPKI_DATA_DIR") {
            self.data_dir = v.into();
            self.data_dir_named = true;
        }
        if let Some(v) = get("MAHPKI_DATABASE_URL") {
            self.database_url = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = get("MAHPKI_SECRET_FILE") {
            self.secret_file = Some(v.into()).filter(|p: &PathBuf| !p.as_os_str().is_empty());
        }
        if let Some(v) = get("MAHPKI_DIST_DIR") {
            self.dist_dir = Some(v.into());
        }
        if let Some(v) = get("MAHPKI_HELPER_ORIGINS") {
            self.helper_origins =
                v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Into::into).collect();
        }
        if let Some(v) = get("MAHPKI_ENROLMENT_TTL_SECS") {
            self.enrolment_ttl_secs = v.parse().map_err(|e: std::num::ParseIntError| {
                ConfigError::Env { name: "MAHPKI_ENROLMENT_TTL_SECS", reason: e.to_string() }
            })?;
        }
        if let Some(v) = get("MAHPKI_METRICS_LISTEN") {
            self.metrics_listen = match v.as_str() {
                "" => None,
                v => Some(v.parse().map_err(|e: std::net::AddrParseError| ConfigError::Env {
                    name: "MAHPKI_METRICS_LISTEN",
                    reason: e.to_string(),
                })?),
            };
        }
        if let Some(v) = get("MAHPKI_HELPER_DOWNLOAD_URL") {
            self.helper_download_url = v;
        }
        if let Some(v) = get("MAHPKI_HSM_MODULE") {
            self.hsm.module = v.into();
        }
        if let Some(v) = get("MAHPKI_HSM_TOKEN_LABEL") {
            self.hsm.token_label = v;
        }
        if let Some(v) = get("MAHPKI_HSM_PIN_FILE") {
            self.hsm.pin_file = Some(v.into()).filter(|p: &PathBuf| !p.as_os_str().is_empty());
        }
        // The PIN itself only from the environment (tests, the demo): never in the file.
        if let Some(v) = get("MAHPKI_HSM_PIN") {
            self.hsm.pin = Some(zeroize::Zeroizing::new(v)).filter(|p| !p.is_empty());
        }
        if let Some(v) = get("MAHPKI_OIDC_KEY_FILE") {
            self.oidc.key_file = Some(v.into()).filter(|p: &PathBuf| !p.as_os_str().is_empty());
        }
        if let Some(v) = get("MAHPKI_LOG_FORMAT") {
            self.log_format = v;
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        for origin in std::iter::once(&self.public_origin).chain(&self.helper_origins) {
            if !is_origin(origin) {
                return Err(ConfigError::Origin(origin.clone()));
            }
        }
        if let Some(ca) = self.ca_policy.keys().find(|ca| Ca::parse(ca).is_none()) {
            return Err(ConfigError::PolicyCa(ca.clone()));
        }
        if let Some((ca, _)) =
            self.ca_policy.iter().find(|(_, p)| !(1..=24).contains(&p.signing_session_hours))
        {
            return Err(ConfigError::SigningSessionHours(ca.clone()));
        }
        // It becomes a link on the holder's page: never a javascript: or data: address.
        let url = &self.helper_download_url;
        if !(url.starts_with("https://") || url.starts_with("http://"))
            || url.contains(char::is_whitespace)
        {
            return Err(ConfigError::DownloadUrl(url.clone()));
        }
        Ok(())
    }

    /// The rules of the CA that issued `ca`'s holders' cards.
    pub fn policy(&self, ca: Ca) -> CaPolicy {
        self.ca_policy.get(ca.as_str()).copied().unwrap_or_default()
    }

    /// Where the server secret lives (see [`Config::secret_file`]).
    pub fn secret_path(&self) -> PathBuf {
        self.secret_file.clone().unwrap_or_else(|| self.data_dir.join("server-secret"))
    }

    /// Where the OIDC signing keys live (see [`OidcConfig::key_file`]).
    pub fn oidc_key_path(&self) -> PathBuf {
        self.oidc.key_file.clone().unwrap_or_else(|| self.data_dir.join("oidc-signing-keys.json"))
    }

    /// The OIDC signing key set at `oidc_key_path`, created on first use.
    pub fn oidc_keys(
        &self,
        now_ms: i64,
    ) -> Result<crate::oidc_keys::KeySet, crate::oidc_keys::KeyError> {
        let o = &self.oidc;
        crate::oidc_keys::KeySet::load_or_create(
            &self.oidc_key_path(),
            now_ms,
            i64::from(o.key_publish_ahead_secs) * 1000,
            i64::from(o.id_token_ttl_secs) * 1000,
        )
    }

    /// The OpenID Provider's issuer identifier: the public origin.
    pub fn issuer(&self) -> &str {
        &self.public_origin
    }

    /// Cookies may drop `Secure` only for plain-HTTP localhost development.
    pub fn is_https(&self) -> bool {
        self.public_origin.starts_with("https://")
    }
}

/// `scheme://host[:port]` with nothing after it: what browsers put in `Origin`.
fn is_origin(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")) else {
        return false;
    };
    !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@', ' '])
        && rest.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_values() {
        let mut c: Config =
            toml::from_str("listen = \"127.0.0.1:9000\"\npublic_origin = \"https://a.example\"")
                .unwrap();
        c.apply_env(|n| match n {
            "MAHPKI_LISTEN" => Some("127.0.0.1:0".into()),
            "MAHPKI_HELPER_ORIGINS" => Some("http://127.0.0.1:1, http://127.0.0.1:2".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.listen.port(), 0);
        assert_eq!(c.public_origin, "https://a.example");
        assert_eq!(c.helper_origins, ["http://127.0.0.1:1", "http://127.0.0.1:2"]);
        assert!(c.validate().is_ok());
        assert!(c.is_https());
    }

    #[test]
    fn rejects_bad_values() {
        let mut c = Config::default();
        assert!(matches!(
            c.apply_env(|n| (n == "MAHPKI_LISTEN").then(|| "nowhere".into())),
            Err(ConfigError::Env { name: "MAHPKI_LISTEN", .. })
        ));
        assert!(matches!(
            c.apply_env(|n| (n == "MAHPKI_METRICS_LISTEN").then(|| ":9464".into())),
            Err(ConfigError::Env { name: "MAHPKI_METRICS_LISTEN", .. })
        ));
        c.apply_env(|n| (n == "MAHPKI_METRICS_LISTEN").then(|| "127.0.0.1:9464".into())).unwrap();
        assert_eq!(c.metrics_listen, Some(SocketAddr::from(([127, 0, 0, 1], 9464))));
        assert_eq!(Config::default().metrics_listen, None, "no metrics listener unless asked");
        for bad in ["hpki.example.jp", "https://a.example/path", "ftp://a", "https://"] {
            let c = Config { public_origin: bad.into(), ..Config::default() };
            assert!(matches!(c.validate(), Err(ConfigError::Origin(_))), "{bad}");
        }
        assert!(toml::from_str::<Config>("listne = \"x\"").is_err(), "unknown keys are refused");
        let c: Config = toml::from_str("[ca_policy.XYZ]\nmax_phones = 1").unwrap();
        assert!(matches!(c.validate(), Err(ConfigError::PolicyCa(_))));
        for bad in ["javascript:alert(1)", "data:text/html,x", "//x.example", "https://a b"] {
            let c = Config { helper_download_url: bad.into(), ..Config::default() };
            assert!(matches!(c.validate(), Err(ConfigError::DownloadUrl(_))), "{bad}");
        }
        let mut c = Config::default();
        c.apply_env(|n| (n == "MAHPKI_HELPER_DOWNLOAD_URL").then(|| "https://dl.example/h".into()))
            .unwrap();
        assert_eq!(c.helper_download_url, "https://dl.example/h");
        assert!(c.validate().is_ok());
    }

    #[test]
    fn stream_caps_and_retention_have_defaults_and_can_be_set() {
        let c = Config::default();
        assert_eq!(c.streams, StreamLimits { per_session: 3, per_server: 2000 });
        assert_eq!(c.retention.ended_code_ms(), 30 * 24 * 60 * 60 * 1000);
        let c: Config = toml::from_str(
            "[streams]\nper_session = 1\n[retention]\ninterval_secs = 0\nended_code_days = 7",
        )
        .unwrap();
        assert_eq!(c.streams, StreamLimits { per_session: 1, per_server: 2000 });
        assert_eq!(c.retention, RetentionConfig { interval_secs: 0, ended_code_days: 7 });
        assert!(toml::from_str::<Config>("[streams]\nper_user = 1").is_err());
    }

    #[test]
    fn ca_policy_defaults_allow_replacing_without_limit() {
        let c: Config = toml::from_str("[ca_policy.MEDIS]\nmax_phones = 1").unwrap();
        assert!(c.validate().is_ok());
        assert_eq!(c.policy(Ca::Medis), CaPolicy { max_phones: Some(1), ..CaPolicy::default() });
        assert_eq!(c.policy(Ca::Jma), CaPolicy::default());
        assert!(!CaPolicy::default().jma_replace, "the JMA path enrols a first phone only");
    }

    #[test]
    fn knows_whether_the_data_directory_was_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(&file, "public_origin = \"https://a.example\"\n").unwrap();
        assert!(!Config::from_file(&file).unwrap().data_dir_named);
        std::fs::write(&file, "data_dir = \"data\"\n").unwrap();
        assert!(Config::from_file(&file).unwrap().data_dir_named, "named, even as the default");
        let mut c = Config::default();
        assert!(!c.data_dir_named);
        c.apply_env(|n| (n == "MAHPKI_DATA_DIR").then(|| "/srv/mahpki".into())).unwrap();
        assert!(c.data_dir_named);
    }

    #[test]
    fn the_secret_lives_beside_the_data_unless_configured() {
        let mut c: Config = toml::from_str("data_dir = \"/var/lib/mahpki\"").unwrap();
        assert_eq!(c.secret_path(), Path::new("/var/lib/mahpki/server-secret"));
        c.apply_env(|n| (n == "MAHPKI_SECRET_FILE").then(|| "/run/secrets/mahpki".into())).unwrap();
        assert_eq!(c.secret_path(), Path::new("/run/secrets/mahpki"));
    }

    #[test]
    fn the_hsm_defaults_to_softhsm_and_its_pin_never_comes_from_the_file() {
        let c = Config::default();
        assert_eq!(c.hsm.module, Path::new(crate::hsm::DEFAULT_MODULE));
        assert_eq!(c.hsm.token_label, "mahpki");
        assert!(c.hsm.pin.is_none() && c.hsm.pin_file.is_none());
        assert!(toml::from_str::<Config>("[hsm]\npin = \"1234\"").is_err(), "no PIN in the file");
        let mut c: Config =
            toml::from_str("[hsm]\nmodule = \"/opt/hsm.so\"\ntoken_label = \"prod\"").unwrap();
        c.apply_env(|n| match n {
            "MAHPKI_HSM_PIN" => Some("98765".into()),
            "MAHPKI_HSM_TOKEN_LABEL" => Some("other".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.hsm.module, Path::new("/opt/hsm.so"));
        assert_eq!(c.hsm.token_label, "other");
        assert_eq!(c.hsm.user_pin().unwrap().as_str(), "98765");
        assert!(!format!("{c:?}").contains("98765"), "the PIN is never printed");
    }
}
