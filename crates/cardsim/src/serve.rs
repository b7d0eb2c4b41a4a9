//! The link between a virtual card and vpcd (the card is vpcd's TCP client), and a one-reader
//! [`Server`] that keeps every card it ever made so PIN counters persist across remove/insert,
//! like a physical card taken out of the reader and put back.

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing::{debug, info, warn};

use crate::card::Card;
use crate::pki::TestPki;
use crate::profile;
use crate::vpcd::{Request, read_request, write_message};

/// vpcd's port for reader "Virtual PCD 00 00" (35964 is "Virtual PCD 00 01").
pub const DEFAULT_VPCD_PORT: u16 = 35963;

/// A card shared between its owner and the vpcd link.
pub type SharedCard = Arc<Mutex<dyn Card>>;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("unknown card {0:?}: use `hpki [HOLDER [PROFILE]]`, `jpki [HOLDER]` or `HOLDER`")]
    UnknownCard(String),
    #[error("vpcd address: {0}")]
    Address(io::Error),
}

/// Keeps one card connected to vpcd until [`VpcdLink::stop`] (card removed).
pub struct VpcdLink {
    stop: Arc<AtomicBool>,
    stream: Arc<Mutex<Option<TcpStream>>>,
    thread: Option<JoinHandle<()>>,
}

