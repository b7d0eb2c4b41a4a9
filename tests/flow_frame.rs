//! The frame every flow's steps render in (`flows::widgets::{flow_frame, use_step_focus}`), in real headless
//! Chromium: a new step moves the focus to its heading (the page's first render and new words on
//! the same step do not), the live region is one element that stays while its words change, and
//! a code's countdown reaches it only at the minute and at 30 seconds.
#![cfg(target_arch = "wasm32")]

use std::{cell::RefCell, rc::Rc};

use gloo_timers::future::TimeoutFuture;
use mahpki::{
    flows::{
        smartphone::code_view::announced,
        widgets::{Frame, Status, flow_frame, use_step_focus},
    },
    i18n::{self, Lang, Msg},
    lang::use_lang,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;

/// One screen of a made-up flow: its step name, heading and live region words.
#[derive(Clone, PartialEq)]
struct Screen {
    step: &'static str,
    heading: Option<&'static str>,
    status: Option<Status>,
}

type Setter = Rc<RefCell<Option<Callback<Screen>>>>;

#[derive(Properties, PartialEq)]
struct HarnessProps {
    first: Screen,
    setter: Setter,
}

/// Holds the screen in state, as a flow does, and hands the test a way to change it.
#[function_component(Harness)]
fn harness(props: &HarnessProps) -> Html {
    let screen = use_state(|| props.first.clone());
    {
        let set = screen.setter();
        *props.setter.borrow_mut() = Some(Callback::from(move |s| set.set(s)));
    }
    let ctx = use_lang();
    use_step_focus(screen.step);
    let frame = Frame {
        title: Msg::MyNumberSiteTitle,
        step: screen.step,
        heading: screen.heading.map(AttrValue::from),
        status: screen.status.clone(),
    };
    flow_frame(
        &ctx,
        frame,
        html! { <button type="button" id="step-button">{ "a button" }</button> },
    )
}

fn active_id() -> Option<String> {
    let doc = web_sys::window()?.document()?;
    doc.active_element().map(|e| e.id())
}

fn by_id(root: &Element, id: &str) -> Element {
    root.query_selector(&format!("#{id}")).unwrap().unwrap_or_else(|| panic!("no #{id}"))
}

async fn mount(first: Screen) -> (common::Mounted, Setter) {
    let setter: Setter = Rc::default();
    let m = common::mount(Lang::Ja, html! { <Harness {first} setter={setter.clone()} /> }).await;
    (m, setter)
}

async fn show(setter: &Setter, s: Screen) {
    let set = setter.borrow().clone().unwrap();
    set.emit(s);
    TimeoutFuture::new(20).await;
}

fn screen(step: &'static str, heading: Option<&'static str>, status: Option<Status>) -> Screen {
    Screen { step, heading, status }
}

#[wasm_bindgen_test]
async fn a_new_step_moves_the_focus_to_its_heading_and_the_first_render_does_not() {
    let busy = Status::Busy("待っています".into());
    let (m, setter) = mount(screen("one", Some("一つ目"), Some(busy.clone()))).await;
    assert_ne!(active_id().as_deref(), Some("step-title"), "the first render keeps the focus");
    assert_eq!(by_id(&m.root, "step-title").get_attribute("tabindex").as_deref(), Some("-1"));

    // The holder is on the step's button; the step changes under it.
    let button: HtmlElement = m.root.query_selector("button").unwrap().unwrap().dyn_into().unwrap();
    button.focus().unwrap();
    let region = by_id(&m.root, "flow-status");
    show(&setter, screen("two", Some("二つ目"), Some(Status::Done("できました".into())))).await;
    assert_eq!(active_id().as_deref(), Some("step-title"));
    assert_eq!(by_id(&m.root, "step-title").text_content().as_deref(), Some("二つ目"));
    // The same region (a live region inserted with its words is often not read), new words.
    let now = by_id(&m.root, "flow-status");
    assert!(region.is_same_node(Some(&now)), "the live region was replaced");
    assert_eq!(now.get_attribute("role").as_deref(), Some("status"));
    assert_eq!(now.get_attribute("aria-live").as_deref(), Some("polite"));
    assert_eq!(now.text_content().as_deref(), Some("できました"));

    // The same step with other words (e.g. the card's next stage) leaves the focus alone.
    button.focus().unwrap();
    show(&setter, screen("two", Some("二つ目"), Some(busy))).await;
    assert_eq!(active_id().as_deref(), Some("step-button"));
    assert_eq!(by_id(&m.root, "flow-status").text_content().as_deref(), Some("待っています"));

    // A step without its own heading gives the focus to the page's title.
    show(&setter, screen("three", None, None)).await;
    assert_eq!(active_id().as_deref(), Some("flow-title"));
    assert!(m.root.query_selector("#step-title").unwrap().is_none());
    assert_eq!(by_id(&m.root, "flow-status").text_content().as_deref(), Some(""));
    assert!(
        region.is_same_node(Some(&by_id(&m.root, "flow-status"))),
        "the live region was replaced"
    );
}

#[wasm_bindgen_test]
fn the_countdown_is_announced_once_a_minute_and_at_thirty_seconds() {
    let said = |secs| i18n::expires_in(Lang::Ja, announced(secs));
    // 600 s to 541 s is one announcement; it changes at each whole minute, then at 30 s.
    assert_eq!(said(600), "有効期限まで残り 10分00秒");
    assert_eq!(said(541), said(600));
    assert_eq!(said(540), "有効期限まで残り 9分00秒");
    assert_eq!(said(31), "有効期限まで残り 1分00秒");
    assert_eq!(said(30), "有効期限まで残り 0分30秒");
    assert_eq!(said(1), said(30));
    let distinct: std::collections::BTreeSet<_> = (1..=600).map(said).collect();
    assert_eq!(distinct.len(), 11, "{distinct:?}");
}
