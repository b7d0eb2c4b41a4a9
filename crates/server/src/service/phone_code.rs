//! The phone-code lifecycle, written once for its three purposes: 別紙2's enrolment code (a PC's
//! 2D code, or a CA's link) that binds a phone, スマートフォン変更's first code that the bound
//! phone answers to prove the holder to a PC without the HPKI card, and the PC's sign-in code
//! (its passkey ceremony is `passkey_signin.rs`). Each is issued, taken by the first phone to
//! present the token (which then gets its own cookie), confirmed by the short code that phone
//! shows and the holder types on the PC (a CA's link has no PC), watched by the PC and the
//! phone over SSE, and ends used up, expired or cancelled. What differs is the WebAuthn
//! ceremony the phone performs: a registration (enrol), an assertion naming the 本人ID (change)
//! or a discoverable one (sign-in). The change and sign-in codes, which a PC session holds
//! before anyone knows the holder, share their issue, 中止, opening and watching here
//! ([`PcTrail`] says what each writes in the audit trail).

use std::{sync::Arc, time::Duration};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use mahpki_protocol::{
    HpkiId,
    api::Holder,
    enrol::{
        CHANGE_PATH, ChangeIssued, ChangeOpened, ChangeProved, CodeEvent, ENROL_PATH,
        EnrolmentIssued, EnrolmentOpened, LABEL_MAX_CHARS, PhoneBound, PhoneConfirm,
        PhoneConfirmEvent, PhoneCredential, PublicKeyCredential, RegisterPublicKeyCredential,
    },
    passkey::SIGNIN_PHONE_PATH,
};
use sha2::{Digest as _, Sha256};
use webauthn_rs::prelude::{
    AuthenticatorAttachment, CreationChallengeResponse, Passkey, RequestChallengeResponse, Url,
    Uuid, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::{
    AllowCredentials, AuthenticatorTransport, PublicKeyCredentialHints, ResidentKeyRequirement,
};
use zeroize::Zeroizing;

use super::{Ctx, ServiceError, signin::Proof};
use crate::{
    Config,
    store::{
        Assertion, AuditAction, CONFIRM_TRIES, CodeState, ConfirmState, Confirmation, EnrolError,
        EnrolmentKind, EnrolmentRecord, Entered, GrantVia, NewConfirmation, NewEnrolment, NewPhone,
        PcCode, PcPurpose, PhoneCode as _, PhoneRecord, ProofBegin, ProvedBy, Purpose,
        Registration, Rotation, SessionRecord, StoreError,
    },
};

/// The WebAuthn relying party of `public_origin`: its host is the RP id. `None` when the origin
/// has no domain name (an IP address cannot be a WebAuthn RP id).
pub fn relying_party(public_origin: &str) -> Option<Arc<Webauthn>> {
    let origin = Url::parse(public_origin).ok()?;
    let rp_id = origin.domain()?.to_owned();
    match WebauthnBuilder::new(&rp_id, &origin)
        .and_then(|b| b.rp_name("mahpki").timeout(Duration::from_secs(300)).build())
    {
        Ok(w) => Some(Arc::new(w)),
        Err(e) => {
            tracing::warn!(error = %e, %public_origin, "smartphone enrolment unavailable");
            None
        }
    }
}

// ---- The code itself ----

/// How long a PC's code (and the phone's turn after opening it) lives.
pub(crate) fn ttl_ms(config: &Config) -> i64 {
    i64::from(config.enrolment_ttl_secs) * 1000
}

pub(crate) fn secs_left(expires_ms: i64, now: i64) -> u32 {
    u32::try_from((expires_ms - now).max(0) / 1000).unwrap_or(u32::MAX)
}

pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new token (256 random bits, base64url) and the hash the store keeps.
pub(crate) fn new_token() -> (Zeroizing<String>, Vec<u8>) {
    let raw = Zeroizing::new(crate::random::bytes::<32>());
    let token = Zeroizing::new(URL_SAFE_NO_PAD.encode(*raw));
    let hash = token_hash(&token);
    (token, hash)
}

/// The page a phone opens for a code of `purpose`, the token in its fragment.
pub(crate) fn code_url(config: &Config, purpose: Purpose, token: &str) -> Zeroizing<String> {
    let path = match purpose {
        Purpose::Enrolment => ENROL_PATH,
        Purpose::Change => CHANGE_PATH,
        Purpose::SignIn => SIGNIN_PHONE_PATH,
    };
    Zeroizing::new(format!("{}{path}#{token}", config.public_origin))
}

/// A token of any other shape was never issued: refused without a database round trip.
pub(crate) fn well_formed(token: &str) -> bool {
    token.len() == 43 && URL_SAFE_NO_PAD.decode(token).is_ok()
}

/// The notice key a code's watchers listen on: an enrolment's holder (the PC knows them), a
/// first code's or a sign-in code's id (its PC watches before anyone knows the holder).
pub fn notice_key(purpose: Purpose, id: i64, hpki_id: &str) -> String {
    match purpose {
        Purpose::Enrolment => hpki_id.to_owned(),
        Purpose::Change => format!("proof:{id}"),
        Purpose::SignIn => format!("signin:{id}"),
    }
}

fn stored_id(s: &str) -> Result<HpkiId, ServiceError> {
    HpkiId::parse(s).map_err(|_| ServiceError::internal("stored 本人ID"))
}

// ---- Who the PC enrols for ----

/// The holder a PC session may enrol a phone for, and how it proved them (`None`: the HPKI
/// card).
#[derive(Debug, Clone)]
pub struct Enroller {
    pub hpki_id: HpkiId,
    pub via: Option<GrantVia>,
    pub session_hash: Vec<u8>,
}

/// The one it logged in with the HPKI card, else the one it proved another way (JMA path, or
/// the bound phone in a change).
pub async fn enroller(ctx: &Ctx<'_>, s: &SessionRecord) -> Result<Enroller, ServiceError> {
    let (hpki_id, via) = match &s.hpki_id {
        Some(h) => (h.clone(), None),
        None => match ctx.store.grant_get(&s.id_hash, ctx.now_ms).await? {
            Some((h, via)) => (h, Some(via)),
            None => return Err(ServiceError::Unauthenticated),
        },
    };
    Ok(Enroller { hpki_id: stored_id(&hpki_id)?, via, session_hash: s.id_hash.clone() })
}

/// Whose phone this PC session may enrol (for the screens that did not read the card).
pub async fn holder(ctx: &Ctx<'_>, who: &Enroller) -> Result<Holder, ServiceError> {
    let identity = ctx.store.identity_get(who.hpki_id.as_str()).await?;
    Ok(identity.ok_or(ServiceError::Unauthenticated)?.holder)
}

async fn policy_of(ctx: &Ctx<'_>, hpki_id: &str) -> Result<crate::config::CaPolicy, ServiceError> {
    let identity = ctx.store.identity_get(hpki_id).await?;
    let identity = identity.ok_or(ServiceError::HolderUnknown)?;
    Ok(ctx.config.policy(identity.holder.ca))
}

// ---- PC: issue and cancel ----

/// A new enrolment code for the PC, cancelling the holder's live one.
pub async fn issue_enrolment(
    ctx: &Ctx<'_>,
    who: &Enroller,
    replace: bool,
    client: Option<&str>,
) -> Result<EnrolmentIssued, ServiceError> {
    let hpki_id = who.hpki_id.as_str();
    ctx.require_standing(hpki_id, AuditAction::PhoneEnrolmentIssue, client).await?;
    ctx.webauthn()?;
    let (token, token_hash) = new_token();
    let now = ctx.now_ms;
    let policy = policy_of(ctx, hpki_id).await?;
    let new = NewEnrolment {
        hpki_id: hpki_id.to_owned(),
        token_hash,
        kind: EnrolmentKind::Pc,
        pc_session_hash: Some(who.session_hash.clone()),
        replace,
        // The JMA path's numbers are printed on the card: they may enrol a first phone, never
        // take over a bound one, unless the CA chose to allow it.
        first_phone_only: who.via == Some(GrantVia::Jma) && !policy.jma_replace,
        policy,
        now_ms: now,
        expires_ms: now + ttl_ms(ctx.config),
    };
    match ctx.store.enrolment_issue(&new, client).await {
        Ok(issued) => {
            if !issued.cancelled.is_empty() {
                tracing::info!(%hpki_id, cancelled = ?issued.cancelled, "earlier enrolments cancelled");
            }
            ctx.events.publish(hpki_id).await;
            Ok(EnrolmentIssued {
                url: code_url(ctx.config, Purpose::Enrolment, &token).to_string(),
                expires_in_secs: secs_left(issued.enrolment.expires_ms, now),
                replace: issued.enrolment.replace,
            })
        }
        Err(e) => {
            let e = ServiceError::from(e);
            let holder = Some(hpki_id.to_owned());
            ctx.audit(AuditAction::PhoneEnrolmentIssue, holder, client, Some(e.code()), None).await;
            Err(e)
        }
    }
}

/// 中止 on the PC: the holder's live PC code stops working at once, and a phone that opened it
/// cannot finish. The phone bound now is untouched.
pub async fn cancel_enrolment(
    ctx: &Ctx<'_>,
    who: &Enroller,
    client: Option<&str>,
) -> Result<(), ServiceError> {
    let hpki_id = who.hpki_id.as_str();
    if ctx.store.enrolment_cancel(hpki_id, ctx.now_ms).await? {
        ctx.events.publish(hpki_id).await;
        let holder = Some(hpki_id.to_owned());
        ctx.audit(AuditAction::PhoneEnrolmentCancel, holder, client, None, None).await;
    }
    Ok(())
}

/// How a change or sign-in code's steps are written in the audit trail.
pub(crate) struct PcTrail {
    pub purpose: PcPurpose,
    pub issue: AuditAction,
    pub cancel: AuditAction,
    pub open: AuditAction,
    /// The detail of a row about code `id` (`None`: a refusal before any code was found).
    pub detail: fn(Option<i64>) -> Option<String>,
}

/// スマートフォン変更's first code. The holder is not known yet: the trail names the proof, and
/// its commit names the holder.
const CHANGE: PcTrail = PcTrail {
    purpose: PcPurpose::Change,
    issue: AuditAction::PhoneChangeIssue,
    cancel: AuditAction::PhoneChangeCancel,
    open: AuditAction::PhoneChangeOpen,
    detail: |id| id.map(|id| format!("proof={id}")),
};

/// A new code for the PC session `pc`, cancelling its live one: the URL its 2D code carries and
/// how long it lives.
pub(crate) async fn issue_pc_code(
    ctx: &Ctx<'_>,
    t: &PcTrail,
    pc: &[u8],
    client: Option<&str>,
) -> Result<(Zeroizing<String>, u32), ServiceError> {
    ctx.webauthn()?;
    let (token, hash) = new_token();
    let now = ctx.now_ms;
    let expires = now + ttl_ms(ctx.config);
    let (code, cancelled) = ctx.store.pc_code_issue(t.purpose, &hash, pc, now, expires).await?;
    for id in cancelled {
        ctx.events.publish(&notice_key(t.purpose.into(), id, "")).await;
    }
    ctx.audit(t.issue, None, client, None, (t.detail)(Some(code.id))).await;
    Ok((code_url(ctx.config, t.purpose.into(), &token), secs_left(code.expires_ms, now)))
}

/// 中止 on the PC: its live code stops working, and a phone part way through cannot prove with
/// it or be confirmed.
pub(crate) async fn cancel_pc_code(
    ctx: &Ctx<'_>,
    t: &PcTrail,
    pc: &[u8],
    client: Option<&str>,
) -> Result<(), ServiceError> {
    for id in ctx.store.pc_code_cancel(t.purpose, pc, ctx.now_ms).await? {
        ctx.events.publish(&notice_key(t.purpose.into(), id, "")).await;
        ctx.audit(t.cancel, None, client, None, (t.detail)(Some(id))).await;
    }
    Ok(())
}

/// The phone with cookie hash `phone` presents a code's token: the first to do so owns it. How
/// long it has left.
pub(crate) async fn open_pc_code(
    ctx: &Ctx<'_>,
    t: &PcTrail,
    token: &str,
    phone: &[u8],
    client: Option<&str>,
) -> Result<u32, ServiceError> {
    let taken = if well_formed(token) {
        ctx.store
            .pc_code_open(t.purpose, &token_hash(token), phone, ctx.now_ms)
            .await
            .map_err(ServiceError::from)
    } else {
        Err(ServiceError::from(EnrolError::Unknown))
    };
    let c = match taken {
        Ok(c) => c,
        Err(e) => {
            ctx.audit(t.open, None, client, Some(e.code()), (t.detail)(None)).await;
            return Err(e);
        }
    };
    ctx.events.publish(&notice_key(t.purpose.into(), c.id, "")).await;
    ctx.audit(t.open, None, client, None, (t.detail)(Some(c.id))).await;
    Ok(secs_left(c.expires_ms, ctx.now_ms))
}

/// The PC's code of `purpose` to watch: the session's newest.
pub(crate) async fn watch_pc_code(
    ctx: &Ctx<'_>,
    purpose: PcPurpose,
    pc: &[u8],
) -> Result<(Watched, String), ServiceError> {
    let c = ctx.store.pc_code_latest(purpose, pc).await?.ok_or(EnrolError::Unknown)?;
    Ok((Watched::Code(purpose.into(), c.id), notice_key(purpose.into(), c.id, "")))
}

/// A new first code of スマートフォン変更 for the PC session `pc`, cancelling its live one.
pub async fn issue_change(
    ctx: &Ctx<'_>,
    pc: &[u8],
    client: Option<&str>,
) -> Result<ChangeIssued, ServiceError> {
    let (url, expires_in_secs) = issue_pc_code(ctx, &CHANGE, pc, client).await?;
    Ok(ChangeIssued { url: url.to_string(), expires_in_secs })
}

/// 中止 on the PC of a change: its live first code stops working, and an old phone part way
/// through cannot prove with it.
pub async fn cancel_change(
    ctx: &Ctx<'_>,
    pc: &[u8],
    client: Option<&str>,
) -> Result<(), ServiceError> {
    cancel_pc_code(ctx, &CHANGE, pc, client).await
}

// ---- Phone: open ----

/// The phone with cookie hash `phone` presents an enrolment token: the first phone to do so
/// owns it; it then shows the confirmation code for the PC (none for a CA's link).
pub async fn open_enrolment(
    ctx: &Ctx<'_>,
    token: &str,
    phone: &[u8],
    client: Option<&str>,
) -> Result<EnrolmentOpened, ServiceError> {
    let action = AuditAction::PhoneEnrolmentOpen;
    let now = ctx.now_ms;
    let hash = token_hash(token);
    let taken = if well_formed(token) {
        ctx.store
            .enrolment_open(&hash, phone, now, now + ttl_ms(ctx.config))
            .await
            .map_err(ServiceError::from)
    } else {
        Err(EnrolError::Unknown.into())
    };
    let e = match taken {
        Ok(e) => e,
        Err(err) => {
            // A refused phone goes into the holder's own trail (someone else scanned their code).
            let holder = match err.code() {
                mahpki_protocol::ErrorCode::EnrolmentUnknown
                | mahpki_protocol::ErrorCode::Internal => None,
                _ => ctx.store.enrolment_holder_of_token(&hash).await.ok().flatten(),
            };
            ctx.audit(action, holder, client, Some(err.code()), None).await;
            return Err(err);
        }
    };
    ctx.require_standing(&e.hpki_id, action, client).await?;
    let confirm = match start_confirmation(ctx, &e, phone).await {
        Ok(c) => c,
        Err(err) => {
            ctx.audit(action, Some(e.hpki_id.clone()), client, Some(err.code()), None).await;
            return Err(err);
        }
    };
    ctx.events.publish(&e.hpki_id).await;
    let detail = Some(format!("enrolment={}", e.id));
    ctx.audit(action, Some(e.hpki_id.clone()), client, None, detail).await;
    Ok(EnrolmentOpened {
        hpki_id: stored_id(&e.hpki_id)?,
        expires_in_secs: secs_left(e.expires_ms, now),
        replace: e.replace,
        confirm,
    })
}

/// The confirmation the phone that opened `e` shows: a new code for a PC's enrolment (the same
/// phone reopening gets a new one, its tries left unchanged), nothing for a CA's link.
async fn start_confirmation(
    ctx: &Ctx<'_>,
    e: &EnrolmentRecord,
    phone: &[u8],
) -> Result<PhoneConfirm, ServiceError> {
    if e.kind == EnrolmentKind::Link {
        return Ok(PhoneConfirm::NotNeeded);
    }
    // Issued before the PC's session was recorded (an upgrade mid-enrolment): nobody can
    // confirm it, so it cannot be used.
    let pc = e.pc_session_hash.as_deref().ok_or(EnrolError::Cancelled)?;
    let (code, code_hash) = new_confirmation_code();
    let new = NewConfirmation {
        purpose: Purpose::Enrolment,
        subject_id: e.id,
        pc_session_hash: pc,
        phone_session_hash: phone,
        code_hash: &code_hash,
        now_ms: ctx.now_ms,
        expires_ms: e.expires_ms,
    };
    match ctx.store.confirmation_start(&new).await? {
        ConfirmState::Pending => Ok(PhoneConfirm::Show { code: code.to_string() }),
        ConfirmState::Confirmed => Ok(PhoneConfirm::Done),
        ConfirmState::Failed => Err(EnrolError::ConfirmationFailed.into()),
    }
}

/// The old phone presents a first code's token: the first phone to do so owns it.
pub async fn open_change(
    ctx: &Ctx<'_>,
    token: &str,
    phone: &[u8],
    client: Option<&str>,
) -> Result<ChangeOpened, ServiceError> {
    let expires_in_secs = open_pc_code(ctx, &CHANGE, token, phone, client).await?;
    Ok(ChangeOpened { expires_in_secs })
}

// ---- Phone: the WebAuthn ceremony (enrol: registration) ----

/// Whether the phone may register with `e` now: a PC's code only once the PC confirmed.
async fn confirmed(ctx: &Ctx<'_>, e: &EnrolmentRecord) -> Result<(), ServiceError> {
    if e.kind == EnrolmentKind::Link {
        return Ok(());
    }
    match ctx.store.confirmation_of_subject(Purpose::Enrolment, e.id).await?.map(|c| c.state) {
        Some(ConfirmState::Confirmed) => Ok(()),
        Some(ConfirmState::Failed) => Err(EnrolError::ConfirmationFailed.into()),
        _ => Err(EnrolError::ConfirmationPending.into()),
    }
}

/// Creation options for a platform authenticator with user verification required. The
/// ceremony state stays on the server (any node can finish it).
pub async fn begin_registration(
    ctx: &Ctx<'_>,
    phone: &[u8],
) -> Result<CreationChallengeResponse, ServiceError> {
    let webauthn = ctx.webauthn()?;
    let e = ctx.store.enrolment_of_phone(phone, ctx.now_ms).await?;
    // The WebAuthn prompt comes only after the PC confirmed: the 登録 button the holder presses
    // then is the user gesture the phone's browser needs, and no credential is ever created on
    // a phone that cannot finish (simpler and safer than registering first and committing later).
    confirmed(ctx, &e).await?;
    let display = match ctx.store.identity_get(&e.hpki_id).await? {
        Some(identity) => identity.holder.name_kanji,
        None => e.hpki_id.clone(),
    };
    // A fresh user handle per enrolment: a phone that already holds this holder's old passkey
    // keeps it beside the new one instead of overwriting it, so an abort leaves it working.
    let (mut options, registration) = webauthn
        .start_passkey_registration(Uuid::new_v4(), &e.hpki_id, &display, None)
        .map_err(ServiceError::internal)?;
    let pk = &mut options.public_key;
    if let Some(sel) = pk.authenticator_selection.as_mut() {
        // The phone itself (its biometrics), not a roaming security key.
        sel.authenticator_attachment = Some(AuthenticatorAttachment::Platform);
        // Discoverable, so the daily sign-in needs no 本人ID (service::passkey_signin).
        // webauthn-rs's passkey registration asks for `discouraged` and does not check it at
        // finish (its state's `require_resident_key` is never compared), so asking for more
        // here keeps its state valid; user verification stays required by it.
        sel.resident_key = Some(ResidentKeyRequirement::Required);
        sel.require_resident_key = true;
    }
    pk.hints = Some(vec![PublicKeyCredentialHints::ClientDevice]);
    ctx.store.ceremony_put(e.id, &Registration::new(registration)?, e.expires_ms).await?;
    Ok(options)
}

/// Verifies the new credential and commits it (replacing the old phone when the enrolment says
/// so) in one transaction. Audited either way.
pub async fn finish_registration(
    ctx: &Ctx<'_>,
    phone: &[u8],
    credential: &RegisterPublicKeyCredential,
    label: &str,
    client: Option<&str>,
) -> Result<PhoneBound, ServiceError> {
    let mut holder = None;
    match finish_registration_inner(ctx, phone, credential, label, client, &mut holder).await {
        Ok(bound) => {
            ctx.events.publish(&bound.hpki_id).await;
            Ok(PhoneBound {
                phone: phone_view(&bound.phone),
                replaced: bound.replaced.as_ref().map(phone_view),
            })
        }
        Err(e) => {
            ctx.audit(AuditAction::PhoneBind, holder, client, Some(e.code()), None).await;
            Err(e)
        }
    }
}

async fn finish_registration_inner(
    ctx: &Ctx<'_>,
    phone: &[u8],
    credential: &RegisterPublicKeyCredential,
    label: &str,
    client: Option<&str>,
    holder: &mut Option<String>,
) -> Result<crate::store::PhoneBinding, ServiceError> {
    let webauthn = ctx.webauthn()?;
    let now = ctx.now_ms;
    let e = ctx.store.enrolment_of_phone(phone, now).await?;
    *holder = Some(e.hpki_id.clone());
    ctx.require_standing(&e.hpki_id, AuditAction::PhoneBind, client).await?;
    let label = valid_label(label).ok_or(ServiceError::LabelInvalid)?;
    let policy = policy_of(ctx, &e.hpki_id).await?;
    // Early and typed; the commit checks it again in its transaction.
    confirmed(ctx, &e).await?;
    let Some(ceremony) = ctx.store.ceremony_get(e.id, now).await? else {
        // Gone with the enrolment (中止, a newer code, expiry): say that, not "begin again".
        ctx.store.enrolment_of_phone(phone, now).await?;
        return Err(ServiceError::WebauthnRefused);
    };
    let passkey = match webauthn.finish_passkey_registration(credential, ceremony.value()) {
        Ok(p) => p,
        Err(err) => {
            tracing::info!(error = %err, enrolment = e.id, "WebAuthn registration refused");
            // A challenge is answered once, right or wrong: the phone begins again.
            if let Err(err) = ctx.store.ceremony_discard(e.id, &ceremony).await {
                tracing::error!(error = %err, "cannot discard a used WebAuthn ceremony");
            }
            return Err(ServiceError::WebauthnRefused);
        }
    };
    let new = NewPhone {
        enrolment_id: e.id,
        phone_session_hash: phone.to_vec(),
        ceremony,
        credential_id: passkey.cred_id().to_vec(),
        passkey: serde_json::to_string(&passkey).map_err(ServiceError::internal)?,
        label,
        policy,
        now_ms: now,
    };
    Ok(ctx.store.enrolment_finish(&new, client).await?)
}

/// Trimmed; 1 to [`LABEL_MAX_CHARS`] characters; no control characters.
fn valid_label(label: &str) -> Option<String> {
    let l = label.trim();
    let n = l.chars().count();
    ((1..=LABEL_MAX_CHARS).contains(&n) && !l.chars().any(char::is_control)).then(|| l.to_owned())
}

pub fn phone_view(p: &PhoneRecord) -> PhoneCredential {
    PhoneCredential {
        credential_id: URL_SAFE_NO_PAD.encode(&p.credential_id),
        label: p.label.clone(),
        bound_at: p.created_ms.div_euclid(1000),
    }
}

// ---- Phone: the WebAuthn ceremony (change: assertion) ----

/// Bytes in a stand-in credential id: what the phones' platform authenticators commonly make
/// (Android's and Chromium's are 16 bytes; iOS's 20, which is the residual named at
/// [`begin_assertion`]).
const STAND_IN_LEN: usize = 16;

/// Assertion options for the named holder's bound phone.
///
/// Anyone who scans a first code may name any 本人ID here, so the answer must not tell whether
/// it names a holder, or one with a phone: the status and shape are the same, and a 本人ID
/// without a phone gets a stand-in credential id (keyed, so the same 本人ID always gets the same
/// one, as a real holder does). Each code may look up one 本人ID only (a retry for the same one
/// is allowed: the holder may have cancelled the prompt), and every begin is audited.
///
/// Why not a discoverable assertion (no `allowCredentials`, nothing named at all): phones bound
/// before the passkey sign-in were registered with `residentKey: discouraged` (webauthn-rs's
/// passkey registration; new ones ask for `required`), so nothing promises they are
/// discoverable, and a holder whose phone is not could never change phones. What remains: the real credential id reaches whoever holds a live code and names the
/// 本人ID (it is an identifier, not a secret: it signs nothing); a stand-in id has a fixed length
/// that a real one of another length would not share; and the holder's path also parses the
/// stored passkey. Each look-up costs a fresh first code (a rate-limited PC request and a phone
/// opening it), and is in the audit log under the 本人ID it named.
pub async fn begin_assertion(
    ctx: &Ctx<'_>,
    phone: &[u8],
    hpki_id: &HpkiId,
    client: Option<&str>,
) -> Result<RequestChallengeResponse, ServiceError> {
    let webauthn = ctx.webauthn()?;
    let p = ctx.store.pc_code_of_phone(PcPurpose::Change, phone, ctx.now_ms).await?;
    let hpki_id = hpki_id.as_str();
    let secret =
        ctx.secret.ok_or_else(|| ServiceError::internal("the server secret is not loaded"))?;
    let bound = ctx.store.phone_active(hpki_id).await?;
    let passkeys = match &bound {
        Some(b) => {
            vec![serde_json::from_str::<Passkey>(&b.passkey).map_err(ServiceError::internal)?]
        }
        None => Vec::new(),
    };
    let (mut options, authentication) =
        webauthn.start_passkey_authentication(&passkeys).map_err(ServiceError::internal)?;
    let credential_id = match &bound {
        Some(b) => b.credential_id.clone(),
        None => secret.stand_in_credential_id(hpki_id, STAND_IN_LEN),
    };
    // Built here for both, so a real entry and a stand-in look alike. The credential lives in
    // the phone that registered it (a platform authenticator), and that phone is the one asking.
    options.public_key.allow_credentials = vec![AllowCredentials {
        type_: "public-key".into(),
        id: credential_id,
        transports: Some(vec![AuthenticatorTransport::Internal]),
    }];
    let assertion = match bound {
        Some(_) => Some(Assertion::new(authentication)?),
        None => None,
    };
    let begun = ProofBegin {
        proof_id: p.id,
        phone_session_hash: phone,
        hpki_id,
        assertion: assertion.as_ref(),
        expires_ms: p.expires_ms,
        now_ms: ctx.now_ms,
    };
    if let Err(e) = ctx.store.proof_begin(&begun, client).await {
        let e = ServiceError::from(e);
        let detail = Some(format!("proof={}", p.id));
        let holder = Some(hpki_id.to_owned());
        ctx.audit(AuditAction::PhoneChangeBegin, holder, client, Some(e.code()), detail).await;
        return Err(e);
    }
    Ok(options)
}

/// Verifies the old phone's assertion and starts the confirmation it shows; the PC's session
/// gets the grant for that holder once the holder typed the code on it.
pub async fn prove(
    ctx: &Ctx<'_>,
    phone: &[u8],
    credential: &PublicKeyCredential,
    client: Option<&str>,
) -> Result<ChangeProved, ServiceError> {
    let mut holder = None;
    match prove_inner(ctx, phone, credential, client, &mut holder).await {
        Ok((proof_id, hpki_id, code)) => {
            ctx.events.publish(&notice_key(Purpose::Change, proof_id, "")).await;
            Ok(ChangeProved { hpki_id, confirm: PhoneConfirm::Show { code: code.to_string() } })
        }
        Err(e) => {
            ctx.audit(AuditAction::PhoneChangeProve, holder, client, Some(e.code()), None).await;
            Err(e)
        }
    }
}

async fn prove_inner(
    ctx: &Ctx<'_>,
    phone: &[u8],
    credential: &PublicKeyCredential,
    client: Option<&str>,
    holder: &mut Option<String>,
) -> Result<(i64, HpkiId, Zeroizing<String>), ServiceError> {
    let webauthn = ctx.webauthn()?;
    let now = ctx.now_ms;
    let p = ctx.store.pc_code_of_phone(PcPurpose::Change, phone, now).await?;
    let (hpki_id, assertion) =
        ctx.store.assertion_get(p.id, now).await?.ok_or(ServiceError::WebauthnRefused)?;
    *holder = Some(hpki_id.clone());
    let result = match webauthn.finish_passkey_authentication(credential, assertion.value()) {
        Ok(r) => r,
        Err(err) => {
            tracing::info!(error = %err, proof = p.id, "WebAuthn assertion refused");
            if let Err(err) = ctx.store.assertion_discard(p.id, &assertion).await {
                tracing::error!(error = %err, "cannot discard a used WebAuthn assertion");
            }
            return Err(ServiceError::WebauthnRefused);
        }
    };
    ctx.require_standing(&hpki_id, AuditAction::PhoneChangeProve, client).await?;
    // The signature counter moved on: keep it, so a cloned authenticator shows up later.
    let updated_passkey = match ctx.store.phone_active(&hpki_id).await {
        Ok(Some(bound)) => {
            serde_json::from_str::<Passkey>(&bound.passkey).ok().and_then(|mut pk| {
                pk.update_credential(&result)
                    .filter(|changed| *changed)
                    .and_then(|_| serde_json::to_string(&pk).ok())
            })
        }
        _ => None,
    };
    let (code, confirm_code_hash) = new_confirmation_code();
    let proved = ProvedBy {
        proof_id: p.id,
        phone_session_hash: phone.to_vec(),
        assertion,
        credential_id: result.cred_id().to_vec(),
        updated_passkey,
        confirm_code_hash,
        confirm_expires_ms: now + ttl_ms(ctx.config),
        now_ms: now,
    };
    let holder = ctx.store.proof_commit(&proved, client).await?;
    Ok((p.id, stored_id(&holder)?, code))
}

// ---- The confirmation (both purposes) ----

/// Digits of a confirmation code. Six digits and three tries: a guesser wins one time in
/// 333 333; the code lives only as long as the code it confirms.
const DIGITS: usize = 6;

/// A new confirmation code and the hash the store keeps. A six-digit code's hash is no secret
/// against someone holding the database (a million guesses), but it keeps the code out of
/// dumps and logs; the three tries and the short life are the defence.
pub(crate) fn new_confirmation_code() -> (Zeroizing<String>, Vec<u8>) {
    let n = u64::from_le_bytes(crate::random::bytes::<8>());
    let code = Zeroizing::new(format!("{:06}", n % 1_000_000));
    let hash = confirmation_hash(&code);
    (code, hash)
}

fn confirmation_hash(code: &str) -> Vec<u8> {
    Sha256::digest(code.as_bytes()).to_vec()
}

/// The PC enters the code its phone shows. The right one lets that phone go on (and, in a
/// change, gives the PC's session — under the new id of `rotation` — the phone grant); a wrong
/// one costs a try; the third kills the code. Only the PC session that showed the code may
/// enter it. The purpose of the code confirmed, and for a sign-in code the holder and the
/// proof to sign the PC's browser in with (the code is used up by this entry).
pub async fn enter_confirmation(
    ctx: &Ctx<'_>,
    pc: &[u8],
    code: &str,
    rotation: Rotation<'_>,
    client: Option<&str>,
) -> Result<(Purpose, Option<(HpkiId, Proof)>), ServiceError> {
    // Not six digits is a typo the page should have caught: refused without costing a try.
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ServiceError::BadConfirmationCode);
    }
    let hash = confirmation_hash(code);
    let entered = ctx.store.confirmation_enter(pc, &hash, ctx.now_ms, rotation, client).await;
    let (confirmation, answer) = match entered {
        Ok(Entered::Confirmed { confirmation, holder, signin }) => {
            let signin = match signin {
                Some(p) => {
                    let proof = Proof::Passkey { phone: p.phone_id, backed_up: p.backed_up };
                    Some((stored_id(&holder)?, proof))
                }
                None => None,
            };
            (confirmation, Ok(signin))
        }
        Ok(Entered::Wrong { confirmation, tries_left, .. }) => {
            tracing::info!(confirmation = confirmation.id, tries_left, "wrong confirmation code");
            (confirmation, Err(ServiceError::ConfirmationWrong))
        }
        Ok(Entered::Failed { confirmation, holder }) => {
            tracing::warn!(confirmation = confirmation.id, %holder, "confirmation code dead");
            (confirmation, Err(EnrolError::ConfirmationFailed.into()))
        }
        Err(e) => {
            let e = ServiceError::from(e);
            ctx.audit(AuditAction::PhoneConfirm, None, client, Some(e.code()), None).await;
            return Err(e);
        }
    };
    ctx.events.publish(&confirmation_key(ctx, &confirmation).await?).await;
    answer.map(|signin| (confirmation.purpose, signin))
}

