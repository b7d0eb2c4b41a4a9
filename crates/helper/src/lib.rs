//! The local helper. It owns every card access and PIN entry, so the web page never sees a PIN.
//! `guard` decides, before anything else runs, whether a request may be served at all.

pub mod api;
pub mod backend;
#[cfg(feature = "demo")]
pub mod demo;
pub mod der;
pub mod driver;
pub mod error;
pub mod guard;
pub mod operation;
pub mod pcsc_backend;
pub mod pin;
pub mod pin_page;
pub mod pkcs11_backend;
pub mod profile;
pub mod service;
pub mod settings;
pub mod signing;
pub mod transport;
pub mod virtual_backend;
