//! Durable storage. SQLite (a WAL-mode file in the data directory) by default; PostgreSQL when
//! `database_url` is set, so several server processes can act as one service. Each backend has its
//! own migration folder because their SQL dialects differ (sqlx 0.9's `Any` driver emits `?`
//! placeholders, which PostgreSQL rejects).

mod audit;

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    PgPool, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

pub use audit::{AuditEvent, AuditRecord};

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
}

#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
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
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join(SQLITE_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A binding the holder was told is complete must survive a power cut: FULL.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        SQLITE_MIGRATIONS.run(&pool).await?;
        Ok(Self::Sqlite(pool))
    }

    pub async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        let options = sqlx::postgres::PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        POSTGRES_MIGRATIONS.run(&pool).await?;
        Ok(Self::Postgres(pool))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// A round trip to the database, for `/api/health`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.map(drop)?,
            Self::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(drop)?,
        }
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(p) => p.close().await,
            Self::Postgres(p) => p.close().await,
        }
    }
}
