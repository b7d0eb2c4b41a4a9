//! The two RSA private-key operations cards perform.

use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, Pkcs1v15Sign, PrivateKey};

/// JPKI style: the card pads `digest_info` (PKCS#1 v1.5 type 1) and signs it.
pub fn sign_pkcs1(key: &PrivateKey, digest_info: &[u8]) -> Option<Vec<u8>> {
    key.sign(Pkcs1v15Sign::new_unprefixed(), digest_info).ok()
}

/// HPKI style: the host already padded; the card computes `block^d mod n`. The block must be
/// exactly the modulus size and numerically below the modulus, as on a real card.
pub fn raw_rsa(key: &PrivateKey, block: &[u8]) -> Option<Vec<u8>> {
    let k = key.size();
    if block.len() != k {
        return None;
    }
    let bits = key.n().as_ref().bits_precision();
    let c = BoxedUint::from_be_slice(block, bits).ok()?;
    if c >= *key.n().as_ref() {
        return None;
    }
    let m = rsa::hazmat::rsa_decrypt_and_check::<chacha20::ChaCha20Rng>(key, None, &c).ok()?;
    let bytes = m.to_be_bytes();
    // Left-pad (or trim leading zero limbs) to exactly k bytes.
    let mut out = vec![0u8; k];
    let tail = &bytes[bytes.len().saturating_sub(k)..];
    out[k - tail.len()..].copy_from_slice(tail);
    Some(out)
}
