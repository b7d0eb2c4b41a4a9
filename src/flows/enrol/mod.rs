//! 別紙2 on the phone (`/enrol#<token>`; CA links printed as `/enroll#<token>` land here too):
//! the token comes from the URL fragment (never sent to a server by the browser, never in a
//! Referer), is presented once to claim the enrolment for this phone, and is then wiped from the
//! address bar.

pub mod step;
pub mod view;

use std::rc::Rc;

use mahpki_protocol::{
    ErrorCode,
    enrol::{ENROL_PATH, EnrolmentOpened, FinishEnrolment, PhoneConfirm, PhoneConfirmEvent},
};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

pub use step::{Action, NewCredential, Step};
pub use view::EnrolView;

use crate::{
    date,
    flows::{confirm, fragment},
    i18n::Lang,
    lang::use_lang,
    remember, server, webauthn,
};

fn default_label(lang: Lang) -> String {
    let nav = web_sys::window().map(|w| w.navigator());
    let ua = nav.as_ref().and_then(|n| n.user_agent().ok()).unwrap_or_default();
    // `navigator.userAgentData.platform` (Chromium browsers): read by name, as web-sys has no
    // binding for it; absent elsewhere.
    let platform = nav.and_then(|n| {
        let data = js_sys::Reflect::get(&n, &"userAgentData".into()).ok()?;
        js_sys::Reflect::get(&data, &"platform".into()).ok()?.as_string()
    });
    let today = date::jst_ymd((js_sys::Date::now() / 1000.0) as i64);
    step::default_label(lang, platform.as_deref(), &ua, today)
}

async fn open(set: impl Fn(Step)) {
    let Some(token) = fragment::take_token(ENROL_PATH) else {
        return set(Step::Failed { failure: ErrorCode::EnrolmentUnknown.into(), opened: None });
    };
    set(match server::enrol_open(token).await {
        Ok(opened) => Step::Login(opened),
        Err(e) => Step::Failed { failure: e.into(), opened: None },
    });
}

async fn register(opened: EnrolmentOpened, lang: Lang, set: impl Fn(Step)) {
    set(Step::Registering(opened.clone()));
    let created = async {
        let options = server::enrol_begin().await?.options;
        webauthn::create(options).await
    }
    .await;
    set(match created {
        Ok(credential) => Step::Label {
            opened,
            credential: NewCredential(Rc::new(credential)),
            label: default_label(lang),
        },
        Err(e) => Step::Failed { failure: e.into(), opened: Some(opened) },
    });
}

async fn finish(
    opened: EnrolmentOpened,
    credential: NewCredential,
    label: String,
    set: impl Fn(Step),
) {
    set(Step::Saving(opened.clone()));
    let finish = FinishEnrolment { credential: (*credential.0).clone(), label };
    set(match server::enrol_finish(&finish).await {
        Ok(bound) => {
            // For this phone's own スマートフォン変更 later: its login screen is filled in.
            remember::set_hpki_id(opened.hpki_id.as_str());
            Step::Done { bound, link: step::is_link(&opened) }
        }
        Err(e) => Step::Failed { failure: e.into(), opened: Some(opened) },
    });
}

/// What the server's word about this phone's confirmation turns the login screen into. The 登録
/// button appears only once the PC confirmed, so the holder's press on it is the user gesture
/// WebAuthn needs.
pub fn on_confirm(
    opened: &EnrolmentOpened,
    event: Result<PhoneConfirmEvent, ErrorCode>,
) -> Option<Step> {
    let failed = |code: ErrorCode| Step::Failed { failure: code.into(), opened: None };
    Some(match event {
        Ok(PhoneConfirmEvent::Pending { .. }) => return None,
        Ok(PhoneConfirmEvent::Confirmed) => {
            Step::Login(EnrolmentOpened { confirm: PhoneConfirm::Done, ..opened.clone() })
        }
        Ok(PhoneConfirmEvent::Failed) => failed(ErrorCode::ConfirmationFailed),
        Ok(PhoneConfirmEvent::Ended) => failed(ErrorCode::EnrolmentCancelled),
        Err(e) => failed(e),
    })
}

#[function_component(EnrolFlow)]
pub fn enrol_flow() -> Html {
    let step = use_state(|| Step::Opening);
    let lang = use_lang().lang;
    fragment::use_token_page(step.clone(), Step::Opening, open);
    {
        // While the code is on screen: hear when the PC entered it.
        let waiting = match &*step {
            Step::Login(o) if step.confirmation().is_some() => Some(o.clone()),
            _ => None,
        };
        confirm::use_pc_confirmation(waiting, step.clone(), on_confirm);
    }
    let on_action = {
        let step = step.clone();
        Callback::from(move |action: Action| {
            let set = {
                let step = step.clone();
                move |s| step.set(s)
            };
            match (action, (*step).clone()) {
                (Action::Register, Step::Login(opened))
                    if !matches!(opened.confirm, PhoneConfirm::Show { .. }) =>
                {
                    spawn_local(register(opened, lang, set));
                }
                (Action::ConfirmLabel(label), Step::Label { opened, credential, .. }) => {
                    spawn_local(finish(opened, credential, label, set));
                }
                (Action::Retry, Step::Failed { opened: Some(opened), .. }) => {
                    step.set(Step::Login(opened));
                }
                _ => {}
            }
        })
    };
    html! { <EnrolView step={(*step).clone()} {on_action} /> }
}
