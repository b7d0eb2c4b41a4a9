//! Live notices that a holder's enrolment changed, from whichever request changed it to every
//! PC watching (SSE), in this process or, with PostgreSQL, in any process on the same database.
//!
//! A notice carries only the 本人ID: "re-read this holder's enrolment". The database stays the
//! one source of truth, so a lost, doubled or late notice can never show a PC a wrong state.
//! With SQLite one process is the whole service and a broadcast channel suffices; with
//! PostgreSQL, notices go out as `NOTIFY` and come back to every process (this one included)
//! through a `LISTEN`ing connection that feeds the same channel.

use std::{sync::Arc, time::Duration};

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::broadcast;

/// Notices buffered per subscriber; one that falls further behind re-reads (see `Lagged`).
const CAPACITY: usize = 256;

/// The PostgreSQL channel enrolment notices travel on.
pub const CHANNEL: &str = "mahpki_enrolment";

/// The notice that tells every watcher to re-read: sent after the listening connection was
/// lost, since notices sent meanwhile are gone.
pub const EVERYONE: &str = "*";

#[derive(Clone, Debug)]
pub struct Events {
    tx: broadcast::Sender<Arc<str>>,
    /// Set when notices go through PostgreSQL.
    notify: Option<PgPool>,
}

impl Default for Events {
    fn default() -> Self {
        Self::local()
    }
}

impl Events {
    /// Notices reach subscribers of this process only (SQLite: one process is the service).
    pub fn local() -> Self {
        Self { tx: broadcast::channel(CAPACITY).0, notify: None }
    }

    /// Notices cross every server process on the PostgreSQL database at `url`. The `Any` pool
    /// cannot `LISTEN`, so this keeps its own small PostgreSQL pool and one listening connection.
    pub async fn postgres(url: &str) -> Result<Self, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        let tx = broadcast::channel(CAPACITY).0;
        tokio::spawn(forward(listener, tx.clone()));
        Ok(Self { tx, notify: Some(pool) })
    }

    /// Tells every watcher of `hpki_id`'s enrolment to re-read it. Call after the change is
    /// committed, so a watcher that re-reads sees it.
    pub async fn publish(&self, hpki_id: &str) {
        if let Some(pool) = &self.notify {
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(hpki_id)
                .execute(pool)
                .await;
            match sent {
                // Comes back through the listener, to this process too.
                Ok(_) => return,
                Err(e) => tracing::warn!(error = %e, "NOTIFY failed; only this process hears it"),
            }
        }
        // No subscriber is not an error: nobody is watching.
        let _ = self.tx.send(Arc::from(hpki_id));
    }

    /// Subscribe before reading the state the notices refer to, so no change falls between.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.tx.subscribe()
    }
}

/// Feeds `NOTIFY`s into the local channel for as long as the process runs.
async fn forward(mut listener: PgListener, tx: broadcast::Sender<Arc<str>>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => {
                let _ = tx.send(Arc::from(n.payload()));
            }
            // The connection dropped (it reconnects on the next call): whatever was sent
            // meanwhile is lost, so everyone re-reads.
            Ok(None) => {
                tracing::warn!("enrolment notice connection lost; reconnecting");
                let _ = tx.send(Arc::from(EVERYONE));
            }
            Err(e) => {
                tracing::warn!(error = %e, "enrolment notice connection failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                let _ = tx.send(Arc::from(EVERYONE));
            }
        }
    }
}
