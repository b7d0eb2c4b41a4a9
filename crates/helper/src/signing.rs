//! What the card signs and how it is framed: the origin-bound digest (Web eID's construction),
//! the SHA-256 DigestInfo, and the PKCS#1 v1.5 block for cards that sign a raw block (HPKI PSO).

use sha2::{Digest as _, Sha256};

/// DER prefix of `DigestInfo { AlgorithmIdentifier { sha256, NULL }, OCTET STRING (32) }`.
const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// `SHA-256( SHA-256(origin) ‖ SHA-256(challenge) )`: hashing each part first keeps the two fields
/// unambiguous, and naming the origin makes a challenge relayed from another site useless.
pub fn authentication_digest(origin: &str, challenge: &[u8]) -> [u8; 32] {
    let mut outer = Sha256::new();
    outer.update(Sha256::digest(origin.as_bytes()));
    outer.update(Sha256::digest(challenge));
    outer.finalize().into()
}

/// The 51-byte DigestInfo of a SHA-256 digest.
pub fn sha256_digest_info(digest: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SHA256_DIGEST_INFO_PREFIX.len() + 32);
    out.extend_from_slice(&SHA256_DIGEST_INFO_PREFIX);
    out.extend_from_slice(digest);
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {modulus_len}-byte key cannot sign a {data_len}-byte DigestInfo with PKCS#1 v1.5")]
pub struct PaddingError {
    pub modulus_len: usize,
    pub data_len: usize,
}

/// EMSA-PKCS1-v1_5 block (RFC 8017 §9.2): `00 01 FF…FF 00 ‖ DigestInfo`, at least 8 `FF`s.
pub fn pkcs1_v15_sign_block(
    digest_info: &[u8],
    modulus_len: usize,
) -> Result<Vec<u8>, PaddingError> {
    if modulus_len < digest_info.len() + 11 {
        return Err(PaddingError { modulus_len, data_len: digest_info.len() });
    }
    let mut block = Vec::with_capacity(modulus_len);
    block.extend_from_slice(&[0x00, 0x01]);
    block.resize(modulus_len - digest_info.len() - 1, 0xff);
    block.push(0x00);
    block.extend_from_slice(digest_info);
    Ok(block)
}

#[cfg(test)]
mod tests {
    use rsa::{
        BoxedUint, Pkcs1v15Sign, PrivateKey, pkcs8::DecodePrivateKey as _,
        traits::PublicKeyParts as _,
    };

    use super::*;

    pub(crate) fn test_key() -> PrivateKey {
        PrivateKey::from_pkcs8_pem(include_str!("../testdata/test-key.pem")).unwrap()
    }

    #[test]
    fn digest_binds_origin_and_challenge() {
        let c = [7u8; 32];
        let d = authentication_digest("https://hpki.example.jp", &c);
        // Independent recomputation of the documented construction.
        let mut cat = Vec::new();
        cat.extend_from_slice(&Sha256::digest(b"https://hpki.example.jp"));
        cat.extend_from_slice(&Sha256::digest(c));
        assert_eq!(d.as_slice(), Sha256::digest(&cat).as_slice());
        assert_ne!(d, authentication_digest("https://evil.example", &c));
        assert_ne!(d, authentication_digest("https://hpki.example.jp", &[8u8; 32]));
    }

    #[test]
    fn padded_block_signed_raw_verifies_as_standard_rs256() {
        let key = test_key();
        let k = key.size();
        assert_eq!(k, 256);
        let digest = authentication_digest("https://hpki.example.jp", &[1u8; 32]);
        let block = pkcs1_v15_sign_block(&sha256_digest_info(&digest), k).unwrap();
        assert_eq!(block.len(), k);
        // What an HPKI card does with PSO CDS: raw RSA private operation on the host's block.
        let m = BoxedUint::from_be_slice(&block, key.n().as_ref().bits_precision()).unwrap();
        let s =
            rsa::hazmat::rsa_decrypt_and_check(&key, None::<&mut getrandom::SysRng>, &m).unwrap();
        let sig = s.to_be_bytes();
        let public = key.to_public_key();
        public.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &sig).unwrap();
        // And a different digest must not verify: the test can fail.
        let other = authentication_digest("https://evil.example", &[1u8; 32]);
        assert!(public.verify(Pkcs1v15Sign::new::<Sha256>(), &other, &sig).is_err());
    }

    #[test]
    fn block_too_small_for_digest_info_is_refused() {
        assert_eq!(
            pkcs1_v15_sign_block(&[0u8; 51], 61),
            Err(PaddingError { modulus_len: 61, data_len: 51 })
        );
        assert_eq!(pkcs1_v15_sign_block(&[0u8; 51], 62).unwrap()[2..10], [0xff; 8]);
    }

    #[test]
    fn digest_info_is_der_sha256() {
        let di = sha256_digest_info(&[0xab; 32]);
        assert_eq!(di.len(), 51);
        assert_eq!(&di[..2], &[0x30, 0x31]);
        assert_eq!(&di[19..], &[0xab; 32]);
    }
}
