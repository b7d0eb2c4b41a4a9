//! The footer: which server version the holder is talking to (support asks for it first).

use yew::prelude::*;

use crate::{i18n::Msg, lang::use_lang, server};

/// What the footer knows about the server.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerState {
    Checking,
    Up { version: String },
    DatabaseDown { version: String },
    Unreachable,
}

#[function_component(ServerFooter)]
pub fn server_footer() -> Html {
    let ctx = use_lang();
    let state = use_state(|| ServerState::Checking);
    {
        let state = state.clone();
        use_effect_with((), move |()| {
            wasm_bindgen_futures::spawn_local(async move {
                state.set(match server::health().await {
                    Ok(h) if h.database.ok => ServerState::Up { version: h.version },
                    Ok(h) => ServerState::DatabaseDown { version: h.version },
                    Err(_) => ServerState::Unreachable,
                });
            });
        });
    }
    let text = match &*state {
        ServerState::Checking => ctx.t(Msg::FooterServerChecking).to_owned(),
        ServerState::Up { version } => format!("{} {version}", ctx.t(Msg::FooterServer)),
        ServerState::DatabaseDown { version } => {
            format!("{} {version} / {}", ctx.t(Msg::FooterServer), ctx.t(Msg::FooterServerDegraded))
        }
        ServerState::Unreachable => ctx.t(Msg::FooterServerUnreachable).to_owned(),
    };
    html! {
        <footer class="site-footer">
            <p id="server-version" aria-live="polite">{ text }</p>
            <p lang="en">{ "mahpki - open source" }</p>
        </footer>
    }
}
