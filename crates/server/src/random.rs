//! Unpredictable bytes from the operating system, for session ids and challenges.

pub fn bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // Without OS randomness no secret we issue would be safe: refusing to run is right.
    getrandom::fill(&mut b).expect("the operating system's random source failed");
    b
}

/// A secret for a browser or a client: 256 random bits as base64url (43 characters), and its
/// SHA-256, the only form the database keeps.
pub fn token() -> (zeroize::Zeroizing<String>, Vec<u8>) {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    let token = zeroize::Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes::<32>()));
    let hash = token_hash(&token);
    (token, hash)
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    use sha2::{Digest as _, Sha256};
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A public random identifier (128 bits, base64url): unguessable, but not a secret.
pub fn id() -> String {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.encode(bytes::<16>())
}
