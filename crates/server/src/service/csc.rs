//! The CSC API v2 rules: which access token may see and use which credential, the SADs of
//! `credentials/authorize`, and the signatures of `signatures/signHash`.
//!
//! The holder's authorisation is the OpenID Provider's access token resting on an alive signing
//! session (the day's sign-in) and granted the signing scope (`service`: a token for signing the
//! holder in only calls nothing here but `info`); SCAL2: a SAD is bound to the hashes it may
//! sign, to the token's holder, client and session, lasts five minutes, and its counter is spent
//! in the database in the statement that checks it, kept open while the HSM signs (an HSM
//! failure spends nothing).

pub mod cades;

use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use mahpki_protocol::{
    ErrorCode, csc as p,
    oidc::{OAuthError, SIGNING_SCOPE},
};
use rsa::{pkcs8::DecodePublicKey as _, traits::PublicKeyParts as _};
use sha2::{Digest as _, Sha256};
use x509_parser::prelude::{FromDer as _, X509Certificate};

use super::{Ctx, ServiceError, audit_event, oidc, signin};
use crate::{
    hsm::SignAlg,
    random,
    service::second_cert::{SecondCertError, SecondCerts},
    store::{ACTIVE, AuditAction, NewSad, SecondCertRecord, StoreError},
};

/// How long a SAD may be used.
pub const SAD_TTL_MS: i64 = 5 * 60 * 1000;

