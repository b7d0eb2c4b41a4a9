//! The start every flow shares: find the local helper, then identify the holder with the HPKI
//! card (server challenge → helper → server). 別紙1 and 別紙2 differ only in what follows.

use mahpki_protocol::{
    ErrorCode,
    api::SessionInfo,
    error::Place,
    helper::{CardType, HelperStatus},
};

use crate::{
    flows::{
        card::{self, CardStage, PinWindow},
        run::{Failure, Ticket},
    },
    helper::HelperClient,
    server,
};

/// The helper the server's configuration names.
pub async fn helper_client() -> Result<HelperClient, ErrorCode> {
    Ok(HelperClient::new(server::client_config().await?.helper_url))
}

/// What the page finds when a flow opens.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// The server could not be asked where the helper is.
    NoServer(ErrorCode),
    /// The helper is not running, not allowed, or too old; where to get it.
    NoHelper(ErrorCode, String),
    /// Helper found; nobody identified in this browser yet.
    Ready(HelperStatus),
    /// Helper found and this browser's session already knows the holder (a reload, or a retry).
    Identified(SessionInfo),
}

pub async fn find() -> Found {
    let config = match server::client_config().await {
        Ok(c) => c,
        Err(e) => return Found::NoServer(e),
    };
    match HelperClient::new(config.helper_url).status().await {
        Err(e) => Found::NoHelper(e, config.helper_download_url),
        Ok(status) => match server::session().await {
            Ok(session) => Found::Identified(session),
            Err(_) => Found::Ready(status),
        },
    }
}

/// HPKI card authentication. `report` gets each card stage, then `Verifying` while the server
/// checks the answer.
pub async fn identify(
    window: &PinWindow,
    ticket: &Ticket,
    report: &dyn Fn(CardStage),
) -> Result<SessionInfo, Failure> {
    report(CardStage::Preparing);
    let helper = helper_client().await?;
    let challenge = server::hpki_challenge().await?;
    let sig =
        card::sign(&helper, CardType::Hpki, challenge.challenge, window, ticket, report).await;
    let sig = sig.map_err(|f| f.at(Place::HpkiCard))?;
    report(CardStage::Verifying);
    server::hpki_finish(&sig).await.map_err(|e| Failure::from(e).at(Place::HpkiCard))
}
