//! The スマートフォン way of the daily sign-in: the holder's bound phone's passkey, asked for
//! without a 本人ID (discoverable: the credential names itself, and so its phone row and holder),
//! with user verification required.
//!
//! On the device itself, the browser that asked for the challenge answers it and is signed in.
//! From a PC, the PC shows a sign-in code (the third purpose of the phone-code lifecycle); the
//! phone that opens it answers the challenge and shows a confirmation code; the PC is signed in
//! only when the holder types that code on it (`phone_code::enter_confirmation`), so a holder
//! phished into opening an attacker's code signs in nobody: the attacker never sees the code.

use mahpki_protocol::{
    HpkiId,
    enrol::{PhoneConfirm, PublicKeyCredential, RequestChallengeResponse},
    passkey::{SignInCodeIssued, SignInCodeOpened, SignInCodeProved},
};
use webauthn_rs::prelude::{Passkey, WebauthnError};

use super::{
    Ctx, ServiceError,
    phone_code::{
        PcTrail, cancel_pc_code, issue_pc_code, new_confirmation_code, notice_key, open_pc_code,
        ttl_ms,
    },
    signin::Proof,
};
use crate::store::{
    AssertionFor, AuditAction, PcPurpose, Purpose, SignInAssertion, SignInCodeProof,
};

/// Why a passkey's answer was refused. Each has its own error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyRefusal {
    #[error("the credential is not a working phone's")]
    Unknown,
    #[error(
        "no challenge is waiting for this browser (none asked for, used, expired, or another's)"
    )]
    ChallengeUnknown,
    #[error("the answer was made for another origin")]
    WrongOrigin,
    #[error("the authenticator did not verify the user")]
    NotVerified,
    #[error("the answer did not verify")]
    Refused,
}

impl PasskeyRefusal {
    pub fn code(self) -> mahpki_protocol::ErrorCode {
        use mahpki_protocol::ErrorCode as C;
        match self {
            Self::Unknown => C::PasskeyUnknown,
            Self::ChallengeUnknown => C::PasskeyChallengeUnknown,
            Self::WrongOrigin => C::PasskeyWrongOrigin,
            Self::NotVerified => C::PasskeyNotVerified,
            Self::Refused => C::PasskeyRefused,
        }
    }

    fn of(e: &WebauthnError) -> Self {
        match e {
            WebauthnError::UserNotVerified => Self::NotVerified,
            WebauthnError::InvalidRPOrigin | WebauthnError::InvalidRPIDHash => Self::WrongOrigin,
            WebauthnError::MismatchedChallenge => Self::ChallengeUnknown,
            WebauthnError::CredentialNotFound => Self::Unknown,
            _ => Self::Refused,
        }
    }
}

/// The `factor=` every sign-in audit row of this way carries.
const FACTOR: &str = "factor=passkey";

/// The PC's sign-in code, the third purpose of the phone-code lifecycle.
const CODE: PcTrail = PcTrail {
    purpose: PcPurpose::SignIn,
    issue: AuditAction::SignInCodeIssue,
    cancel: AuditAction::SignInCodeCancel,
    open: AuditAction::SignInCodeOpen,
    detail: |id| match id {
        Some(id) => Some(format!("{FACTOR} code={id}")),
        None => Some(FACTOR.into()),
    },
};

/// A discoverable assertion's options (no credential named), for a modal prompt: webauthn-rs
/// marks them for autofill (conditional mediation), which needs a username field this page has
/// not got.
fn discoverable(
    ctx: &Ctx<'_>,
) -> Result<(RequestChallengeResponse, SignInAssertion), ServiceError> {
    let webauthn = ctx.webauthn()?;
    let (mut options, state) =
        webauthn.start_discoverable_authentication().map_err(ServiceError::internal)?;
    options.mediation = None;
    Ok((options, SignInAssertion::new(state)?))
}

/// A verified passkey: whose phone, and the proof it gives.
struct Verified {
    hpki_id: HpkiId,
    phone_id: i64,
    backed_up: bool,
    /// The passkey with its counter and backup state moved on, if they moved.
    updated: Option<String>,
}

