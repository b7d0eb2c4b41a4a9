//! 別紙1: binding the My Number card (its JPKI user-authentication certificate) to the holder
//! identified by the HPKI card in this session.

use axum::{Json, extract::State, http::HeaderMap};
use mahpki_protocol::{
    ErrorCode,
    api::{CardSignature, Challenge, MyNumberBound},
};

use super::{
    ApiError, ApiJson, AppState,
    auth::{audit, binding_view},
    challenge::{self, Purpose},
    client::ClientAddr,
    session,
};
use crate::store::AuditAction;
use crate::store::{BindError, BindOutcome, NewMyNumberBinding};

/// `POST /api/mynumber/challenge`: only for a holder identified in this session.
pub async fn mynumber_challenge(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Challenge>, ApiError> {
    let (s, _) = session::authenticated(&state, &headers).await?;
    Ok(Json(challenge::issue(&state, &s.id_hash, Purpose::Jpki).await?))
}

/// `POST /api/mynumber/finish`.
pub async fn mynumber_finish(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(sig): ApiJson<CardSignature>,
) -> Result<Json<MyNumberBound>, ApiError> {
    let (s, hpki_id) = match session::authenticated(&state, &headers).await {
        Ok(v) => v,
        Err(e) => {
            audit(&state, AuditAction::MyNumberBind, None, client, Some(e.0), None).await;
            return Err(e);
        }
    };
    let result = bind(&state, &s.id_hash, &hpki_id, client.as_deref(), &sig).await;
    if let Err(e) = &result {
        audit(&state, AuditAction::MyNumberBind, Some(hpki_id), client, Some(e.0), None).await;
    }
    result.map(Json)
}

async fn bind(
    state: &AppState,
    session_hash: &[u8],
    hpki_id: &str,
    client: Option<&str>,
    sig: &CardSignature,
) -> Result<MyNumberBound, ApiError> {
    let trust = state.jpki_trust.current();
    let cert = challenge::verify(state, session_hash, Purpose::Jpki, &trust, sig).await?;
    let new = NewMyNumberBinding {
        hpki_id: hpki_id.to_owned(),
        cert_issuer: cert.issuer,
        cert_serial: cert.serial_hex,
        fingerprint: cert.fingerprint,
        not_after_ms: cert.not_after.saturating_mul(1000),
        certificate: cert.der,
    };
    match state.store.bind_mynumber(&new, client).await {
        Ok(BindOutcome::Bound { binding, replaced }) => Ok(MyNumberBound {
            binding: binding_view(&binding),
            replaced: replaced.as_ref().map(binding_view),
        }),
        Ok(BindOutcome::AlreadyBound(binding)) => {
            Ok(MyNumberBound { binding: binding_view(&binding), replaced: None })
        }
        Err(BindError::BoundElsewhere) => Err(ApiError(ErrorCode::MyNumberBoundElsewhere)),
        Err(BindError::Store(e)) => Err(ApiError::internal(e)),
    }
}
