//! The helper's localhost HTTP face: the `/v1` API the site's page calls, the helper's own PIN
//! page, and the guard every request passes first.

pub mod api;
pub mod guard;
pub mod pin_page;
