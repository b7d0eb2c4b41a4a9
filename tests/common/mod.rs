//! Mounting one flow screen in the browser with a fixed language (no shared localStorage between
//! the concurrent tests of one page), and reading it back as the holder would.
#![allow(dead_code)] // each test crate uses its own part

use gloo_timers::future::TimeoutFuture;
use mahpki::{
    i18n::{Lang, Msg},
    lang::LangContext,
};
use mahpki_protocol::{
    HpkiId,
    api::{Ca, Holder, Qualification},
};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

/// The holder every screen test shows (its Japanese name is taken out by `english_rest`).
pub fn holder(ca: Ca, qualification: Qualification) -> Holder {
    Holder {
        hpki_id: HpkiId::parse("HP0000000001").unwrap(),
        ca,
        qualification,
        name_kanji: "医療 一郎".into(),
        name_kana: "イリョウ イチロウ".into(),
        name_roman: "IRYO ICHIRO".into(),
    }
}

#[derive(Properties, PartialEq)]
struct ScreenProps {
    lang: Lang,
    content: Html,
}

#[function_component(Screen)]
fn screen(props: &ScreenProps) -> Html {
    let ctx = LangContext { lang: props.lang, set: Callback::noop() };
    html! {
        <ContextProvider<LangContext> context={ctx}>{ props.content.clone() }</ContextProvider<LangContext>>
    }
}

pub struct Mounted {
    pub root: Element,
}

impl Mounted {
    pub fn text(&self) -> String {
        self.root.text_content().unwrap_or_default()
    }

    pub fn press(&self, label: &str) {
        let all = self.root.query_selector_all("button").unwrap();
        let b = (0..all.length())
            .filter_map(|i| all.item(i))
            .map(|n| n.dyn_into::<HtmlElement>().unwrap())
            .find(|b| b.text_content().as_deref() == Some(label))
            .unwrap_or_else(|| panic!("no button {label:?} in {}", self.text()));
        b.click();
    }

    pub fn attr(&self, selector: &str, name: &str) -> Option<String> {
        self.root.query_selector(selector).unwrap()?.get_attribute(name)
    }

    /// The screen's text with the holder's own (Japanese) name, a service's name and the
    /// Japanese terms an English text quotes on purpose taken out: what is left must be English.
    pub fn english_rest(&self) -> String {
        ["医療 一郎", "イリョウ イチロウ", "市区町村窓口", "本人ID", "○○薬局システム"]
            .iter()
            .fold(self.text(), |t, quoted| t.replace(quoted, ""))
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.root.remove();
    }
}

pub async fn mount(lang: Lang, content: Html) -> Mounted {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<Screen>::with_root_and_props(root.clone(), ScreenProps { lang, content })
        .render();
    TimeoutFuture::new(20).await;
    Mounted { root }
}

/// Mounts each screen in both languages and checks that it carries the flow's `title` and says
/// what it must; the English side keeps no Japanese but the quoted terms.
pub async fn check_screens<S: std::fmt::Debug + Clone>(
    title: Msg,
    screens: Vec<(S, Vec<&str>, Vec<&str>)>,
    render: impl Fn(S) -> Html,
) {
    for (step, ja, en) in screens {
        for (lang, expected) in [(Lang::Ja, ja.clone()), (Lang::En, en)] {
            let m = mount(lang, render(step.clone())).await;
            let t = m.text();
            assert!(t.contains(title.in_lang(lang)), "{step:?}: {t}");
            for s in expected {
                assert!(t.contains(s), "{step:?} in {lang:?}: {s:?} missing from {t}");
            }
            if lang == Lang::En {
                let rest = m.english_rest();
                assert!(rest.is_ascii(), "{step:?}: untranslated text in {rest}");
            }
        }
    }
}