/// The notice key of a confirmation: that of the code it confirms, so the PC watching the code
/// and the phone watching its confirmation both wake.
async fn confirmation_key(ctx: &Ctx<'_>, c: &Confirmation) -> Result<String, ServiceError> {
    let hpki_id = match c.purpose {
        Purpose::Enrolment => {
            let e = ctx.store.enrolment_get(c.subject_id).await?;
            e.ok_or(EnrolError::Unknown)?.hpki_id
        }
        Purpose::Change | Purpose::SignIn => String::new(),
    };
    Ok(notice_key(c.purpose, c.subject_id, &hpki_id))
}

// ---- Watching (SSE) ----

/// What a stream watches, pinned at connect (a newer code shows as `cancelled`).
#[derive(Debug, Clone, Copy)]
pub enum Watched {
    /// A PC watches its code.
    Code(Purpose, i64),
    /// A phone watches its confirmation.
    Confirmation(i64),
}

/// One read of a watched thing: the event it stands at.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub name: &'static str,
    pub data: serde_json::Value,
    pub is_final: bool,
    /// When it changes by itself (to wake for).
    pub expires_ms: i64,
}

impl Snapshot {
    fn of<E: serde::Serialize>(name: &'static str, is_final: bool, e: &E, expires_ms: i64) -> Self {
        Self { name, is_final, data: serde_json::to_value(e).unwrap_or_default(), expires_ms }
    }
}

