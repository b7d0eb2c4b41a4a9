//! Live notices that a holder's enrolment changed, from whichever request changed it to every
//! PC watching (SSE), in this process or, with PostgreSQL, in any process on the same database.
//!
//! A notice carries only a key (the 本人ID, a code's or a session's): "re-read what you watch
//! under this key". The database stays the one source of truth, so a lost, doubled or late notice
//! can never show a PC a wrong state. With SQLite one process is the whole service; with
//! PostgreSQL, notices go out as `NOTIFY` and come back to every process (this one included)
//! through a `LISTEN`ing connection.
//!
//! In a process, a notice wakes only the streams watching its key ([`Subscription`]): with
//! thousands of PCs waiting, a completion reaches its PC without waking all the others first.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::Notify;

/// Notices remembered for the subscribers that have not yet said which keys they watch (a
/// stream reads its state between the two); one that missed more re-reads (see
/// [`Subscription::watch`]).
const RECENT: usize = 256;

/// The PostgreSQL channel enrolment notices travel on.
pub const CHANNEL: &str = "mahpki_enrolment";

/// The notice that tells every watcher to re-read: sent after the listening connection was
/// lost, since notices sent meanwhile are gone.
pub const EVERYONE: &str = "*";

#[derive(Clone, Debug)]
pub struct Events {
    hub: Arc<Hub>,
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
        Self { hub: Arc::default(), notify: None }
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
        let hub = Arc::<Hub>::default();
        tokio::spawn(forward(listener, Arc::clone(&hub)));
        Ok(Self { hub, notify: Some(pool) })
    }

    /// Tells every watcher of `key` to re-read. Call after the change is committed, so a
    /// watcher that re-reads sees it.
    pub async fn publish(&self, key: &str) {
        if let Some(pool) = &self.notify {
            let sent =
                sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(key).execute(pool).await;
            match sent {
                // Comes back through the listener, to this process too.
                Ok(_) => return,
                Err(e) => tracing::warn!(error = %e, "NOTIFY failed; only this process hears it"),
            }
        }
        self.hub.deliver(key);
    }

    /// Subscribe before reading the state the notices refer to, then [`Subscription::watch`]
    /// its keys: no change falls between.
    pub fn subscribe(&self) -> Subscription {
        let since = self.hub.lock().seq;
        let waiter = Arc::new(Notify::new());
        Subscription { hub: Arc::clone(&self.hub), since, waiter, keys: Vec::new() }
    }
}

/// Who watches which key, in this process.
#[derive(Debug, Default)]
struct Hub(Mutex<Watchers>);

#[derive(Debug, Default)]
struct Watchers {
    /// Notices delivered so far.
    seq: u64,
    /// The keys of the last [`RECENT`] notices, the newest last.
    recent: VecDeque<Arc<str>>,
    by_key: HashMap<Arc<str>, Vec<Arc<Notify>>>,
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Watchers> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn deliver(&self, key: &str) {
        let mut w = self.lock();
        w.seq += 1;
        if w.recent.len() == RECENT {
            w.recent.pop_front();
        }
        w.recent.push_back(Arc::from(key));
        if key == EVERYONE {
            w.by_key.values().flatten().for_each(|n| n.notify_one());
        } else if let Some(waiters) = w.by_key.get(key) {
            waiters.iter().for_each(|n| n.notify_one());
        }
    }
}

/// One stream's interest in notices. Wakes ([`Subscription::notified`]) for a notice under a
/// watched key or [`EVERYONE`]; notices coalesce, since each only says "re-read".
#[derive(Debug)]
pub struct Subscription {
    hub: Arc<Hub>,
    /// [`Watchers::seq`] when subscribed.
    since: u64,
    /// Holds one wake-up while nobody waits, so none is lost between two waits.
    waiter: Arc<Notify>,
    keys: Vec<Arc<str>>,
}

impl Subscription {
    /// Watches `keys` from now on. A notice under one of them (or for everyone) since
    /// [`Events::subscribe`], or more notices than are remembered, wakes the next wait at once.
    pub fn watch(&mut self, keys: &[&str]) {
        let mut w = self.hub.lock();
        let missed = usize::try_from(w.seq - self.since).unwrap_or(usize::MAX);
        let matches = |k: &str| k == EVERYONE || keys.contains(&k);
        if missed > w.recent.len() || w.recent.iter().rev().take(missed).any(|k| matches(k)) {
            self.waiter.notify_one();
        }
        for key in keys {
            // One allocation per key, shared by its watchers.
            let key = match w.by_key.get_key_value(*key) {
                Some((k, _)) => Arc::clone(k),
                None => Arc::from(*key),
            };
            w.by_key.entry(Arc::clone(&key)).or_default().push(Arc::clone(&self.waiter));
            self.keys.push(key);
        }
        self.since = w.seq;
    }

