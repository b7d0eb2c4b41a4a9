//! The top page of 別紙1/別紙2: choose My Number card or smartphone, then the procedure; and the
//! way to the daily sign-in.

use mahpki_protocol::pages::Page;
use yew::prelude::*;

use crate::{i18n::Msg, lang::use_lang};

#[function_component(IndexPage)]
pub fn index_page() -> Html {
    let ctx = use_lang();
    let t = |m| ctx.t(m);
    html! {
        <>
            <h1 class="visually-hidden">{ crate::i18n::unmarked(t(Msg::SiteTitle)) }</h1>
            <nav class="entry-choice" aria-label={t(Msg::ChooseHeading)}>
                <a class="entry" href="#mynumber">{ t(Msg::MyNumberEntry) }</a>
                <a class="entry" href="#smartphone">{ t(Msg::SmartphoneEntry) }</a>
            </nav>
            <p class="signin-entry">
                <a href={Page::SignIn.path()} class="button signin-link">{ t(Msg::SignInEntry) }</a>
            </p>

            <section id="mynumber" class="procedure" aria-labelledby="mynumber-title">
                <h2 id="mynumber-title">{ t(Msg::MyNumberEntry) }</h2>
                <article class="card" aria-labelledby="mynumber-register">
                    <h3 id="mynumber-register">{ t(Msg::MyNumberSectionTitle) }</h3>
                    <Requirements prepare={Msg::PrepareMyNumber} setup={Some(Msg::SetupHelper)} />
                    <p class="hint">{ t(Msg::CardInReaderHint) }</p>
                    <a href={Page::MyNumber.path()} class="button primary">{ t(Msg::RegisterWithHpki) }</a>
                </article>
            </section>

            <section id="smartphone" class="procedure" aria-labelledby="smartphone-title">
                <h2 id="smartphone-title">{ t(Msg::SmartphoneEntry) }</h2>
                <article class="card" aria-labelledby="smartphone-register">
                    <h3 id="smartphone-register">{ t(Msg::SmartphoneRegisterTitle) }</h3>
                    <Requirements prepare={Msg::PrepareSmartphone} setup={Some(Msg::SetupHelper)} />
                    <p class="hint">{ t(Msg::CardInReaderHint) }</p>
                    <a href={Page::Smartphone.path()} class="button primary">{ t(Msg::RegisterOrChangeWithHpki) }</a>
                </article>
                <article class="card" aria-labelledby="smartphone-change">
                    <h3 id="smartphone-change">{ t(Msg::SmartphoneChangeTitle) }</h3>
                    <Requirements prepare={Msg::PrepareSmartphoneChange} setup={None::<Msg>} />
                    <dl class="requirements">
                        <dt>{ t(Msg::Caution) }</dt>
                        <dd>{ t(Msg::SmartphoneChangeCaution) }</dd>
                        <dd>{ t(Msg::SmartphoneChangeAbortNote) }</dd>
                    </dl>
                    <a href={Page::SmartphoneChange.path()} class="button">{ t(Msg::SmartphoneChange) }</a>
                </article>
            </section>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct RequirementsProps {
    prepare: Msg,
    setup: Option<Msg>,
}

/// 【準備するもの】 and 【必要な事前設定】, as the guide lists them for each procedure.
#[function_component(Requirements)]
fn requirements(props: &RequirementsProps) -> Html {
    let ctx = use_lang();
    html! {
        <dl class="requirements">
            <dt>{ ctx.t(Msg::Prepare) }</dt>
            <dd>{ ctx.t(props.prepare) }</dd>
            if let Some(setup) = props.setup {
                <dt>{ ctx.t(Msg::Setup) }</dt>
                <dd>{ ctx.t(setup) }</dd>
            }
        </dl>
    }
}
