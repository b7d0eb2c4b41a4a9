//! The mahpki web app: the holder's side of the HPKI second-certificate platform.
//!
//! `i18n` holds every string, `lang` the language switch, `server` and `helper` the typed clients
//! of the platform's API and of the local helper, `flows` the card flows (each an explicit state
//! enum), `pages` the other screens, `app` the shell, `bundles` which pages each download renders.

pub mod app;
pub mod bundles;
pub mod date;
pub mod flows;
pub mod helper;
pub mod i18n;
pub mod lang;
pub mod pages;
pub mod remember;
pub mod server;
pub mod webauthn;

pub use app::{Shell, ShellProps};
