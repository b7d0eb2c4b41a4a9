//! The PC's live view of its enrolment: Server-Sent Events, authenticated by the session cookie
//! (same origin), never by the token. The server sends the current state first, so a reconnect
//! (EventSource retries by itself) never misses the phone's completion.

use mahpki_protocol::{ErrorCode, enrol::EnrolmentEvent};
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{EventSource, MessageEvent};
use yew::Callback;

const NAMES: [&str; 5] = ["waiting", "opened", "completed", "expired", "cancelled"];

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

/// Subscribes to `url`. `on` gets each event, or an error once the stream is closed for good
/// (the session ended, or the server refused).
pub fn subscribe(
    url: &str,
    on: Callback<Result<EnrolmentEvent, ErrorCode>>,
) -> Option<Subscription> {
    let source = EventSource::new(url).ok()?;
    let on_event = {
        let on = on.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let parsed = e
                .data()
                .as_string()
                .and_then(|d| serde_json::from_str::<EnrolmentEvent>(&d).ok())
                .ok_or(ErrorCode::Internal);
            on.emit(parsed);
        })
    };
    for name in NAMES {
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
