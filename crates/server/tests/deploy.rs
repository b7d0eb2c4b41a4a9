//! `deploy/`: the systemd unit starts the server exactly as its `ExecStart=` and `Environment=`
//! lines say, with the example settings (`deploy/server.toml`), and reloads the CRLs as its
//! `ExecReload=` does; nginx with the example site (`deploy/nginx/mahpki.conf`) in front of it
//! serves HTTPS, sends plain HTTP there, records the real peer whatever `X-Forwarded-For` a
//! client sends, and passes live events through while their stream is open. Only the absolute
//! paths move into a temporary directory, and the ports become free ones.

mod common;

use std::{
    io::{BufRead as _, BufReader},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use common::binary::{BIN, Server, cli, request};

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
/// The absolute paths the example files name, moved under the test's directory.
const MOVED: &[&str] =
    &["/etc/mahpki", "/var/lib/mahpki", "/usr/local/share/mahpki", "/etc/ssl/mahpki"];

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(REPO).join(rel)).unwrap()
}

fn relocate(text: &str, root: &Path) -> String {
    MOVED.iter().fold(text.to_owned(), |t, p| {
        t.replace(p, root.join(p.trim_start_matches('/')).to_str().unwrap())
    })
}

/// `ExecStart=` (binary and arguments) and `Environment=` of the unit.
fn unit() -> (Vec<String>, Vec<(String, String)>) {
    let unit = read("deploy/mahpki-server.service");
    let exec = unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("ExecStart");
    let env = unit
        .lines()
        .filter_map(|l| l.strip_prefix("Environment="))
        .map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).unwrap())
        .collect();
    (exec.split_whitespace().map(Into::into).collect(), env)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The unit's server, started as systemd would, with the example settings under `root`.
fn start_as_the_unit(root: &Path) -> Server {
    let (exec, env) = unit();
    assert_eq!(exec[0], "/usr/local/bin/mahpki-server");
    let settings = relocate(&read("deploy/server.toml"), root)
        .replace("\"127.0.0.1:8080\"", "\"127.0.0.1:0\"")
        .replace("\"127.0.0.1:9464\"", "\"127.0.0.1:0\"");
    let etc = root.join("etc/mahpki");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("server.toml"), settings).unwrap();
    // The web app as `scripts/web.sh` lays it out: one folder per page bundle.
    let dist = root.join("usr/local/share/mahpki/dist");
    for bundle in mahpki_protocol::pages::Bundle::ALL {
        let dir = dist.join(bundle.name());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html><title>mahpki</title>").unwrap();
    }
    let mut cmd = Command::new(BIN);
    cmd.args(exec[1..].iter().map(|a| relocate(a, root))).env_remove("MAHPKI_DATA_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    // The public listener, then the metrics listener.
    Server::spawn(cmd, 2)
}

