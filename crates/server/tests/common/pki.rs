//! A test PKI shaped like the real ones: RSA-2048 keys, sha256WithRSAEncryption, keyUsage and
//! certificatePolicies marked critical, a signed CRL. One key per role, made once per process.

use std::{path::Path, sync::OnceLock};

use mahpki_server::pki::{TrustConfig, signed_data};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CustomExtension,
    DistinguishedName, DnType, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PKCS_RSA_SHA256, RevocationReason, RevokedCertParams, SerialNumber, date_time_ymd,
};
use rsa::{
    pkcs8::EncodePrivateKey as _, signature::SignatureEncoding as _, signature::Signer as _,
};

pub const HPKI_POLICY: &[u64] = &[1, 2, 392, 100495, 1, 5, 1, 1, 1, 1];
pub const HPKI_POLICY_STR: &str = "1.2.392.100495.1.5.1.1.1.1";
pub const JPKI_POLICY: &[u64] = &[1, 2, 392, 200149, 8, 5, 1, 3, 30];
pub const JPKI_POLICY_STR: &str = "1.2.392.200149.8.5.1.3.30";
pub const REVOKED_SERIAL: u64 = 0x0BAD;

pub struct Key {
    pub rsa: rsa::PrivateKey,
    pub pkcs8: Vec<u8>,
}

impl Key {
    fn new() -> Self {
        use rsa::Generate as _;
        let rsa = rsa::PrivateKey::generate();
        let pkcs8 = rsa.to_pkcs8_der().unwrap().as_bytes().to_vec();
        Self { rsa, pkcs8 }
    }

    pub fn keypair(&self) -> KeyPair {
        KeyPair::from_pkcs8_der_and_sign_algo(&self.pkcs8.as_slice().into(), &PKCS_RSA_SHA256)
            .unwrap()
    }

    /// What the helper returns: PKCS#1 v1.5 / SHA-256 over the origin-bound challenge.
    pub fn sign_challenge(&self, origin: &str, challenge: &[u8]) -> Vec<u8> {
        rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(self.rsa.clone())
            .sign(&signed_data(origin, challenge))
            .to_vec()
    }
}

pub struct Keys {
    pub hpki_ca: Key,
    pub jpki_ca: Key,
    pub rogue_ca: Key,
    pub holder: Key,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        hpki_ca: Key::new(),
        jpki_ca: Key::new(),
        rogue_ca: Key::new(),
        holder: Key::new(),
    })
}

fn der_len(n: usize) -> Vec<u8> {
    match n {
        0..=0x7f => vec![n as u8],
        0x80..=0xff => vec![0x81, n as u8],
        _ => vec![0x82, (n >> 8) as u8, n as u8],
    }
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend(der_len(content.len()));
    v.extend_from_slice(content);
    v
}

fn der_oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &a in &arcs[2..] {
        let mut chunk = vec![(a & 0x7f) as u8];
        let mut rest = a >> 7;
        while rest > 0 {
            chunk.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        chunk.reverse();
        body.extend(chunk);
    }
    der(0x06, &body)
}

/// certificatePolicies with one policy, marked critical as in real HPKI/JPKI certificates.
pub fn policies(policy: &[u64]) -> CustomExtension {
    let content = der(0x30, &der(0x30, &der_oid(policy)));
    let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 32], content);
    ext.set_criticality(true);
    ext
}

pub fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "JP");
    dn.push(DnType::OrganizationName, "mahpki test");
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2099, 1, 1);
    p
}

/// An end-entity authentication certificate as a card holds it; callers spoil one field.
pub fn ee_params(cn: &str, serial: u64, policy: &[u64]) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "JP");
    if !cn.is_empty() {
        dn.push(DnType::CommonName, cn);
    }
    p.distinguished_name = dn;
    p.serial_number = Some(SerialNumber::from(serial.to_be_bytes().to_vec()));
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.custom_extensions = vec![policies(policy)];
    p.not_before = date_time_ymd(2024, 1, 1);
    p.not_after = date_time_ymd(2099, 1, 1);
    p
}

pub fn issue(
    params: &CertificateParams,
    subject: &Key,
    ca_params: &CertificateParams,
    ca: &Key,
) -> Vec<u8> {
    let ca_kp = ca.keypair();
    let issuer = Issuer::new(ca_params.clone(), &ca_kp);
    params.signed_by(&subject.keypair(), &issuer).unwrap().der().to_vec()
}

pub struct Ca {
    pub params: CertificateParams,
    pub cert_der: Vec<u8>,
}

pub fn ca(cn: &str, key: &Key) -> Ca {
    let params = ca_params(cn);
    let cert_der = params.self_signed(&key.keypair()).unwrap().der().to_vec();
    Ca { params, cert_der }
}

/// Writes the CA certificate and a CRL revoking [`REVOKED_SERIAL`] (next update `next_update`)
/// into `dir`, and returns the trust configuration naming them.
pub fn trust_config(
    dir: &Path,
    name: &str,
    ca: &Ca,
    key: &Key,
    policy: &str,
    next_update_year: i32,
) -> TrustConfig {
    let cert_path = dir.join(format!("{name}.der"));
    std::fs::write(&cert_path, &ca.cert_der).unwrap();
    let crl = CertificateRevocationListParams {
        this_update: date_time_ymd(2024, 1, 1),
        next_update: date_time_ymd(next_update_year, 1, 1),
        crl_number: SerialNumber::from(1u64.to_be_bytes().to_vec()),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from(REVOKED_SERIAL.to_be_bytes().to_vec()),
            revocation_time: date_time_ymd(2024, 6, 1),
            reason_code: Some(RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let ca_kp = key.keypair();
    let crl_der = crl.signed_by(&Issuer::new(ca.params.clone(), &ca_kp)).unwrap().der().to_vec();
    let crl_path = dir.join(format!("{name}.crl"));
    std::fs::write(&crl_path, crl_der).unwrap();
    TrustConfig {
        ca_cert: cert_path,
        policies: vec![policy.to_owned()],
        signing_policies: vec![],
        crls: vec![crl_path],
    }
}

/// The HPKI authentication certificate of the phone tests' holder ("HPKI holder 1", serial 1001).
pub fn holder_cert(ca: &Ca) -> Vec<u8> {
    let keys = keys();
    issue(&ee_params("HPKI holder 1", 1001, HPKI_POLICY), &keys.holder, &ca.params, &keys.hpki_ca)
}
