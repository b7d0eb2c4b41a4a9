//! The audit log: append-only, one row per security-relevant event.

use std::sync::{Arc, RwLock};

use super::{Store, StoreError, now_ms};

/// Writes [`AuditAction`] once, one row per action: its variant and the exact string in the log
/// (operators grep these, so a string never changes once written).
macro_rules! audit_actions {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)*) => {
        /// What an audit row records.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum AuditAction {
            $($(#[$doc])* $variant,)*
        }

        impl AuditAction {
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }
        }
    };
}

audit_actions! {
    /// A card login (challenge answered, certificate checked).
    HpkiAuth => "hpki.auth",
    /// A daily sign-in (any of the three factors; the detail names it) or its refusal.
    SignIn => "signin",
    /// A signing session ended by its holder (sign-out, or from the holder's page).
    SignInEnd => "signin.end",
    /// The holder's current HPKI certificate changed.
    HpkiCertificate => "hpki.certificate",
    IdentityImport => "identity.import",
    IdentitySuspend => "identity.suspend",
    IdentityResume => "identity.resume",
    /// A JMA-path login (医籍登録番号 + カードID).
    JmaAuth => "jma.auth",
    JmaUnlock => "jma.unlock",
    MyNumberBind => "mynumber.bind",
    MyNumberReplace => "mynumber.replace",
    MyNumberRevoke => "mynumber.revoke",
    /// 別紙2: a PC's enrolment code.
    PhoneEnrolmentIssue => "phone.enrolment.issue",
    PhoneEnrolmentOpen => "phone.enrolment.open",
    PhoneEnrolmentCancel => "phone.enrolment.cancel",
    /// A first phone bound.
    PhoneBind => "phone.bind",
    /// A phone bound in place of the old one.
    PhoneReplace => "phone.replace",
    PhoneRevoke => "phone.revoke",
    /// スマートフォン変更's first code.
    PhoneChangeIssue => "phone.change.issue",
    PhoneChangeOpen => "phone.change.open",
    PhoneChangeBegin => "phone.change.begin",
    PhoneChangeProve => "phone.change.prove",
    PhoneChangeCancel => "phone.change.cancel",
    /// A confirmation code entered on the PC.
    PhoneConfirm => "phone.confirm",
    /// A path without the card refused a holder not in good standing.
    StandingRefuse => "standing.refuse",
    /// The CLI's `enrolment issue-link` (named as where a standing refusal happened).
    EnrolmentIssueLink => "enrolment.issue-link",
    /// `second-cert request`: a key pair made in the HSM and its CSR handed out.
    SecondCertRequest => "second_cert.request",
    /// `second-cert import`: the CA's certificate checked and the credential activated.
    SecondCertImport => "second_cert.import",
    SecondCertRevoke => "second_cert.revoke",
    /// The operator registered a relying service (`oidc-client add`).
    OidcClientAdd => "oidc.client.add",
    OidcClientRemove => "oidc.client.remove",
    /// The operator rotated the ID token signing key.
    OidcKeyRotate => "oidc.key.rotate",
    /// A holder's answer on the consent page (outcome `ok` or `access_denied`'s code).
    OidcConsent => "oidc.consent",
    /// An authorization request answered with a code, or refused.
    OidcAuthorize => "oidc.authorize",
    /// Tokens issued at the token endpoint (code or refresh grant), or refused.
    OidcToken => "oidc.token",
    /// A code redeemed twice or a refresh token reused: the grant's tokens were revoked.
    OidcGrantRevoke => "oidc.grant.revoke",
    /// A client revoked a token (RFC 7009).
    OidcRevoke => "oidc.revoke",
    /// CSC `credentials/authorize`: a SAD granted for a credential (or refused).
    CscAuthorize => "csc.authorize",
    /// CSC `signatures/signHash`: one row per signature made (or one per refused call).
    CscSign => "csc.sign",
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

type Observe = Arc<dyn Fn(&AuditEvent) + Send + Sync>;

/// Who hears of each audit row the store writes: the server's metrics count them. One slot
/// shared by every clone of a [`Store`]; a new observer replaces the old one. A row written in a
/// transaction that then rolls back has been heard of all the same (only lost races do that, and
/// they end before auditing).
#[derive(Clone, Default)]
pub struct AuditObserver(Arc<RwLock<Option<Observe>>>);

impl std::fmt::Debug for AuditObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditObserver")
    }
}

impl AuditObserver {
    fn tell(&self, e: &AuditEvent) {
        let observe = self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        if let Some(observe) = observe {
            observe(e);
        }
    }
}

/// An event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub hpki_id: Option<String>,
    pub action: AuditAction,
    pub client: Option<String>,
    /// `"ok"` or the error code that ended the action.
    pub outcome: String,
    pub detail: Option<String>,
}

/// A recorded event, as `audit tail` prints it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at_ms: i64,
    pub hpki_id: Option<String>,
    pub action: String,
    pub client: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

fn insert(e: &AuditEvent) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(
        "INSERT INTO audit_log (at_ms, hpki_id, action, client, outcome, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(now_ms())
    .bind(&e.hpki_id)
    .bind(e.action.as_str())
    .bind(&e.client)
    .bind(&e.outcome)
    .bind(&e.detail)
}

impl Store {
    /// Calls `observe` with every audit row this store (and its clones) writes from now on.
    pub fn observe_audit(&self, observe: impl Fn(&AuditEvent) + Send + Sync + 'static) {
        *self.observer.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(Arc::new(observe));
    }

    pub async fn audit(&self, e: &AuditEvent) -> Result<(), StoreError> {
        insert(e).execute(&self.pool).await?;
        self.observer.tell(e);
        Ok(())
    }

    /// Records `e` inside a transaction, so the event exists exactly when the change does.
    pub(super) async fn audit_in(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        e: &AuditEvent,
    ) -> Result<(), StoreError> {
        insert(e).execute(&mut **tx).await?;
        self.observer.tell(e);
        Ok(())
    }

    /// The newest `limit` events, oldest first.
    pub async fn audit_tail(&self, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        let mut rows: Vec<AuditRecord> = sqlx::query_as(
            "SELECT id, at_ms, hpki_id, action, client, outcome, detail FROM audit_log \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.reverse();
        Ok(rows)
    }
}
