//! The shell every page shares (header, language switch, footer) around the page its bundle
//! renders. Pages are full loads: the server sends each path its bundle's html
//! (`mahpki_protocol::pages`), so links between pages are plain `<a href>`.

use mahpki_protocol::pages::Page;
use yew::prelude::*;

use crate::{
    i18n::Msg,
    lang::{LangProvider, LangSwitch, use_lang},
    pages::{footer::ServerFooter, not_found::NotFound},
};

/// How a bundle renders the pages it holds (`crate::bundles`); any other page is not its to show.
pub type Render = fn(Page) -> Option<Html>;

/// Mounts the app on the page the browser is at: what each bundle's `main` calls.
pub fn start(render: Render) {
    let path = web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_default();
    yew::Renderer::<Shell>::with_props(ShellProps { page: Page::at(&path), render }).render();
}

#[derive(Properties, Clone)]
pub struct ShellProps {
    /// The page at the browser's path; `None` is the 404 page.
    pub page: Option<Page>,
    pub render: Render,
}

/// A binary has one renderer for its whole life, so the page alone decides a re-render
/// (function pointers have no meaningful equality).
impl PartialEq for ShellProps {
    fn eq(&self, other: &Self) -> bool {
        self.page == other.page
    }
}

/// The whole app for one page, also what the browser tests mount.
#[function_component(Shell)]
pub fn shell(props: &ShellProps) -> Html {
    let content = props.page.and_then(props.render).unwrap_or_else(|| html! { <NotFound /> });
    html! { <LangProvider><Frame>{ content }</Frame></LangProvider> }
}

/// Text whose [`crate::i18n::WRAP_MARK`]s are the only places it may wrap (with `word-break: keep-all`):
/// each mark becomes a `<wbr>`, so the text itself reads without them.
fn phrases(text: &str) -> Html {
    text.split(crate::i18n::WRAP_MARK)
        .enumerate()
        .map(|(i, part)| html! { <>if i > 0 { <wbr /> }{ part }</> })
        .collect()
}

#[derive(Properties, PartialEq)]
struct FrameProps {
    children: Html,
}

#[function_component(Frame)]
fn frame(props: &FrameProps) -> Html {
    let ctx = use_lang();
    html! {
        <>
            <a class="skip-link" href="#main">{ ctx.t(Msg::SkipToContent) }</a>
            <header class="site-header">
                <a href={Page::Index.path()} class="site-title">{ phrases(ctx.t(Msg::SiteTitle)) }</a>
                <LangSwitch />
            </header>
            <main id="main" tabindex="-1">
                { props.children.clone() }
            </main>
            <ServerFooter />
        </>
    }
}
