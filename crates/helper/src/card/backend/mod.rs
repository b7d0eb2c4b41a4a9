//! Where cards come from. The operation runner and `/v1/status` see only [`CardBackend`]: PC/SC
//! readers, PKCS#11 middleware and (for tests and the demo) in-process virtual cards all fit it.
//! Every method blocks; callers run them off the async runtime.

pub mod pcsc;
pub mod pkcs11;
pub mod virtual_card;

use std::time::Duration;

use mahpki_protocol::helper::{CardPresence, CardType, ReaderStatus};

use crate::{
    card::driver::{self, CardInfo, Detected, hpki, jpki},
    card::transport::Transport,
    error::CardError,
    pin::Pin,
};

pub trait CardBackend: Send + Sync + 'static {
    /// Reader names; empty when there is no reader (or no smart-card service).
    fn readers(&self) -> Result<Vec<String>, CardError>;
    /// A session with the card in `reader`; [`CardError::NoCard`] when it is empty.
    fn connect(&self, reader: &str) -> Result<Box<dyn CardSession>, CardError>;
    /// Blocks until a reader or card comes or goes, or `timeout` passes (whichever is first).
    fn wait_for_change(&self, timeout: Duration) {
        std::thread::sleep(timeout);
    }
}

/// What one look at a card tells an operation wanting a card of some kind: which card it is,
/// and for one of that kind, its certificate and PIN tries or why they could not be read.
pub type Look = (Detected, Option<Result<CardInfo, CardError>>);

/// One connected card, whatever carries it.
pub trait CardSession: Send {
    /// Whether this very card is still in its reader (checked without APDUs while the holder
    /// types the PIN, so a pulled card is reported at once).
    fn present(&mut self) -> bool {
        true
    }
    fn identify(&mut self) -> Result<Detected, CardError>;
    /// [`Self::identify`] (trying the applications of kind `wanted` first) and, for a card of
    /// that kind, `found()` then [`Self::read_info`], in one hold of the card where it can be
    /// held: the application is then selected once for both.
    fn identify_and_read(&mut self, wanted: CardType, found: &dyn Fn()) -> Result<Look, CardError> {
        let detected = self.identify()?;
        let info = (detected.card_type() == Some(wanted)).then(|| {
            found();
            self.read_info(detected)
        });
        Ok((detected, info))
    }
    /// Certificates and PIN tries, no PIN needed.
    fn read_info(&mut self, card: Detected) -> Result<CardInfo, CardError>;
    /// VERIFY then sign `digest_info` (SHA-256 DigestInfo), under one exclusive hold of the card.
    fn authenticate(
        &mut self,
        card: Detected,
        info: &CardInfo,
        pin: &Pin,
        digest_info: &[u8],
    ) -> Result<Vec<u8>, CardError>;
}

/// A card reached by APDUs, with a way to hold it exclusively (PC/SC transaction).
pub trait ApduCard: Send {
    /// Whether the card is still in the reader; see [`CardSession::present`].
    fn present(&mut self) -> bool {
        true
    }
    /// Runs `f` while holding the card; with `reset_after`, resets the card when done so a
    /// verified PIN does not stay open for other programs.
    fn with_exclusive(
        &mut self,
        reset_after: bool,
        f: &mut dyn FnMut(&mut dyn Transport) -> Result<(), CardError>,
    ) -> Result<(), CardError>;
}

/// [`CardSession`] for any [`ApduCard`], through the APDU drivers.
pub struct ApduSession<C: ApduCard>(pub C);

impl<C: ApduCard> ApduSession<C> {
    fn run<T>(
        &mut self,
        reset_after: bool,
        mut f: impl FnMut(&mut dyn Transport) -> Result<T, CardError>,
    ) -> Result<T, CardError> {
        let mut out = None;
        self.0.with_exclusive(reset_after, &mut |t| {
            out = Some(f(t)?);
            Ok(())
        })?;
        out.ok_or_else(|| CardError::Communication("card session ended without an answer".into()))
    }
}

impl<C: ApduCard> CardSession for ApduSession<C> {
    fn present(&mut self) -> bool {
        self.0.present()
    }

    fn identify(&mut self) -> Result<Detected, CardError> {
        self.run(false, driver::identify)
    }

    fn identify_and_read(&mut self, wanted: CardType, found: &dyn Fn()) -> Result<Look, CardError> {
        self.run(false, |t| {
            let detected = driver::identify_trying(t, wanted)?;
            let info = (detected.card_type() == Some(wanted)).then(|| {
                found();
                driver::read_selected(t, detected)
            });
            Ok((detected, info))
        })
    }

    fn read_info(&mut self, card: Detected) -> Result<CardInfo, CardError> {
        self.run(false, |t| match card {
            Detected::Jpki => jpki::read_info(t),
            Detected::Hpki(p) => hpki::read_info(t, p),
            Detected::HpkiToken | Detected::Unsupported => Err(CardError::Unsupported),
        })
    }

