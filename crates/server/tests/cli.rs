//! Issue 17, the operator's CLI, through the real binary: a command pointed at no database
//! refuses and creates nothing, every command names the database it opened (never a password),
//! and `enrolment issue-link` builds its link on the configured public origin. On SQLite and
//! PostgreSQL.

mod common;

use std::{
    path::Path,
    process::{Command, Output},
};

use common::{
    Db,
    browser::Browser,
    pki::{self, HPKI_POLICY_STR, JPKI_POLICY_STR, REVOKED_SERIAL},
    world::{HOLDER, ORIGIN, World, config, world_on},
};
use mahpki_server::{events::Events, store::Store};

const BIN: &str = env!("CARGO_BIN_EXE_mahpki-server");

/// `mahpki-server ARGS` in `cwd` with only the settings given: none of the caller's `MAHPKI_*`.
fn run(cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd).args(args).env("MAHPKI_LOG", "warn");
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("MAHPKI_") && k != "MAHPKI_LOG") {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect()
}

/// Without the server's settings, every command but `serve` refuses: it names the database it
/// looked for and how to point it at the right one, exits non-zero and leaves no `./data/` (or
/// any other file) behind.
#[test]
fn a_command_pointed_at_no_database_refuses_and_creates_nothing() {
    let cwd = tempfile::tempdir().unwrap();
    let elsewhere = cwd.path().join("elsewhere");
    let commands: &[&[&str]] = &[
        &["identity", "list"],
        &["identity", "show", HOLDER],
        &["binding", "list"],
        &["phone", "list", "--hpki-id", HOLDER],
        &["audit", "tail"],
        &["enrolment", "issue-link", "--hpki-id", HOLDER],
        &["phone", "revoke", "1"],
        &["maintenance", "purge"],
    ];
    for args in commands {
        for (env, dir) in [
            (vec![], cwd.path().join("data")),
            (vec![("MAHPKI_DATA_DIR", elsewhere.to_str().unwrap())], elsewhere.clone()),
        ] {
            let out = run(cwd.path(), &env, args);
            let err = stderr(&out);
            assert!(!out.status.success(), "{args:?}: {err}");
            let file = dir.join(mahpki_server::store::SQLITE_FILE);
            assert!(err.contains(&format!("no database at {}", file.display())), "{args:?}: {err}");
            assert!(err.contains("--config") && err.contains("MAHPKI_DATA_DIR"), "{err}");
            assert!(out.stdout.is_empty(), "{args:?}");
            assert_eq!(entries(cwd.path()), Vec::<String>::new(), "{args:?} created something");
        }
    }
    // `identity import` may start a database, but not one the settings do not name.
    let out = run(cwd.path(), &[], &["identity", "import", "/nonexistent/holders.json"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("no data directory named") && err.contains("MAHPKI_DATA_DIR"), "{err}");
    assert_eq!(entries(cwd.path()), Vec::<String>::new(), "identity import created something");
}

/// A database that `identity import` starts, then a read-only command on it: each says on one
/// stderr line which database it opened; a PostgreSQL URL is shown without its password.
async fn every_command_names_its_database(db: Db) {
    let cwd = tempfile::tempdir().unwrap();
    let data = cwd.path().join("db");
    let url = match db {
        Db::Sqlite => None,
        // The test server trusts loopback, so the password is never asked for; it must not be
        // printed either.
        Db::Postgres => Some(common::postgres::fresh_database_url().await.replacen(
            "postgres@",
            "postgres:pw-not-shown@",
            1,
        )),
    };
    let register = cwd.path().join("none.json");
    std::fs::write(&register, "[]").unwrap();
    let mut env = vec![("MAHPKI_DATA_DIR", data.to_str().unwrap())];
    if let Some(url) = &url {
        env.push(("MAHPKI_DATABASE_URL", url));
    }
    for args in [&["identity", "import", register.to_str().unwrap()][..], &["identity", "list"]] {
        let out = run(cwd.path(), &env, args);
        let err = stderr(&out);
        assert!(out.status.success(), "{args:?}: {err}");
        let lines: Vec<&str> = err.lines().filter(|l| l.contains("database")).collect();
        let want = match &url {
            None => format!(
                "mahpki-server: database SQLite {}",
                data.join(mahpki_server::store::SQLITE_FILE).display()
            ),
            Some(url) => {
                format!("mahpki-server: database PostgreSQL {}", url.replace(":pw-not-shown", ""))
            }
        };
        assert_eq!(lines, [want.as_str()], "{args:?}");
        assert!(!err.contains("pw-not-shown"), "{err}");
    }
}

/// The link `enrolment issue-link` prints starts with the configured public origin: from the
/// configuration file, and from MAHPKI_PUBLIC_ORIGIN over it (never a built-in :8080).
async fn issue_link_uses_the_configured_public_origin(db: Db) {
    let (store, url, data) = match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            (Store::open_sqlite(dir.path()).await.unwrap(), None, dir)
        }
        Db::Postgres => {
            let url = common::postgres::fresh_database_url().await;
            let store = Store::open_postgres(&url).await.unwrap();
            (store, Some(url), tempfile::tempdir().unwrap())
        }
    };
    let data_dir = data.path().to_owned();
    let w: World = world_on(store, Events::local(), data, config()).await;
    let trust = &w.hpki_trust;
    let config_file = data_dir.join("server.toml");
    std::fs::write(
        &config_file,
        format!(
            "public_origin = \"https://clinic.example.jp:8443\"\ndata_dir = {data_dir:?}\n\
             [[hpki_trust]]\nca_cert = {:?}\npolicies = [{HPKI_POLICY_STR:?}]\ncrls = [{:?}]\n",
            trust.ca_cert, trust.crls[0]
        ),
    )
    .unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let mut env = vec![];
    if let Some(url) = &url {
        env.push(("MAHPKI_DATABASE_URL", url.as_str()));
    }
    let args =
        ["--config", config_file.to_str().unwrap(), "enrolment", "issue-link", "--hpki-id", HOLDER];
    let link = |env: &[(&str, &str)]| {
        let out = run(cwd.path(), env, &args);
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let from_file = link(&env);
    assert!(from_file.starts_with("https://clinic.example.jp:8443/"), "{from_file}");
    env.push(("MAHPKI_PUBLIC_ORIGIN", "http://localhost:18123"));
    let from_env = link(&env);
    assert!(from_env.starts_with("http://localhost:18123/"), "{from_env}");
    assert_eq!(
        w.store
            .audit_tail(10)
            .await
            .unwrap()
            .iter()
            .filter(|a| a.action == "phone.enrolment.issue")
            .count(),
        2
    );
}

