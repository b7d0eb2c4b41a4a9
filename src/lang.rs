//! The language switch: a context every component reads, remembered across visits.

use yew::prelude::*;

use crate::i18n::{Lang, Msg};

const STORAGE_KEY: &str = "mahpki.lang";

/// What components get from `use_context::<LangContext>()`.
#[derive(Clone, PartialEq)]
pub struct LangContext {
    pub lang: Lang,
    pub set: Callback<Lang>,
}

impl LangContext {
    pub fn t(&self, msg: Msg) -> &'static str {
        msg.in_lang(self.lang)
    }
}

/// The current language context. Panics only if a component is mounted outside `LangProvider`,
/// which is a programming error caught by every test that mounts a page.
#[hook]
pub fn use_lang() -> LangContext {
    use_context::<LangContext>().expect("component mounted outside LangProvider")
}

#[derive(Properties, PartialEq)]
pub struct LangProviderProps {
    pub children: Html,
}

#[function_component(LangProvider)]
pub fn lang_provider(props: &LangProviderProps) -> Html {
    let lang = use_state(stored_lang);
    {
        let lang = *lang;
        use_effect_with(lang, move |lang| apply(*lang));
    }
    let set = {
        let state = lang.clone();
        Callback::from(move |l: Lang| state.set(l))
    };
    let ctx = LangContext { lang: *lang, set };
    html! { <ContextProvider<LangContext> context={ctx}>{ props.children.clone() }</ContextProvider<LangContext>> }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn stored_lang() -> Lang {
    storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok()?)
        .and_then(|t| Lang::from_tag(&t))
        .unwrap_or_default()
}

/// Remembers the choice and tells assistive technology which language the page is in.
fn apply(lang: Lang) {
    if let Some(s) = storage() {
        // Storage can be disabled (private mode): the switch still works for this visit.
        let _ = s.set_item(STORAGE_KEY, lang.tag());
    }
    if let Some(root) =
        web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", lang.tag());
    }
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        doc.set_title(&crate::i18n::unmarked(Msg::SiteTitle.in_lang(lang)));
    }
}

/// The 日本語 / English toggle in the header.
#[function_component(LangSwitch)]
pub fn lang_switch() -> Html {
    let ctx = use_lang();
    let button = |lang: Lang, label: &'static str, tag: &'static str| {
        let set = ctx.set.clone();
        let pressed = ctx.lang == lang;
        html! {
            <button type="button" class="lang-button" lang={tag} aria-pressed={pressed.to_string()}
                onclick={move |_| set.emit(lang)}>{ label }</button>
        }
    };
    html! {
        <div class="lang-switch" role="group" aria-label={ctx.t(Msg::LanguageSwitch)}>
            { button(Lang::Ja, "日本語", "ja") }
            { button(Lang::En, "English", "en") }
        </div>
    }
}