/// Checks `credential` against `state` and the working phone it names. The refusal says why;
/// `holder` is set once the credential named one (for the audit row).
fn verify(
    ctx: &Ctx<'_>,
    state: &SignInAssertion,
    phone: Option<&crate::store::PhoneRecord>,
    credential: &PublicKeyCredential,
) -> Result<Verified, ServiceError> {
    let webauthn = ctx.webauthn()?;
    let phone = phone.ok_or(PasskeyRefusal::Unknown)?;
    let mut passkey: Passkey =
        serde_json::from_str(&phone.passkey).map_err(ServiceError::internal)?;
    let result = webauthn
        .finish_discoverable_authentication_v2(credential, state.value().clone(), &passkey)
        .map_err(|e| {
            tracing::info!(error = %e, phone = phone.id, "passkey sign-in refused");
            PasskeyRefusal::of(&e)
        })?;
    // webauthn-rs checks it (policy Required); this keeps the rule visible here.
    if !result.user_verified() {
        return Err(PasskeyRefusal::NotVerified.into());
    }
    let updated = passkey
        .update_credential(&result)
        .filter(|changed| *changed)
        .and_then(|_| serde_json::to_string(&passkey).ok());
    Ok(Verified {
        hpki_id: HpkiId::parse(&phone.hpki_id)
            .map_err(|_| ServiceError::internal("stored 本人ID"))?,
        phone_id: phone.id,
        backed_up: result.backup_state(),
        updated,
    })
}

async fn refused(
    ctx: &Ctx<'_>,
    holder: Option<String>,
    client: Option<&str>,
    e: &ServiceError,
    via: &str,
) {
    let detail = Some(format!("{FACTOR} via={via}"));
    ctx.audit(AuditAction::SignIn, holder, client, Some(e.code()), detail).await;
}

// ---- On the device itself ----

/// A discoverable assertion for the browser with page session `session`, replacing the one it
/// asked for before.
pub async fn begin_on_device(
    ctx: &Ctx<'_>,
    session: &[u8],
) -> Result<RequestChallengeResponse, ServiceError> {
    let (options, state) = discoverable(ctx)?;
    ctx.store
        .signin_assertion_put(
            AssertionFor::Browser(session),
            &state,
            ctx.now_ms + ttl_ms(ctx.config),
        )
        .await?;
    Ok(options)
}

/// Verifies the browser's answer to its own challenge: the holder and the proof to begin the
/// signing session with. Every refusal is audited (`signin`, factor=passkey) and begins nothing.
pub async fn finish_on_device(
    ctx: &Ctx<'_>,
    session: &[u8],
    credential: &PublicKeyCredential,
    client: Option<&str>,
) -> Result<(HpkiId, Proof), ServiceError> {
    let mut holder = None;
    match finish_on_device_inner(ctx, session, credential, client, &mut holder).await {
        Ok(v) => Ok(v),
        Err(e) => {
            refused(ctx, holder, client, &e, "device").await;
            Err(e)
        }
    }
}

async fn finish_on_device_inner(
    ctx: &Ctx<'_>,
    session: &[u8],
    credential: &PublicKeyCredential,
    client: Option<&str>,
    holder: &mut Option<String>,
) -> Result<(HpkiId, Proof), ServiceError> {
    // Taken first: whatever follows, this challenge is never answered again.
    let state = ctx.store.signin_assertion_take(AssertionFor::Browser(session), ctx.now_ms).await?;
    let state = state.ok_or(PasskeyRefusal::ChallengeUnknown)?;
    let phone = ctx.store.phone_by_credential(credential.get_credential_id()).await?;
    *holder = phone.as_ref().map(|p| p.hpki_id.clone());
    let v = verify(ctx, &state, phone.as_ref(), credential)?;
    ctx.require_standing(v.hpki_id.as_str(), AuditAction::SignIn, client).await?;
    if let Some(updated) = &v.updated {
        ctx.store.phone_passkey_update(v.phone_id, updated).await?;
    }
    Ok((v.hpki_id, Proof::Passkey { phone: v.phone_id, backed_up: v.backed_up }))
}

// ---- From a PC: the code ----

