//! 登録状況 (the holder's own page) as one explicit state enum: what the page shows, the
//! confirmation screen of each action, and what follows each answer.

use mahpki_protocol::{
    ErrorCode,
    account::{Account, AccountDone},
};

use crate::flows::run::Failure;

/// An action on the page, with what its confirmation screen names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// Revoke the phone `id` (shown by its label).
    RevokePhone { id: i64, label: String },
    /// Revoke the My Number card binding `id`.
    RevokeMyNumber { id: i64 },
    /// End one signing session; `this_browser` when it is this browser's own.
    EndSession { sid: String, this_browser: bool },
    /// End every signing session, this browser's too.
    EndAll,
    /// Sign out on this browser (no confirmation: nothing is lost).
    SignOut,
}

impl Pending {
    /// Whether the holder confirms it first (every action that removes something).
    pub fn needs_confirmation(&self) -> bool {
        !matches!(self, Pending::SignOut)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Asking the server for the page.
    Loading,
    /// No signing session on this browser: the way to sign in.
    NotSignedIn,
    /// The page, with the last action's result if there was one.
    Shown { account: Account, done: Option<Pending> },
    /// The confirmation screen (確認画面) of an action.
    Confirming { account: Account, pending: Pending },
    /// The action is under way.
    Working { account: Account, pending: Pending },
    /// This browser is signed out now (by サインアウト, ending its own session or all, or
    /// revoking the card it signed in with).
    SignedOut { after: Pending },
    /// Loading or an action failed; `account` is what the page last showed, if anything.
    Failed { account: Option<Account>, failure: Failure },
}

/// What the holder can ask for on a screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start an action: its confirmation screen, or at once if it needs none.
    Ask(Pending),
    /// 「取り消す」 (or 「終了する」) on the confirmation screen.
    Confirm,
    /// 「戻る」: back to the page, nothing done.
    Back,
    /// Load the page again.
    Reload,
}

impl Step {
    /// The page the screen was built on, if any.
    pub fn account(&self) -> Option<&Account> {
        match self {
            Step::Shown { account, .. }
            | Step::Confirming { account, .. }
            | Step::Working { account, .. } => Some(account),
            Step::Failed { account, .. } => account.as_ref(),
            _ => None,
        }
    }

    /// The page loaded (or loaded again after an action).
    pub fn loaded(result: Result<Account, ErrorCode>, done: Option<Pending>) -> Step {
        match result {
            Ok(account) => Step::Shown { account, done },
            Err(code) => Step::refused(None, code),
        }
    }

    /// A refusal: a lost sign-in is its own screen (the way back in), anything else a failure.
    pub fn refused(account: Option<Account>, code: ErrorCode) -> Step {
        match code {
            ErrorCode::NotSignedIn => Step::NotSignedIn,
            code => Step::Failed { account, failure: code.into() },
        }
    }

    /// The holder asked for `pending`: its confirmation screen (or at once: `Working`).
    pub fn ask(&self, pending: Pending) -> Step {
        let Some(account) = self.account().cloned() else { return self.clone() };
        if !matches!(self, Step::Shown { .. } | Step::Failed { .. }) {
            return self.clone();
        }
        if pending.needs_confirmation() {
            Step::Confirming { account, pending }
        } else {
            Step::Working { account, pending }
        }
    }

    /// 「取り消す」 on the confirmation screen.
    pub fn confirm(&self) -> Step {
        match self {
            Step::Confirming { account, pending } => {
                Step::Working { account: account.clone(), pending: pending.clone() }
            }
            other => other.clone(),
        }
    }

    /// 「戻る」: the page as it was.
    pub fn back(&self) -> Step {
        match self.account() {
            Some(account) if !matches!(self, Step::Working { .. }) => {
                Step::Shown { account: account.clone(), done: None }
            }
            _ => self.clone(),
        }
    }

    /// The server's answer to the action under way: signed out, or the page to load again.
    /// `None` means the page must be loaded again (with `done` noted).
    pub fn answered(&self, answer: Result<AccountDone, ErrorCode>) -> Option<Step> {
        let Step::Working { account, pending } = self else { return Some(self.clone()) };
        match answer {
            Ok(done) if done.signed_out => Some(Step::SignedOut { after: pending.clone() }),
            Ok(_) => None,
            Err(code) => Some(Step::refused(Some(account.clone()), code)),
        }
    }

    /// Whether the page is waiting on the server (a live region says so).
    pub fn busy(&self) -> bool {
        matches!(self, Step::Loading | Step::Working { .. })
    }
}
