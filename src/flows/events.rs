//! The PC's live view of a code it shows (an enrolment, or a change's first code), and the
//! phone's of its confirmation: Server-Sent Events, authenticated by the session cookie (or the
//! phone's cookie; same origin), never by the token. The server
//! sends the current state first, so a reconnect (EventSource retries by itself) never misses
//! the phone's step.

use mahpki_protocol::{
    ErrorCode,
    endpoints::{self as ep, Endpoint as _},
    enrol::{CodeEvent, PhoneConfirmEvent},
};
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{EventSource, MessageEvent};
use yew::Callback;

/// An event stream the server offers: where it is, what it sends and the `event:` names.
pub trait Stream: 'static {
    type Event: DeserializeOwned + 'static;
    const PATH: &'static str;
    const NAMES: &'static [&'static str];
}

/// The PC's enrolment code (both purposes of a code send [`CodeEvent`]s).
pub struct EnrolmentCode;

impl Stream for EnrolmentCode {
    type Event = CodeEvent;
    const PATH: &'static str = ep::EnrolmentEvents::URL;
    const NAMES: &'static [&'static str] = CodeEvent::NAMES;
}

/// The PC's first code of スマートフォン変更.
pub struct ChangeCode;

impl Stream for ChangeCode {
    type Event = CodeEvent;
    const PATH: &'static str = ep::ChangeEvents::URL;
    const NAMES: &'static [&'static str] = CodeEvent::NAMES;
}

/// The PC's sign-in code (the スマートフォン way of the daily sign-in).
pub struct SignInCode;

impl Stream for SignInCode {
    type Event = CodeEvent;
    const PATH: &'static str = ep::SignInCodeEvents::URL;
    const NAMES: &'static [&'static str] = CodeEvent::NAMES;
}

/// The phone's side: its confirmation, keyed by the phone's own cookie.
impl Stream for PhoneConfirmEvent {
    type Event = Self;
    const PATH: &'static str = ep::ConfirmationEvents::URL;
    const NAMES: &'static [&'static str] = PhoneConfirmEvent::NAMES;
}

/// An open subscription; dropping it closes the stream.
pub struct Subscription {
    source: EventSource,
    _on_event: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Subscribes to `T`'s stream. `on` gets each event, or an error once the stream is closed for
/// good (the session ended, or the server refused).
pub fn subscribe<T: Stream>(on: Callback<Result<T::Event, ErrorCode>>) -> Option<Subscription> {
    let source = EventSource::new(T::PATH).ok()?;
    let on_event = {
        let on = on.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let parsed = e
                .data()
                .as_string()
                .and_then(|d| serde_json::from_str::<T::Event>(&d).ok())
                .ok_or(ErrorCode::Internal);
            on.emit(parsed);
        })
    };
    for name in T::NAMES {
        let _ = source.add_event_listener_with_callback(name, on_event.as_ref().unchecked_ref());
    }
    let on_error = {
        let source = source.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            // CONNECTING means the browser is retrying by itself; CLOSED is final (e.g. 401).
            if source.ready_state() == EventSource::CLOSED {
                on.emit(Err(ErrorCode::SessionExpired));
            }
        })
    };
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Some(Subscription { source, _on_event: on_event, _on_error: on_error })
}
