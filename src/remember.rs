//! What a phone remembers between visits: the 本人ID it was registered for, so the login screen
//! of a later スマートフォン変更 is filled in. A 本人ID is a username, not a secret; nothing else
//! (no token, no credential) is kept by the page.

const KEY: &str = "mahpki.hpki_id";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The 本人ID this phone registered, if any.
pub fn hpki_id() -> Option<String> {
    storage()?.get_item(KEY).ok()?
}

pub fn set_hpki_id(hpki_id: &str) {
    if let Some(s) = storage() {
        // A full or disabled storage only costs the holder typing it next time.
        let _ = s.set_item(KEY, hpki_id);
    }
}
