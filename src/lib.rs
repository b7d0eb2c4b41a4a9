//! The mahpki web app: the holder's side of the HPKI second-certificate platform.
//!
//! `i18n` holds every string, `lang` the language switch, `server` the typed client of the
//! platform's API, `pages` one module per screen or flow, `app` the shell and routes.

pub mod app;
pub mod i18n;
pub mod lang;
pub mod pages;
pub mod server;

pub use app::{App, Route, Shell};
