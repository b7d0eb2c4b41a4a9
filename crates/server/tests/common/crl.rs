//! CRLs built by hand, so a test can leave out nextUpdate (rcgen always writes one) or date
//! them as it needs.

use rsa::signature::{SignatureEncoding as _, Signer as _};

use super::pki;

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let n = content.len();
    let mut v = vec![tag];
    match n {
        0..=0x7f => v.push(n as u8),
        0x80..=0xff => v.extend([0x81, n as u8]),
        _ => v.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    v.extend_from_slice(content);
    v
}

/// GeneralizedTime `YYYYMMDDhhmmssZ`.
fn time(t: &str) -> Vec<u8> {
    der(0x18, t.as_bytes())
}

fn serial(n: u64) -> Vec<u8> {
    let mut bytes = n.to_be_bytes().to_vec();
    while bytes.len() > 1 && bytes[0] == 0 && bytes[1] < 0x80 {
        bytes.remove(0);
    }
    der(0x02, &bytes)
}

/// A v2 CRL signed by `key` for `ca`, revoking `revoked`.
pub fn crl(
    ca: &pki::Ca,
    key: &pki::Key,
    revoked: &[u64],
    this: &str,
    next: Option<&str>,
) -> Vec<u8> {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(&ca.cert_der).unwrap();
    let sha256_rsa = der(
        0x30,
        &[der(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]), vec![0x05, 0x00]]
            .concat(),
    );
    let mut tbs =
        [der(0x02, &[1]), sha256_rsa.clone(), cert.subject().as_raw().to_vec(), time(this)]
            .concat();
    if let Some(next) = next {
        tbs.extend(time(next));
    }
    if !revoked.is_empty() {
        let entries: Vec<u8> = revoked
            .iter()
            .flat_map(|&s| der(0x30, &[serial(s), time("20240601000000Z")].concat()))
            .collect();
        tbs.extend(der(0x30, &entries));
    }
    let tbs = der(0x30, &tbs);
    let sig = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(key.rsa.clone()).sign(&tbs);
    let bits = [&[0u8][..], &sig.to_vec()].concat();
    der(0x30, &[tbs, sha256_rsa, der(0x03, &bits)].concat())
}

/// GeneralizedTime text of a Unix time (days to civil date: Howard Hinnant's algorithm).
pub fn time_string(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}{:02}{:02}{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}
