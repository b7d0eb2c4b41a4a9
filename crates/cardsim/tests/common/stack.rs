//! The real PC/SC stack for tests, on reader "Virtual PCD 00 01" (reader 00 00 is left to other
//! suites), built on [`mahpki_cardsim::pcscd`].

use std::ffi::CString;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use mahpki_cardsim::pcscd::{self, Pcscd};
use pcsc::{Context, Protocols, Scope, ShareMode};

pub const READER: &str = pcscd::READER_1.0;
pub const VPCD_PORT: u16 = pcscd::READER_1.1;

/// One pcscd, one reader: every test that uses them holds this lock.
static STACK: Mutex<()> = Mutex::new(());

pub struct Stack {
    pub ctx: Context,
    // Field order: drop the context, then pcscd, then release the lock.
    _pcscd: Pcscd,
    _lock: MutexGuard<'static, ()>,
}

impl Stack {
    pub fn start() -> Self {
        let lock = STACK.lock().unwrap_or_else(|e| e.into_inner());
        let pcscd = Pcscd::ensure(READER).expect("pcscd with vpcd (scripts/setup.sh installs it)");
        let ctx = Context::establish(Scope::User).expect("PC/SC context");
        let stack = Self { ctx, _pcscd: pcscd, _lock: lock };
        // A test that failed before removing its card must not hand it to the next one.
        stack.wait_card(false);
        stack
    }

    pub fn vpcd_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], VPCD_PORT))
    }

    /// Waits until the reader reports a card (`present`) or none; panics after 15 s.
    pub fn wait_card(&self, present: bool) {
        pcscd::wait_card(&self.ctx, READER, present, Duration::from_secs(15)).unwrap();
    }

    pub fn connect(&self) -> pcsc::Card {
        self.ctx
            .connect(&CString::new(READER).unwrap(), ShareMode::Shared, Protocols::ANY)
            .expect("connect to the virtual card")
    }
}

/// Sends an APDU, returns (data, SW).
pub fn tx(card: &pcsc::Card, apdu: &[u8]) -> Result<(Vec<u8>, u16), pcsc::Error> {
    let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
    let r = card.transmit(apdu, &mut buf)?;
    let (d, sw) = r.split_at(r.len() - 2);
    Ok((d.to_vec(), u16::from_be_bytes([sw[0], sw[1]])))
}