/// The PC's enrolment code to watch: the holder's newest, and the notice key to wake on.
pub async fn watch_enrolment(
    ctx: &Ctx<'_>,
    who: &Enroller,
) -> Result<(Watched, String), ServiceError> {
    let e = ctx.store.enrolment_latest(who.hpki_id.as_str()).await?.ok_or(EnrolError::Unknown)?;
    Ok((Watched::Code(Purpose::Enrolment, e.id), notice_key(Purpose::Enrolment, e.id, &e.hpki_id)))
}

/// The phone's newest confirmation to watch.
pub async fn watch_confirmation(
    ctx: &Ctx<'_>,
    phone: &[u8],
) -> Result<(Watched, String), ServiceError> {
    let c = ctx.store.confirmation_of_phone(phone).await?.ok_or(EnrolError::ConfirmationUnknown)?;
    Ok((Watched::Confirmation(c.id), confirmation_key(ctx, &c).await?))
}

/// Where `w` stands now; `None` if it is gone.
pub async fn snapshot(ctx: &Ctx<'_>, w: Watched) -> Result<Option<Snapshot>, StoreError> {
    let now = ctx.now_ms;
    Ok(match w {
        Watched::Code(Purpose::Enrolment, id) => {
            let Some(e) = ctx.store.enrolment_get(id).await? else { return Ok(None) };
            if e.state_at(now) == CodeState::Expired && e.state != CodeState::Expired {
                // Nobody else may be looking: write the expiry down, so every node agrees.
                if ctx.store.enrolment_expire(e.id, now).await? {
                    ctx.events.publish(&e.hpki_id).await;
                }
            }
            let c = match e.state_at(now) {
                CodeState::InUse => {
                    ctx.store.confirmation_of_subject(Purpose::Enrolment, e.id).await?
                }
                _ => None,
            };
            let event = enrolment_event(&e, c.as_ref(), now);
            Some(Snapshot::of(event.name(), event.is_final(), &event, e.expires_ms))
        }
        Watched::Code(Purpose::Change, id) => {
            let Some(p) = ctx.store.pc_code_get(PcPurpose::Change, id).await? else {
                return Ok(None);
            };
            let c = match p.state {
                CodeState::Consumed => {
                    ctx.store.confirmation_of_subject(Purpose::Change, p.id).await?
                }
                _ => None,
            };
            let event = change_event(&p, c.as_ref(), now);
            // Once proved, the confirmation's own deadline is the one to wake for.
            let expires_ms = c.map_or(p.expires_ms, |c| c.expires_ms);
            Some(Snapshot::of(event.name(), event.is_final(), &event, expires_ms))
        }
        Watched::Code(Purpose::SignIn, id) => {
            let Some(s) = ctx.store.pc_code_get(PcPurpose::SignIn, id).await? else {
                return Ok(None);
            };
            let c = match s.state {
                CodeState::Consumed => {
                    ctx.store.confirmation_of_subject(Purpose::SignIn, s.id).await?
                }
                _ => None,
            };
            let event = signin_event(&s, c.as_ref(), now);
            let expires_ms = c.map_or(s.expires_ms, |c| c.expires_ms);
            Some(Snapshot::of(event.name(), event.is_final(), &event, expires_ms))
        }
        Watched::Confirmation(id) => {
            let Some(c) = ctx.store.confirmation_get(id).await? else { return Ok(None) };
            let event = phone_event(ctx, &c).await?;
            Some(Snapshot::of(event.name(), event.is_final(), &event, c.expires_ms))
        }
    })
}

