//! The holder's own page (登録状況, `/account`): what is registered to them, which sign-ins are
//! open, and what happened lately. Answer of `GET /api/account`; the actions on it answer
//! [`AccountDone`].

use serde::{Deserialize, Serialize};

use crate::{
    ErrorCode,
    api::{Holder, SignInFactor},
    audit::AuditAction,
};

/// `GET /api/account`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub holder: Holder,
    /// The bound My Number card, if one is.
    pub mynumber: Option<AccountMyNumber>,
    /// Every phone ever bound, the working one first, then the ended ones newest first.
    pub phones: Vec<AccountPhone>,
    /// The open signing sessions, newest first.
    pub sessions: Vec<AccountSession>,
    /// The holder's last 20 audit events, newest first.
    pub events: Vec<AccountEvent>,
    /// The holder's last 20 batches of remote signatures (CSC), newest first.
    pub signatures: Vec<AccountSignatures>,
}

/// Remote signatures one service made with the holder's key within one minute (only the ones
/// made: refused requests are among the events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSignatures {
    /// Unix seconds: the newest of them.
    pub at: i64,
    /// The service's display name (its client id if it has none any more).
    pub service: String,
    pub count: u32,
}

/// The My Number card binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountMyNumber {
    /// The binding's row (what `POST /api/account/mynumber/revoke` names).
    pub id: i64,
    /// The JPKI certificate's issuer, as the certificate names it.
    pub issuer: String,
    /// Its serial number, hex.
    pub serial: String,
    /// Unix seconds: when the certificate (and so the binding) expires.
    pub not_after: i64,
    /// Unix seconds: when it was bound.
    pub since: i64,
}

/// A bound phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPhone {
    pub id: i64,
    pub label: String,
    /// Unix seconds.
    pub registered: i64,
    /// Unix seconds: the latest sign-in with it, if any.
    pub last_used: Option<i64>,
    /// Unix seconds: when it stopped working (revoked or replaced); `None` while it works.
    pub ended: Option<i64>,
}

/// An open signing session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSession {
    /// The session's public id (never its cookie).
    pub sid: String,
    pub factor: SignInFactor,
    /// A short description of the browser, from its user agent (`Chrome / Windows`); empty
    /// when it did not say.
    pub browser: String,
    /// Unix seconds.
    pub since: i64,
    /// Unix seconds.
    pub until: i64,
    /// The session of the browser asking.
    pub this_browser: bool,
}

/// One audit event of the holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEvent {
    /// Unix seconds.
    pub at: i64,
    pub action: AuditAction,
    /// `None` when it succeeded, else the code that refused it.
    pub refused: Option<ErrorCode>,
    /// The way in, for sign-ins.
    pub factor: Option<SignInFactor>,
}

/// Answer of each action on the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDone {
    /// The action ended this browser's own signing session (its cookie is cleared).
    pub signed_out: bool,
    /// How many signing sessions ended with it (the binding's, or all).
    pub sessions_ended: u64,
}