    fn authenticate(
        &mut self,
        card: Detected,
        info: &CardInfo,
        pin: &Pin,
        digest_info: &[u8],
    ) -> Result<Vec<u8>, CardError> {
        // The PIN's verified state ends with this signature.
        self.run(true, |t| match card {
            Detected::Jpki => jpki::authenticate(t, pin, digest_info),
            Detected::Hpki(p) => hpki::authenticate(t, p, &info.certificate, pin, digest_info),
            Detected::HpkiToken | Detected::Unsupported => Err(CardError::Unsupported),
        })
    }
}

/// What `/v1/status` shows: every reader and what is in it.
pub fn survey(backend: &dyn CardBackend) -> Vec<ReaderStatus> {
    let Ok(names) = backend.readers() else { return vec![] };
    names
        .into_iter()
        .map(|name| {
            let card = match backend.connect(&name).and_then(|mut s| s.identify()) {
                Ok(d) => d.presence(),
                Err(CardError::NoCard) => CardPresence::Empty,
                Err(CardError::Unsupported) => CardPresence::Unsupported,
                // Busy with another program, or removed while we looked: report it as empty
                // rather than guess.
                Err(_) => CardPresence::Empty,
            };
            ReaderStatus { name, card }
        })
        .collect()
}

/// Where a card-wanting operation stands after one look at the readers.
#[derive(Debug)]
pub enum Search {
    NoReader,
    NoCard,
    /// Only cards of the other kind (or unknown cards) are present.
    Other(CardPresence),
    /// The card, what it is, and what reading it gave (see [`CardSession::identify_and_read`]).
    Found(Box<dyn CardSession>, Detected, Result<CardInfo, CardError>),
}

/// Looks through every reader for a card of type `wanted`, and reads the one it finds; `found`
/// is called when it starts reading.
pub fn find_card(
    backend: &dyn CardBackend,
    wanted: CardType,
    found: &dyn Fn(),
) -> Result<Search, CardError> {
    let names = backend.readers()?;
    if names.is_empty() {
        return Ok(Search::NoReader);
    }
    let mut other = None;
    // One bad reader (a mute card, a card held exclusively by another program) must not stop
    // the search in the others: it is noted and skipped.
    for name in names {
        let mut session = match backend.connect(&name) {
            Ok(s) => s,
            Err(CardError::NoCard | CardError::Removed) => continue,
            Err(CardError::Unsupported) => {
                other.get_or_insert(CardPresence::Unsupported);
                continue;
            }
            Err(e) => {
                tracing::debug!(reader = %name, error = %e, "reader skipped");
                continue;
            }
        };
        match session.identify_and_read(wanted, found) {
            Ok((d, Some(info))) => return Ok(Search::Found(session, d, info)),
            Ok((d, None)) => other = Some(d.presence()),
            Err(e) => tracing::debug!(reader = %name, error = %e, "card not identified"),
        }
    }
    Ok(other.map_or(Search::NoCard, Search::Other))
}

impl std::fmt::Debug for dyn CardSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardSession")
    }
}

/// A machine with no reader at all: what the helper meets when no smart-card stack exists. Also
/// the starting state of the demo before a virtual card is inserted.
#[derive(Debug, Default)]
pub struct NoReaders;

impl CardBackend for NoReaders {
    fn readers(&self) -> Result<Vec<String>, CardError> {
        Ok(vec![])
    }

    fn connect(&self, _reader: &str) -> Result<Box<dyn CardSession>, CardError> {
        Err(CardError::NoReader)
    }
}

/// Several backends as one: PC/SC readers and PKCS#11 tokens side by side. Reader names are
/// distinct across them (PKCS#11 names carry their slot).
pub struct Combined(pub Vec<std::sync::Arc<dyn CardBackend>>);

impl CardBackend for Combined {
    fn readers(&self) -> Result<Vec<String>, CardError> {
        let mut all = Vec::new();
        for b in &self.0 {
            // One broken backend must not hide the readers of the others.
            match b.readers() {
                Ok(names) => all.extend(names),
                Err(e) => tracing::debug!(error = %e, "a card backend failed to list readers"),
            }
        }
        Ok(all)
    }

    fn connect(&self, reader: &str) -> Result<Box<dyn CardSession>, CardError> {
        for b in &self.0 {
            if b.readers().is_ok_and(|names| names.iter().any(|n| n == reader)) {
                return b.connect(reader);
            }
        }
        Err(CardError::NoReader)
    }

    fn wait_for_change(&self, timeout: Duration) {
        match self.0.first() {
            Some(b) => b.wait_for_change(timeout),
            None => std::thread::sleep(timeout),
        }
    }
}
