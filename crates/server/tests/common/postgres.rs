//! A real PostgreSQL server from the Debian package, started once per test binary on a free
//! loopback port, in its own throwaway cluster. It is killed when the test process exits
//! (PR_SET_PDEATHSIG on a thread that lives as long as the process), so no run leaves it behind.

use std::{
    net::TcpListener,
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicBool, AtomicU32, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

pub struct PgServer {
    pub port: u16,
}

static SERVER: OnceLock<PgServer> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);
/// Tests run the server with fsync off (their data is thrown away); a benchmark of durable
/// writes asks for it on, as a deployment runs, before the first database is made.
static FSYNC: AtomicBool = AtomicBool::new(false);

/// The server this process starts will fsync its commits, as a deployment's does. Call before
/// the first [`fresh_database_url`].
pub fn durable() {
    assert!(SERVER.get().is_none(), "the test PostgreSQL already started");
    FSYNC.store(true, Ordering::SeqCst);
}

fn bin_dir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: run scripts/setup.sh")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("postgres").exists())
        .collect();
    dirs.sort();
    dirs.pop().expect("no PostgreSQL server binaries under /usr/lib/postgresql")
}

/// initdb refuses to run as root: as root, run the server as the `postgres` system user.
fn run_as() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").args([flag, "postgres"]).output().expect("id");
        String::from_utf8_lossy(&out.stdout).trim().parse().expect("postgres user exists")
    };
    Some((id("-u"), id("-g")))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn as_user(cmd: &mut Command, user: Option<(u32, u32)>) -> &mut Command {
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn start() -> PgServer {
    let bin = bin_dir();
    let user = run_as();
    sweep_stale_clusters();
    let dir = std::env::temp_dir().join(format!("mahpki-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
    }
    let data = dir.join("data");
    let status = as_user(
        Command::new(bin.join("initdb"))
            .args(["--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-sync", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
        user,
    )
    .status()
    .expect("run initdb");
    assert!(status.success(), "initdb failed");

    let port = free_port();
    let (tx, rx) = mpsc::channel();
    let postgres = bin.join("postgres");
    let sock_dir = dir.clone();
    let fsync = if FSYNC.load(Ordering::SeqCst) { "fsync=on" } else { "fsync=off" };
    // This thread lives until the process ends; PDEATHSIG fires when it (the parent) goes.
    std::thread::spawn(move || {
        let mut cmd = Command::new(postgres);
        cmd.arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", fsync])
            .arg("-k")
            .arg(&sock_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        as_user(&mut cmd, user);
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT);
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("start postgres");
        tx.send(()).unwrap();
        let _ = child.wait();
        loop {
            std::thread::park();
        }
    });
    rx.recv().unwrap();
    wait_ready(&dir, port);
    PgServer { port }
}

/// Removes clusters left by earlier test processes that have exited (their server died with them).
fn sweep_stale_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("mahpki-pg-")) else { continue };
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn wait_ready(dir: &Path, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            && dir.join(format!(".s.PGSQL.{port}")).exists()
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("PostgreSQL did not start on port {port}");
}

/// A fresh, empty database on the shared test server.
pub async fn fresh_database_url() -> String {
    let server = SERVER.get_or_init(start);
    let name = format!("t{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::SeqCst));
    let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", server.port);
    let mut conn = None;
    for _ in 0..50 {
        match <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await {
            Ok(c) => {
                conn = Some(c);
                break;
            }
            // The server accepts TCP a moment before it accepts logins.
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let mut conn = conn.expect("connect to test PostgreSQL");
    sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    format!("postgres://postgres@127.0.0.1:{}/{name}", server.port)
}
