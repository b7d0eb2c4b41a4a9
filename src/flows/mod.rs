//! The card flows: one module per flow, each an explicit state enum with its own view, over the
//! shared card step (`card`) and its rendering (`card_view`, `error_view`).

pub mod card;
pub mod card_view;
pub mod error_view;
pub mod hpki;
pub mod mynumber;
pub mod start_view;
