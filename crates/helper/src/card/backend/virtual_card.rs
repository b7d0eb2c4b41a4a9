//! In-process readers holding virtual cards, for tests and the demo. A card here has the same
//! shape as `mahpki_cardsim::Card` (power on, APDU in, data+SW out), so cardsim's JPKI and HPKI
//! cards plug in with a one-line adapter. Removal is real: a session whose card was pulled gets
//! [`TransportError::Removed`] on its next APDU, as over PC/SC.

use std::{
    sync::{Arc, Condvar, Mutex},
    time::Duration,
};

use crate::{
    card::backend::{ApduCard, ApduSession, CardBackend, CardSession},
    card::transport::{Transport, TransportError},
    error::CardError,
};

/// A card that answers APDUs.
pub trait VirtualCard: Send {
    /// Reset: forgets selections and verified PINs (PIN counters survive).
    fn power_on(&mut self);
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8>;
}

pub type SharedCard = Arc<Mutex<dyn VirtualCard>>;

struct Slot {
    name: String,
    /// The card and the number of its insertion, so a session can tell it was pulled even if
    /// the same card went back in.
    card: Option<(u64, SharedCard)>,
}

struct Inner {
    slots: Mutex<(u64, Vec<Slot>)>,
    changed: Condvar,
}

#[derive(Clone)]
pub struct VirtualReaders {
    inner: Arc<Inner>,
}

impl VirtualReaders {
    pub fn new(names: &[&str]) -> Self {
        let slots = names.iter().map(|n| Slot { name: (*n).to_owned(), card: None }).collect();
        Self { inner: Arc::new(Inner { slots: Mutex::new((0, slots)), changed: Condvar::new() }) }
    }

    fn with_slot<T>(&self, reader: &str, f: impl FnOnce(&mut u64, &mut Slot) -> T) -> Option<T> {
        let mut guard = self.inner.slots.lock().unwrap_or_else(|p| p.into_inner());
        let (counter, slots) = &mut *guard;
        let out = slots.iter_mut().find(|s| s.name == reader).map(|s| f(counter, s));
        self.inner.changed.notify_all();
        out
    }

    /// Inserts `card` (powering it on) into `reader`, replacing whatever was there.
    pub fn insert(&self, reader: &str, card: SharedCard) -> bool {
        card.lock().unwrap_or_else(|p| p.into_inner()).power_on();
        self.with_slot(reader, |counter, slot| {
            *counter += 1;
            slot.card = Some((*counter, card));
        })
        .is_some()
    }

    /// Takes the card out of `reader`, returning it (its PIN counters intact).
    pub fn remove(&self, reader: &str) -> Option<SharedCard> {
        self.with_slot(reader, |_, slot| slot.card.take().map(|(_, c)| c)).flatten()
    }

    fn still_inserted(&self, reader: &str, insertion: u64) -> bool {
        let guard = self.inner.slots.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .1
            .iter()
            .any(|s| s.name == reader && s.card.as_ref().is_some_and(|(n, _)| *n == insertion))
    }
}

impl CardBackend for VirtualReaders {
    fn readers(&self) -> Result<Vec<String>, CardError> {
        let guard = self.inner.slots.lock().unwrap_or_else(|p| p.into_inner());
        Ok(guard.1.iter().map(|s| s.name.clone()).collect())
    }

    fn connect(&self, reader: &str) -> Result<Box<dyn CardSession>, CardError> {
        let guard = self.inner.slots.lock().unwrap_or_else(|p| p.into_inner());
        let slot = guard.1.iter().find(|s| s.name == reader).ok_or(CardError::NoReader)?;
        let (insertion, card) = slot.card.clone().ok_or(CardError::NoCard)?;
        drop(guard);
        Ok(Box::new(ApduSession(VirtualConnection {
            readers: self.clone(),
            reader: reader.to_owned(),
            insertion,
            card,
        })))
    }

    fn wait_for_change(&self, timeout: Duration) {
        let guard = self.inner.slots.lock().unwrap_or_else(|p| p.into_inner());
        let _ = self.inner.changed.wait_timeout(guard, timeout);
    }
}

struct VirtualConnection {
    readers: VirtualReaders,
    reader: String,
    insertion: u64,
    card: SharedCard,
}

struct VirtualTransport<'a> {
    conn: &'a VirtualConnection,
    card: &'a mut dyn VirtualCard,
}

impl Transport for VirtualTransport<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        if !self.conn.readers.still_inserted(&self.conn.reader, self.conn.insertion) {
            return Err(TransportError::Removed);
        }
        Ok(self.card.transmit(apdu))
    }
}

impl ApduCard for VirtualConnection {
    fn present(&mut self) -> bool {
        self.readers.still_inserted(&self.reader, self.insertion)
    }

    fn with_exclusive(
        &mut self,
        reset_after: bool,
        f: &mut dyn FnMut(&mut dyn Transport) -> Result<(), CardError>,
    ) -> Result<(), CardError> {
        // Holding the card's lock is the transaction: no other session's APDU can interleave.
        let card = self.card.clone();
        let mut guard = card.lock().unwrap_or_else(|p| p.into_inner());
        let result = f(&mut VirtualTransport { conn: self, card: &mut *guard });
        if reset_after {
            guard.power_on();
        }
        result
    }
}
