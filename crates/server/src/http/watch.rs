//! The live-event streams (SSE) of the phone codes: what a PC or a phone watches, read again
//! whenever a notice under its key arrives or its deadline passes, sent when it changed, until a
//! final event or the end of the PC's session. What each state means is the service's
//! ([`phone_code::snapshot`]); this is the HTTP streaming around it.

use std::{convert::Infallible, time::Duration};

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use mahpki_protocol::ErrorCode;

use super::{ApiError, AppState, session};
use crate::{
    events::{self, StreamSlot, Subscription},
    service::phone_code::{self, Watched},
    store::{PcPurpose, SessionRecord},
};

/// A place for one more live-event stream of session `s`, or the typed refusal.
pub(super) fn stream_slot(state: &AppState, key: &[u8]) -> Result<StreamSlot, ApiError> {
    state.streams.open(key).map_err(|e| {
        tracing::warn!(refused = %e, "live-event stream refused");
        ApiError(ErrorCode::TooManyStreams)
    })
}

/// Who a stream serves. A PC's stream ends when its browser session does (logout, idle,
/// maximum age); a phone has no session, and its stream ends with its code. Either holds its
/// [`StreamSlot`] until then.
pub(super) struct Watcher {
    session: Option<WatchedSession>,
    _slot: StreamSlot,
}

struct WatchedSession {
    hash: Vec<u8>,
    /// When the session ends unless the PC makes a request meanwhile.
    ends_ms: i64,
}

impl Watcher {
    pub(super) fn new(s: SessionRecord, slot: StreamSlot) -> Self {
        let session = WatchedSession { ends_ms: session_ends(&s), hash: s.id_hash };
        Self { session: Some(session), _slot: slot }
    }

    /// A phone's stream (capped per phone cookie like a session's).
    pub(super) fn phone(slot: StreamSlot) -> Self {
        Self { session: None, _slot: slot }
    }

    fn session_ends_ms(&self) -> i64 {
        self.session.as_ref().map_or(i64::MAX, |s| s.ends_ms)
    }

    /// The notice that sends this session's streams to check it (see [`events::session_key`]).
    fn session_key(&self) -> Option<String> {
        self.session.as_ref().map(|s| events::session_key(&s.hash))
    }
}

fn session_ends(s: &SessionRecord) -> i64 {
    (s.last_seen_ms + session::IDLE_MS).min(s.created_ms + session::MAX_MS)
}

/// The SSE answer for the PC's newest code of one purpose (スマートフォン変更's first code or the
/// sign-in code): the same session checks, stream cap and watch for both.
pub(super) async fn pc_code(
    state: AppState,
    headers: &axum::http::HeaderMap,
    purpose: PcPurpose,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>, ApiError> {
    let s = session::current(&state, headers).await?;
    let slot = stream_slot(&state, &s.id_hash)?;
    let notices = state.events.subscribe();
    let (target, key) = phone_code::watch_pc_code(&state.ctx(), purpose, &s.id_hash).await?;
    Ok(watch(state, target, key, notices, Watcher::new(s, slot)))
}

/// The SSE answer: `target`'s state now, then each change (woken by notices under `key` or the
/// watcher's session's, or by the expiry passing), until a final event. `notices` was subscribed
/// before `target` and `key` were read.
pub(super) fn watch(
    state: AppState,
    target: Watched,
    key: String,
    mut notices: Subscription,
    watcher: Watcher,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    match watcher.session_key() {
        Some(session) => notices.watch(&[&key, &session]),
        None => notices.watch(&[&key]),
    }
    let w = Watch {
        state,
        target,
        notices,
        last: None,
        last_name: None,
        done: false,
        expires_ms: None,
        watcher,
    };
    let stream = futures_util::stream::unfold(w, |mut w| async move {
        let (name, data) = w.next().await?;
        Some((Ok(Event::default().event(name).data(data)), w))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

struct Watch {
    state: AppState,
    target: Watched,
    notices: Subscription,
    /// The data (JSON) of the last event sent: kept as text, a few dozen bytes, where the parsed
    /// value would keep a map node per waiting stream.
    last: Option<String>,
    /// The event name of `last`.
    last_name: Option<&'static str>,
    done: bool,
    /// From the last read; `None` before the first.
    expires_ms: Option<i64>,
    watcher: Watcher,
}

impl Watch {
    /// The next event that differs from the last one sent, its name and data (JSON); `None` once
    /// a final one was sent.
    async fn next(&mut self) -> Option<(&'static str, String)> {
        loop {
            if self.done {
                return None;
            }
            let mut session_ended = false;
            if let Some(deadline) = self.expires_ms {
                self.wait(deadline.min(self.watcher.session_ends_ms())).await;
                // Boxed, as the read below: a waiting stream keeps no room for the reads'
                // futures, only while one runs.
                session_ended = !Box::pin(self.session_lives()).await;
            }
            let ctx = self.state.ctx();
            let snap = match Box::pin(phone_code::snapshot(&ctx, self.target)).await {
                Ok(Some(s)) => s,
                Ok(None) => return None,
                Err(err) => {
                    tracing::error!(error = %err, target = ?self.target, "cannot read a watched state");
                    return None;
                }
            };
            self.expires_ms = Some(snap.expires_ms);
            // A session that ended (logout, idle, or its id replaced at a grant) still hears
            // a change of state that came with its end (not a mere countdown), then nothing.
            if session_ended {
                self.done = true;
                if self.last_name == Some(snap.name) {
                    return None;
                }
            }
            let data = snap.data.to_string();
            if self.last.as_ref() != Some(&data) {
                self.last_name = Some(snap.name);
                self.last = Some(data.clone());
                self.done |= snap.is_final;
                return Some((snap.name, data));
            }
        }
    }

    /// Whether the PC's session still lives (not logged out, idle or too old), re-reading when
    /// it ends meanwhile (the PC's other requests keep it alive).
    async fn session_lives(&mut self) -> bool {
        let now = self.state.clock.now_ms();
        let Some(watched) = self.watcher.session.as_mut() else { return true };
        match self.state.store.session_get(&watched.hash).await {
            Ok(Some(s)) => {
                watched.ends_ms = session_ends(&s);
                now <= watched.ends_ms
            }
            Ok(None) => false,
            Err(err) => {
                tracing::error!(error = %err, "cannot read a watching session");
                false
            }
        }
    }

    /// Until a notice under our key or our session's arrives, or `deadline` passes.
    async fn wait(&self, deadline: i64) {
        let left = u64::try_from(deadline - self.state.clock.now_ms()).unwrap_or(0);
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(left + 50)) => {}
            () = self.notices.notified() => {}
        }
    }
}
