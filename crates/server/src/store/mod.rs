//! Durable storage: SQLite (a WAL-mode file in the data directory) by default, PostgreSQL when
//! `database_url` is set so several server processes act as one service.
//!
//! Both run the same SQL through sqlx's `Any` driver (`$1` placeholders work in both), so the two
//! backends cannot drift apart; [`Backend`] holds the two places where they must differ (how a
//! write transaction takes its lock). Each backend has its own migration folder because the DDL
//! types differ.

mod audit;
mod bindings;
mod ceremonies;
mod confirmations;
mod csc;
mod enrolments;
mod grants;
mod identities;
mod oidc;
mod passkeys;
mod phone_codes;
mod proofs;
mod retention;
mod second_certs;
mod sessions;
mod signing_sessions;

use std::{path::Path, time::Duration};

use sqlx::{AnyPool, Executor as _, any::AnyPoolOptions};

pub use audit::{AuditAction, AuditEvent, AuditObserver, AuditRecord, SignatureBatch};
pub use bindings::{BindError, BindOutcome, MyNumberRecord, NewMyNumberBinding};
pub use ceremonies::{Assertion, Ceremony, Registration, SignInAssertion};
pub use confirmations::{
    CONFIRM_TRIES, ConfirmState, Confirmation, Entered, NewConfirmation, Purpose, Rotation,
    SignInProved,
};
pub use csc::{NewSad, SadRecord, SadSpend};
pub use enrolments::{
    EnrolmentKind, EnrolmentRecord, Issued, LinkRef, NewEnrolment, NewPhone, PhoneBinding,
    PhoneRecord, PhoneUse,
};
pub use grants::{
    GrantVia, JMA_BATCH, JMA_FIRST_BACKOFF_MS, JMA_MAX_BACKOFF_MS, JmaAttempt, JmaGrant, JmaGranted,
};
pub use identities::{
    CurrentCert, IdentityRecord, ImportChange, ImportRefusal, JmaCandidate, StandingFacts,
};
pub use oidc::{
    ClientRecord, CodeRecord, CodeTake, GrantOf, NewToken, PendingRequest, TokenKind, TokenRecord,
};
pub use passkeys::{AssertionFor, SignInCodeProof};
pub use phone_codes::{CodeState, EnrolError, PcCode, PcPurpose, PhoneCode};
pub use proofs::{ProofBegin, ProvedBy};
pub use retention::{Purged, Retention};
pub use second_certs::{
    ACTIVE, REQUESTED, REVOKED, SecondCertActivation, SecondCertRecord, SecondCertStoreError,
};
pub use sessions::{ChallengeRecord, SessionRecord};
pub use signing_sessions::{NewSigningSession, SigningSessionRecord};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// File name of the embedded database inside the data directory.
pub const SQLITE_FILE: &str = "mahpki.sqlite3";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error(
        "this database was set up with another server secret: every server process on one \
         database must read the same secret file (copy it from the first one)"
    )]
    SecretMismatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// The same database for the rows a crash may lose (an anonymous page session, an
    /// unanswered challenge, a session's idle clock, a CSC SAD nothing was signed with yet):
    /// their commits skip the fsync (SQLite
    /// `synchronous = NORMAL`, PostgreSQL `synchronous_commit = off`). Whatever commits durably
    /// afterwards on `pool` flushes the log up to itself, so these rows are on disk by the time
    /// a sign-in that consumed them is acknowledged; only unanswered ones can be lost.
    relaxed: AnyPool,
    backend: Backend,
    /// Told of every audit row written (the server's metrics); shared by every clone.
    observer: AuditObserver,
}

/// SQL put together from this module's own constants (column lists, table names), never from
/// input, so it is safe to splice.
fn sql(s: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(s)
}

/// Who revokes a binding: the CA operator (any holder's, from the CLI), or the holder from
/// their own page (only their own: the owner is part of the `UPDATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoker<'a> {
    Operator,
    Holder { hpki_id: &'a str, client: Option<&'a str> },
}

impl<'a> Revoker<'a> {
    /// The holder the row must belong to, if any.
    pub fn owner(self) -> Option<&'a str> {
        match self {
            Self::Operator => None,
            Self::Holder { hpki_id, .. } => Some(hpki_id),
        }
    }

    /// The audit row's client.
    pub fn client(self) -> Option<&'a str> {
        match self {
            Self::Operator => Some("cli"),
            Self::Holder { client, .. } => client,
        }
    }

    /// ` AND hpki_id = $n` for a holder (bind [`Revoker::owner`] as parameter `n`), else nothing.
    fn owner_clause(self, n: u8) -> String {
        match self {
            Self::Operator => String::new(),
            Self::Holder { .. } => format!(" AND hpki_id = ${n}"),
        }
    }
}

