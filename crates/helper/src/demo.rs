//! `mahpki-helper --demo`: one virtual reader and every demo holder's HPKI card and My Number
//! card from crates/cardsim's deterministic test PKI (same seed as the server's demo data), with
//! insert/remove buttons on the helper's own `/demo` page. Cards keep their PIN counters between
//! insertions, as plastic does.

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::{State, rejection::JsonRejection},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use mahpki_cardsim::{Card, pki};
use mahpki_protocol::{
    error::ErrorCode,
    helper::{CardType, DemoCard, DemoHolder, DemoState},
};

use crate::{
    card::backend::virtual_card::{SharedCard, VirtualCard, VirtualReaders},
    http::common::{error_response, harden, rejection_response, same_origin_request},
    http::guard::Guard,
};

pub const READER: &str = "mahpki demo reader";

const PAGE: &str = include_str!("../assets/demo.html");
const SCRIPT: &str = include_str!("../assets/demo.js");

/// cardsim's cards as the helper's virtual cards.
struct Sim<C>(C);

impl<C: Card> VirtualCard for Sim<C> {
    fn power_on(&mut self) {
        self.0.power_on();
    }
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.0.transmit(apdu)
    }
}

struct HolderCards {
    info: DemoHolder,
    hpki: SharedCard,
    jpki: SharedCard,
}

pub struct Demo {
    readers: VirtualReaders,
    holders: Vec<HolderCards>,
    inserted: Mutex<Option<DemoCard>>,
    guard: Arc<Guard>,
}

impl Demo {
    pub fn new(seed: u64, guard: Arc<Guard>) -> Result<Arc<Self>, String> {
        let pki = pki::generate(seed).map_err(|e| format!("test PKI for seed {seed}: {e}"))?;
        let holders = pki
            .holders
            .iter()
            .map(|h| HolderCards {
                info: DemoHolder {
                    hpki_id: h.spec.hpki_id.clone(),
                    name: h.spec.name_kanji.clone(),
                    hpki_pin: h.spec.hpki_pin.clone(),
                    jpki_auth_pin: h.spec.jpki_auth_pin.clone(),
                },
                hpki: Arc::new(Mutex::new(Sim(h.hpki_card()))),
                jpki: Arc::new(Mutex::new(Sim(h.jpki_card()))),
            })
            .collect();
        Ok(Arc::new(Self {
            readers: VirtualReaders::new(&[READER]),
            holders,
            inserted: Mutex::new(None),
            guard,
        }))
    }

    pub fn backend(&self) -> VirtualReaders {
        self.readers.clone()
    }

    fn state(&self) -> DemoState {
        DemoState {
            holders: self.holders.iter().map(|h| h.info.clone()).collect(),
            inserted: *self.inserted.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Puts a card in the reader (taking out whatever was there), or empties it with `None`.
    pub fn set(&self, card: Option<DemoCard>) -> Result<(), ErrorCode> {
        let mut inserted = self.inserted.lock().unwrap_or_else(|p| p.into_inner());
        self.readers.remove(READER);
        *inserted = None;
        if let Some(c) = card {
            let h = self.holders.get(c.holder).ok_or(ErrorCode::BadRequest)?;
            let shared = match c.card {
                CardType::Hpki => h.hpki.clone(),
                CardType::Jpki => h.jpki.clone(),
            };
            self.readers.insert(READER, shared);
            *inserted = Some(c);
        }
        Ok(())
    }

    pub fn routes(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/demo", get(page))
            .route("/demo/state", get(state))
            .route("/demo/insert", post(insert))
            .route("/demo/remove", post(remove))
            .route("/demo-assets/demo.js", get(script))
            .with_state(self.clone())
    }
}

async fn page() -> Response {
    harden(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response())
}

async fn script() -> Response {
    harden(([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT).into_response())
}

async fn state(State(demo): State<Arc<Demo>>, headers: HeaderMap) -> Response {
    if !same_origin_request(&demo.guard, &headers, false) {
        return harden(error_response(ErrorCode::ForeignOrigin));
    }
    harden(Json(demo.state()).into_response())
}

async fn insert(
    State(demo): State<Arc<Demo>>,
    headers: HeaderMap,
    body: Result<Json<DemoCard>, JsonRejection>,
) -> Response {
    if !same_origin_request(&demo.guard, &headers, true) {
        return harden(error_response(ErrorCode::ForeignOrigin));
    }
    let card = match body {
        Ok(Json(c)) => c,
        Err(r) => return harden(rejection_response(&r)),
    };
    match demo.set(Some(card)) {
        Ok(()) => harden(Json(demo.state()).into_response()),
        Err(code) => harden(error_response(code)),
    }
}

async fn remove(State(demo): State<Arc<Demo>>, headers: HeaderMap) -> Response {
    if !same_origin_request(&demo.guard, &headers, true) {
        return harden(error_response(ErrorCode::ForeignOrigin));
    }
    let _ = demo.set(None);
    harden(Json(demo.state()).into_response())
}
