//! The real `mahpki-server` binary: its operator commands, and a running server spoken to over
//! plain HTTP/1.1 as a browser or a scraper would.

use std::{
    io::{BufRead as _, BufReader},
    path::Path,
    process::{Child, ChildStderr, Command, Stdio},
};

pub const BIN: &str = env!("CARGO_BIN_EXE_mahpki-server");

/// The operator CLI run with some arguments: (succeeded, stdout, stderr).
pub fn cli(
    config: &Path,
    data: &Path,
    db_url: Option<&str>,
    args: &[&str],
) -> (bool, String, String) {
    cli_env(config, data, db_url, &[], args)
}

/// [`cli`] with more environment variables (the HSM's settings, `SOFTHSM2_CONF`).
pub fn cli_env(
    config: &Path,
    data: &Path,
    db_url: Option<&str>,
    env: &[(&str, &str)],
    args: &[&str],
) -> (bool, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.envs(env.iter().copied());
    cmd.arg("--config")
        .arg(config)
        .args(args)
        .env("MAHPKI_DATA_DIR", data)
        .env("MAHPKI_LOG", "warn");
    if let Some(url) = db_url {
        cmd.env("MAHPKI_DATABASE_URL", url);
    }
    let out = cmd.output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.success(), text(out.stdout), text(out.stderr))
}

/// `mahpki-server serve` running; killed when dropped.
pub struct Server {
    pub child: Child,
    /// `host:port` of the public listener.
    pub addr: String,
    /// `host:port` of each further listener it announced (the metrics listener).
    pub announced: Vec<String>,
    pub log: Option<BufReader<ChildStderr>>,
}

impl Server {
    /// Starts the server with `config` and data in `data`, and reads the `expect_lines` lines it
    /// prints on stdout once listening (one per listener).
    pub fn start(config: &Path, data: &Path, expect_lines: usize) -> Self {
        let mut cmd = Command::new(BIN);
        cmd.args(["--config", config.to_str().unwrap(), "serve"])
            .env("MAHPKI_DATA_DIR", data)
            .env("MAHPKI_LOG", "info");
        Self::spawn(cmd, expect_lines)
    }

    /// Starts `cmd` (a `mahpki-server serve` put together by the caller) as [`Server::start`]
    /// does.
    pub fn spawn(mut cmd: Command, expect_lines: usize) -> Self {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut addrs = Vec::new();
        for _ in 0..expect_lines {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            let addr = line.trim().rsplit("http://").next().unwrap();
            addrs.push(addr.split('/').next().unwrap().to_owned());
        }
        let log = Some(BufReader::new(child.stderr.take().unwrap()));
        let addr = addrs.remove(0);
        Self { child, addr, announced: addrs, log }
    }

    /// Waits until the server's log has a line containing `text` (not for a time); false if the
    /// server ended first.
    pub async fn await_log(&mut self, text: &'static str) -> bool {
        let mut log = self.log.take().unwrap();
        let (seen, log) = tokio::task::spawn_blocking(move || {
            let mut l = String::new();
            loop {
                l.clear();
                if log.read_line(&mut l).unwrap() == 0 {
                    return (false, log);
                }
                if l.contains(text) {
                    return (true, log);
                }
            }
        })
        .await
        .unwrap();
        self.log = Some(log);
        seen
    }

    /// Stops the server and returns what else it logged.
    pub fn stop(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let mut rest = String::new();
        if let Some(mut log) = self.log.take() {
            std::io::Read::read_to_string(&mut log, &mut rest).unwrap();
        }
        rest
    }