/// How a PC screen stands on a confirmation: waiting for the code (tries left), done, or dead.
/// `None` (not started yet) reads as waiting with every try left.
enum PcView {
    Ask(u8),
    Confirmed,
    Failed,
}

fn pc_view(c: Option<&Confirmation>) -> PcView {
    match c {
        None => PcView::Ask(CONFIRM_TRIES as u8),
        Some(c) => match c.state {
            ConfirmState::Pending => PcView::Ask(c.tries_left),
            ConfirmState::Confirmed => PcView::Confirmed,
            ConfirmState::Failed => PcView::Failed,
        },
    }
}

fn enrolment_event(e: &EnrolmentRecord, c: Option<&Confirmation>, now: i64) -> CodeEvent {
    match e.state_at(now) {
        CodeState::Valid => CodeEvent::Waiting { expires_in_secs: secs_left(e.expires_ms, now) },
        CodeState::InUse => match pc_view(c) {
            PcView::Ask(tries_left) => CodeEvent::Confirm { tries_left },
            PcView::Confirmed => CodeEvent::Opened,
            PcView::Failed => CodeEvent::ConfirmFailed,
        },
        CodeState::Consumed => CodeEvent::Completed,
        CodeState::Expired => CodeEvent::Expired,
        CodeState::Cancelled => CodeEvent::Cancelled,
    }
}

