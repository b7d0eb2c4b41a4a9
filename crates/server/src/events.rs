//! Live notices that a holder's enrolment changed, from whichever request changed it to every
//! PC watching (SSE).
//!
//! A notice carries only the 本人ID: "re-read this holder's enrolment". The database stays the
//! one source of truth, so a lost, doubled or late notice can never show a PC a wrong state, and
//! the payload is the same whether it travels through this process's broadcast channel or, with
//! several server processes on one PostgreSQL, through `LISTEN`/`NOTIFY` (the one place to add
//! that is [`Events::publish`] plus a listener task feeding [`Events::subscribe`]'s channel).

use std::sync::Arc;

use tokio::sync::broadcast;

/// Notices buffered per subscriber; one that falls further behind re-reads (see `Lagged`).
const CAPACITY: usize = 256;

#[derive(Clone, Debug)]
pub struct Events {
    tx: broadcast::Sender<Arc<str>>,
}

impl Default for Events {
    fn default() -> Self {
        Self::local()
    }
}

impl Events {
    /// Notices reach subscribers of this process only (SQLite: one process is the service).
    pub fn local() -> Self {
        Self { tx: broadcast::channel(CAPACITY).0 }
    }

    /// Tells every watcher of `hpki_id`'s enrolment to re-read it. Call after the change is
    /// committed, so a watcher that re-reads sees it.
    pub fn publish(&self, hpki_id: &str) {
        // No subscriber is not an error: nobody is watching.
        let _ = self.tx.send(Arc::from(hpki_id));
    }

    /// Subscribe before reading the state the notices refer to, so no change falls between.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.tx.subscribe()
    }
}