    /// Sends `signal` to the server (SIGHUP: reload the CRLs).
    #[cfg(unix)]
    pub fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An answer: status, the header block (lower-case names as the server sends them), body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// One request on its own connection, as a same-origin fetch would send it.
pub async fn request(addr: &str, method: &str, path: &str, body: &str) -> Reply {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    Reply { status, head: head.to_owned(), body: dechunk(body) }
}

/// axum answers some bodies chunked; the tests read them whole.
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size, after)) = rest.split_once("\r\n") else { return body.to_owned() };
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { return body.to_owned() };
        if n == 0 {
            return out;
        }
        let Some(chunk) = after.get(..n) else { return body.to_owned() };
        out.push_str(chunk);
        rest = after.get(n + 2..).unwrap_or("");
    }
}

/// The files a running server starts from in these tests: the test HPKI CA with a current CRL,
/// the JMA path on, and one holder (`JMA-0000001`, numbers [`OneHolder::LOGIN`], serial
/// [`OneHolder::SERIAL`]) imported by the real CLI. CRL reloads are left to SIGHUP.
pub struct OneHolder {
    pub dir: tempfile::TempDir,
    pub config: std::path::PathBuf,
    pub data: std::path::PathBuf,
    pub ca: super::pki::Ca,
    pub crl_path: std::path::PathBuf,
}

impl OneHolder {
    /// The JMA login body with the holder's 医籍登録番号 and カードID.
    pub const LOGIN: &'static str = r#"{"registration_number":"100001","card_id":"CARD0001"}"#;
    pub const SERIAL: u64 = 1001;
    pub const ORIGIN: &'static str = "https://hpki.example.jp";

    /// `extra` is more top-level settings for the server's TOML file.
    pub fn new(extra: &str) -> Self {
        use super::pki::{self, HPKI_POLICY, HPKI_POLICY_STR};
        let keys = pki::keys();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let ca = pki::ca("HPKI test CA", &keys.hpki_ca);
        let ca_path = dir.path().join("hpki.der");
        std::fs::write(&ca_path, &ca.cert_der).unwrap();
        let crl_path = dir.path().join("hpki.crl");
        let config = dir.path().join("server.toml");
        let origin = Self::ORIGIN;
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:0\"\npublic_origin = {origin:?}\ncrl_reload_secs = 0\n{extra}\n\
                 [ca_policy.JMA]\njma_path = true\n\
                 [[hpki_trust]]\nca_cert = {ca_path:?}\npolicies = [{HPKI_POLICY_STR:?}]\ncrls = [{crl_path:?}]\n"
            ),
        )
        .unwrap();
        let mut p = pki::ee_params("good holder", Self::SERIAL, HPKI_POLICY);
        p.not_after = rcgen::date_time_ymd(2099, 1, 1);
        let cert = pki::issue(&p, &keys.holder, &ca.params, &keys.hpki_ca);
        std::fs::write(dir.path().join("good.der"), &cert).unwrap();
        let register = dir.path().join("register.json");
        let row = serde_json::json!([{
            "hpki_id": "JMA-0000001", "ca": "JMA", "qualification": "doctor",
            "name_kanji": "医師 太郎", "name_kana": "イシ タロウ", "name_roman": "ISHI TARO",
            "registration_number": "100001", "hpki_card_id": "CARD0001", "certificate": "good.der",
        }]);
        std::fs::write(&register, row.to_string()).unwrap();
        let holder = Self { dir, config, data, ca, crl_path };
        holder.write_crl(&[], "20990101000000Z");
        let (ok, _, err) = cli(
            &holder.config,
            &holder.data,
            None,
            &["identity", "import", register.to_str().unwrap()],
        );
        assert!(ok, "{err}");
        holder
    }

    /// Replaces the CA's CRL file: issued 2024-01-01, revoking `revoked`, current until `next`.
    pub fn write_crl(&self, revoked: &[u64], next: &str) {
        let der = super::crl::crl(
            &self.ca,
            &super::pki::keys().hpki_ca,
            revoked,
            "20240101000000Z",
            Some(next),
        );
        std::fs::write(&self.crl_path, der).unwrap();
    }

    /// The server on these files, having read `lines` announcements (one per listener).
    pub fn serve(&self, lines: usize) -> Server {
        Server::start(&self.config, &self.data, lines)
    }
}
