//! Live notices that a holder's enrolment changed, from whichever request changed it to every
//! PC watching (SSE), in this process or, with PostgreSQL, in any process on the same database.
//!
//! A notice carries only the 本人ID: "re-read this holder's enrolment". The database stays the
//! one source of truth, so a lost, doubled or late notice can never show a PC a wrong state.
//! With SQLite one process is the whole service and a broadcast channel suffices; with
//! PostgreSQL, notices go out as `NOTIFY` and come back to every process (this one included)
//! through a `LISTEN`ing connection that feeds the same channel.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

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

/// The notice that tells every stream of a browser session to check that the session still
/// lives (sent at logout; crosses processes like any notice). Only the session id's hash, which
/// the database holds anyway, travels.
pub fn session_key(session_hash: &[u8]) -> String {
    let hex: String = session_hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("session:{hex}")
}

/// Counts the live-event streams open in this process, per browser session and in all, so one
/// client cannot hold open streams without end (each holds a task, a channel receiver and a
/// connection). A stream takes a [`StreamSlot`] before it starts and gives it back when it ends
/// or the client goes away.
#[derive(Clone, Debug)]
pub struct Streams {
    inner: Arc<Mutex<Open>>,
    per_session: usize,
    total: usize,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_session: HashMap<Vec<u8>, usize>,
}

/// Why a stream was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamRefused {
    #[error("this session has as many live-event streams open as allowed")]
    Session,
    #[error("the server has as many live-event streams open as allowed")]
    Server,
}

/// One open stream's place in [`Streams`]; dropping it frees the place.
#[derive(Debug)]
pub struct StreamSlot {
    streams: Streams,
    session_hash: Vec<u8>,
}

impl Streams {
    pub fn new(per_session: u32, total: u32) -> Self {
        Self {
            inner: Arc::default(),
            per_session: usize::try_from(per_session).unwrap_or(usize::MAX),
            total: usize::try_from(total).unwrap_or(usize::MAX),
        }
    }

    /// A place for one more stream of `session_hash`, if the caps allow it.
    pub fn open(&self, session_hash: &[u8]) -> Result<StreamSlot, StreamRefused> {
        let mut open = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if open.by_session.get(session_hash).copied().unwrap_or(0) >= self.per_session {
            return Err(StreamRefused::Session);
        }
        if open.total >= self.total {
            return Err(StreamRefused::Server);
        }
        *open.by_session.entry(session_hash.to_vec()).or_default() += 1;
        open.total += 1;
        Ok(StreamSlot { streams: self.clone(), session_hash: session_hash.to_vec() })
    }

    /// Streams open now in this process.
    pub fn total(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).total
    }

    /// Streams open now: of one session, and in all.
    pub fn count(&self, session_hash: &[u8]) -> (usize, usize) {
        let open = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (open.by_session.get(session_hash).copied().unwrap_or(0), open.total)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.inner.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_session.get_mut(&self.session_hash) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.by_session.remove(&self.session_hash);
            }
        }
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