/// The binding tables where a newer binding replaces the holder's current one.
#[derive(Debug, Clone, Copy)]
enum Bindings {
    MyNumber,
    Phone,
}

/// Revokes row `id` of `table` as replaced, in the caller's transaction, so the new binding and
/// this revocation commit together or not at all.
async fn revoke_replaced(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    table: Bindings,
    id: i64,
    now: i64,
) -> Result<(), StoreError> {
    let table = match table {
        Bindings::MyNumber => "mynumber_bindings",
        Bindings::Phone => "phone_credentials",
    };
    sqlx::query(sql(format!(
        "UPDATE {table} SET revoked_ms = $1, revoked_reason = 'replaced' WHERE id = $2"
    )))
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Opens the configured database and brings its schema up to date.
    pub async fn open(data_dir: &Path, database_url: Option<&str>) -> Result<Self, StoreError> {
        match database_url {
            Some(url) => Self::open_postgres(url).await,
            None => Self::open_sqlite(data_dir).await,
        }
    }

    pub async fn open_sqlite(data_dir: &Path) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let url = format!("sqlite://{}?mode=rwc", data_dir.join(SQLITE_FILE).display());
        // WAL lets readers run beside the writer. FULL: a binding the holder was told is
        // complete survives a power cut. The busy timeout queues writers instead of failing them.
        let pool = sqlite_pool(&url, 8, SQLITE_DURABLE).await?;
        SQLITE_MIGRATIONS.run(&pool).await?;
        // NORMAL in WAL mode: the commit is atomic and ordered but not synced; the next FULL
        // commit (or checkpoint) syncs the log with it.
        let relaxed = sqlite_pool(&url, 4, SQLITE_RELAXED).await?;
        Ok(Self { pool, relaxed, backend: Backend::Sqlite, observer: AuditObserver::default() })
    }

    pub async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        POSTGRES_MIGRATIONS.run(&pool).await?;
        let relaxed = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // Commits return before their WAL record is flushed; any later synchronous
                    // commit flushes it (PostgreSQL's WAL is one ordered log).
                    conn.execute("SET synchronous_commit = off").await?;
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(Self { pool, relaxed, backend: Backend::Postgres, observer: AuditObserver::default() })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// A round trip to the database, for `/api/health`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The connection pool now: open connections, idle ones, and the most it opens.
    pub fn pool_use(&self) -> (u32, usize, u32) {
        (self.pool.size(), self.pool.num_idle(), self.pool.options().get_max_connections())
    }

    pub async fn close(&self) {
        self.relaxed.close().await;
        self.pool.close().await;
    }

    /// Starts a write transaction that holds the write lock from its first statement. SQLite's
    /// default deferred BEGIN would let two writers both read, then fail on upgrade; IMMEDIATE
    /// queues them instead. PostgreSQL locks rows as it goes (`SELECT … FOR UPDATE`).
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        Ok(self.pool.begin_with(begin).await?)
    }

    /// [`Self::begin_write`] on the relaxed pool: for rows whose loss in a power cut only
    /// makes a client ask again (see `relaxed`).
    async fn begin_relaxed_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        Ok(self.relaxed.begin_with(begin).await?)
    }
}

/// A pool on the SQLite file at `url` whose connections run `pragmas` (one of the two below).
async fn sqlite_pool(url: &str, max: u32, pragmas: &'static str) -> Result<AnyPool, StoreError> {
    Ok(AnyPoolOptions::new()
        .max_connections(max)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute(pragmas).await?;
                Ok(())
            })
        })
        .connect(url)
        .await?)
}

const SQLITE_DURABLE: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";
const SQLITE_RELAXED: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";

/// The wall clock in Unix milliseconds (the server's handlers use their `Clock` instead).
pub fn now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only the pool of rows a crash may lose skips the fsync; both see each other's commits.
    #[tokio::test]
    async fn sqlite_syncs_every_commit_but_the_relaxed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(dir.path()).await.unwrap();
        let level = |pool: AnyPool| async move {
            let n: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&pool).await.unwrap();
            n
        };
        // 2 = FULL, 1 = NORMAL (https://sqlite.org/pragma.html#pragma_synchronous).
        assert_eq!(level(store.pool.clone()).await, 2);
        assert_eq!(level(store.relaxed.clone()).await, 1);
        store.session_insert(b"relaxed", 1).await.unwrap();
        assert!(store.session_get(b"relaxed").await.unwrap().is_some());
        store.challenge_insert(b"c", b"relaxed", "hpki", 9).await.unwrap();
        assert!(store.challenge_take(b"c").await.unwrap().is_some());
        assert!(store.challenge_take(b"c").await.unwrap().is_none(), "single use");
    }
}