/// `binding add` (the demo's bound My Number card, bindings carried over): binds a JPKI
/// certificate that the configured anchors and CRLs accept, with its audit row, and the card then
/// signs its holder in; a revoked card, an HPKI certificate or an unknown holder are refused
/// and bind nothing.
async fn binding_add_binds_only_a_good_jpki_certificate(db: Db) {
    let (store, url, data) = match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            (Store::open_sqlite(dir.path()).await.unwrap(), None, dir)
        }
        Db::Postgres => {
            let url = common::postgres::fresh_database_url().await;
            let store = Store::open_postgres(&url).await.unwrap();
            (store, Some(url), tempfile::tempdir().unwrap())
        }
    };
    let data_dir = data.path().to_owned();
    let w: World = world_on(store, Events::local(), data, config()).await;
    let (h, j) = (&w.hpki_trust, &w.jpki_trust);
    let config_file = data_dir.join("server.toml");
    std::fs::write(
        &config_file,
        format!(
            "public_origin = {ORIGIN:?}\ndata_dir = {data_dir:?}\n\
             [[hpki_trust]]\nca_cert = {:?}\npolicies = [{HPKI_POLICY_STR:?}]\ncrls = [{:?}]\n\
             [[jpki_trust]]\nca_cert = {:?}\npolicies = [{JPKI_POLICY_STR:?}]\ncrls = [{:?}]\n",
            h.ca_cert, h.crls[0], j.ca_cert, j.crls[0]
        ),
    )
    .unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let mut env = vec![];
    if let Some(url) = &url {
        env.push(("MAHPKI_DATABASE_URL", url.as_str()));
    }
    let add = |hpki_id: &str, cert: &[u8]| {
        let file = cwd.path().join("card.der");
        std::fs::write(&file, cert).unwrap();
        let args = [
            "--config",
            config_file.to_str().unwrap(),
            "binding",
            "add",
            "--hpki-id",
            hpki_id,
            "--certificate",
            file.to_str().unwrap(),
        ];
        run(cwd.path(), &env, &args)
    };
    for (who, cert, why) in [
        (HOLDER, w.jpki_cert(REVOKED_SERIAL), "revoked"),
        (HOLDER, w.hpki_cert(), "trusted CA"),
        ("JMA-0000099", w.jpki_cert(0x5001), "no holder"),
    ] {
        let out = add(who, &cert);
        assert!(!out.status.success(), "{why}");
        assert!(stderr(&out).contains(why), "{why}: {}", stderr(&out));
    }
    assert!(w.store.mynumber_list(None).await.unwrap().is_empty());

    let card = w.jpki_cert(0x5001);
    let out = add(HOLDER, &card);
    assert!(out.status.success(), "{}", stderr(&out));
    let bound: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (bound["hpki_id"].as_str(), bound["status"].as_str()),
        (Some(HOLDER), Some("active"))
    );
    let log = w.store.audit_tail(1).await.unwrap();
    assert_eq!((log[0].action.as_str(), log[0].client.as_deref()), ("mynumber.bind", Some("cli")));
    // Again: already bound, nothing changes.
    assert!(add(HOLDER, &card).status.success());
    assert_eq!(w.store.mynumber_list(None).await.unwrap().len(), 1);

    let mut b = Browser::new(&w.app);
    let c = b.challenge("/api/signin/mynumber/challenge").await;
    let sig = pki::keys().holder.sign_challenge(ORIGIN, &c);
    let a = b.finish("/api/signin/mynumber", &c, &card, &sig).await;
    assert_eq!(a.status.as_u16(), 200, "{:?}", a.body);
}

on_both_databases!(
    every_command_names_its_database,
    issue_link_uses_the_configured_public_origin,
    binding_add_binds_only_a_good_jpki_certificate,
);
