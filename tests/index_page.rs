//! The index page mounted in real headless Chromium (wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

use gloo_timers::future::TimeoutFuture;
use mahpki::{
    Shell, ShellProps, bundles,
    i18n::{self, Lang, Msg},
};
use mahpki_protocol::pages::{Bundle, Page};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

/// The app as the server's html for `path` starts it: the page at that path, rendered by the
/// bundle the table of pages names (the 404 page, for no page, by the home bundle).
fn props_at(path: &str) -> ShellProps {
    let page = Page::at(path);
    let bundle = page.map_or(mahpki_protocol::pages::NOT_FOUND_BUNDLE, Page::bundle);
    ShellProps { page, render: bundles::renderer(bundle) }
}

async fn mount(path: &str) -> Element {
    let document = gloo_utils_document();
    // Each test starts in Japanese, the default, whatever an earlier test chose.
    web_sys::window().unwrap().local_storage().unwrap().unwrap().clear().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<Shell>::with_root_and_props(root.clone(), props_at(path)).render();
    settle().await;
    root
}

fn gloo_utils_document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

async fn settle() {
    TimeoutFuture::new(50).await;
}

fn text(root: &Element) -> String {
    root.text_content().unwrap_or_default()
}

fn button(root: &Element, label: &str) -> HtmlElement {
    let all = root.query_selector_all("button").unwrap();
    (0..all.length())
        .filter_map(|i| all.item(i))
        .map(|n| n.dyn_into::<HtmlElement>().unwrap())
        .find(|b| b.text_content().as_deref() == Some(label))
        .unwrap_or_else(|| panic!("no button {label:?}"))
}

/// wasm-bindgen-test runs async tests concurrently on one page, and these steps share that
/// page's localStorage and `<html lang>`: they run in order, as one test.
#[wasm_bindgen_test]
async fn index_page_in_the_browser() {
    index_shows_both_sections_and_their_entries_in_japanese().await;
    language_switch_changes_every_string().await;
    language_choice_is_remembered().await;
    flow_routes_render_their_pages().await;
    every_page_is_rendered_by_its_own_bundle_only().await;
    footer_says_when_the_server_cannot_be_reached().await;
}

async fn index_shows_both_sections_and_their_entries_in_japanese() {
    let root = mount("/").await;
    let t = text(&root);
    for m in [
        Msg::SiteTitle,
        Msg::MyNumberEntry,
        Msg::SmartphoneEntry,
        Msg::RegisterWithHpki,
        Msg::RegisterOrChangeWithHpki,
        Msg::SmartphoneChange,
    ] {
        assert!(t.contains(&i18n::unmarked(m.in_lang(Lang::Ja))), "missing {m:?} in {t}");
    }
    assert!(t.contains("HPKIセカンド電子証明書管理・認証プラットフォーム"));
    assert!(t.contains("マイナンバーカードをご利用の方はこちら"));
    assert!(t.contains("スマートフォン(タブレットを含む)をご利用の方はこちら"));
    // Landmarks for screen readers: one header, one main, one footer, a labelled nav.
    for sel in [
        "header",
        "main#main",
        "footer",
        "nav[aria-label]",
        "section#mynumber",
        "section#smartphone",
    ] {
        assert!(root.query_selector(sel).unwrap().is_some(), "no {sel}");
    }
    root.remove();
}

async fn language_switch_changes_every_string() {
    let root = mount("/").await;
    let en = button(&root, "English");
    assert_eq!(en.get_attribute("aria-pressed").as_deref(), Some("false"));
    en.click();
    settle().await;
    let t = text(&root);
    assert!(t.contains(Msg::SiteTitle.in_lang(Lang::En)), "{t}");
    assert!(t.contains(Msg::SmartphoneEntry.in_lang(Lang::En)), "{t}");
    assert!(!t.contains("マイナンバーカードをご利用の方はこちら"), "{t}");
    // No Japanese left outside the button that switches back to it.
    let without_switch = t.replace("日本語", "");
    assert!(without_switch.is_ascii(), "untranslated text: {without_switch}");
    let html_lang = gloo_utils_document().document_element().unwrap().get_attribute("lang");
    assert_eq!(html_lang.as_deref(), Some("en"));
    assert_eq!(button(&root, "English").get_attribute("aria-pressed").as_deref(), Some("true"));

    button(&root, "日本語").click();
    settle().await;
    assert!(text(&root).contains("マイナンバーカードをご利用の方はこちら"));
    root.remove();
}

async fn language_choice_is_remembered() {
    let root = mount("/").await;
    button(&root, "English").click();
    settle().await;
    root.remove();
    // A fresh mount (a new visit) reads the stored choice.
    let document = gloo_utils_document();
    let again = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&again).unwrap();
    yew::Renderer::<Shell>::with_root_and_props(again.clone(), props_at("/")).render();
    settle().await;
    assert!(text(&again).contains(Msg::MyNumberEntry.in_lang(Lang::En)));
    again.remove();
}

async fn flow_routes_render_their_pages() {
    for (path, title) in [
        ("/mynumber", Msg::MyNumberSiteTitle),
        ("/smartphone", Msg::SmartphoneSiteTitle),
        ("/smartphone/change", Msg::SmartphoneChangeSiteTitle),
        ("/enrol", Msg::EnrolSiteTitle),
        // The old spelling, printed in CA links that stay valid for months.
        ("/enroll", Msg::EnrolSiteTitle),
        ("/no/such/page", Msg::NotFoundTitle),
    ] {
        let root = mount(path).await;
        let h1 = root.query_selector("main h1").unwrap().expect("a heading");
        assert_eq!(h1.text_content().unwrap(), title.in_lang(Lang::Ja), "{path}");
        root.remove();
    }
}

/// Each page's bundle renders it (a page whose row names a bundle that has no arm for it would
/// show the 404 page), and no other bundle does: each download holds only its own pages.
async fn every_page_is_rendered_by_its_own_bundle_only() {
    for &page in Page::ALL {
        for &bundle in Bundle::ALL {
            assert_eq!(
                (bundles::renderer(bundle))(page).is_some(),
                page.bundle() == bundle,
                "{page:?} in {bundle:?}"
            );
        }
        let root = mount(page.path()).await;
        let h1 = root.query_selector("main h1").unwrap().expect("a heading");
        assert_ne!(h1.text_content().unwrap(), Msg::NotFoundTitle.in_lang(Lang::Ja), "{page:?}");
        root.remove();
    }
}

async fn footer_says_when_the_server_cannot_be_reached() {
    // The test runner's own server has no /api/health: the footer must say so, not stay blank.
    let root = mount("/").await;
    let mut footer = String::new();
    for _ in 0..40 {
        footer = root.query_selector("#server-version").unwrap().unwrap().text_content().unwrap();
        if footer != Msg::FooterServerChecking.in_lang(Lang::Ja) {
            break;
        }
        settle().await;
    }
    assert_eq!(footer, Msg::FooterServerUnreachable.in_lang(Lang::Ja));
    root.remove();
}