/// A refusal or failure, answered as `{"error", "error_description"}`.
#[derive(Debug, thiserror::Error)]
pub enum CscError {
    /// No access token, or not a live one.
    #[error("invalid_token: {0}")]
    InvalidToken(&'static str),
    /// The token is fine but its day's sign-in is over.
    #[error("the signing session is over")]
    SessionOver,
    /// The token is alive but was not granted the signing scope (RFC 6750 §3.1).
    #[error("insufficient_scope: the token lacks the signing scope")]
    InsufficientScope,
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    #[error("invalid_sad: {0}")]
    InvalidSad(&'static str),
    /// signDoc cannot sign this document as asked (format, conformance level, envelope,
    /// algorithm, size).
    #[error("invalid_request (document): {0}")]
    Document(String),
    /// The credential cannot sign (revoked, expired).
    #[error("access_denied: {0}")]
    AccessDenied(&'static str),
    #[error("the HSM is unavailable: {0}")]
    Hsm(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl CscError {
    /// The `error` member.
    pub fn error(&self) -> &'static str {
        match self {
            Self::InvalidToken(_) | Self::SessionOver => OAuthError::InvalidToken.as_str(),
            Self::InvalidRequest(_) | Self::Document(_) => OAuthError::InvalidRequest.as_str(),
            Self::InvalidSad(_) => "invalid_sad",
            Self::InsufficientScope => OAuthError::InsufficientScope.as_str(),
            Self::AccessDenied(_) => OAuthError::AccessDenied.as_str(),
            Self::Hsm(_) => "temporarily_unavailable",
            Self::Internal(_) => OAuthError::ServerError.as_str(),
        }
    }

    /// The `error_description` member (never a secret, never an internal detail).
    pub fn description(&self) -> String {
        match self {
            Self::InvalidToken(d) | Self::InvalidSad(d) | Self::AccessDenied(d) => (*d).into(),
            Self::SessionOver => "the holder's sign-in for the day (signing session) is over: \
                                  the holder must sign in again"
                .into(),
            Self::InsufficientScope => format!(
                "the access token was not granted the signing scope ({SIGNING_SCOPE}): the \
                 holder let this service sign them in, not sign for them; ask for scope \
                 \"openid {SIGNING_SCOPE}\" to sign"
            ),
            Self::InvalidRequest(d) | Self::Document(d) => d.clone(),
            Self::Hsm(_) => "the signing device (HSM) is unavailable; nothing was signed and \
                             the SAD was not used: try again shortly"
                .into(),
            Self::Internal(_) => "internal error".into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidToken(_) | Self::SessionOver => 401,
            Self::InvalidRequest(_) | Self::Document(_) | Self::InvalidSad(_) => 400,
            Self::AccessDenied(_) | Self::InsufficientScope => 403,
            Self::Hsm(_) => 503,
            Self::Internal(_) => 500,
        }
    }

    /// The catalogued code the audit log records.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidToken(_) => ErrorCode::OidcTokenInvalid,
            Self::SessionOver => ErrorCode::CscSessionOver,
            Self::InvalidRequest(_) => ErrorCode::CscRequestInvalid,
            Self::Document(_) => ErrorCode::CscDocumentRefused,
            Self::InvalidSad(_) => ErrorCode::CscSadInvalid,
            Self::InsufficientScope => ErrorCode::CscScopeInsufficient,
            Self::AccessDenied(_) => ErrorCode::CscCredentialRefused,
            Self::Hsm(_) => ErrorCode::HsmUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<ServiceError> for CscError {
    fn from(e: ServiceError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<StoreError> for CscError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

fn invalid(d: impl Into<String>) -> CscError {
    CscError::InvalidRequest(d.into())
}

/// Whose authorisation a call carries.
#[derive(Debug, Clone)]
pub struct Caller {
    pub grant: oidc::Grant,
}

/// The CSC methods that take an access token (all but `info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    CredentialsList,
    CredentialsInfo,
    CredentialsAuthorize,
    SignHash,
    SignDoc,
}

impl Method {
    /// The method's name in the specification (and in `info`'s `methods`).
    pub fn name(self) -> &'static str {
        match self {
            Self::CredentialsList => "credentials/list",
            Self::CredentialsInfo => "credentials/info",
            Self::CredentialsAuthorize => "credentials/authorize",
            Self::SignHash => "signatures/signHash",
            Self::SignDoc => "signatures/signDoc",
        }
    }

    /// The audit action a refusal of this method is recorded under: the credentials' methods
    /// under authorize, the signing ones under sign.
    fn action(self) -> AuditAction {
        match self {
            Self::CredentialsList | Self::CredentialsInfo | Self::CredentialsAuthorize => {
                AuditAction::CscAuthorize
            }
            Self::SignHash | Self::SignDoc => AuditAction::CscSign,
        }
    }
}

/// Who may call `method`: the live access token `token` (from `Authorization: Bearer`), told
/// apart from one whose sign-in is over (so the client can tell the holder to sign in again),
/// and granted the signing scope (a refusal for the want of it is audited: the holder and the
/// client are known).
pub async fn caller(
    ctx: &Ctx<'_>,
    token: Option<&str>,
    method: Method,
) -> Result<Caller, CscError> {
    let caller = token_caller(ctx, token).await?;
    if !caller.grant.has_scope(SIGNING_SCOPE) {
        let e = CscError::InsufficientScope;
        let detail = format!("{} sid={} {}", method.name(), caller.grant.sid, e.description());
        audit_refusal(ctx, &caller, method.action(), &e, detail).await;
        return Err(e);
    }
    Ok(caller)
}

async fn token_caller(ctx: &Ctx<'_>, token: Option<&str>) -> Result<Caller, CscError> {
    let token = token.ok_or(CscError::InvalidToken("a Bearer access token is required"))?;
    if let Some(grant) = oidc::access_token(ctx, token).await? {
        return Ok(Caller { grant });
    }
    let unknown = CscError::InvalidToken("the access token is unknown, expired or revoked");
    if token.len() != 43 {
        return Err(unknown);
    }
    let Some(t) = ctx.store.oidc_token_get(&oidc::token_hash(token)).await? else {
        return Err(unknown);
    };
    if t.kind != "access" || t.revoked_ms.is_some() || ctx.now_ms >= t.expires_ms {
        return Err(unknown);
    }
    // A live token whose session is not alive (ended, expired, holder suspended...).
    if signin::alive(ctx, &t.sid).await?.is_none() {
        return Err(CscError::SessionOver);
    }
    Err(unknown)
}

/// `info`.
pub fn info(ctx: &Ctx<'_>) -> p::InfoResponse {
    let methods = [
        "info",
        Method::CredentialsList.name(),
        Method::CredentialsInfo.name(),
        Method::CredentialsAuthorize.name(),
        Method::SignHash.name(),
        Method::SignDoc.name(),
    ];
    p::InfoResponse {
        specs: "2.0.0.2".into(),
        name: "mahpki".into(),
        logo: format!("{}/favicon.ico", ctx.config.issuer()),
        region: "JP".into(),
        lang: "ja-JP".into(),
        description: "HPKI second certificate remote signing (HPKIセカンド電子証明書)".into(),
        auth_type: vec!["oauth2code".into()],
        oauth2: ctx.config.issuer().into(),
        oauth2_issuer: ctx.config.issuer().into(),
        methods: methods.iter().map(|m| (*m).into()).collect(),
        sign_algorithms: p::SignAlgorithms {
            algos: vec![p::OID_SHA256_WITH_RSA.into(), p::OID_RSASSA_PSS.into()],
        },
        signature_formats: p::SignatureFormats {
            formats: vec![p::FORMAT_CADES.into()],
            envelope_properties: vec![vec![p::ENVELOPE_DETACHED.into()]],
        },
        conformance_levels: vec![p::CONFORMANCE_B_B.into()],
    }
}

/// The caller's holder's credential `credential_id`, whatever its state; unknown and another
/// holder's look the same.
async fn owned(
    ctx: &Ctx<'_>,
    caller: &Caller,
    credential_id: &str,
) -> Result<SecondCertRecord, CscError> {
    let r = ctx.store.second_cert_by_credential(credential_id).await?;
    r.filter(|r| r.hpki_id == caller.grant.hpki_id.as_str() && r.certificate.is_some())
        .ok_or_else(|| invalid("unknown credentialID"))
}

fn usable(ctx: &Ctx<'_>, r: &SecondCertRecord) -> Result<(), CscError> {
    if r.state != ACTIVE {
        return Err(CscError::AccessDenied("the credential is revoked"));
    }
    let (from, to) = (r.not_before_ms.unwrap_or(i64::MAX), r.not_after_ms.unwrap_or(0));
    if ctx.now_ms < from || ctx.now_ms > to {
        return Err(CscError::AccessDenied("the credential's certificate is not valid now"));
    }
    Ok(())
}

/// `credentials/list`: the holder's active credentials.
pub async fn list(
    ctx: &Ctx<'_>,
    caller: &Caller,
    req: &p::ListRequest,
) -> Result<p::ListResponse, CscError> {
    let records = ctx.store.second_cert_list(Some(caller.grant.hpki_id.as_str())).await?;
    let active: Vec<_> = records.into_iter().filter(|r| r.state == ACTIVE).collect();
    let infos = if req.credential_info {
        Some(active.iter().map(|r| credential_info(ctx, r, "chain")).collect::<Result<_, _>>()?)
    } else {
        None
    };
    Ok(p::ListResponse {
        credential_ids: active.into_iter().map(|r| r.credential_id).collect(),
        credential_infos: infos,
    })
}

/// `credentials/info`.
pub async fn credential(
    ctx: &Ctx<'_>,
    caller: &Caller,
    req: &p::InfoRequest,
) -> Result<p::CredentialInfo, CscError> {
    let certificates = req.certificates.as_deref().unwrap_or("single");
    if !matches!(certificates, "none" | "single" | "chain") {
        return Err(invalid("certificates must be none, single or chain"));
    }
    let r = owned(ctx, caller, &req.credential_id).await?;
    credential_info(ctx, &r, certificates)
}

fn credential_info(
    ctx: &Ctx<'_>,
    r: &SecondCertRecord,
    certificates: &str,
) -> Result<p::CredentialInfo, CscError> {
    let corrupt =
        |what: &str| CscError::Internal(format!("credential {}: {what}", r.credential_id));
    let spki = r.public_key.as_deref().ok_or_else(|| corrupt("no key"))?;
    let key = rsa::PublicKey::from_public_key_der(spki).map_err(|_| corrupt("key"))?;
    let cert = r.certificate.as_deref().ok_or_else(|| corrupt("no certificate"))?;
    let mut chain = Vec::new();
    if certificates != "none" {
        chain.push(STANDARD.encode(cert));
    }
    if certificates == "chain" {
        let (_, parsed) = X509Certificate::from_der(cert).map_err(|_| corrupt("certificate"))?;
        let issuer = parsed.issuer().as_raw();
        if let Some(ca) = ctx.hpki_trust.anchors.iter().find(|a| a.subject_raw == issuer) {
            chain.push(STANDARD.encode(&ca.der));
        }
    }
    let status = if r.state != ACTIVE {
        "revoked"
    } else if usable(ctx, r).is_err() {
        "expired"
    } else {
        "valid"
    };
    Ok(p::CredentialInfo {
        credential_id: r.credential_id.clone(),
        description: "HPKI second certificate (HPKIセカンド電子証明書)".into(),
        key: p::KeyInfo {
            status: if r.state == ACTIVE { "enabled" } else { "disabled" }.into(),
            algo: vec![p::OID_SHA256_WITH_RSA.into(), p::OID_RSASSA_PSS.into()],
            len: u32::try_from(key.size() * 8).unwrap_or(0),
        },
        cert: p::CertInfo {
            status: status.into(),
            certificates: chain,
            issuer_dn: r.cert_issuer.clone(),
            serial_number: r.cert_serial.clone(),
            valid_from: None,
            valid_to: None,
        },
        auth: p::AuthInfo { mode: "explicit".into() },
        scal: "2".into(),
        multisign: p::MULTISIGN,
        lang: "ja-JP".into(),
    })
}

/// A base64 SHA-256 hash, decoded; the canonical spelling kept to compare with the SAD's.
fn parse_hash(b64: &str) -> Result<([u8; 32], String), CscError> {
    let bytes = STANDARD.decode(b64).map_err(|_| invalid("a hash is not valid base64"))?;
    let digest: [u8; 32] =
        bytes.try_into().map_err(|_| invalid("a hash is not 32 bytes (SHA-256)"))?;
    Ok((digest, STANDARD.encode(digest)))
}

fn parse_hashes(hashes: &[String]) -> Result<Vec<([u8; 32], String)>, CscError> {
    if hashes.is_empty() {
        return Err(invalid("hashes are required"));
    }
    if hashes.len() > p::MULTISIGN as usize {
        return Err(invalid("too many hashes"));
    }
    hashes.iter().map(|h| parse_hash(h)).collect()
}

fn check_hash_oid(oid: Option<&str>, required: bool) -> Result<(), CscError> {
    match oid {
        Some(p::OID_SHA256) => Ok(()),
        None if !required => Ok(()),
        None => Err(invalid("hashAlgorithmOID is required")),
        Some(_) => Err(invalid("hashAlgorithmOID must be SHA-256 (2.16.840.1.101.3.4.2.1)")),
    }
}

/// `credentials/authorize`: a SAD for `numSignatures` signatures of exactly `hashes`.
pub async fn authorize(
    ctx: &Ctx<'_>,
    caller: &Caller,
    req: &p::AuthorizeRequest,
) -> Result<p::AuthorizeResponse, CscError> {
    let result = authorize_inner(ctx, caller, req).await;
    if let Err(e) = &result {
        let detail = format!("credential={} {}", req.credential_id, e.description());
        audit_refusal(ctx, caller, AuditAction::CscAuthorize, e, detail).await;
    }
    result
}

async fn authorize_inner(
    ctx: &Ctx<'_>,
    caller: &Caller,
    req: &p::AuthorizeRequest,
) -> Result<p::AuthorizeResponse, CscError> {
    if req.num_signatures == 0 || req.num_signatures > p::MULTISIGN {
        return Err(invalid(format!("numSignatures must be 1 to {} (multisign)", p::MULTISIGN)));
    }
    check_hash_oid(req.hash_algorithm_oid.as_deref(), true)?;
    let hashes = parse_hashes(&req.hashes)?;
    if hashes.len() != req.num_signatures as usize {
        return Err(invalid("numSignatures must equal the number of hashes (SCAL2)"));
    }
    let mut covered: Vec<[u8; 32]> = hashes.iter().map(|(d, _)| *d).collect();
    covered.sort();
    covered.dedup();
    if covered.len() != req.num_signatures as usize {
        return Err(invalid("the hashes must differ"));
    }
    let canonical: Vec<String> = covered.iter().map(|d| STANDARD.encode(d)).collect();
    let r = owned(ctx, caller, &req.credential_id).await?;
    usable(ctx, &r)?;
    let sad = URL_SAFE_NO_PAD.encode(random::bytes::<32>());
    let sad_hash = Sha256::digest(sad.as_bytes()).to_vec();
    let g = &caller.grant;
    let audit = audit_event(
        AuditAction::CscAuthorize,
        Some(g.hpki_id.to_string()),
        Some(&g.client_id),
        None,
        Some(format!(
            "credential={} sid={} signatures={}",
            r.credential_id, g.sid, req.num_signatures
        )),
    );
    let new = NewSad {
        sad_hash: &sad_hash,
        credential_id: &r.credential_id,
        hpki_id: g.hpki_id.as_str(),
        client_id: &g.client_id,
        sid: &g.sid,
        hashes: canonical.join(" "),
        covered,
        remaining: i64::from(req.num_signatures),
        now_ms: ctx.now_ms,
        expires_ms: ctx.now_ms + SAD_TTL_MS,
    };
    ctx.store.csc_sad_insert(&new, &audit).await?;
    Ok(p::AuthorizeResponse { sad, expires_in: (SAD_TTL_MS / 1000) as u64 })
}

fn sign_alg(oid: &str) -> Result<SignAlg, CscError> {
    match oid {
        p::OID_SHA256_WITH_RSA => Ok(SignAlg::RsaPkcs1Sha256),
        p::OID_RSASSA_PSS => Ok(SignAlg::RsaPssSha256),
        _ => Err(invalid(
            "signAlgo is not supported (1.2.840.113549.1.1.11 or 1.2.840.113549.1.1.10)",
        )),
    }
}

/// What `take` took: the credential to sign with, its key in the HSM, and the SAD's spend to
/// commit once every signature is made.
struct Taken {
    record: SecondCertRecord,
    key_id: Vec<u8>,
    spend: crate::store::SadSpend,
}

/// Checks that the SAD `sad` is the caller's (holder, client, signing session) for
/// `credential_id`, alive and covering `digests`, each not yet signed with it, and takes their
/// signatures from it (the store's transaction decides between racing calls).
async fn take(
    ctx: &Ctx<'_>,
    caller: &Caller,
    credential_id: &str,
    sad: &str,
    digests: &[[u8; 32]],
) -> Result<Taken, CscError> {
    let g = &caller.grant;
    let sad_hash = Sha256::digest(sad.as_bytes()).to_vec();
    let sad = ctx
        .store
        .csc_sad_get(&sad_hash)
        .await?
        .filter(|s| {
            s.credential_id == credential_id
                && s.hpki_id == g.hpki_id.as_str()
                && s.client_id == g.client_id
                && s.sid == g.sid
        })
        .ok_or(CscError::InvalidSad("the SAD is unknown or not for this credential and token"))?;
    if ctx.now_ms >= sad.expires_ms {
        return Err(CscError::InvalidSad("the SAD has expired"));
    }
    let covered: Vec<&str> = sad.hashes.split(' ').collect();
    if !digests.iter().all(|d| covered.contains(&STANDARD.encode(d).as_str())) {
        return Err(CscError::InvalidSad("the SAD does not cover these hashes"));
    }
    let mut distinct = digests.to_vec();
    distinct.sort();
    distinct.dedup();
    if distinct.len() != digests.len() {
        return Err(CscError::InvalidSad("a SAD signs each of its hashes once"));
    }
    let n = i64::try_from(digests.len()).unwrap_or(i64::MAX);
    if sad.remaining < n {
        return Err(CscError::InvalidSad("the SAD's signatures are used up"));
    }
    let record = owned(ctx, caller, credential_id).await?;
    usable(ctx, &record)?;
    let key_id = crate::pki::unhex(&record.key_id)
        .ok_or_else(|| CscError::Internal(format!("credential {}: key_id", credential_id)))?;
    // The checks above name the refusal; this one (in the database) is the one that holds.
    let spend = ctx.store.csc_sad_spend(sad.id, digests, ctx.now_ms).await?.ok_or(
        CscError::InvalidSad("the SAD's signatures are used up or these hashes are signed"),
    )?;
    Ok(Taken { record, key_id, spend })
}

/// `signatures/signHash`: signs each hash the SAD covers, each at most once.
pub async fn sign_hash(
    ctx: &Ctx<'_>,
    certs: &SecondCerts,
    caller: &Caller,
    req: &p::SignHashRequest,
) -> Result<p::SignHashResponse, CscError> {
    let result = sign_hash_inner(ctx, certs, caller, req).await;
    if let Err(e) = &result {
        let detail = format!(
            "credential={} sid={} {}",
            req.credential_id,
            caller.grant.sid,
            e.description()
        );
        audit_refusal(ctx, caller, AuditAction::CscSign, e, detail).await;
    }
    result
}

async fn sign_hash_inner(
    ctx: &Ctx<'_>,
    certs: &SecondCerts,
    caller: &Caller,
    req: &p::SignHashRequest,
) -> Result<p::SignHashResponse, CscError> {
    let alg = sign_alg(&req.sign_algo)?;
    check_hash_oid(req.hash_algorithm_oid.as_deref(), alg == SignAlg::RsaPssSha256)?;
    if req.operation_mode.as_deref().is_some_and(|m| m != "S") {
        return Err(invalid("only synchronous operation (operationMode S) is supported"));
    }
    let hashes = parse_hashes(&req.hashes)?;
    let digests: Vec<[u8; 32]> = hashes.iter().map(|(d, _)| *d).collect();
    let g = &caller.grant;
    let Taken { record: r, key_id, spend } =
        take(ctx, caller, &req.credential_id, &req.sad, &digests).await?;
    // Dropping `spend` on failure rolls it back: nothing signed, nothing spent.
    let signatures = certs
        .hsm
        .sign_digests(key_id, alg, digests.clone())
        .await
        .map_err(|e| CscError::Hsm(e.to_string()))?;
    let events: Vec<_> = digests
        .iter()
        .map(|digest| {
            audit_event(
                AuditAction::CscSign,
                Some(g.hpki_id.to_string()),
                Some(&g.client_id),
                None,
                Some(format!(
                    "credential={} sid={} hash={} algo={}",
                    r.credential_id,
                    g.sid,
                    crate::pki::hex(digest),
                    req.sign_algo
                )),
            )
        })
        .collect();
    spend.commit(&events).await?;
    Ok(p::SignHashResponse { signatures: signatures.iter().map(|s| STANDARD.encode(s)).collect() })
}

/// `signatures/signDoc`: a detached CAdES B-B signature of each document, each document's
/// SHA-256 covered by the SAD (as signHash's hashes are) and signed at most once.
pub async fn sign_doc(
    ctx: &Ctx<'_>,
    certs: &SecondCerts,
    caller: &Caller,
    req: &p::SignDocRequest,
) -> Result<p::SignDocResponse, CscError> {
    let result = sign_doc_inner(ctx, certs, caller, req).await;
    if let Err(e) = &result {
        let detail = format!(
            "credential={} sid={} signDoc {}",
            req.credential_id,
            caller.grant.sid,
            e.description()
        );
        audit_refusal(ctx, caller, AuditAction::CscSign, e, detail).await;
    }
    result
}

/// The audit row of a refused authorize or signature: the caller's holder and client, the code.
async fn audit_refusal(
    ctx: &Ctx<'_>,
    caller: &Caller,
    action: AuditAction,
    e: &CscError,
    detail: String,
) {
    let g = &caller.grant;
    ctx.audit(
        action,
        Some(g.hpki_id.to_string()),
        Some(&g.client_id),
        Some(e.code()),
        Some(detail),
    )
    .await;
}

/// One document's bytes, once its form is one signDoc makes.
fn parse_document(d: &p::SignDocument) -> Result<Vec<u8>, CscError> {
    let refuse = |m: &str| CscError::Document(m.into());
    if d.signature_format != p::FORMAT_CADES {
        return Err(refuse("signature_format must be C (CAdES)"));
    }
    if d.conformance_level.as_deref().is_some_and(|c| c != p::CONFORMANCE_B_B) {
        return Err(refuse("conformance_level must be Ades-B-B"));
    }
    if d.signed_envelope_property.as_deref().is_some_and(|e| e != p::ENVELOPE_DETACHED) {
        return Err(refuse("signed_envelope_property must be Detached"));
    }
    if d.sign_algo != p::OID_SHA256_WITH_RSA {
        return Err(refuse("signAlgo must be sha256WithRSAEncryption (1.2.840.113549.1.1.11)"));
    }
    // Refused before decoding: base64 is 4/3 the size.
    if d.document.len() > p::MAX_DOCUMENT_BYTES.div_ceil(3) * 4 + 4 {
        return Err(refuse("the document is larger than 32 KiB"));
    }
    let bytes =
        STANDARD.decode(&d.document).map_err(|_| invalid("a document is not valid base64"))?;
    if bytes.is_empty() {
        return Err(refuse("the document is empty"));
    }
    if bytes.len() > p::MAX_DOCUMENT_BYTES {
        return Err(refuse("the document is larger than 32 KiB"));
    }
    Ok(bytes)
}

async fn sign_doc_inner(
    ctx: &Ctx<'_>,
    certs: &SecondCerts,
    caller: &Caller,
    req: &p::SignDocRequest,
) -> Result<p::SignDocResponse, CscError> {
    if req.document_digests.is_some() {
        return Err(invalid("documentDigests are not supported: send documents, or use signHash"));
    }
    if req.operation_mode.as_deref().is_some_and(|m| m != "S") {
        return Err(invalid("only synchronous operation (operationMode S) is supported"));
    }
    if req.documents.is_empty() {
        return Err(invalid("documents are required"));
    }
    if req.documents.len() > p::MULTISIGN as usize {
        return Err(invalid("too many documents"));
    }
    let documents = req.documents.iter().map(parse_document).collect::<Result<Vec<_>, _>>()?;
    let digests: Vec<[u8; 32]> = documents.iter().map(|d| Sha256::digest(d).into()).collect();
    let g = &caller.grant;
    let Taken { record: r, key_id, spend } =
        take(ctx, caller, &req.credential_id, &req.sad, &digests).await?;
    let cert = r.certificate.as_deref().ok_or_else(|| {
        CscError::Internal(format!("credential {}: no certificate", r.credential_id))
    })?;
    let prepared = digests
        .iter()
        .map(|d| cades::prepare(d, cert, ctx.now_ms))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CscError::Internal(e.to_string()))?;
    // Dropping `spend` on failure rolls it back: nothing signed, nothing spent.
    let values = certs
        .hsm
        .sign_digests(key_id, SignAlg::RsaPkcs1Sha256, prepared.iter().map(|p| p.digest).collect())
        .await
        .map_err(|e| CscError::Hsm(e.to_string()))?;
    let mut signatures = Vec::with_capacity(digests.len());
    let mut events = Vec::with_capacity(digests.len());
    for ((digest, prepared), value) in digests.iter().zip(prepared).zip(values) {
        let cms = cades::finish(prepared, &value).map_err(|e| CscError::Internal(e.to_string()))?;
        signatures.push(STANDARD.encode(cms));
        events.push(audit_event(
            AuditAction::CscSign,
            Some(g.hpki_id.to_string()),
            Some(&g.client_id),
            None,
            Some(format!(
                "credential={} sid={} hash={} algo={} format=CAdES-B-B",
                r.credential_id,
                g.sid,
                crate::pki::hex(digest),
                p::OID_SHA256_WITH_RSA
            )),
        ));
    }
    spend.commit(&events).await?;
    Ok(p::SignDocResponse { signature_object: signatures })
}

impl From<SecondCertError> for CscError {
    fn from(e: SecondCertError) -> Self {
        match e {
            SecondCertError::Hsm(e) => Self::Hsm(e.to_string()),
            e => Self::Internal(e.to_string()),
        }
    }
}