impl VpcdLink {
    /// Starts serving `card` to vpcd at `addr`, reconnecting if vpcd is not there yet or drops
    /// the connection (pcscd restarting), until stopped.
    pub fn start(card: SharedCard, addr: SocketAddr) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stream: Arc<Mutex<Option<TcpStream>>> = Arc::default();
        let (stop2, stream2) = (stop.clone(), stream.clone());
        let thread = std::thread::Builder::new()
            .name("vpcd-link".into())
            .spawn(move || link_loop(&card, addr, &stop2, &stream2))
            .expect("spawn vpcd link thread");
        Self { stop, stream, thread: Some(thread) }
    }

    /// Removes the card: closes the connection, which vpcd reports to pcscd as card removal.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(s) = self.stream.lock().expect("stream lock").as_ref() {
            let _ = s.shutdown(Shutdown::Both);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for VpcdLink {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn link_loop(
    card: &SharedCard,
    addr: SocketAddr,
    stop: &AtomicBool,
    slot: &Mutex<Option<TcpStream>>,
) {
    while !stop.load(Ordering::SeqCst) {
        let s = match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(s) => s,
            Err(e) => {
                debug!(%addr, error = %e, "vpcd not reachable yet");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let _ = s.set_nodelay(true);
        match s.try_clone() {
            Ok(c) => *slot.lock().expect("stream lock") = Some(c),
            Err(e) => {
                warn!(error = %e, "cannot clone vpcd stream");
                continue;
            }
        }
        // The removal check must follow publishing the stream, or a stop could miss it.
        if stop.load(Ordering::SeqCst) {
            break;
        }
        info!(%addr, "card connected to vpcd");
        if let Err(e) = serve_connection(card, s) {
            debug!(error = %e, "vpcd connection ended");
        }
        *slot.lock().expect("stream lock") = None;
        if !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// vpcd writes the 2-byte length and the APDU in two `send`s without TCP_NODELAY, so the APDU
/// waits (Nagle) for our ACK of the length, which Linux delays ~40 ms. ACKing at once keeps an
/// APDU round trip under a millisecond. Linux clears the flag as it sees fit: set it every read.
fn quickack(s: &TcpStream) {
    #[cfg(target_os = "linux")]
    let _ = socket2::SockRef::from(s).set_tcp_quickack(true);
    #[cfg(not(target_os = "linux"))]
    let _ = s;
}

fn serve_connection(card: &SharedCard, mut s: TcpStream) -> io::Result<()> {
    let mut w = s.try_clone()?;
    loop {
        quickack(&s);
        let Some(req) = read_request(&mut s)? else {
            break;
        };
        let mut c = card.lock().expect("card lock");
        match req {
            Request::PowerOff => {}
            Request::PowerOn | Request::Reset => c.power_on(),
            Request::GetAtr => write_message(&mut w, c.atr())?,
            Request::Apdu(apdu) => {
                let resp = c.transmit(&apdu);
                // Logged before the answer leaves, so a host that got its answer finds the line.
                debug!(target: APDU_LOG, "{}", apdu_log_line(&apdu, &resp));
                write_message(&mut w, &resp)?;
            }
        }
    }
    Ok(())
}

/// `RUST_LOG=cardsim::apdu=debug` logs every command APDU a card behind vpcd gets, one line each
/// ([`apdu_log_line`]), so what a host sends is counted at the card (scripts/opensc-apdus.sh).
pub const APDU_LOG: &str = "cardsim::apdu";

/// `apdu <command hex> <SW hex>`; the data of commands that carry a PIN (VERIFY, CHANGE
/// REFERENCE DATA, RESET RETRY COUNTER) is written `xx` per byte.
pub fn apdu_log_line(apdu: &[u8], resp: &[u8]) -> String {
    let carries_pin = matches!(apdu.get(1), Some(0x20 | 0x21 | 0x24 | 0x2c));
    let mut line = String::from("apdu ");
    for (i, b) in apdu.iter().enumerate() {
        if carries_pin && i >= 5 {
            line.push_str("xx");
        } else {
            line.push_str(&format!("{b:02X}"));
        }
    }
    line.push(' ');
    for b in &resp[resp.len().saturating_sub(2)..] {
        line.push_str(&format!("{b:02X}"));
    }
    line
}

/// Which card the control interface means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSpec {
    pub jpki: bool,
    pub holder: String,
    pub profile: Option<String>,
}

impl CardSpec {
    /// The key under which the card's state lives.
    fn key(&self) -> String {
        if self.jpki {
            format!("jpki/{}", self.holder)
        } else {
            format!("hpki/{}/{}", self.holder, self.profile.as_deref().unwrap_or("-"))
        }
    }
}

/// One virtual reader with cards to put into it.
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

struct Inner {
    pki: TestPki,
    vpcd: (String, u16),
    cards: Mutex<HashMap<String, SharedCard>>,
    slot: Mutex<Option<(String, VpcdLink)>>,
}

impl Server {
    pub fn new(pki: TestPki, vpcd: (String, u16)) -> Self {
        Self {
            inner: Arc::new(Inner { pki, vpcd, cards: Mutex::default(), slot: Mutex::default() }),
        }
    }

    pub fn pki(&self) -> &TestPki {
        &self.inner.pki
    }

    /// Parses `hpki [HOLDER [PROFILE]]`, `jpki [HOLDER]` or `HOLDER` (that holder's HPKI card).
    /// The default holder is the first one.
    pub fn parse_spec(&self, s: &str) -> Result<CardSpec, ServeError> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let first_holder = || self.inner.pki.holders[0].spec.hpki_id.clone();
        let holder_ok = |h: &str| self.inner.pki.holder(h).is_some();
        let spec = match words.as_slice() {
            ["hpki" | "jpki"] => {
                CardSpec { jpki: words[0] == "jpki", holder: first_holder(), profile: None }
            }
            ["hpki" | "jpki", h] if holder_ok(h) => {
                CardSpec { jpki: words[0] == "jpki", holder: (*h).into(), profile: None }
            }
            ["hpki", h, p] if holder_ok(h) && profile::by_name(p).is_some() => {
                CardSpec { jpki: false, holder: (*h).into(), profile: Some((*p).into()) }
            }
            [h] if holder_ok(h) => CardSpec { jpki: false, holder: (*h).into(), profile: None },
            _ => return Err(ServeError::UnknownCard(s.into())),
        };
        // Name the holder's own layout explicitly, so `hpki H` and `hpki H <its profile>` are
        // the same physical card.
        let profile = match (spec.jpki, spec.profile) {
            (true, _) => None,
            (false, Some(p)) => Some(p),
            (false, None) => Some(
                self.inner
                    .pki
                    .holder(&spec.holder)
                    .expect("holder was validated")
                    .spec
                    .hpki_profile
                    .clone(),
            ),
        };
        Ok(CardSpec { profile, ..spec })
    }

    /// The card for `spec`, made on first use and kept for the life of the server.
    pub fn card(&self, spec: &CardSpec) -> SharedCard {
        let mut cards = self.inner.cards.lock().expect("cards lock");
        cards
            .entry(spec.key())
            .or_insert_with(|| {
                let h = self.inner.pki.holder(&spec.holder).expect("spec was validated");
                let card: SharedCard = if spec.jpki {
                    Arc::new(Mutex::new(h.jpki_card()))
                } else {
                    match spec.profile.as_deref().and_then(profile::by_name) {
                        Some(p) => Arc::new(Mutex::new(h.hpki_card_with(p))),
                        None => Arc::new(Mutex::new(h.hpki_card())),
                    }
                };
                card
            })
            .clone()
    }

    fn vpcd_addr(&self) -> Result<SocketAddr, ServeError> {
        let (host, port) = &self.inner.vpcd;
        (host.as_str(), *port)
            .to_socket_addrs()
            .map_err(ServeError::Address)?
            .next()
            .ok_or_else(|| ServeError::Address(io::Error::other("no address")))
    }

    /// Puts a card into the reader (taking out whatever was there). Returns its key.
    pub fn insert(&self, spec: &str) -> Result<String, ServeError> {
        let spec = self.parse_spec(spec)?;
        let addr = self.vpcd_addr()?;
        self.remove();
        let card = self.card(&spec);
        let key = spec.key();
        info!(card = %key, "insert");
        *self.inner.slot.lock().expect("slot lock") =
            Some((key.clone(), VpcdLink::start(card, addr)));
        Ok(key)
    }

    /// Takes the card out of the reader. Returns the key of the card removed, if any.
    pub fn remove(&self) -> Option<String> {
        let taken = self.inner.slot.lock().expect("slot lock").take();
        taken.map(|(key, link)| {
            info!(card = %key, "remove");
            link.stop();
            key
        })
    }

    /// Key of the card in the reader.
    pub fn inserted(&self) -> Option<String> {
        self.inner.slot.lock().expect("slot lock").as_ref().map(|(k, _)| k.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::apdu_log_line;

    #[test]
    fn apdu_log_lines_hide_pins() {
        assert_eq!(
            apdu_log_line(&[0x00, 0xa4, 0x02, 0x0c, 0x02, 0x00, 0x18], &[0x90, 0x00]),
            "apdu 00A4020C020018 9000"
        );
        let verify = [0x00, 0x20, 0x00, 0x80, 0x04, b'1', b'2', b'3', b'4'];
        assert_eq!(apdu_log_line(&verify, &[0x63, 0xc2]), "apdu 0020008004xxxxxxxx 63C2");
        // A tries-left query has no data to hide; a signature's data is not logged, only SW.
        assert_eq!(apdu_log_line(&[0x00, 0x20, 0x00, 0x80], &[0x63, 0xc3]), "apdu 00200080 63C3");
        assert_eq!(
            apdu_log_line(&[0x80, 0x2a, 0x00, 0x80], &[1, 2, 3, 0x90, 0x00]),
            "apdu 802A0080 9000"
        );
    }
}