/// nginx with the example site in front of `upstream`, on `port` (HTTPS) and `plain` (HTTP).
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nginx(root: &Path, upstream: &str, port: u16, plain: u16) -> Nginx {
    let nginx = which("nginx").expect("nginx is missing: scripts/setup.sh installs it");
    let ssl = root.join("etc/ssl/mahpki");
    std::fs::create_dir_all(&ssl).unwrap();
    let ok = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj"])
        .arg("/CN=hpki.example.jp")
        .arg("-keyout")
        .arg(ssl.join("privkey.pem"))
        .arg("-out")
        .arg(ssl.join("fullchain.pem"))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    let site = relocate(&read("deploy/nginx/mahpki.conf"), root)
        .replace("server 127.0.0.1:8080;", &format!("server {upstream};"))
        .replace("listen 443 ssl http2;", &format!("listen 127.0.0.1:{port} ssl http2;"))
        .replace("listen 80;", &format!("listen 127.0.0.1:{plain};"))
        .lines()
        .filter(|l| !l.contains("listen [::]"))
        .collect::<Vec<_>>()
        .join("\n");
    let dir = root.join("nginx");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("site.conf"), site).unwrap();
    // What the distribution's /etc/nginx/nginx.conf provides around a site, for a user process.
    let d = dir.display();
    let main = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  \
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  \
         scgi_temp_path {d}/scgi;\n  include {d}/site.conf;\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), main).unwrap();
    let conf = dir.join("nginx.conf");
    let test = Command::new(&nginx).arg("-t").arg("-p").arg(&dir).arg("-c").arg(&conf).output();
    let test = test.unwrap();
    assert!(test.status.success(), "nginx -t: {}", String::from_utf8_lossy(&test.stderr));
    let running =
        Nginx(Command::new(&nginx).arg("-p").arg(&dir).arg("-c").arg(&conf).spawn().unwrap());
    // Up once it accepts connections (polled; no time is asserted).
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return running;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!(
        "nginx did not start: {}",
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// curl through the proxy to `path` as a same-origin page would send it.
fn curl(port: u16, jar: &Path, args: &[&str], path: &str) -> Command {
    let mut cmd = Command::new("curl");
    cmd.args(["-sk", "--resolve", &format!("hpki.example.jp:{port}:127.0.0.1")])
        .args(["-H", "Sec-Fetch-Site: same-origin", "-b"])
        .arg(jar)
        .arg("-c")
        .arg(jar)
        .args(args)
        .arg(format!("https://hpki.example.jp:{port}{path}"));
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unit_and_the_proxy_serve_the_platform() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let mut server = start_as_the_unit(root);
    assert_eq!(request(&server.addr, "GET", "/api/health/ready", "").await.status, 200);

    let (port, plain) = (free_port(), free_port());
    let _nginx = nginx(root, &server.addr, port, plain);
    let jar = root.join("cookies");
    let out = curl(port, &jar, &["-w", "\n%{http_code}"], "/api/health/ready").output().unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(out.ends_with("\n200") && out.contains("\"ready\":true"), "{out}");
    // Plain HTTP is sent to HTTPS.
    let redirect = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}"])
        .args(["-H", "Host: hpki.example.jp"])
        .arg(format!("http://127.0.0.1:{plain}/smartphone"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(redirect.stdout).unwrap(),
        "301 https://hpki.example.jp/smartphone"
    );

    // A forged X-Forwarded-For is overwritten: the audit log names the real peer.
    let forged = ["-X", "POST", "-H", "X-Forwarded-For: 203.0.113.66", "-w", "\n%{http_code}"];
    let out = curl(port, &jar, &forged, "/api/smartphone/change").output().unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(out.ends_with("\n200"), "{out}");
    let data = root.join("var/lib/mahpki");
    let config = root.join("etc/mahpki/server.toml");
    let (ok, log, err) = cli(&config, &data, None, &["audit", "tail"]);
    assert!(ok, "{err}");
    let issued = log.lines().find(|l| l.contains("phone.change.issue")).expect("audited");
    assert!(issued.contains("\"client\":\"127.0.0.1\""), "{issued}");
    assert!(!log.contains("203.0.113.66"), "{log}");

    // The PC's live events come through the proxy while the stream is open (the code lives 5
    // minutes, curl gives up after 60 s), not only when it ends.
    let mut sse =
        curl(port, &jar, &["-N", "--max-time", "60"], "/api/smartphone/change/current/events")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
    let first = tokio::task::spawn_blocking({
        let out = sse.stdout.take().unwrap();
        move || BufReader::new(out).lines().map_while(Result::ok).find(|l| l.starts_with("event:"))
    });
    let first = first.await.unwrap();
    let still_open = sse.try_wait().unwrap().is_none();
    let _ = sse.kill();
    assert!(first.is_some(), "no event came through the proxy");
    assert!(still_open, "the event came only when the stream ended");

    // ExecReload: SIGHUP re-reads the CRLs.
    server.signal(libc::SIGHUP);
    assert!(server.await_log("CRLs reloaded").await);
}