/// A new sign-in code for the PC session `pc`, cancelling its live one.
pub async fn issue_code(
    ctx: &Ctx<'_>,
    pc: &[u8],
    client: Option<&str>,
) -> Result<SignInCodeIssued, ServiceError> {
    let (url, expires_in_secs) = issue_pc_code(ctx, &CODE, pc, client).await?;
    Ok(SignInCodeIssued { url: url.to_string(), expires_in_secs })
}

/// 中止 on the PC: its live code stops working; a phone part way through cannot finish.
pub async fn cancel_code(
    ctx: &Ctx<'_>,
    pc: &[u8],
    client: Option<&str>,
) -> Result<(), ServiceError> {
    cancel_pc_code(ctx, &CODE, pc, client).await
}

// ---- From a PC: the phone ----

/// The phone with cookie hash `phone` presents a sign-in code's token: the first to do so owns
/// it.
pub async fn open_code(
    ctx: &Ctx<'_>,
    token: &str,
    phone: &[u8],
    client: Option<&str>,
) -> Result<SignInCodeOpened, ServiceError> {
    let expires_in_secs = open_pc_code(ctx, &CODE, token, phone, client).await?;
    Ok(SignInCodeOpened { expires_in_secs })
}

/// A discoverable assertion for the phone that owns a live code.
pub async fn begin_code(
    ctx: &Ctx<'_>,
    phone: &[u8],
) -> Result<RequestChallengeResponse, ServiceError> {
    let c = ctx.store.pc_code_of_phone(PcPurpose::SignIn, phone, ctx.now_ms).await?;
    let (options, state) = discoverable(ctx)?;
    ctx.store.signin_assertion_put(AssertionFor::Code(c.id), &state, c.expires_ms).await?;
    Ok(options)
}

/// Verifies the phone's answer and starts the confirmation it shows. The PC is signed in only
/// when the holder types that code on it. Refusals are audited (`signin`, factor=passkey).
pub async fn finish_code(
    ctx: &Ctx<'_>,
    phone: &[u8],
    credential: &PublicKeyCredential,
    client: Option<&str>,
) -> Result<SignInCodeProved, ServiceError> {
    let mut holder = None;
    match finish_code_inner(ctx, phone, credential, client, &mut holder).await {
        Ok((id, code)) => {
            ctx.events.publish(&notice_key(Purpose::SignIn, id, "")).await;
            Ok(SignInCodeProved { confirm: PhoneConfirm::Show { code: code.to_string() } })
        }
        Err(e) => {
            refused(ctx, holder, client, &e, "phone").await;
            Err(e)
        }
    }
}

async fn finish_code_inner(
    ctx: &Ctx<'_>,
    phone: &[u8],
    credential: &PublicKeyCredential,
    client: Option<&str>,
    holder: &mut Option<String>,
) -> Result<(i64, zeroize::Zeroizing<String>), ServiceError> {
    let now = ctx.now_ms;
    let c = ctx.store.pc_code_of_phone(PcPurpose::SignIn, phone, now).await?;
    let state = ctx.store.signin_assertion_take(AssertionFor::Code(c.id), now).await?;
    let state = state.ok_or(PasskeyRefusal::ChallengeUnknown)?;
    let bound = ctx.store.phone_by_credential(credential.get_credential_id()).await?;
    *holder = bound.as_ref().map(|p| p.hpki_id.clone());
    let v = verify(ctx, &state, bound.as_ref(), credential)?;
    ctx.require_standing(v.hpki_id.as_str(), AuditAction::SignIn, client).await?;
    let (code, code_hash) = new_confirmation_code();
    ctx.store
        .signin_code_prove(
            &SignInCodeProof {
                code_id: c.id,
                phone_session_hash: phone,
                hpki_id: v.hpki_id.as_str(),
                phone_id: v.phone_id,
                backed_up: v.backed_up,
                updated_passkey: v.updated.as_deref(),
                confirm_code_hash: &code_hash,
                confirm_expires_ms: now + ttl_ms(ctx.config),
                now_ms: now,
            },
            client,
        )
        .await?;
    Ok((c.id, code))
}
