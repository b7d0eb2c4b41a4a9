//! PC/SC (pcsclite / WinSCard) readers. Connections are shared, and each driver sequence runs
//! inside one PC/SC transaction so another program cannot slip a command between VERIFY and the
//! signature.

use std::{ffi::CString, time::Duration};

use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

use crate::{
    card::backend::{ApduCard, ApduSession, CardBackend, CardSession},
    card::transport::{Transport, TransportError},
    error::CardError,
};

pub struct PcscBackend {
    /// Re-established when the service restarts (pcscd exits when idle on some systems).
    ctx: std::sync::Mutex<Option<Context>>,
}

impl Default for PcscBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl PcscBackend {
    pub fn new() -> Self {
        Self { ctx: std::sync::Mutex::new(None) }
    }

    fn context(&self) -> Result<Context, CardError> {
        let mut guard = self.ctx.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(ctx) = guard.as_ref()
            && ctx.is_valid().is_ok()
        {
            return Ok(ctx.clone());
        }
        let ctx = Context::establish(Scope::User).map_err(map_err)?;
        *guard = Some(ctx.clone());
        Ok(ctx)
    }
}

/// PC/SC errors as card errors: a missing service is the same to the holder as no reader.
fn map_err(e: pcsc::Error) -> CardError {
    use pcsc::Error as E;
    match e {
        E::NoService | E::ServiceStopped | E::NoReadersAvailable | E::UnknownReader => {
            CardError::NoReader
        }
        E::NoSmartcard => CardError::NoCard,
        E::RemovedCard | E::ResetCard => CardError::Removed,
        E::UnsupportedCard | E::UnpoweredCard | E::UnresponsiveCard => CardError::Unsupported,
        other => CardError::Communication(other.to_string()),
    }
}

impl CardBackend for PcscBackend {
    fn readers(&self) -> Result<Vec<String>, CardError> {
        let ctx = match self.context() {
            Ok(c) => c,
            Err(CardError::NoReader) => return Ok(vec![]),
            Err(e) => return Err(e),
        };
        match ctx.list_readers_owned() {
            Ok(names) => Ok(names.into_iter().map(|n| n.to_string_lossy().into_owned()).collect()),
            Err(pcsc::Error::NoReadersAvailable) => Ok(vec![]),
            Err(e) => Err(map_err(e)),
        }
    }

    fn connect(&self, reader: &str) -> Result<Box<dyn CardSession>, CardError> {
        let ctx = self.context()?;
        let name = CString::new(reader).map_err(|_| CardError::NoReader)?;
        let card = ctx.connect(&name, ShareMode::Shared, Protocols::ANY).map_err(map_err)?;
        Ok(Box::new(ApduSession(PcscCard(Some(card)))))
    }

    fn wait_for_change(&self, timeout: Duration) {
        let Ok(ctx) = self.context() else {
            std::thread::sleep(timeout);
            return;
        };
        // The PnP pseudo-reader reports readers coming and going; each reader, cards.
        let mut states = vec![ReaderState::new(pcsc::PNP_NOTIFICATION(), State::UNAWARE)];
        if let Ok(names) = ctx.list_readers_owned() {
            states.extend(names.into_iter().map(|n| ReaderState::new(n, State::UNAWARE)));
        }
        // First call learns the current state, the second waits for a change from it.
        if ctx.get_status_change(Duration::ZERO, &mut states).is_err() {
            std::thread::sleep(timeout);
            return;
        }
        for s in &mut states {
            s.sync_current_state();
        }
        match ctx.get_status_change(timeout, &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            // No PnP support or service gone: poll instead.
            Err(_) => std::thread::sleep(timeout),
        }
    }
}

/// A connected card. Dropped with `LeaveCard`: the pcsc crate's own drop resets the card, and a
/// reset from a status look (`/v1/status`, card detection) would break another handle's
/// operation in flight. Only a finished signature resets, at the end of its transaction.
struct PcscCard(Option<pcsc::Card>);

impl PcscCard {
    fn card(&mut self) -> &mut pcsc::Card {
        self.0.as_mut().expect("present until drop")
    }
}

impl Drop for PcscCard {
    fn drop(&mut self) {
        if let Some(card) = self.0.take()
            && let Err((_, e)) = card.disconnect(Disposition::LeaveCard)
        {
            tracing::debug!(error = %e, "card disconnect");
        }
    }
}

/// A transaction's card handle as a [`Transport`], with a receive buffer large enough for
/// extended APDUs.
struct PcscTransport<'a>(&'a pcsc::Card);

impl Transport for PcscTransport<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        match self.0.transmit(apdu, &mut buf) {
            Ok(resp) => Ok(resp.to_vec()),
            Err(pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard) => {
                Err(TransportError::Removed)
            }
            Err(pcsc::Error::ResetCard) => Err(TransportError::Reset),
            Err(e) => Err(TransportError::Io(e.to_string())),
        }
    }
}

impl ApduCard for PcscCard {
    fn present(&mut self) -> bool {
        // SCardStatus fails with RemovedCard/ResetCard once the card is gone.
        self.card().status2_owned().is_ok_and(|s| s.status().contains(pcsc::Status::PRESENT))
    }

    fn with_exclusive(
        &mut self,
        reset_after: bool,
        f: &mut dyn FnMut(&mut dyn Transport) -> Result<(), CardError>,
    ) -> Result<(), CardError> {
        let tx = self.card().transaction().map_err(map_err)?;
        let result = f(&mut PcscTransport(&tx));
        // After a signature, reset so the verified PIN is not left open to other programs;
        // otherwise leave the card as it is. Failures to end count only if the sequence itself
        // succeeded.
        let disposition = if reset_after { Disposition::ResetCard } else { Disposition::LeaveCard };
        let ended = tx.end(disposition).map_err(|(_, e)| e);
        if reset_after && ended.is_ok() {
            // pcsc-lite marks every handle after a reset, ours included: reconnect, so the next
            // try after a wrong PIN (same handle, card still in) is not taken for a removal.
            if let Err(e) =
                self.card().reconnect(ShareMode::Shared, Protocols::ANY, Disposition::LeaveCard)
            {
                tracing::debug!(error = %e, "reconnect after reset");
            }
        }
        match (result, ended) {
            (Err(e), _) => Err(e),
            (Ok(()), Err(e)) => Err(map_err(e)),
            (Ok(()), Ok(())) => Ok(()),
        }
    }
}