    /// Until a notice under a watched key arrives (at once if one came since the last wait).
    pub async fn notified(&self) {
        self.waiter.notified().await;
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut w = self.hub.lock();
        for key in &self.keys {
            if let Some(waiters) = w.by_key.get_mut(key) {
                waiters.retain(|n| !Arc::ptr_eq(n, &self.waiter));
                if waiters.is_empty() {
                    w.by_key.remove(key);
                }
            }
        }
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

/// Delivers `NOTIFY`s to this process's watchers for as long as the process runs.
async fn forward(mut listener: PgListener, hub: Arc<Hub>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => hub.deliver(n.payload()),
            // The connection dropped (it reconnects on the next call): whatever was sent
            // meanwhile is lost, so everyone re-reads.
            Ok(None) => {
                tracing::warn!("enrolment notice connection lost; reconnecting");
                hub.deliver(EVERYONE);
            }
            Err(e) => {
                tracing::warn!(error = %e, "enrolment notice connection failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                hub.deliver(EVERYONE);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt as _;

    use super::*;

    /// Whether a wait would end now (taking the wake-up).
    fn woken(s: &Subscription) -> bool {
        s.notified().now_or_never().is_some()
    }

    #[tokio::test]
    async fn a_notice_wakes_only_the_watchers_of_its_key() {
        let events = Events::local();
        let mut a = events.subscribe();
        a.watch(&["JMA-0000001", "session:aa"]);
        let mut b = events.subscribe();
        b.watch(&["JMA-0000002"]);
        events.publish("JMA-0000001").await;
        assert!(woken(&a) && !woken(&b));
        // Once per wake-up: two notices before a wait coalesce into one.
        events.publish("session:aa").await;
        events.publish("JMA-0000001").await;
        assert!(woken(&a) && !woken(&a));
        events.publish("JMA-0000003").await;
        assert!(!woken(&a) && !woken(&b));
    }

    #[tokio::test]
    async fn a_notice_between_subscribing_and_watching_is_not_lost() {
        let events = Events::local();
        let mut s = events.subscribe();
        events.publish("JMA-0000002").await;
        events.publish("JMA-0000001").await;
        s.watch(&["JMA-0000001"]);
        assert!(woken(&s) && !woken(&s));
        // Other keys only: nothing to re-read.
        let mut quiet = events.subscribe();
        events.publish("JMA-0000002").await;
        quiet.watch(&["JMA-0000001"]);
        assert!(!woken(&quiet));
    }

    #[tokio::test]
    async fn more_notices_than_remembered_wake_the_late_watcher() {
        let events = Events::local();
        let mut s = events.subscribe();
        for i in 0..=RECENT {
            events.publish(&format!("other:{i}")).await;
        }
        s.watch(&["JMA-0000001"]);
        assert!(woken(&s), "it cannot tell whether its key was among the forgotten");
    }

    #[tokio::test]
    async fn everyone_wakes_every_watcher() {
        let events = Events::local();
        let mut watching = events.subscribe();
        watching.watch(&["JMA-0000001"]);
        let mut late = events.subscribe();
        events.publish(EVERYONE).await;
        late.watch(&["JMA-0000002"]);
        assert!(woken(&watching) && woken(&late));
    }

    #[tokio::test]
    async fn a_dropped_subscription_leaves_nothing_behind() {
        let events = Events::local();
        let mut a = events.subscribe();
        a.watch(&["JMA-0000001", "session:aa"]);
        let mut b = events.subscribe();
        b.watch(&["JMA-0000001"]);
        drop(a);
        let keys: Vec<String> = events.hub.lock().by_key.keys().map(|k| k.to_string()).collect();
        assert_eq!(keys, ["JMA-0000001"]);
        assert_eq!(events.hub.lock().by_key["JMA-0000001"].len(), 1);
        events.publish("JMA-0000001").await;
        assert!(woken(&b));
        drop(b);
        assert!(events.hub.lock().by_key.is_empty());
    }
}
