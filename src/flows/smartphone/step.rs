//! Binding a smartphone on the PC as one explicit state enum. The PC first proves whose phone it
//! enrols, one of three ways ([`Via`]): the HPKI card (別紙2), the numbers printed on a JMA card
//! (the JMA path), or the phone bound now (スマートフォン変更, its first code). What follows is the
//! same: the replace question, the 2D code with its countdown, the phone's progress pushed by
//! the server, completion.

use mahpki_protocol::{ErrorCode, api::Holder, helper::ReaderStatus};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::flows::{card::CardStage, run::Failure};

/// How the PC proves whose phone it enrols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// 「HPKIカードで登録または変更」.
    Hpki,
    /// 医籍登録番号 and カードID (JMA holders, where the CA allows it).
    Jma,
    /// スマートフォン変更: the phone bound now proves the holder; the new phone replaces it.
    OldPhone,
}

/// A code the PC shows. `url` is the 2D code's content (secret until used).
#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    pub url: String,
    /// `Date.now()` milliseconds at which the code stops opening.
    pub deadline_ms: f64,
    pub replace: bool,
}

/// What the holder typed into the JMA form, kept in memory only for the form's next render.
/// The カードID is half of a (weak) secret: wiped when dropped, never printed.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct JmaEntry {
    /// 医籍登録番号.
    pub registration_number: String,
    /// カードID.
    pub card_id: String,
}

impl std::fmt::Debug for JmaEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JmaEntry")
            .field("registration_number", &self.registration_number)
            .finish_non_exhaustive()
    }
}

/// A phone opened the code on screen and shows a confirmation code: the PC asks for it. The
/// same screen in both flows; `holder` is `None` for a change's first code (the PC does not
/// know the holder until the code is confirmed).
#[derive(Debug, Clone, PartialEq)]
pub struct Confirming {
    pub holder: Option<Holder>,
    pub code: Code,
    /// From the server's latest event.
    pub tries_left: u8,
    /// The last entry was wrong.
    pub wrong: bool,
    /// An entry is on its way.
    pub sending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    // The HPKI card.
    CheckingHelper,
    /// With where to get `mahpki-helper`.
    HelperMissing(ErrorCode, String),
    Ready {
        readers: Vec<ReaderStatus>,
    },
    HpkiAuth(CardStage),
    // The JMA path.
    /// The two numbers printed on the card; `failure` is the last refusal, shown above the form
    /// with what was entered, so a typo is corrected rather than typed again.
    JmaForm {
        failure: Option<Failure>,
        entry: JmaEntry,
    },
    /// The same form, held while the server checks it.
    JmaChecking(JmaEntry),
    // スマートフォン変更's first code, for the phone bound now.
    /// Asking for the first code, or (once proved) for whose phone it is.
    ChangeIssuing,
    FirstCode(Code),
    /// The old phone opened it: 「旧スマートフォンで操作を続けてください」.
    FirstOpened(Code),
    /// Shared: the phone that opened the code shows a confirmation code; type it here.
    Confirm(Confirming),
    /// Three wrong confirmation codes: the code is dead; a new one is needed (`replace` carries
    /// the holder's answer, as for [`Step::Expired`]).
    ConfirmFailed {
        holder: Option<Holder>,
        replace: bool,
    },
    FirstExpired,
    // Shared: the holder is known.
    /// Asking the server for a code.
    Issuing(Holder),
    /// 「デバイスがすでに登録済みとなっています。現在のデバイスを削除して再度登録をし直しますか?」
    AskReplace(Holder),
    /// The 2D code and the countdown.
    ShowCode(Holder, Code),
    /// The PC confirmed the phone: 「スマートフォンで操作を続けてください」.
    Opened(Holder, Code),
    /// 「有効期限が切れました」, with a re-issue button (`replace` carries the holder's answer).
    Expired {
        holder: Holder,
        replace: bool,
    },
    /// The phone's credential is committed.
    Done {
        holder: Holder,
        replaced: bool,
    },
    /// The holder answered いいえ: the registered phone stays as it is.
    KeptCurrent(Holder),
    Failed {
        failure: Failure,
        holder: Option<Holder>,
    },
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    CheckHelper,
    StartHpki,
    /// 「認証」 on the JMA form.
    JmaLogin(JmaEntry),
    /// はい to the replace question.
    Replace,
    /// いいえ to the replace question.
    Keep,
    /// A new code after expiry (or after a failure while identified).
    Reissue,
    /// 「確認」 with the confirmation code as typed.
    Confirm(String),
    Retry,
    Cancel,
}

