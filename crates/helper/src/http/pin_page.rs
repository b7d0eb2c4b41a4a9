//! The helper's own PIN page (`http://127.0.0.1:<port>/pin/{id}`). The PIN goes from this page
//! straight to the helper; the site that asked never sees it. Same-origin only: a cross-site
//! page can neither post a PIN nor frame this one.

use axum::{
    Json, Router,
    extract::{State, rejection::JsonRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use mahpki_protocol::{
    error::{ErrorCode, Text},
    helper::{CardType, Localized, OperationState, PinPageState, PinSubmission},
};

use crate::{
    http::common::{
        AppState, OpId, error_response, harden, rejection_response, same_origin_request,
    },
    pin::Pin,
};

const PAGE: &str = include_str!("../../assets/pin.html");
const SCRIPT: &str = include_str!("../../assets/pin.js");
const STYLE: &str = include_str!("../../assets/pin.css");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pin/{id}", get(page).post(submit))
        .route("/pin/{id}/state", get(state))
        .route("/pin/{id}/cancel", post(cancel))
        .route("/pin/{id}/closed", post(closed))
        .route("/pin-assets/pin.js", get(|| asset(SCRIPT, "text/javascript; charset=utf-8")))
        .route("/pin-assets/pin.css", get(|| asset(STYLE, "text/css; charset=utf-8")))
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    harden(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// HTML-escapes text for element content and quoted attributes.
fn escape(s: &str) -> String {
    s.chars().fold(String::with_capacity(s.len()), |mut out, c| {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
        out
    })
}

async fn page(State(st): State<AppState>, OpId(id): OpId) -> Response {
    let Some(op) = st.ops.get(&id) else {
        return harden(
            (StatusCode::NOT_FOUND, "operation not found / 操作が見つかりません").into_response(),
        );
    };
    // Opened again after it was closed: the same operation, the same page.
    let load = op.pin_window_opened();
    let (what_ja, what_en, hint, input) = match op.card {
        CardType::Jpki => (
            "マイナンバーカードの利用者証明用パスワード(数字4桁)",
            "the My Number card's user-authentication password (4 digits)",
            "<p class=\"warn\">※署名用のパスワードではありませんので、ご注意ください。<br>\
             <span lang=\"en\">Note: this is not the signature password.</span></p>",
            "inputmode=\"numeric\" minlength=\"4\" maxlength=\"4\" pattern=\"[0-9]{4}\"",
        ),
        CardType::Hpki => (
            "HPKIカードのPIN(暗証番号、4〜16文字)",
            "the HPKI card PIN (4 to 16 characters)",
            "",
            "minlength=\"4\" maxlength=\"16\"",
        ),
    };
    let html = PAGE
        .replace("{{op}}", &escape(&op.id))
        .replace("{{load}}", &load.to_string())
        .replace(
            "{{card}}",
            match op.card {
                CardType::Jpki => "jpki",
                CardType::Hpki => "hpki",
            },
        )
        .replace("{{origin}}", &escape(&op.origin))
        .replace("{{what_ja}}", what_ja)
        .replace("{{what_en}}", what_en)
        .replace("{{hint}}", hint)
        .replace("{{input}}", input);
    harden(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

fn localized(t: Text) -> Localized {
    Localized { ja: t.ja.to_owned(), en: t.en.to_owned() }
}

/// Only this helper's own page: a foreign `Origin` is refused (a cross-site page cannot read
/// the answer anyway, but it learns nothing from the status either).
fn same_origin(st: &AppState, headers: &HeaderMap, require: bool) -> bool {
    same_origin_request(&st.guard, headers, require)
}

async fn state(State(st): State<AppState>, headers: HeaderMap, OpId(id): OpId) -> Response {
    if !same_origin(&st, &headers, false) {
        return harden(error_response(ErrorCode::ForeignOrigin));
    }
    let Some(op) = st.ops.get(&id) else { return harden(error_response(ErrorCode::NotFound)) };
    let status = op.status();
    let code = match &status.state {
        OperationState::Failed { error, .. } => Some(*error),
        OperationState::WaitingPin { last_error, .. } => *last_error,
        _ => None,
    };
    let body = PinPageState {
        status,
        message: code.map(|c| localized(c.message())),
        remedy: code.map(|c| localized(c.remedy())),
    };
    harden(Json(body).into_response())
}

/// `POST /pin/{id}`: the PIN, from our own page only (both `Origin` and `Sec-Fetch-Site` must
/// say so). Checked for format before anything else; never logged; never retried.
async fn submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    OpId(id): OpId,
    body: Result<Json<PinSubmission>, JsonRejection>,
) -> Response {
    if !same_origin(&st, &headers, true) {
        tracing::warn!("refused a PIN post that did not come from the helper's own page");
        return harden(error_response(ErrorCode::ForeignOrigin));
    }
    let Some(op) = st.ops.get(&id) else { return harden(error_response(ErrorCode::NotFound)) };
    let submission = match body {
        Ok(Json(s)) => s,
        Err(rejection) => return harden(rejection_response(&rejection)),
    };
    // The String moves into the Pin, whose drop wipes it.
    let pin = match Pin::parse(op.card, submission.pin) {
        Ok(pin) => pin,
        Err(e) => return harden(error_response(e.code())),
    };
    match op.submit_pin(pin) {
        Ok(()) => harden((StatusCode::ACCEPTED, Json(op.status())).into_response()),
        Err(_) => harden(error_response(ErrorCode::BadRequest)),
    }
}

/// `POST /pin/{id}/cancel`: the window's キャンセル (the guide's dialog has OK / キャンセル). From
/// our own page only, like the PIN; the site's page then sees the operation `cancelled`.
async fn cancel(State(st): State<AppState>, headers: HeaderMap, OpId(id): OpId) -> Response {
    if !same_origin(&st, &headers, true) {
        return harden(error_response(ErrorCode::ForeignOrigin));
    }
    let Some(op) = st.ops.get(&id) else { return harden(error_response(ErrorCode::NotFound)) };
    op.cancel();
    harden(Json(op.status()).into_response())
}

/// `POST /pin/{id}/closed`: the PIN page's `pagehide` beacon. From our own page only, like the
/// PIN (a beacon is a same-origin POST); it changes nothing but the notice on the site's page.
/// The body is the number of the page load that went away (see `Operation::pin_window_opened`).
async fn closed(
    State(st): State<AppState>,
    headers: HeaderMap,
    OpId(id): OpId,
    body: String,
) -> Response {
    if !same_origin(&st, &headers, true) {
        return harden(error_response(ErrorCode::ForeignOrigin));
    }
    let Some(op) = st.ops.get(&id) else { return harden(error_response(ErrorCode::NotFound)) };
    let Ok(load) = body.trim().parse::<u64>() else {
        return harden(error_response(ErrorCode::BadRequest));
    };
    op.pin_window_gone(load);
    harden(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::common::CSP;

    #[test]
    fn escaping_neutralises_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")</script>&'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
        assert_eq!(escape("https://hpki.example.jp"), "https://hpki.example.jp");
    }

    #[test]
    fn csp_forbids_inline_code_and_framing() {
        for needle in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"] {
            assert!(CSP.contains(needle), "{needle}");
        }
        assert!(!CSP.contains("unsafe"));
        // The page template itself carries no inline script or event-handler attribute.
        assert!(!PAGE.contains("<script>") && !PAGE.contains("<style"));
        let handler = PAGE.match_indices(" on").any(|(i, _)| {
            let rest = &PAGE[i + 3..];
            let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            name_len > 0 && rest[name_len..].starts_with('=')
        });
        assert!(!handler, "inline event handler in the PIN page");
    }
}
