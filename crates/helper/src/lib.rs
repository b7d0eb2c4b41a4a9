//! The local helper. It owns every card access and PIN entry, so the web page never sees a PIN.
//! `http::guard` decides, before anything else runs, whether a request may be served at all.
//!
//! `http` (the localhost API and the PIN page) drives an `operation`, which reads a card through
//! `card` (backends, transport, drivers, profiles) with a `pin` and the `signing` digests.

pub mod card;
pub mod cli;
#[cfg(feature = "demo")]
pub mod demo;
pub mod error;
pub mod http;
pub mod operation;
pub mod pin;
pub mod service;
pub mod settings;
pub mod signing;
