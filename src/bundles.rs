//! What each bundle (`mahpki_protocol::pages::Bundle`, one binary in `src/bin/`) renders: one
//! function per bundle, naming only its own pages, so the linker leaves every other page's code
//! out of its wasm. Adding a page: its row in `pages!` (protocol/src/pages.rs) and its arm here.

use mahpki_protocol::pages::{Bundle, Page};
use yew::prelude::*;

use crate::{
    app::Render,
    flows::{
        consent::ConsentFlow,
        enrol::EnrolFlow,
        mynumber::MyNumberFlow,
        prove::ProveFlow,
        signin::SignInFlow,
        signin_phone::SignInPhoneFlow,
        signin_smartphone::SignInSmartphoneFlow,
        smartphone::{SmartphoneFlow, Via},
    },
    pages::{account::AccountPage, index::IndexPage},
};

pub fn home(page: Page) -> Option<Html> {
    match page {
        Page::Index => Some(html! { <IndexPage /> }),
        _ => None,
    }
}

pub fn mynumber(page: Page) -> Option<Html> {
    match page {
        Page::MyNumber => Some(html! { <MyNumberFlow /> }),
        _ => None,
    }
}

pub fn smartphone(page: Page) -> Option<Html> {
    let via = match page {
        Page::Smartphone => Via::Hpki,
        Page::SmartphoneJma => Via::Jma,
        Page::SmartphoneChange => Via::OldPhone,
        _ => return None,
    };
    Some(html! { <SmartphoneFlow {via} /> })
}

pub fn phone(page: Page) -> Option<Html> {
    match page {
        Page::Enrol | Page::EnrollLegacy => Some(html! { <EnrolFlow /> }),
        _ => None,
    }
}

pub fn phone_change(page: Page) -> Option<Html> {
    match page {
        Page::Change => Some(html! { <ProveFlow /> }),
        _ => None,
    }
}

pub fn phone_signin(page: Page) -> Option<Html> {
    match page {
        Page::SignInPhone => Some(html! { <SignInPhoneFlow /> }),
        _ => None,
    }
}

pub fn signin(page: Page) -> Option<Html> {
    match page {
        Page::SignIn => Some(html! { <SignInFlow /> }),
        _ => None,
    }
}

pub fn signin_smartphone(page: Page) -> Option<Html> {
    match page {
        Page::SignInSmartphone => Some(html! { <SignInSmartphoneFlow /> }),
        _ => None,
    }
}

pub fn account(page: Page) -> Option<Html> {
    match page {
        Page::Account => Some(html! { <AccountPage /> }),
        _ => None,
    }
}

pub fn consent(page: Page) -> Option<Html> {
    match page {
        Page::Consent => Some(html! { <ConsentFlow /> }),
        _ => None,
    }
}

/// A bundle's renderer, for tests that mount every page (a binary names its own function, so it
/// does not link the others).
pub fn renderer(bundle: Bundle) -> Render {
    match bundle {
        Bundle::Home => home,
        Bundle::MyNumber => mynumber,
        Bundle::Smartphone => smartphone,
        Bundle::Phone => phone,
        Bundle::PhoneChange => phone_change,
        Bundle::PhoneSignIn => phone_signin,
        Bundle::SignIn => signin,
        Bundle::SignInSmartphone => signin_smartphone,
        Bundle::Account => account,
        Bundle::Consent => consent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scripts/web.sh builds one Trunk bundle per `src/bin/<name>.rs`, and the server serves
    /// `dist/<name>/` for each `Bundle`: the two lists must be the same.
    #[test]
    fn each_bundle_is_one_binary() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/bin");
        let mut bins: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        let mut names: Vec<String> = Bundle::ALL.iter().map(|b| b.name().to_owned()).collect();
        bins.sort();
        names.sort();
        assert_eq!(bins, names);
    }
}
