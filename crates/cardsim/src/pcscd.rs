//! Test support for the real PC/SC stack: make sure a pcscd with the vpcd driver runs (starting
//! one only if none does, and stopping only that one), and wait for a reader to see a card come
//! or go. Used by this crate's tests and meant for the helper's.

use std::ffi::CString;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pcsc::{Context, ReaderState, Scope, State};

/// pcscd's client socket: present while a pcscd serves.
pub const SOCKET: &str = "/run/pcscd/pcscd.comm";
/// vpcd's readers and the TCP ports their virtual cards connect to.
pub const READER_0: (&str, u16) = ("Virtual PCD 00 00", 35963);
pub const READER_1: (&str, u16) = ("Virtual PCD 00 01", 35964);

#[derive(Debug, thiserror::Error)]
pub enum PcscdError {
    #[error("cannot start pcscd: {0}")]
    Spawn(std::io::Error),
    #[error("pcscd did not come up with reader {0:?} within 10 s")]
    NoReader(String),
    #[error("reader {reader:?}: card present={present} not seen within {secs} s")]
    Timeout { reader: String, present: bool, secs: u64 },
    #[error("PC/SC: {0}")]
    Pcsc(#[from] pcsc::Error),
}

/// A running pcscd. Dropping it stops pcscd if (and only if) this guard started it.
pub struct Pcscd {
    child: Option<Child>,
}

fn running() -> bool {
    Path::new(SOCKET).exists()
        && Command::new("pidof")
            .arg("pcscd")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

impl Pcscd {
    /// Uses the running pcscd, or starts `pcscd --foreground`; returns once `reader` is listed.
    pub fn ensure(reader: &str) -> Result<Self, PcscdError> {
        let child = if running() {
            None
        } else {
            Some(
                Command::new("pcscd")
                    .arg("--foreground")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(PcscdError::Spawn)?,
            )
        };
        let guard = Self { child };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let listed = Context::establish(Scope::User)
                .and_then(|c| c.list_readers_owned())
                .is_ok_and(|rs| rs.iter().any(|r| r.to_str() == Ok(reader)));
            if listed {
                return Ok(guard);
            }
            if Instant::now() > deadline {
                return Err(PcscdError::NoReader(reader.into()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether this guard started pcscd (and will stop it).
    pub fn started_here(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGTERM lets pcscd remove its socket and pid file; SIGKILL only if it lingers.
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits until `reader` reports a card (`present`) or an empty slot, at most `timeout`.
pub fn wait_card(
    ctx: &Context,
    reader: &str,
    present: bool,
    timeout: Duration,
) -> Result<(), PcscdError> {
    let name = CString::new(reader).expect("reader names have no NUL");
    let mut rs = [ReaderState::new(name, State::UNAWARE)];
    let deadline = Instant::now() + timeout;
    loop {
        match ctx.get_status_change(Duration::from_millis(250), &mut rs) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => return Err(e.into()),
        }
        if rs[0].event_state().contains(State::PRESENT) == present {
            return Ok(());
        }
        rs[0].sync_current_state();
        if Instant::now() > deadline {
            return Err(PcscdError::Timeout {
                reader: reader.into(),
                present,
                secs: timeout.as_secs(),
            });
        }
    }
}