impl Step {
    /// Where a flow starts (and starts over).
    pub fn first(via: Via) -> Self {
        match via {
            Via::Hpki => Step::CheckingHelper,
            Via::Jma => Step::JmaForm { failure: None, entry: JmaEntry::default() },
            Via::OldPhone => Step::ChangeIssuing,
        }
    }

    pub fn failed(failure: Failure, holder: Option<Holder>) -> Self {
        let ends = matches!(failure.code, ErrorCode::Unauthenticated | ErrorCode::SessionExpired);
        Step::Failed { failure, holder: holder.filter(|_| !ends) }
    }

    pub fn holder(&self) -> Option<&Holder> {
        match self {
            Step::Issuing(h)
            | Step::AskReplace(h)
            | Step::ShowCode(h, _)
            | Step::Opened(h, _)
            | Step::Expired { holder: h, .. }
            | Step::KeptCurrent(h)
            | Step::Done { holder: h, .. } => Some(h),
            Step::Failed { holder, .. } => holder.as_ref(),
            Step::Confirm(c) => c.holder.as_ref(),
            Step::ConfirmFailed { holder, .. } => holder.as_ref(),
            _ => None,
        }
    }

    /// The code on screen, while the server may still push events about it.
    pub fn live_code(&self) -> Option<&Code> {
        match self {
            Step::ShowCode(_, c)
            | Step::Opened(_, c)
            | Step::FirstCode(c)
            | Step::FirstOpened(c) => Some(c),
            Step::Confirm(c) => Some(&c.code),
            _ => None,
        }
    }

    /// Whether 中止 belongs on this screen. Not on the replace question: its 「いいえ」 already
    /// ends without changing anything, and two buttons for one outcome read as a puzzle.
    pub fn cancellable(&self) -> bool {
        matches!(
            self,
            Step::HpkiAuth(_)
                | Step::JmaChecking(_)
                | Step::ChangeIssuing
                | Step::FirstCode(_)
                | Step::FirstOpened(_)
                | Step::FirstExpired
                | Step::Confirm(_)
                | Step::ConfirmFailed { .. }
                | Step::Issuing(_)
                | Step::ShowCode(..)
                | Step::Opened(..)
                | Step::Expired { .. }
        )
    }

    pub fn busy(&self) -> bool {
        matches!(
            self,
            Step::CheckingHelper
                | Step::HpkiAuth(_)
                | Step::JmaChecking(_)
                | Step::ChangeIssuing
                | Step::FirstOpened(_)
                | Step::Issuing(_)
                | Step::Opened(..)
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            Step::CheckingHelper => "checking_helper",
            Step::HelperMissing(..) => "helper_missing",
            Step::Ready { .. } => "ready",
            Step::HpkiAuth(_) => "hpki_auth",
            Step::JmaForm { .. } => "jma_form",
            Step::JmaChecking(_) => "jma_checking",
            Step::ChangeIssuing => "change_issuing",
            Step::FirstCode(_) => "first_code",
            Step::FirstOpened(_) => "first_opened",
            Step::FirstExpired => "first_expired",
            Step::Confirm(_) => "confirm",
            Step::ConfirmFailed { .. } => "confirm_failed",
            Step::Issuing(_) => "issuing",
            Step::AskReplace(_) => "ask_replace",
            Step::ShowCode(..) => "show_code",
            Step::Opened(..) => "opened",
            Step::Expired { .. } => "expired",
            Step::Done { .. } => "done",
            Step::KeptCurrent(_) => "kept_current",
            Step::Failed { .. } => "failed",
            Step::Cancelled => "cancelled",
        }
    }
}

