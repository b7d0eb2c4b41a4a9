//! A real PC/SC stack for tests: pcscd (started if none runs, stopped again if we started it)
//! with vsmartcard's vpcd driver, and helpers to wait for a virtual card to appear or go.

use std::ffi::CString;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use pcsc::{Context, Protocols, ReaderState, Scope, ShareMode, State};

/// Reader "Virtual PCD 00 01" (vpcd port 35964): tests leave reader 00 00 to other suites.
pub const READER: &str = "Virtual PCD 00 01";
pub const VPCD_PORT: u16 = 35964;
const SOCKET: &str = "/run/pcscd/pcscd.comm";

/// One pcscd, one reader: every test that uses them holds this lock.
static STACK: Mutex<()> = Mutex::new(());

pub struct Stack {
    _lock: MutexGuard<'static, ()>,
    pcscd: Option<Child>,
    pub ctx: Context,
}

fn pcscd_running() -> bool {
    Command::new("pidof").arg("pcscd").stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

impl Stack {
    pub fn start() -> Self {
        let lock = STACK.lock().unwrap_or_else(|e| e.into_inner());
        let pcscd = if pcscd_running() && Path::new(SOCKET).exists() {
            None
        } else {
            let child = Command::new("pcscd")
                .arg("--foreground")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start pcscd (is it installed? scripts/setup.sh)");
            let deadline = Instant::now() + Duration::from_secs(10);
            while !Path::new(SOCKET).exists() {
                assert!(Instant::now() < deadline, "pcscd did not create {SOCKET}");
                std::thread::sleep(Duration::from_millis(50));
            }
            Some(child)
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        let ctx = loop {
            match Context::establish(Scope::User) {
                Ok(c) if c.list_readers_owned().is_ok_and(|r| has_reader(&r)) => break c,
                _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
                other => panic!("pcscd offers no {READER}: {:?}", other.map(|_| ())),
            }
        };
        let stack = Self { _lock: lock, pcscd, ctx };
        // A test that failed before removing its card must not hand it to the next one.
        stack.wait_card(false);
        stack
    }

    pub fn vpcd_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], VPCD_PORT))
    }

    /// Waits until the reader reports a card (`present`) or none; panics after 15 s.
    pub fn wait_card(&self, present: bool) {
        let mut rs = [ReaderState::new(CString::new(READER).unwrap(), State::UNAWARE)];
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.ctx.get_status_change(Duration::from_millis(250), &mut rs) {
                Ok(()) | Err(pcsc::Error::Timeout) => {}
                Err(e) => panic!("get_status_change: {e}"),
            }
            let st = rs[0].event_state();
            if st.contains(State::PRESENT) == present {
                return;
            }
            rs[0].sync_current_state();
            assert!(Instant::now() < deadline, "card present={present} never seen: {st:?}");
        }
    }

    pub fn connect(&self) -> pcsc::Card {
        self.ctx
            .connect(&CString::new(READER).unwrap(), ShareMode::Shared, Protocols::ANY)
            .expect("connect to the virtual card")
    }
}

fn has_reader(readers: &[CString]) -> bool {
    readers.iter().any(|r| r.to_str() == Ok(READER))
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(mut c) = self.pcscd.take() {
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

/// Sends an APDU, returns (data, SW).
pub fn tx(card: &pcsc::Card, apdu: &[u8]) -> Result<(Vec<u8>, u16), pcsc::Error> {
    let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
    let r = card.transmit(apdu, &mut buf)?;
    let (d, sw) = r.split_at(r.len() - 2);
    Ok((d.to_vec(), u16::from_be_bytes([sw[0], sw[1]])))
}
