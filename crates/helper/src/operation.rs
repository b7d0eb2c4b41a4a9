//! Operations: one card action the page asked for, its state machine, and the thread that drives
//! it. The state is an explicit [`OperationState`]; `done` and `failed` are final and never left,
//! so a late card answer cannot overwrite a cancellation or timeout.

use std::{
    collections::HashMap,
    fmt::Write as _,
    sync::{
        Arc, Condvar, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use base64::Engine as _;
use mahpki_protocol::{
    error::ErrorCode,
    helper::{
        AuthenticationResult, CardType, OperationKind, OperationState, OperationStatus,
        SignatureAlgorithm, WaitReason,
    },
};

use crate::{
    card::backend::{CardBackend, CardSession, Search, find_card},
    card::driver::PinStatus,
    error::CardError,
    pin::Pin,
    signing::{authentication_digest, sha256_digest_info},
};

#[derive(Debug, Clone, Copy)]
pub struct OperationConfig {
    /// Whole-operation limit, from start to signature (the server's challenge lives 5 minutes).
    pub timeout: Duration,
    /// How long to wait between looks at the readers when the backend cannot notify.
    pub poll: Duration,
    /// How long finished operations stay readable.
    pub keep_finished: Duration,
}

impl Default for OperationConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(240),
            poll: Duration::from_millis(500),
            keep_finished: Duration::from_secs(600),
        }
    }
}

pub struct Operation {
    /// A capability: whoever knows it can open the PIN page. Never logged (see `tag`).
    pub id: String,
    /// What the logs call the operation: a short, one-way tag of the id.
    pub tag: String,
    pub kind: OperationKind,
    pub card: CardType,
    /// The `Origin` that created it; only it may follow or cancel it, and the card signs over it.
    pub origin: String,
    digest_info: Vec<u8>,
    created: Instant,
    state: Mutex<OperationState>,
    pin: Mutex<Option<Pin>>,
    wake: Condvar,
    cancelled: AtomicBool,
    /// Which load of the PIN page is the live one, and whether that one went away (its
    /// `pagehide` beacon): each load gets the next number, so a beacon from an earlier load (a
    /// reload's old page) cannot mark the new one closed, and nothing the closed page still had
    /// in flight can mark it open again.
    pin_page: Mutex<PinPage>,
}

/// See [`Operation::pin_window_opened`]: load 0 is the page the site opened before it loaded.
#[derive(Debug, Default)]
struct PinPage {
    load: u64,
    closed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("the operation is not waiting for a PIN")]
    NotWaiting,
}

impl Operation {
    fn new(id: String, origin: String, card: CardType, challenge: &[u8]) -> Self {
        let digest = authentication_digest(&origin, challenge);
        Self {
            tag: log_tag(&id),
            id,
            kind: OperationKind::Authenticate,
            card,
            origin,
            digest_info: sha256_digest_info(&digest),
            created: Instant::now(),
            state: Mutex::new(OperationState::WaitingCard { reason: WaitReason::NoCard }),
            pin: Mutex::new(None),
            wake: Condvar::new(),
            cancelled: AtomicBool::new(false),
            pin_page: Mutex::new(PinPage::default()),
        }
    }