/// The PC's view of its first code. Proved by the old phone is not enough: the PC hears the
/// holder (and gets the grant) only once it entered the code that phone shows.
fn change_event(p: &PcCode, c: Option<&Confirmation>, now: i64) -> CodeEvent {
    match p.state_at(now) {
        CodeState::Valid => CodeEvent::Waiting { expires_in_secs: secs_left(p.expires_ms, now) },
        CodeState::InUse => CodeEvent::Opened,
        CodeState::Consumed => match (pc_view(c), p.hpki_id.as_deref()) {
            (PcView::Ask(_), _) if c.is_some_and(|c| now >= c.expires_ms) => CodeEvent::Expired,
            (PcView::Ask(tries_left), _) => CodeEvent::Confirm { tries_left },
            (PcView::Failed, _) => CodeEvent::ConfirmFailed,
            (PcView::Confirmed, Some(h)) => match HpkiId::parse(h) {
                Ok(hpki_id) => CodeEvent::Proved { hpki_id },
                Err(_) => CodeEvent::Cancelled,
            },
            // A proved row always names its holder (see proof_commit); never claim otherwise.
            (PcView::Confirmed, None) => CodeEvent::Cancelled,
        },
        CodeState::Expired => CodeEvent::Expired,
        CodeState::Cancelled => CodeEvent::Cancelled,
    }
}