/// Seconds left on a code at `now_ms`, never negative.
pub fn seconds_left(code: &Code, now_ms: f64) -> u32 {
    let left = ((code.deadline_ms - now_ms) / 1000.0).ceil();
    if left <= 0.0 { 0 } else { left as u32 }
}

/// The screen a code turns into when its countdown reaches zero before the server says so.
pub fn ran_out(step: &Step, now_ms: f64) -> Option<Step> {
    match step {
        Step::ShowCode(holder, code) if seconds_left(code, now_ms) == 0 => {
            Some(Step::Expired { holder: holder.clone(), replace: code.replace })
        }
        Step::FirstCode(code) if seconds_left(code, now_ms) == 0 => Some(Step::FirstExpired),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use mahpki_protocol::{
        HpkiId,
        api::{Ca, Qualification},
    };

    use super::*;

    fn code() -> Code {
        Code { url: "u".into(), deadline_ms: 10_000.0, replace: false }
    }

    fn holder() -> Holder {
        Holder {
            hpki_id: HpkiId::parse("HP0000000001").unwrap(),
            ca: Ca::Jma,
            qualification: Qualification::Doctor,
            name_kanji: "医療 太郎".into(),
            name_kana: "イリョウ タロウ".into(),
            name_roman: "IRYO TARO".into(),
        }
    }

    #[test]
    fn the_countdown_rounds_up_and_stops_at_zero() {
        assert_eq!(seconds_left(&code(), 0.0), 10);
        assert_eq!(seconds_left(&code(), 9_001.0), 1);
        assert_eq!(seconds_left(&code(), 10_000.0), 0);
        assert_eq!(seconds_left(&code(), 20_000.0), 0);
    }

    #[test]
    fn an_ended_session_is_not_kept_after_a_failure() {
        let f = Step::failed(ErrorCode::SessionExpired.into(), Some(holder()));
        assert_eq!(f.holder(), None);
        assert!(!f.cancellable());
        let f = Step::failed(ErrorCode::ServerUnreachable.into(), Some(holder()));
        assert_eq!(f.holder(), Some(&holder()));
    }

    #[test]
    fn each_way_starts_where_it_proves_the_holder() {
        assert_eq!(Step::first(Via::Hpki), Step::CheckingHelper);
        assert_eq!(
            Step::first(Via::Jma),
            Step::JmaForm { failure: None, entry: JmaEntry::default() }
        );
        assert_eq!(Step::first(Via::OldPhone), Step::ChangeIssuing);
    }

    #[test]
    fn the_card_id_is_never_printed() {
        let e = JmaEntry { registration_number: "101111".into(), card_id: "JMA00000001".into() };
        assert!(!format!("{e:?}").contains("JMA00000001"));
        assert!(!format!("{:?}", Action::JmaLogin(e)).contains("JMA00000001"));
    }

    #[test]
    fn a_code_that_ran_out_expires_on_screen() {
        let first = Step::FirstCode(code());
        assert_eq!(ran_out(&first, 9_000.0), None);
        assert_eq!(ran_out(&first, 10_000.0), Some(Step::FirstExpired));
        let second = Step::ShowCode(holder(), Code { replace: true, ..code() });
        assert_eq!(
            ran_out(&second, 10_000.0),
            Some(Step::Expired { holder: holder(), replace: true })
        );
        // Once the phone opened it, the phone's own deadline is the server's to judge.
        assert_eq!(ran_out(&Step::Opened(holder(), code()), 20_000.0), None);
        let asking = Confirming {
            holder: Some(holder()),
            code: code(),
            tries_left: 3,
            wrong: false,
            sending: false,
        };
        assert_eq!(ran_out(&Step::Confirm(asking), 20_000.0), None);
    }
}
