//! `mahpki-helper install | uninstall | status`, run as the real program. Linux: into a temporary
//! `XDG_CONFIG_HOME` (the unit, its enable link, idempotence, exact removal). Windows: the Run key
//! value, read back with `reg query` (under Wine in `make test`: the test prefix's registry).

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mahpki-helper");
const SITE: &str = "https://hpki.example.jp";

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[cfg(target_os = "linux")]
#[test]
fn systemd_user_unit_is_written_once_and_removed_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config");
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .env("HOME", tmp.path())
            .env("XDG_CONFIG_HOME", &config)
            .env_remove("MAHPKI_HELPER_ALLOWED_ORIGINS")
            .env("MAHPKI_HELPER_PORT", "24398")
            .output()
            .unwrap();
        (out.status.success(), text(&out))
    };
    let unit = config.join("systemd/user/mahpki-helper.service");
    let link = config.join("systemd/user/default.target.wants/mahpki-helper.service");

    // Without a site it serves nobody: refused, nothing written.
    let (ok, out) = run(&["install", "--no-start"]);
    assert!(!ok && out.contains("--origins"), "{out}");
    assert!(!config.exists());
    // An origin that would break out of the unit's line is refused.
    let (ok, out) = run(&["install", "--no-start", "--origins", "https://a\nExecStartPre=/bin/sh"]);
    assert!(!ok && out.contains("not a site origin"), "{out}");
    assert!(!config.exists());

    let (ok, out) = run(&["install", "--no-start", "--origins", SITE]);
    assert!(ok, "{out}");
    let first = std::fs::read_to_string(&unit).unwrap();
    assert!(
        first.contains(&format!("ExecStart=\"{BIN}\" --port 24398 --origins {SITE}\n")),
        "{first}"
    );
    assert!(first.contains("WantedBy=default.target"), "{first}");
    assert_eq!(std::fs::read_link(&link).unwrap(), unit);
    let (ok, out) = run(&["install", "--no-start", "--origins", SITE]);
    assert!(ok, "{out}");
    assert_eq!(std::fs::read_to_string(&unit).unwrap(), first);
    let files = |dir: &std::path::Path| walk(dir);
    assert_eq!(files(&config).len(), 2, "{:?}", files(&config));

    // status reads the installed origins and probes them (nothing listens on 24398).
    let (ok, out) = run(&["status"]);
    assert!(ok, "{out}");
    assert!(out.contains("start at log-on: yes"), "{out}");
    assert!(out.contains(&format!("origin {SITE}: no answer")), "{out}");
    assert!(out.contains("running on 127.0.0.1:24398: no"), "{out}");

    let (ok, out) = run(&["uninstall", "--no-start"]);
    assert!(ok && out.contains("uninstalled"), "{out}");
    assert!(files(&config).is_empty(), "left behind: {:?}", files(&config));
    let (ok, out) = run(&["uninstall", "--no-start"]);
    assert!(ok && out.contains("not installed"), "{out}");
    let (_, out) = run(&["status"]);
    assert!(out.contains("start at log-on: no"), "{out}");
}

/// Every file (not directory) under `dir`.
#[cfg(target_os = "linux")]
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() && !p.is_symlink() { found.extend(walk(&p)) } else { found.push(p) }
    }
    found
}

#[cfg(windows)]
#[test]
fn run_key_value_is_written_once_and_removed() {
    const KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run";
    let query = || {
        let out = Command::new("reg").args(["query", KEY, "/v", "mahpki-helper"]).output().unwrap();
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    // Never touch a real installation on a real PC: this test owns the value or does not run.
    assert!(query().is_none(), "a mahpki-helper Run value exists already; not touching it");
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).env("MAHPKI_HELPER_PORT", "24398").output().unwrap();
        (out.status.success(), text(&out))
    };
    let (ok, out) = run(&["install", "--no-start", "--origins", SITE]);
    assert!(ok, "{out}");
    let first = query().expect("the Run value after install");
    assert!(first.contains("REG_SZ"), "{first}");
    assert!(
        // The windowless twin, so no console window opens at log-on.
        first.contains(&format!("mahpki-helperw.exe\" --port 24398 --origins {SITE}")),
        "{first}"
    );
    let (ok, out) = run(&["install", "--no-start", "--origins", SITE]);
    assert!(ok, "{out}");
    assert_eq!(query().unwrap(), first);
    let (ok, out) = run(&["status"]);
    assert!(ok && out.contains("start at log-on: yes"), "{out}");
    assert!(out.contains(&format!("origin {SITE}: no answer")), "{out}");
    let (ok, out) = run(&["uninstall", "--no-start"]);
    assert!(ok && out.contains("uninstalled"), "{out}");
    assert!(query().is_none());
}
