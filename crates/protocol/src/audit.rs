//! The audit trail's actions: written by the server, read back to the holder on their own page
//! (`/account`), so the one table lives where both sides see it.

use serde::{Deserialize, Serialize};

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
    /// The スマートフォン way of signing in from a PC: its sign-in code issued, opened by a
    /// phone, proved by that phone's passkey, cancelled (中止 or a newer code). The PC's
    /// sign-in itself is a `signin` row.
    SignInCodeIssue => "signin.code.issue",
    SignInCodeOpen => "signin.code.open",
    SignInCodeProve => "signin.code.prove",
    SignInCodeCancel => "signin.code.cancel",
    /// A confirmation code entered on the PC.
    PhoneConfirm => "phone.confirm",
    /// A path without the card refused a holder not in good standing.
    StandingRefuse => "standing.refuse",
    /// The CLI's `enrolment issue-link` (named as where a standing refusal happened).
    EnrolmentIssueLink => "enrolment.issue-link",
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
    /// `second-cert request`: a key pair made in the HSM and its CSR handed out.
    SecondCertRequest => "second_cert.request",
    /// `second-cert import`: the CA's certificate checked and the credential activated.
    SecondCertImport => "second_cert.import",
    SecondCertRevoke => "second_cert.revoke",
    /// CSC `credentials/authorize`: a SAD granted for a credential (or refused; also a
    /// `credentials/list` or `info` refused to a token without the signing scope).
    CscAuthorize => "csc.authorize",
    /// CSC `signatures/signHash` and `signDoc`: one row per signature made (or one per refused
    /// call).
    CscSign => "csc.sign",
}

impl AuditAction {
    /// The action logged as `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.as_str() == s)
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// On the wire as the log's own string (`phone.revoke`).
impl Serialize for AuditAction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuditAction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::parse(&s)
            .ok_or_else(|| serde::de::Error::unknown_variant(&s, &["an AuditAction::ALL string"]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_and_strings_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &a in AuditAction::ALL {
            assert!(seen.insert(a.as_str()), "{a:?}");
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(serde_json::from_str::<AuditAction>(&json).unwrap(), a);
        }
        assert!(serde_json::from_str::<AuditAction>("\"no.such\"").is_err());
    }
}
