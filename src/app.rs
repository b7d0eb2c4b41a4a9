//! The shell every page shares (header, language switch, footer) and the routes.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::{
    flows::{
        consent::ConsentFlow,
        enrol::EnrolFlow,
        mynumber::MyNumberFlow,
        prove::ProveFlow,
        smartphone::{SmartphoneFlow, Via},
    },
    i18n::Msg,
    lang::{LangProvider, LangSwitch, use_lang},
    pages::{footer::ServerFooter, index::IndexPage, not_found::NotFound},
};

#[derive(Clone, Routable, PartialEq, Debug)]
pub enum Route {
    #[at("/")]
    Index,
    /// 別紙1: bind a My Number card.
    #[at("/mynumber")]
    MyNumber,
    /// 別紙2: bind a smartphone with the HPKI card.
    #[at("/smartphone")]
    Smartphone,
    /// 別紙2 by the JMA path: the numbers printed on the card instead of the card.
    #[at("/smartphone/jma")]
    SmartphoneJma,
    /// スマートフォン変更 on the PC: the old phone proves the holder, then the new one enrols.
    #[at("/smartphone/change")]
    SmartphoneChange,
    /// Opened on the old phone from a change's first code; the token is in the fragment.
    #[at("/change")]
    Change,
    /// Opened on the phone from the 2D code or a CA's link; the token is in the fragment.
    #[at("/enrol")]
    Enrol,
    /// The same page under its old spelling: CA links printed with it stay valid for months.
    #[at("/enroll")]
    EnrollLegacy,
    /// The OpenID Provider's consent page (`?request=…`), the first time a holder signs in to a
    /// service.
    #[at("/consent")]
    Consent,
    #[not_found]
    #[at("/404")]
    NotFound,
}

fn switch(route: Route) -> Html {
    match route {
        Route::Index => html! { <IndexPage /> },
        Route::MyNumber => html! { <MyNumberFlow /> },
        Route::Smartphone => html! { <SmartphoneFlow via={Via::Hpki} /> },
        Route::SmartphoneJma => html! { <SmartphoneFlow via={Via::Jma} /> },
        Route::SmartphoneChange => html! { <SmartphoneFlow via={Via::OldPhone} /> },
        Route::Change => html! { <ProveFlow /> },
        Route::Enrol | Route::EnrollLegacy => html! { <EnrolFlow /> },
        Route::Consent => html! { <ConsentFlow /> },
        Route::NotFound => html! { <NotFound /> },
    }
}

/// The app as the browser runs it.
#[function_component(App)]
pub fn app() -> Html {
    html! { <BrowserRouter><Shell /></BrowserRouter> }
}

/// Everything inside the router, so tests can mount it under a memory history.
#[function_component(Shell)]
pub fn shell() -> Html {
    html! { <LangProvider><Frame /></LangProvider> }
}

/// Text whose [`crate::i18n::WRAP_MARK`]s are the only places it may wrap (with `word-break: keep-all`):
/// each mark becomes a `<wbr>`, so the text itself reads without them.
fn phrases(text: &str) -> Html {
    text.split(crate::i18n::WRAP_MARK)
        .enumerate()
        .map(|(i, part)| html! { <>if i > 0 { <wbr /> }{ part }</> })
        .collect()
}

#[function_component(Frame)]
fn frame() -> Html {
    let ctx = use_lang();
    html! {
        <>
            <a class="skip-link" href="#main">{ ctx.t(Msg::SkipToContent) }</a>
            <header class="site-header">
                <Link<Route> to={Route::Index} classes="site-title">{ phrases(ctx.t(Msg::SiteTitle)) }</Link<Route>>
                <LangSwitch />
            </header>
            <main id="main" tabindex="-1">
                <Switch<Route> render={switch} />
            </main>
            <ServerFooter />
        </>
    }
}
