//! The server's notion of "now", injectable so tests can expire challenges and sessions without
//! sleeping.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// Wall-clock time.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that only moves when told to; starts at the current time.
    pub fn manual() -> Self {
        Self(Some(Arc::new(AtomicI64::new(crate::store::now_ms()))))
    }

    /// Advances a manual clock (no effect on the system clock).
    pub fn advance_ms(&self, ms: i64) {
        if let Some(t) = &self.0 {
            t.fetch_add(ms, Ordering::SeqCst);
        }
    }

    pub fn now_ms(&self) -> i64 {
        match &self.0 {
            Some(t) => t.load(Ordering::SeqCst),
            None => crate::store::now_ms(),
        }
    }

    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
}