/// The PC's view of its sign-in code: signed in (`completed`) only once it entered the code
/// the phone shows.
fn signin_event(s: &PcCode, c: Option<&Confirmation>, now: i64) -> CodeEvent {
    match s.state_at(now) {
        CodeState::Valid => CodeEvent::Waiting { expires_in_secs: secs_left(s.expires_ms, now) },
        CodeState::InUse => CodeEvent::Opened,
        CodeState::Consumed if s.completed_ms.is_some() => CodeEvent::Completed,
        CodeState::Consumed => match pc_view(c) {
            PcView::Ask(_) if c.is_some_and(|c| now >= c.expires_ms) => CodeEvent::Expired,
            PcView::Ask(tries_left) => CodeEvent::Confirm { tries_left },
            PcView::Failed => CodeEvent::ConfirmFailed,
            // Confirmed is written with completed_ms in one transaction; never claim more.
            PcView::Confirmed => CodeEvent::Cancelled,
        },
        CodeState::Expired => CodeEvent::Expired,
        CodeState::Cancelled => CodeEvent::Cancelled,
    }
}

/// What the phone hears: pending codes whose code ended (中止, a newer code, expiry) end too.
async fn phone_event(ctx: &Ctx<'_>, c: &Confirmation) -> Result<PhoneConfirmEvent, StoreError> {
    let now = ctx.now_ms;
    Ok(match c.state {
        ConfirmState::Confirmed => PhoneConfirmEvent::Confirmed,
        ConfirmState::Failed => PhoneConfirmEvent::Failed,
        ConfirmState::Pending if now >= c.expires_ms => PhoneConfirmEvent::Ended,
        ConfirmState::Pending => {
            // The code it confirms is still where a confirmation is awaited.
            let live = match c.purpose {
                Purpose::Enrolment => ctx
                    .store
                    .enrolment_get(c.subject_id)
                    .await?
                    .is_some_and(|e| e.state_at(now) == CodeState::InUse),
                Purpose::Change => ctx
                    .store
                    .pc_code_get(PcPurpose::Change, c.subject_id)
                    .await?
                    .is_some_and(|p| p.state == CodeState::Consumed),
                Purpose::SignIn => ctx
                    .store
                    .pc_code_get(PcPurpose::SignIn, c.subject_id)
                    .await?
                    .is_some_and(|s| s.state == CodeState::Consumed && s.completed_ms.is_none()),
            };
            if live {
                PhoneConfirmEvent::Pending { tries_left: c.tries_left }
            } else {
                PhoneConfirmEvent::Ended
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(valid_label("  iPhone 15 "), Some("iPhone 15".into()));
        assert_eq!(valid_label("私のスマートフォン"), Some("私のスマートフォン".into()));
        assert_eq!(valid_label("   "), None);
        assert_eq!(valid_label("a\u{0}b"), None);
        assert_eq!(valid_label(&"あ".repeat(LABEL_MAX_CHARS)).map(|l| l.chars().count()), Some(64));
        assert_eq!(valid_label(&"あ".repeat(LABEL_MAX_CHARS + 1)), None);
    }

    #[test]
    fn relying_party_needs_a_domain() {
        assert!(relying_party("https://hpki.example.jp").is_some());
        assert!(relying_party("http://localhost:8080").is_some());
        assert!(relying_party("http://127.0.0.1:8080").is_none());
    }

    #[test]
    fn confirmation_codes_are_six_digits_and_stored_hashed() {
        for _ in 0..100 {
            let (c, h) = new_confirmation_code();
            assert!(c.len() == DIGITS && c.bytes().all(|b| b.is_ascii_digit()), "{}", *c);
            assert_eq!(h, confirmation_hash(&c));
            assert_ne!(h, c.as_bytes());
        }
    }

    #[test]
    fn only_issued_token_shapes_reach_the_store() {
        let (token, _) = new_token();
        assert!(well_formed(&token));
        assert!(!well_formed(&token[1..]));
        assert!(!well_formed(&format!("{}*", &token[1..])));
    }
}
