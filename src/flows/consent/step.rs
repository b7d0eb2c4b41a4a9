//! The consent page (`/consent?request=…`, issue 12) as one explicit state enum: read who asks,
//! ask the holder, send the answer, then leave for the service.

use mahpki_protocol::oidc::ConsentPrompt;

use crate::flows::run::Failure;

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Reading the request (`GET /api/oidc/consent`).
    Loading,
    /// 「同意する」/「同意しない」 for this service.
    Asking(ConsentPrompt),
    /// The answer is on its way.
    Sending(ConsentPrompt),
    /// The answer was taken: the browser is going back to the service.
    Leaving,
    Failed(Failure),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Approve,
    Decline,
}

impl Step {
    pub fn name(&self) -> &'static str {
        match self {
            Step::Loading => "loading",
            Step::Asking(_) => "asking",
            Step::Sending(_) => "sending",
            Step::Leaving => "leaving",
            Step::Failed(_) => "failed",
        }
    }

    /// The answer `action` sends from this step: only while asking, and only once.
    pub fn answer(&self, action: Action) -> Option<(Step, bool)> {
        match self {
            Step::Asking(p) => Some((Step::Sending(p.clone()), action == Action::Approve)),
            _ => None,
        }
    }
}

/// The pending request's id from the page's query (`?request=…`): 43 characters of base64url.
pub fn request_id(search: &str) -> Option<String> {
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix("request="))
        .filter(|v| {
            v.len() == 43 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use mahpki_protocol::{
        HpkiId,
        api::{Ca, Holder, Qualification},
    };

    use super::*;

    fn prompt() -> ConsentPrompt {
        ConsentPrompt {
            client_name: "処方システム".into(),
            client_id: "c-1".into(),
            holder: Holder {
                hpki_id: HpkiId::parse("JMA-0000001").unwrap(),
                ca: Ca::Jma,
                qualification: Qualification::Doctor,
                name_kanji: "医師 花子".into(),
                name_kana: "イシ ハナコ".into(),
                name_roman: "ISHI HANAKO".into(),
            },
            remote_signing: true,
        }
    }

    #[test]
    fn an_answer_is_sent_once_and_only_when_asked() {
        let (next, approve) = Step::Asking(prompt()).answer(Action::Approve).unwrap();
        assert!(approve);
        assert_eq!(next, Step::Sending(prompt()));
        assert_eq!(next.answer(Action::Decline), None);
        assert!(!Step::Asking(prompt()).answer(Action::Decline).unwrap().1);
        assert_eq!(Step::Loading.answer(Action::Approve), None);
    }

    #[test]
    fn the_request_id_is_read_strictly() {
        let id = "a".repeat(43);
        assert_eq!(request_id(&format!("?request={id}")), Some(id.clone()));
        assert_eq!(request_id(&format!("?x=1&request={id}")), Some(id));
        assert_eq!(request_id("?request=short"), None);
        assert_eq!(request_id(&format!("?request={}", "<".repeat(43))), None);
        assert_eq!(request_id(""), None);
    }
}
