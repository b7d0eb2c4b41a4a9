//! The phone pages' bearer token: it travels in the URL fragment (never sent to a server by the
//! browser, never in a Referer), is read once, and is wiped from the address bar and history.

use std::future::Future;

use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// Takes the token out of the fragment and out of the history entry, leaving `path`.
pub fn take_token(path: &str) -> Option<String> {
    let window = web_sys::window()?;
    let hash = window.location().hash().ok()?;
    let token = hash.trim_start_matches('#').to_owned();
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
    }
    (!token.is_empty()).then_some(token)
}

/// Calls `on` when a new fragment arrives on the page already open: a second code opened in the
/// same tab changes only the fragment, which reloads nothing. Dropping the listener stops it.
fn on_new_token(on: impl Fn() + 'static) -> Option<gloo_events::EventListener> {
    let window = web_sys::window()?;
    let target = window.clone();
    Some(gloo_events::EventListener::new(&target, "hashchange", move |_| {
        let has_token = window.location().hash().is_ok_and(|h| h.len() > 1);
        if has_token {
            on();
        }
    }))
}

/// A phone page's start: `open` (which takes the token and sets the page's state) runs when the
/// page mounts, and again from `opening` whenever a new token arrives in the fragment.
#[hook]
pub fn use_token_page<S, F, Fut>(step: UseStateHandle<S>, opening: S, open: F)
where
    S: Clone + 'static,
    F: Fn(Box<dyn Fn(S)>) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    use_effect_with((), move |()| {
        let run = std::rc::Rc::new(move |step: UseStateHandle<S>| {
            spawn_local(open(Box::new(move |s| step.set(s))));
        });
        run(step.clone());
        let listener = {
            let run = run.clone();
            on_new_token(move || {
                step.set(opening.clone());
                run(step.clone());
            })
        };
        move || drop(listener)
    });
}