    pub fn state(&self) -> OperationState {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn status(&self) -> OperationStatus {
        let state = self.state();
        OperationStatus {
            id: self.id.clone(),
            operation: self.kind,
            card: self.card,
            origin: self.origin.clone(),
            // Only news while something may still be entered.
            pin_window_closed: !state.is_final()
                && self.pin_page.lock().unwrap_or_else(|p| p.into_inner()).closed,
            state,
        }
    }

    /// The PIN page was loaded: the window is open. Returns the number of this load, which the
    /// page sends back with its `pagehide` beacon.
    pub fn pin_window_opened(&self) -> u64 {
        let mut page = self.pin_page.lock().unwrap_or_else(|p| p.into_inner());
        page.load += 1;
        page.closed = false;
        page.load
    }

    /// Load `load` of the PIN page went away while the operation runs: if it is still the live
    /// load, the site's page offers to reopen it.
    pub fn pin_window_gone(&self, load: u64) {
        if self.state().is_final() {
            return;
        }
        let mut page = self.pin_page.lock().unwrap_or_else(|p| p.into_inner());
        if page.load == load {
            page.closed = true;
            tracing::debug!(op = %self.tag, "the PIN window was closed");
        }
    }

    /// Moves to `next` unless already final. Returns whether it moved.
    fn set(&self, next: OperationState) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.is_final() {
            return false;
        }
        if *s != next {
            tracing::debug!(op = %self.tag, state = state_name(&next), "operation state");
        }
        *s = next;
        true
    }

    fn fail(&self, error: ErrorCode, tries_left: Option<u8>) {
        self.set(OperationState::Failed { error, tries_left });
        self.wake.notify_all();
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.fail(ErrorCode::Cancelled, None);
    }

    /// Hands the holder's PIN to the runner. Only while the state is `waiting_pin`, and only
    /// once per prompt: the state moves to `communicating` at once so a second post is refused.
    pub fn submit_pin(&self, pin: Pin) -> Result<(), SubmitError> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if !matches!(*s, OperationState::WaitingPin { .. }) {
            return Err(SubmitError::NotWaiting);
        }
        *s = OperationState::Communicating;
        drop(s);
        *self.pin.lock().unwrap_or_else(|p| p.into_inner()) = Some(pin);
        self.wake.notify_all();
        Ok(())
    }

    fn is_over(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst) || self.state().is_final()
    }
}

/// The wire name of a state, for logs (never its contents: results hold certificates).
fn state_name(s: &OperationState) -> &'static str {
    match s {
        OperationState::WaitingCard { .. } => "waiting_card",
        OperationState::ChangeCard { .. } => "change_card",
        OperationState::WaitingPin { .. } => "waiting_pin",
        OperationState::Communicating => "communicating",
        OperationState::Done { .. } => "done",
        OperationState::Failed { .. } => "failed",
    }
}

/// Why the runner stopped early.
enum Stop {
    /// Already final (cancelled, or failed by someone else).
    Ended,
    Failed(ErrorCode, Option<u8>),
}

impl From<CardError> for Stop {
    fn from(e: CardError) -> Self {
        let tries = match e {
            CardError::PinLocked(_) => Some(0),
            _ => None,
        };
        Stop::Failed(e.code(), tries)
    }
}

struct Runner<'a> {
    op: &'a Operation,
    backend: &'a dyn CardBackend,
    cfg: OperationConfig,
    deadline: Instant,
}

