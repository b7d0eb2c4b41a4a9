//! The operator's commands, one file per group, and what they share: opening the database so
//! that a command never creates one it was not meant to, and saying which one it opened.

pub mod audit;
pub mod binding;
pub mod enrolment;
pub mod identity;
pub mod maintenance;
pub mod oidc;
pub mod phone;
pub mod second_cert;
pub mod serve;

use std::{path::PathBuf, sync::Arc};

use mahpki_server::{
    Config,
    secret::ServerSecret,
    store::{SQLITE_FILE, Store},
};
use tracing_subscriber::EnvFilter;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a command may do to the database it is pointed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Reads only: the database must exist; nothing is created or written, the secret is not read.
    Read,
    /// Changes records that must already exist: the database must exist, and the server secret
    /// is created only inside an existing directory.
    Write,
    /// `identity import`: may start a new database (the demo imports before the first start),
    /// only in a data directory the settings name.
    Import,
    /// `serve`: may start a new database, and logs which one instead of printing it.
    Serve,
}

impl Needs {
    fn may_create(self) -> bool {
        matches!(self, Self::Import | Self::Serve)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    // A command run without the server's settings would otherwise start an empty database in
    // the working directory and answer from it as if nothing were registered.
    #[error(
        "no database at {0}: this command does not create one. Point it at the server's \
         database with --config FILE (its data_dir or database_url), or MAHPKI_DATA_DIR \
         (MAHPKI_DATABASE_URL for PostgreSQL)"
    )]
    NoDatabase(PathBuf),
    #[error(
        "no server secret at {0}, and no directory to create it in: this command does not \
         create one. Use the server's settings (--config FILE, MAHPKI_DATA_DIR or \
         MAHPKI_SECRET_FILE)"
    )]
    NoSecret(PathBuf),
    #[error(
        "no database at {0}, and no data directory named: name where the server's database \
         lives (data_dir in --config FILE, or MAHPKI_DATA_DIR) to start one"
    )]
    Unnamed(PathBuf),
}

/// Opens the database and brings its schema up to date, refusing to start one the command may
/// not create. Says on stderr (or, serving, in the log) which database it opened.
async fn open(config: &Config, needs: Needs) -> Result<Store, BoxError> {
    if config.database_url.is_none() {
        let file = sqlite_file(config);
        if !file.is_file() && !needs.may_create() {
            return Err(OpenError::NoDatabase(file).into());
        }
        // `identity import` run without the server's settings would fill a new database in
        // the working directory that the server never reads.
        if !file.is_file() && needs == Needs::Import && !config.data_dir_named {
            return Err(OpenError::Unnamed(file).into());
        }
    }
    let store = Store::open(&config.data_dir, config.database_url.as_deref()).await?;
    let database = describe(config);
    if needs == Needs::Serve {
        tracing::info!(%database, "database opened");
    } else {
        eprintln!("mahpki-server: database {database}");
    }
    Ok(store)
}

/// [`open`] for a command that reads only: nothing is created or written, the secret is not read.
pub async fn read(config: &Config) -> Result<Store, BoxError> {
    open(config, Needs::Read).await
}

/// [`open`] for a command that writes, then the server secret, which the store adopts (it hashes
/// any カードID still in plain text, and refuses a secret other than the one it recorded).
pub async fn write(config: &Config, needs: Needs) -> Result<(Store, Arc<ServerSecret>), BoxError> {
    let store = open(config, needs).await?;
    let path = config.secret_path();
    let dir_exists = path.parent().is_none_or(|d| d.as_os_str().is_empty() || d.is_dir());
    if !needs.may_create() && !path.is_file() && !dir_exists {
        return Err(OpenError::NoSecret(path).into());
    }
    let secret = ServerSecret::load_or_create(&path)?;
    store.adopt_secret(&secret).await.map_err(|e| format!("{e} ({})", path.display()))?;
    Ok((store, Arc::new(secret)))
}

/// The SQLite file under the configured data directory, absolute so the operator sees which.
fn sqlite_file(config: &Config) -> PathBuf {
    let file = config.data_dir.join(SQLITE_FILE);
    std::path::absolute(&file).unwrap_or(file)
}

/// The database as the operator should read it: the SQLite file, or the PostgreSQL URL without
/// its password.
pub fn describe(config: &Config) -> String {
    match config.database_url.as_deref() {
        None => format!("SQLite {}", sqlite_file(config).display()),
        Some(url) => format!("PostgreSQL {}", without_password(url)),
    }
}

/// `url` with its password (in the authority or a `password=` parameter) left out.
fn without_password(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        return "(a database_url that is not a URL)".to_owned();
    };
    let _ = u.set_password(None);
    if u.query().is_some() {
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != "password")
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        u.set_query(None);
        if !kept.is_empty() {
            u.query_pairs_mut().extend_pairs(kept);
        }
    }
    u.to_string()
}

pub fn init_logging(format: &str) {
    // Logs go to stderr; stdout carries only the "listening on" line and command output.
    let filter = EnvFilter::try_from_env("MAHPKI_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_line_never_shows_a_password() {
        for (url, shown) in [
            (
                "postgres://mahpki:s3cret@db.example:5432/mahpki",
                "postgres://mahpki@db.example:5432/mahpki",
            ),
            (
                "postgres://db.example/mahpki?user=m&password=s3cret&sslmode=require",
                "postgres://db.example/mahpki?user=m&sslmode=require",
            ),
            ("postgres://db.example/mahpki?password=s3cret", "postgres://db.example/mahpki"),
            ("not a url s3cret", "(a database_url that is not a URL)"),
        ] {
            let config = Config { database_url: Some(url.into()), ..Config::default() };
            let line = describe(&config);
            assert_eq!(line, format!("PostgreSQL {shown}"));
            assert!(!line.contains("s3cret"), "{line}");
        }
        let config = Config { data_dir: "/var/lib/mahpki".into(), ..Config::default() };
        assert_eq!(describe(&config), format!("SQLite /var/lib/mahpki/{SQLITE_FILE}"));
    }
}
