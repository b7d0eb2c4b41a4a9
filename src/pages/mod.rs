//! One module per screen or flow.

pub mod account;
pub mod footer;
pub mod index;
pub mod not_found;