impl Runner<'_> {
    fn check(&self) -> Result<Duration, Stop> {
        if self.op.is_over() {
            return Err(Stop::Ended);
        }
        let now = Instant::now();
        if now >= self.deadline {
            return Err(Stop::Failed(ErrorCode::TimedOut, None));
        }
        Ok(self.deadline - now)
    }

    fn run(&self) -> Result<AuthenticationResult, Stop> {
        let (mut session, detected, info) = loop {
            let remaining = self.check()?;
            // Reading the card found is communicating with it.
            let communicating = || {
                self.op.set(OperationState::Communicating);
            };
            let next = match find_card(self.backend, self.op.card, &communicating) {
                Ok(Search::Found(s, d, info)) => break (s, d, info),
                Ok(Search::NoReader) => {
                    OperationState::WaitingCard { reason: WaitReason::NoReader }
                }
                Ok(Search::NoCard) => OperationState::WaitingCard { reason: WaitReason::NoCard },
                Ok(Search::Other(present)) => OperationState::ChangeCard { present },
                // Pulled out while we looked: look again.
                Err(CardError::Removed) => {
                    OperationState::WaitingCard { reason: WaitReason::NoCard }
                }
                Err(e) => return Err(e.into()),
            };
            self.op.set(next);
            self.backend.wait_for_change(self.cfg.poll.min(remaining));
        };
        self.check()?;
        let info = info?;
        let mut tries_left = match info.pin {
            PinStatus::Locked => return Err(CardError::PinLocked(self.op.card).into()),
            PinStatus::TriesLeft(n) => Some(n),
            PinStatus::Verified | PinStatus::Unknown => None,
        };
        let mut last_error = None;
        loop {
            self.op.set(OperationState::WaitingPin { tries_left, last_error });
            let pin = self.wait_pin(session.as_mut())?;
            match session.authenticate(detected, &info, &pin, &self.op.digest_info) {
                Ok(signature) => {
                    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                    return Ok(AuthenticationResult {
                        certificate: b64.encode(&info.certificate),
                        ca_certificate: info.ca_certificate.as_deref().map(|c| b64.encode(c)),
                        algorithm: SignatureAlgorithm::Rs256,
                        signature: b64.encode(signature),
                    });
                }
                // Never retried with the same PIN: back to the page, which shows the count.
                Err(CardError::PinWrong { tries_left: n }) => {
                    tries_left = n;
                    last_error = Some(ErrorCode::PinWrong);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Waits for the holder's PIN, watching that the card stays in meanwhile.
    fn wait_pin(&self, session: &mut dyn CardSession) -> Result<Pin, Stop> {
        let mut slot = self.op.pin.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(pin) = slot.take() {
                return Ok(pin);
            }
            let remaining = self.check()?;
            if !session.present() {
                return Err(CardError::Removed.into());
            }
            let wait = remaining.min(self.cfg.poll);
            slot = self.op.wake.wait_timeout(slot, wait).unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

fn drive(op: &Operation, backend: &dyn CardBackend, cfg: OperationConfig) {
    let runner = Runner { op, backend, cfg, deadline: op.created + cfg.timeout };
    match runner.run() {
        Ok(result) => {
            op.set(OperationState::Done { result });
        }
        Err(Stop::Failed(code, tries)) => {
            tracing::info!(op = %op.tag, ?code, "operation failed");
            op.fail(code, tries);
        }
        Err(Stop::Ended) => {}
    }
    // A PIN posted after the end must not linger.
    op.pin.lock().unwrap_or_else(|p| p.into_inner()).take();
}

/// Every operation the helper knows, and the backend they use.
pub struct Operations {
    backend: Arc<dyn CardBackend>,
    cfg: OperationConfig,
    ops: Mutex<HashMap<String, Arc<Operation>>>,
}

/// The first 32 bits of the id's SHA-256, hex: enough to tell operations apart in a log, useless
/// for reaching the PIN page (the id has 128 random bits and the hash cannot be reversed).
pub fn log_tag(id: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(id.as_bytes())[..4].iter().fold(String::with_capacity(8), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// 128 random bits, hex: unguessable, so an id is a capability for the PIN page.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("OS random number generator");
    bytes.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl Operations {
    pub fn new(backend: Arc<dyn CardBackend>, cfg: OperationConfig) -> Self {
        Self { backend, cfg, ops: Mutex::new(HashMap::new()) }
    }

    pub fn backend(&self) -> &Arc<dyn CardBackend> {
        &self.backend
    }

    /// Starts an operation on its own thread (card calls block). One card action at a time: a
    /// new start cancels whatever is still running, as the holder has moved on.
    pub fn start(&self, origin: String, card: CardType, challenge: &[u8]) -> Arc<Operation> {
        let op = Arc::new(Operation::new(new_id(), origin, card, challenge));
        let mut ops = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        let keep = self.cfg.keep_finished;
        ops.retain(|_, o| !(o.state().is_final() && o.created.elapsed() > keep));
        for other in ops.values() {
            other.cancel();
        }
        ops.insert(op.id.clone(), op.clone());
        drop(ops);
        let (runner_op, backend, cfg) = (op.clone(), self.backend.clone(), self.cfg);
        let spawned = std::thread::Builder::new()
            .name("mahpki-operation".into())
            .spawn(move || drive(&runner_op, backend.as_ref(), cfg));
        if spawned.is_err() {
            op.fail(ErrorCode::Internal, None);
        }
        tracing::info!(op = %op.tag, origin = %op.origin, ?card, "operation started");
        op
    }

    /// The operation, if it exists and `origin` created it (others get "not found", so ids
    /// cannot be probed).
    pub fn get_for_origin(&self, id: &str, origin: &str) -> Option<Arc<Operation>> {
        self.get(id).filter(|op| op.origin == origin)
    }

    /// The operation by id alone: for the helper's own PIN page, where the id is the capability.
    pub fn get(&self, id: &str) -> Option<Arc<Operation>> {
        self.ops.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::backend::NoReaders;

    fn ops(timeout: Duration) -> Operations {
        let cfg =
            OperationConfig { timeout, poll: Duration::from_millis(10), ..Default::default() };
        Operations::new(Arc::new(NoReaders), cfg)
    }

    fn wait_for(op: &Operation, pred: impl Fn(&OperationState) -> bool) -> OperationState {
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let s = op.state();
            if pred(&s) || Instant::now() > until {
                return s;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn ids_are_128_bit_hex_and_distinct() {
        let a = new_id();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, new_id());
    }

    #[test]
    fn without_reader_waits_then_times_out() {
        let ops = ops(Duration::from_millis(150));
        let op = ops.start("https://a.example".into(), CardType::Jpki, &[0; 32]);
        let s = wait_for(&op, |s| {
            matches!(s, OperationState::WaitingCard { reason: WaitReason::NoReader })
        });
        assert_eq!(s, OperationState::WaitingCard { reason: WaitReason::NoReader });
        let s = wait_for(&op, OperationState::is_final);
        assert_eq!(s, OperationState::Failed { error: ErrorCode::TimedOut, tries_left: None });
    }

    #[test]
    fn cancel_is_final_and_a_pin_is_then_refused() {
        let ops = ops(Duration::from_secs(30));
        let op = ops.start("https://a.example".into(), CardType::Hpki, &[0; 32]);
        op.cancel();
        assert_eq!(
            op.state(),
            OperationState::Failed { error: ErrorCode::Cancelled, tries_left: None }
        );
        // The runner must not bring it back to life.
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            op.state(),
            OperationState::Failed { error: ErrorCode::Cancelled, tries_left: None }
        );
        let pin = Pin::parse(CardType::Hpki, "1234".into()).unwrap();
        assert_eq!(op.submit_pin(pin), Err(SubmitError::NotWaiting));
    }

    #[test]
    fn a_new_operation_cancels_the_running_one_and_ids_are_bound_to_origin() {
        let ops = ops(Duration::from_secs(30));
        let first = ops.start("https://a.example".into(), CardType::Jpki, &[0; 32]);
        let second = ops.start("https://a.example".into(), CardType::Hpki, &[0; 32]);
        assert_eq!(
            first.state(),
            OperationState::Failed { error: ErrorCode::Cancelled, tries_left: None }
        );
        assert!(!second.state().is_final());
        assert!(ops.get_for_origin(&second.id, "https://a.example").is_some());
        assert!(ops.get_for_origin(&second.id, "https://b.example").is_none());
        second.cancel();
    }

    #[test]
    fn signed_digest_names_the_origin() {
        let a = Operation::new("x".into(), "https://a.example".into(), CardType::Jpki, &[1; 32]);
        let b = Operation::new("y".into(), "https://b.example".into(), CardType::Jpki, &[1; 32]);
        assert_ne!(a.digest_info, b.digest_info);
        assert_eq!(
            a.digest_info,
            sha256_digest_info(&authentication_digest("https://a.example", &[1; 32]))
        );
    }
}
