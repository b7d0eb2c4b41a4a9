//! The helper's localhost HTTP face: the router, the `/v1` API the site's page calls, the
//! helper's own PIN page, what their routes share, and the guard every request passes first.

pub mod api;
pub mod common;
pub mod guard;
pub mod pin_page;
pub mod router;

pub use router::{BODY_LIMIT, router, router_with};
