//! The card flows: one module per flow, each an explicit state enum with its own view, over the
//! shared card step (`card`) and its rendering (`card_view`, `error_view`), the run bookkeeping
//! every flow uses (`run`) and small shared markup (`widgets`).

pub mod card;
pub mod card_view;
pub mod confirm;
pub mod consent;
pub mod continue_to;
pub mod enrol;
pub mod error_view;
pub mod events;
pub mod fragment;
pub mod hpki;
pub mod mynumber;
pub mod passkey;
pub mod prove;
pub mod qr;
pub mod run;
pub mod signin;
pub mod signin_phone;
pub mod signin_smartphone;
pub mod smartphone;
pub mod start_view;
pub mod widgets;
