//! Helpers shared by the cardsim test binaries.
#![allow(dead_code)]

use std::sync::OnceLock;

use mahpki_cardsim::pki::{self, TestPki};
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Sign, PublicKey};
use sha2::{Digest, Sha256};

pub const SEED: u64 = 7;

/// One PKI per test binary: key generation is the slow part.
pub fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| pki::generate(SEED).expect("test PKI"))
}

/// Reads the current EF in short READ BINARYs (Le=00), the way the helper reads certificates,
/// over any transport: `transmit` sends one APDU and returns its data and status word.
pub fn read_ef_short(mut transmit: impl FnMut(&[u8]) -> (Vec<u8>, u16)) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let [hi, lo] = u16::try_from(out.len()).expect("EF under 64 KiB").to_be_bytes();
        let (d, sw) = transmit(&[0x00, 0xB0, hi, lo, 0x00]);
        if sw == 0x6B00 {
            return out;
        }
        assert_eq!(sw, 0x9000);
        let n = d.len();
        out.extend(d);
        if n < 256 {
            return out;
        }
    }
}

/// DigestInfo for SHA-256 (RFC 8017 §9.2 note 1).
pub fn digest_info_sha256(msg: &[u8]) -> Vec<u8> {
    let mut d = vec![
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    d.extend(Sha256::digest(msg));
    d
}

/// PKCS#1 v1.5 type-1 block of `k` bytes around `t`, as a host pads for an HPKI card.
pub fn pkcs1_block(t: &[u8], k: usize) -> Vec<u8> {
    let mut b = vec![0x00, 0x01];
    b.resize(k - t.len() - 1, 0xFF);
    b.push(0x00);
    b.extend_from_slice(t);
    b
}

pub fn cert_public_key(cert_der: &[u8]) -> PublicKey {
    let (_, c) = x509_parser::parse_x509_certificate(cert_der).expect("certificate parses");
    PublicKey::from_public_key_der(c.tbs_certificate.subject_pki.raw).expect("RSA public key")
}

/// Verifies an RSA PKCS#1 v1.5 SHA-256 signature over `msg` with the certificate's key.
pub fn verify_sha256(cert_der: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    cert_public_key(cert_der)
        .verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(msg), sig)
        .is_ok()
}

pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

/// Splits a response into (data, SW).
pub fn split(resp: &[u8]) -> (&[u8], u16) {
    let (d, sw) = resp.split_at(resp.len() - 2);
    (d, u16::from_be_bytes([sw[0], sw[1]]))
}

pub mod stack;
