//! The JMA path: a holder whose CA allows it proves who they are with the 医籍登録番号 and the
//! カードID printed on the HPKI card, instead of the card. It is a weaker proof, so it is rate
//! limited (the card endpoints' limiter), locked for the holder after five failures (audited),
//! and grants the session only what it is for: enrolling that holder's phone.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use mahpki_protocol::{ErrorCode, api::Ca, enrol::JmaLogin};

use super::{ApiError, ApiJson, AppState, auth::audit, client::ClientAddr, session};
use crate::store::{GrantVia, JmaFailure};

/// `POST /api/jma/login`.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<JmaLogin>,
) -> Result<Response, ApiError> {
    let https = state.config.is_https();
    let (session_hash, new_cookie) = match session::current(&state, &headers).await {
        Ok(s) => (s.id_hash, None),
        Err(_) => {
            let (id, hash) = session::new_id();
            let now = state.clock.now_ms();
            state.store.session_insert(&hash, now).await.map_err(ApiError::internal)?;
            (hash, Some(session::set_cookie(https, &id)))
        }
    };
    let candidates: Vec<(String, String)> = state
        .store
        .identities_by_registration_number(req.registration_number.trim())
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .filter(|(_, _, ca)| Ca::parse(ca).is_some_and(|ca| state.config.policy(ca).jma_path))
        .map(|(hpki_id, card_id, _)| (hpki_id, card_id))
        .collect();
    // Unknown number and CA without the JMA path answer alike: nothing to learn from probing.
    if candidates.is_empty() {
        audit(&state, "jma.auth", None, client, Some(ErrorCode::JmaLoginFailed), None).await;
        return Err(ApiError(ErrorCode::JmaLoginFailed));
    }
    for (hpki_id, _) in &candidates {
        if state.store.jma_locked(hpki_id).await.map_err(ApiError::internal)? {
            let code = ErrorCode::JmaLocked;
            audit(&state, "jma.auth", Some(hpki_id.clone()), client, Some(code), None).await;
            return Err(ApiError(code));
        }
    }
    let given = req.card_id.trim();
    let matched = candidates.iter().find(|(_, card_id)| same(card_id.as_bytes(), given.as_bytes()));
    let Some((hpki_id, _)) = matched else {
        let now = state.clock.now_ms();
        let mut code = ErrorCode::JmaLoginFailed;
        for (hpki_id, _) in &candidates {
            let failure = state
                .store
                .jma_fail(hpki_id, now, client.as_deref())
                .await
                .map_err(ApiError::internal)?;
            if failure == JmaFailure::LockedNow {
                code = ErrorCode::JmaLocked;
            }
            audit(&state, "jma.auth", Some(hpki_id.clone()), client.clone(), Some(code), None)
                .await;
        }
        return Err(ApiError(code));
    };
    let identity = state
        .store
        .identity_get(hpki_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal("holder vanished during JMA login"))?;
    crate::standing::require(&state, hpki_id, "jma.auth", client.as_deref()).await?;
    state.store.jma_succeed(hpki_id).await.map_err(ApiError::internal)?;
    let expires = state.clock.now_ms() + session::IDLE_MS;
    state
        .store
        .grant_put(&session_hash, hpki_id, GrantVia::Jma, expires)
        .await
        .map_err(ApiError::internal)?;
    audit(&state, "jma.auth", Some(hpki_id.clone()), client, None, None).await;
    let mut res = Json(identity.holder).into_response();
    if let Some(cookie) = new_cookie {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(res)
}

/// Equality whose time does not depend on where the inputs first differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
