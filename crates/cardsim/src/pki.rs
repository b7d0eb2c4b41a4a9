//! A deterministic test PKI: an HPKI root with one issuing CA per HPKI CA operator (JMA, JPA,
//! MEDIS), JPKI authentication and signing CAs, a few demo holders each with an HPKI auth
//! certificate and a My Number card's two certificates, and CRLs revoking one holder.
//!
//! Same seed, same bytes: every RSA key comes from a ChaCha20 stream keyed by
//! SHA-256(seed ‖ label), dates are fixed and RSA PKCS#1 v1.5 signatures are deterministic.
//!
//! Policy OIDs below sit under the real HPKI (1.2.392.100495) and JPKI (1.2.392.200149) arcs
//! but are test values; certificates are shaped like the real ones (critical
//! certificatePolicies, critical keyUsage, hcRole in subjectDirectoryAttributes, JPKI auth
//! certificates with no name) so validators meet the same structures.

use std::path::{Path, PathBuf};

use chacha20::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CustomExtension,
    DistinguishedName, DnType, DnValue, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PKCS_RSA_SHA256, RevocationReason, RevokedCertParams, SerialNumber, date_time_ymd,
};
use rsa::PrivateKey;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use yasna::models::ObjectIdentifier;

use crate::hpki::{HpkiCard, HpkiContents};
use crate::jpki::{JpkiCard, JpkiContents};
use crate::profile::{self, HpkiProfile};

/// id-hcpki-at-healthcareactor (ISO 17090-2), the hcRole attribute.
pub const OID_HC_ROLE: &[u64] = &[1, 0, 17090, 0, 1];
/// HPKI's coding scheme for national qualifications (医師/歯科医師/薬剤師 …).
pub const OID_HPKI_QUALIFICATION_SCHEME: &[u64] = &[1, 2, 392, 100495, 1, 6, 1, 1];
/// Test certificate policy for HPKI authentication certificates.
pub const OID_HPKI_AUTH_POLICY: &[u64] = &[1, 2, 392, 100495, 1, 5, 1, 1, 2];
/// Test certificate policy for HPKI second certificates (signing keys kept in a platform's HSM).
pub const OID_HPKI_SECOND_POLICY: &[u64] = &[1, 2, 392, 100495, 1, 5, 1, 1, 3];
/// Test certificate policies for JPKI user-authentication and signing certificates.
pub const OID_JPKI_AUTH_POLICY: &[u64] = &[1, 2, 392, 200149, 8, 5, 1, 3, 30];
pub const OID_JPKI_SIGN_POLICY: &[u64] = &[1, 2, 392, 200149, 8, 5, 1, 1, 10];

const OID_CERT_POLICIES: &[u64] = &[2, 5, 29, 32];
const OID_SUBJECT_DIR_ATTRS: &[u64] = &[2, 5, 29, 9];
const OID_SAN: &[u64] = &[2, 5, 29, 17];
const OID_CRL_DP: &[u64] = &[2, 5, 29, 31];

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("RSA: {0}")]
    Rsa(#[from] rsa::Error),
    #[error("PKCS#8: {0}")]
    Pkcs8(#[from] rsa::pkcs8::Error),
    #[error("certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("writing {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("manifest: {0}")]
    Json(#[from] serde_json::Error),
    #[error("no holder {0} in the test PKI")]
    UnknownHolder(String),
}

/// The HPKI CA operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HpkiIssuer {
    Jma,
    Jpa,
    Medis,
}

impl HpkiIssuer {
    pub const ALL: [HpkiIssuer; 3] = [Self::Jma, Self::Jpa, Self::Medis];

    pub fn code(self) -> &'static str {
        match self {
            Self::Jma => "JMA",
            Self::Jpa => "JPA",
            Self::Medis => "MEDIS",
        }
    }

    fn organization(self) -> &'static str {
        match self {
            Self::Jma => "Japan Medical Association",
            Self::Jpa => "Japan Pharmaceutical Association",
            Self::Medis => "Medical Information System Development Center",
        }
    }
}

/// National qualifications an HPKI certificate's hcRole names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Qualification {
    #[serde(rename = "医師")]
    Doctor,
    #[serde(rename = "歯科医師")]
    Dentist,
    #[serde(rename = "薬剤師")]
    Pharmacist,
}

impl Qualification {
    pub fn japanese(self) -> &'static str {
        match self {
            Self::Doctor => "医師",
            Self::Dentist => "歯科医師",
            Self::Pharmacist => "薬剤師",
        }
    }

    /// The codeDataValue in hcRole.
    pub fn hc_role_code(self) -> &'static str {
        match self {
            Self::Doctor => "Medical Doctor",
            Self::Dentist => "Dentist",
            Self::Pharmacist => "Pharmacist",
        }
    }
}

/// Who a demo holder is and what their cards hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderSpec {
    /// 本人ID.
    pub hpki_id: String,
    pub name_kanji: String,
    pub name_kana: String,
    pub name_roman: String,
    pub issuer: HpkiIssuer,
    pub qualification: Qualification,
    /// 医籍/歯科医籍/薬剤師名簿 registration number.
    pub registration_number: String,
    pub hpki_card_id: String,
    /// Name of the [`HpkiProfile`] of this holder's HPKI card.
    pub hpki_profile: String,
    pub hpki_pin: String,
    pub jpki_auth_pin: String,
    pub jpki_sign_pin: String,
    /// Revoked in the CRLs (both the HPKI and the JPKI auth certificate).
    pub revoked: bool,
}

/// The demo holders every seed produces (only keys, serials and signatures depend on the seed).
pub fn demo_holders() -> Vec<HolderSpec> {
    let h = |n: u32,
             kanji: &str,
             kana: &str,
             roman: &str,
             issuer,
             qualification,
             profile: &HpkiProfile,
             revoked| HolderSpec {
        hpki_id: format!("HP{n:010}"),
        name_kanji: kanji.into(),
        name_kana: kana.into(),
        name_roman: roman.into(),
        issuer,
        qualification,
        registration_number: format!("{:06}", 100_000 + n * 1_111),
        hpki_card_id: format!("{}{:08}", HpkiIssuer::code(issuer), n),
        hpki_profile: profile.name.into(),
        hpki_pin: format!("{:04}", 1234 + n - 1),
        jpki_auth_pin: format!("{:04}", 1000 + n),
        jpki_sign_pin: format!("SIGN{n:04}"),
        revoked,
    };
    use HpkiIssuer::*;
    use Qualification::*;
    vec![
        h(1, "山田 太郎", "ヤマダ タロウ", "YAMADA TARO", Jma, Doctor, &profile::JMA, false),
        h(
            2,
            "佐藤 花子",
            "サトウ ハナコ",
            "SATO HANAKO",
            Jpa,
            Pharmacist,
            &profile::GUIDELINE,
            false,
        ),
        h(
            3,
            "鈴木 一郎",
            "スズキ イチロウ",
            "SUZUKI ICHIRO",
            Medis,
            Dentist,
            &profile::GUIDELINE_SHORT,
            false,
        ),
        h(4, "高橋 次郎", "タカハシ ジロウ", "TAKAHASHI JIRO", Jma, Doctor, &profile::JMA, true),
    ]
}

/// A CA: its certificate and key.
#[derive(Clone)]
pub struct Ca {
    pub cert: Vec<u8>,
    pub key: PrivateKey,
    params: CertificateParams,
}

/// A holder's certificates and keys.
#[derive(Clone)]
pub struct Holder {
    pub spec: HolderSpec,
    pub hpki_cert: Vec<u8>,
    pub hpki_key: PrivateKey,
    /// [HPKI root, issuing CA].
    pub hpki_chain: Vec<Vec<u8>>,
    pub jpki_auth_cert: Vec<u8>,
    pub jpki_auth_key: PrivateKey,
    pub jpki_auth_ca: Vec<u8>,
    pub jpki_sign_cert: Vec<u8>,
    pub jpki_sign_key: PrivateKey,
    pub jpki_sign_ca: Vec<u8>,
}

impl Holder {
    /// A fresh My Number card for this holder (full PIN tries).
    pub fn jpki_card(&self) -> JpkiCard {
        JpkiCard::new(JpkiContents {
            auth_cert: self.jpki_auth_cert.clone(),
            auth_ca_cert: self.jpki_auth_ca.clone(),
            auth_key: self.jpki_auth_key.clone(),
            auth_pin: self.spec.jpki_auth_pin.clone(),
            sign_cert: self.jpki_sign_cert.clone(),
            sign_ca_cert: self.jpki_sign_ca.clone(),
            sign_key: self.jpki_sign_key.clone(),
            sign_pin: self.spec.jpki_sign_pin.clone(),
        })
    }

    /// A fresh HPKI card for this holder, laid out by the holder's profile.
    pub fn hpki_card(&self) -> HpkiCard {
        let p = profile::by_name(&self.spec.hpki_profile).unwrap_or(&profile::JMA);
        self.hpki_card_with(p)
    }

    /// The same holder's HPKI material on a card of another layout.
    pub fn hpki_card_with(&self, profile: &HpkiProfile) -> HpkiCard {
        HpkiCard::new(
            profile,
            HpkiContents {
                cert: self.hpki_cert.clone(),
                ca_certs: self.hpki_chain.clone(),
                key: self.hpki_key.clone(),
                pin: self.spec.hpki_pin.clone(),
            },
        )
    }
}

/// Everything [`generate`] makes.
pub struct TestPki {
    pub seed: u64,
    pub hpki_root: Ca,
    pub hpki_cas: Vec<(HpkiIssuer, Ca)>,
    pub jpki_auth_ca: Ca,
    pub jpki_sign_ca: Ca,
    pub holders: Vec<Holder>,
    /// DER CRL per HPKI issuing CA.
    pub hpki_crls: Vec<(HpkiIssuer, Vec<u8>)>,
    pub jpki_auth_crl: Vec<u8>,
}

impl TestPki {
    pub fn holder(&self, hpki_id: &str) -> Option<&Holder> {
        self.holders.iter().find(|h| h.spec.hpki_id == hpki_id)
    }

    pub fn hpki_ca(&self, issuer: HpkiIssuer) -> &Ca {
        &self.hpki_cas.iter().find(|(i, _)| *i == issuer).expect("every issuer has a CA").1
    }
}

/// An RSA-2048 key determined by `seed` and `label` alone.
pub fn derive_key(seed: u64, label: &str) -> Result<PrivateKey, PkiError> {
    let mut h = Sha256::new();
    h.update(b"mahpki-cardsim key v1\0");
    h.update(seed.to_be_bytes());
    h.update(label.as_bytes());
    let mut rng = ChaCha20Rng::from_seed(h.finalize().into());
    Ok(PrivateKey::new(&mut rng, 2048)?)
}

/// A positive serial number of `len` bytes from the labelled stream.
fn derive_serial(seed: u64, label: &str, len: usize) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"mahpki-cardsim serial v1\0");
    h.update(seed.to_be_bytes());
    h.update(label.as_bytes());
    let mut rng = ChaCha20Rng::from_seed(h.finalize().into());
    let mut s = vec![0u8; len];
    rng.fill_bytes(&mut s);
    s[0] = (s[0] & 0x7F) | 0x10; // positive, and no leading zero to strip
    s
}

fn rcgen_key(key: &PrivateKey) -> Result<KeyPair, PkiError> {
    let pem = key.to_pkcs8_pem(LineEnding::LF)?;
    Ok(KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &PKCS_RSA_SHA256)?)
}

fn oid(arcs: &[u64]) -> ObjectIdentifier {
    ObjectIdentifier::from_slice(arcs)
}

/// certificatePolicies with one policy, no qualifiers; critical, as HPKI and JPKI mark it.
fn cert_policies(policy: &[u64]) -> CustomExtension {
    let der = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| w.next().write_oid(&oid(policy)));
        })
    });
    let mut ext = CustomExtension::from_oid_content(OID_CERT_POLICIES, der);
    ext.set_criticality(true);
    ext
}

/// subjectDirectoryAttributes holding hcRole (ISO 17090-2):
/// `Attribute { hcRole, { HCActorData ::= SET OF HCActor } }`,
/// `HCActor ::= SEQUENCE { codedData [0] CodedData }`,
/// `CodedData ::= SEQUENCE { codingSchemeReference [0] OID, codeDataValue [1] UTF8String }`
/// (explicit tags).
pub fn hc_role_extension_der(q: Qualification) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| {
                w.next().write_oid(&oid(OID_HC_ROLE));
                w.next().write_set(|w| {
                    // HCActorData
                    w.next().write_set(|w| {
                        w.next().write_sequence(|w| {
                            w.next().write_tagged(yasna::Tag::context(0), |w| {
                                w.write_sequence(|w| {
                                    w.next().write_tagged(yasna::Tag::context(0), |w| {
                                        w.write_oid(&oid(OID_HPKI_QUALIFICATION_SCHEME))
                                    });
                                    w.next().write_tagged(yasna::Tag::context(1), |w| {
                                        w.write_utf8_string(q.hc_role_code())
                                    });
                                })
                            });
                        })
                    });
                });
            });
        })
    })
}

/// A directory name, as GeneralName [4] wants it: RDNs of (attribute OID, UTF8String).
fn write_name(w: yasna::DERWriter, rdns: &[(&[u64], &str)]) {
    w.write_sequence(|w| {
        for (t, v) in rdns {
            w.next().write_set(|w| {
                w.next().write_sequence(|w| {
                    w.next().write_oid(&oid(t));
                    if v.is_ascii() {
                        w.next().write_printable_string(v);
                    } else {
                        w.next().write_utf8_string(v);
                    }
                })
            })
        }
    })
}

const AT_C: &[u64] = &[2, 5, 4, 6];
const AT_O: &[u64] = &[2, 5, 4, 10];
const AT_OU: &[u64] = &[2, 5, 4, 11];

/// SAN with one directoryName (the JPKI CA names itself in Japanese this way).
fn san_dirname(rdns: &[(&[u64], &str)]) -> CustomExtension {
    let der = yasna::construct_der(|w| {
        w.write_sequence(|w| w.next().write_tagged(yasna::Tag::context(4), |w| write_name(w, rdns)))
    });
    CustomExtension::from_oid_content(OID_SAN, der)
}

/// CRL distribution point whose fullName is a directoryName, as JPKI's are.
fn crl_dp_dirname(rdns: &[(&[u64], &str)]) -> CustomExtension {
    let der = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| {
                // distributionPoint [0] { fullName [0] GeneralNames }
                w.next().write_tagged_implicit(yasna::Tag::context(0), |w| {
                    w.write_sequence(|w| {
                        w.next().write_tagged_implicit(yasna::Tag::context(0), |w| {
                            w.write_sequence(|w| {
                                w.next()
                                    .write_tagged(yasna::Tag::context(4), |w| write_name(w, rdns))
                            })
                        })
                    })
                });
            })
        })
    });
    CustomExtension::from_oid_content(OID_CRL_DP, der)
}

fn dn(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    for (t, v) in parts {
        let value = if v.is_ascii() {
            DnValue::PrintableString(
                rcgen::string::PrintableString::try_from(*v)
                    .expect("ASCII test names are printable"),
            )
        } else {
            DnValue::Utf8String((*v).to_string())
        };
        d.push(t.clone(), value);
    }
    d
}

fn base_params(seed: u64, label: &str, subject: DistinguishedName, ca: bool) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = subject;
    p.serial_number = Some(SerialNumber::from_slice(&derive_serial(seed, label, 8)));
    p.key_identifier_method = KeyIdMethod::Sha256;
    p.use_authority_key_identifier_extension = !ca;
    if ca {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        p.not_before = date_time_ymd(2024, 1, 1);
        p.not_after = date_time_ymd(2044, 1, 1);
    } else {
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.not_before = date_time_ymd(2025, 4, 1);
        p.not_after = date_time_ymd(2030, 3, 31);
    }
    p
}

fn self_signed(params: CertificateParams, key: PrivateKey) -> Result<Ca, PkiError> {
    let cert = params.self_signed(&rcgen_key(&key)?)?.der().to_vec();
    Ok(Ca { cert, key, params })
}

fn issue(params: &CertificateParams, key: &PrivateKey, by: &Ca) -> Result<Vec<u8>, PkiError> {
    let issuer_key = rcgen_key(&by.key)?;
    let issuer = Issuer::from_params(&by.params, &issuer_key);
    Ok(params.signed_by(&rcgen_key(key)?, &issuer)?.der().to_vec())
}

fn crl(ca: &Ca, revoked: &[&[u8]]) -> Result<Vec<u8>, PkiError> {
    let issuer_key = rcgen_key(&ca.key)?;
    let issuer = Issuer::from_params(&ca.params, &issuer_key);
    let params = CertificateRevocationListParams {
        this_update: date_time_ymd(2026, 1, 1),
        next_update: date_time_ymd(2036, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|serial| RevokedCertParams {
                serial_number: SerialNumber::from_slice(serial),
                revocation_time: date_time_ymd(2025, 10, 1),
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    Ok(params.signed_by(&issuer)?.der().to_vec())
}

/// Makes every key the PKI needs, two at a time (the work is almost all prime search).
fn derive_keys(seed: u64, labels: &[String]) -> Result<Vec<PrivateKey>, PkiError> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let chunk = labels.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = labels
            .chunks(chunk)
            .map(|ls| s.spawn(move || ls.iter().map(|l| derive_key(seed, l)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("key generation thread panicked"))
            .collect()
    })
}

/// Generates the whole test PKI for `seed` with the [`demo_holders`].
pub fn generate(seed: u64) -> Result<TestPki, PkiError> {
    generate_for(seed, demo_holders())
}

/// Generates the test PKI for `seed` and the given holders.
pub fn generate_for(seed: u64, specs: Vec<HolderSpec>) -> Result<TestPki, PkiError> {
    let mut labels: Vec<String> =
        vec!["hpki-root".into(), "jpki-auth-ca".into(), "jpki-sign-ca".into()];
    labels.extend(HpkiIssuer::ALL.iter().map(|i| format!("hpki-ca-{}", i.code())));
    for s in &specs {
        for k in ["hpki", "jpki-auth", "jpki-sign"] {
            labels.push(format!("{k}/{}", s.hpki_id));
        }
    }
    let mut keys = derive_keys(seed, &labels)?.into_iter();
    let mut next = || keys.next().expect("one key per label");

    let root = self_signed(
        base_params(
            seed,
            "hpki-root",
            dn(&[
                (DnType::CountryName, "JP"),
                (DnType::OrganizationName, "MHLW"),
                (DnType::OrganizationalUnitName, "TEST"),
                (DnType::CommonName, "TEST HPKI Root CA"),
            ]),
            true,
        ),
        next(),
    )?;
    let jpki_auth_rdns: [(&[u64], &str); 4] = [
        (AT_C, "JP"),
        (AT_O, "JPKI"),
        (AT_OU, "TEST JPKI for user authentication"),
        (AT_OU, "Japan Agency for Local Authority Information Systems"),
    ];
    let jpki_ca = |label: &str, ou: &str, key| -> Result<Ca, PkiError> {
        let mut p = base_params(
            seed,
            label,
            dn(&[
                (DnType::CountryName, "JP"),
                (DnType::OrganizationName, "JPKI"),
                (DnType::OrganizationalUnitName, ou),
                // rcgen keeps one value per DnType; the real name has two OUs, so the second
                // goes in under the same OID spelled as a custom type.
                (
                    DnType::CustomDnType(AT_OU.to_vec()),
                    "Japan Agency for Local Authority Information Systems",
                ),
            ]),
            true,
        );
        p.custom_extensions.push(san_dirname(&[(AT_C, "JP"), (AT_O, "公的個人認証サービス")]));
        self_signed(p, key)
    };
    let jpki_auth_ca = jpki_ca("jpki-auth-ca", "TEST JPKI for user authentication", next())?;
    let jpki_sign_ca = jpki_ca("jpki-sign-ca", "TEST JPKI for digital signature", next())?;

    let mut hpki_cas = Vec::new();
    for issuer in HpkiIssuer::ALL {
        let label = format!("hpki-ca-{}", issuer.code());
        let mut p = base_params(
            seed,
            &label,
            dn(&[
                (DnType::CountryName, "JP"),
                (DnType::OrganizationName, issuer.organization()),
                (
                    DnType::CommonName,
                    &format!("TEST HPKI CA for Authentication ({})", issuer.code()),
                ),
            ]),
            true,
        );
        p.use_authority_key_identifier_extension = true;
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let key = next();
        let cert = issue(&p, &key, &root)?;
        hpki_cas.push((issuer, Ca { cert, key, params: p }));
    }
    let ca_of = |i: HpkiIssuer| &hpki_cas.iter().find(|(x, _)| *x == i).expect("CA").1;

    let mut holders = Vec::new();
    for spec in specs {
        let (hpki_key, jpki_auth_key, jpki_sign_key) = (next(), next(), next());
        let ca = ca_of(spec.issuer);

        let mut p = base_params(seed, &format!("hpki/{}", spec.hpki_id), holder_dn(&spec), false);
        p.custom_extensions.push(cert_policies(OID_HPKI_AUTH_POLICY));
        p.custom_extensions.push(CustomExtension::from_oid_content(
            OID_SUBJECT_DIR_ATTRS,
            hc_role_extension_der(spec.qualification),
        ));
        let hpki_cert = issue(&p, &hpki_key, ca)?;

        // The JPKI user-authentication certificate names nobody: the holder is the serial.
        let mut p = base_params(
            seed,
            &format!("jpki-auth/{}", spec.hpki_id),
            dn(&[(DnType::CountryName, "JP")]),
            false,
        );
        p.serial_number = Some(SerialNumber::from_slice(&derive_serial(
            seed,
            &format!("jpki-auth/{}", spec.hpki_id),
            16,
        )));
        p.custom_extensions.push(cert_policies(OID_JPKI_AUTH_POLICY));
        p.custom_extensions.push(crl_dp_dirname(&jpki_auth_rdns));
        let jpki_auth_cert = issue(&p, &jpki_auth_key, &jpki_auth_ca)?;

        let mut p = base_params(
            seed,
            &format!("jpki-sign/{}", spec.hpki_id),
            dn(&[(DnType::CountryName, "JP"), (DnType::CommonName, &spec.name_kanji)]),
            false,
        );
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
        p.custom_extensions.push(cert_policies(OID_JPKI_SIGN_POLICY));
        let jpki_sign_cert = issue(&p, &jpki_sign_key, &jpki_sign_ca)?;

        holders.push(Holder {
            hpki_chain: vec![root.cert.clone(), ca.cert.clone()],
            jpki_auth_ca: jpki_auth_ca.cert.clone(),
            jpki_sign_ca: jpki_sign_ca.cert.clone(),
            spec,
            hpki_cert,
            hpki_key,
            jpki_auth_cert,
            jpki_auth_key,
            jpki_sign_cert,
            jpki_sign_key,
        });
    }

    let serial_of = |der: &[u8]| -> Vec<u8> {
        let (_, c) = x509_parser::parse_x509_certificate(der).expect("we just made it");
        c.tbs_certificate.raw_serial().to_vec()
    };
    let mut hpki_crls = Vec::new();
    for (issuer, ca) in &hpki_cas {
        let revoked: Vec<Vec<u8>> = holders
            .iter()
            .filter(|h| h.spec.revoked && h.spec.issuer == *issuer)
            .map(|h| serial_of(&h.hpki_cert))
            .collect();
        let refs: Vec<&[u8]> = revoked.iter().map(Vec::as_slice).collect();
        hpki_crls.push((*issuer, crl(ca, &refs)?));
    }
    let revoked: Vec<Vec<u8>> =
        holders.iter().filter(|h| h.spec.revoked).map(|h| serial_of(&h.jpki_auth_cert)).collect();
    let refs: Vec<&[u8]> = revoked.iter().map(Vec::as_slice).collect();
    let jpki_auth_crl = crl(&jpki_auth_ca, &refs)?;

    Ok(TestPki {
        seed,
        hpki_root: root,
        hpki_cas,
        jpki_auth_ca,
        jpki_sign_ca,
        holders,
        hpki_crls,
        jpki_auth_crl,
    })
}

/// The HPKI profile of a holder's subject name: C, CN (roman name), serialNumber (本人ID), as
/// on the card's certificate, so the platform finds the holder by the same name.
fn holder_dn(spec: &HolderSpec) -> DistinguishedName {
    dn(&[
        (DnType::CountryName, "JP"),
        (DnType::CommonName, &spec.name_roman),
        (DnType::CustomDnType(vec![2, 5, 4, 5]), &spec.hpki_id),
    ])
}

/// Issues an HPKI second certificate (signing) for the key of the PKCS#10 request `csr_der`
/// (whose signature must verify), naming the holder `subject`, signed by `ca`, valid from
/// `not_before` to `not_after`. Shaped like the card certificates: critical certificatePolicies
/// (the second-certificate test policy), hcRole in subjectDirectoryAttributes, critical
/// keyUsage digitalSignature + nonRepudiation. What the request asks for besides its key is
/// ignored, as a CA does: the subject comes from the CA's register.
pub fn issue_second_certificate(
    csr_der: &[u8],
    subject: &HolderSpec,
    ca: &Ca,
    not_before: time::OffsetDateTime,
    not_after: time::OffsetDateTime,
) -> Result<Vec<u8>, PkiError> {
    let csr = rcgen::CertificateSigningRequestParams::from_der(&csr_der.to_vec().into())?;
    let mut h = Sha256::new();
    h.update(b"mahpki-cardsim second serial v1\0");
    h.update(csr_der);
    let mut serial = h.finalize()[..12].to_vec();
    serial[0] = (serial[0] & 0x7F) | 0x10;
    let mut p = CertificateParams::default();
    p.distinguished_name = holder_dn(subject);
    p.serial_number = Some(SerialNumber::from_slice(&serial));
    p.key_identifier_method = KeyIdMethod::Sha256;
    p.use_authority_key_identifier_extension = true;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
    p.not_before = not_before;
    p.not_after = not_after;
    p.custom_extensions.push(cert_policies(OID_HPKI_SECOND_POLICY));
    p.custom_extensions.push(CustomExtension::from_oid_content(
        OID_SUBJECT_DIR_ATTRS,
        hc_role_extension_der(subject.qualification),
    ));
    let issuer_key = rcgen_key(&ca.key)?;
    let issuer = Issuer::from_params(&ca.params, &issuer_key);
    Ok(p.signed_by(&csr.public_key, &issuer)?.der().to_vec())
}

impl TestPki {
    /// [`issue_second_certificate`] as the holder's own HPKI CA issues it, valid like the card
    /// certificates (2025-04-01 to 2030-03-31).
    pub fn second_certificate(&self, hpki_id: &str, csr_der: &[u8]) -> Result<Vec<u8>, PkiError> {
        let holder = self.holder(hpki_id).ok_or_else(|| PkiError::UnknownHolder(hpki_id.into()))?;
        issue_second_certificate(
            csr_der,
            &holder.spec,
            self.hpki_ca(holder.spec.issuer),
            date_time_ymd(2025, 4, 1),
            date_time_ymd(2030, 3, 31),
        )
    }
}

/// PEM of a DER certificate.
pub fn certificate_pem(der: &[u8]) -> String {
    pem("CERTIFICATE", der)
}

/// `holders.json`: where everything is (paths relative to the manifest's directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub seed: u64,
    pub hpki_root_ca: String,
    /// Issuing CA certificate and CRL per HPKI CA operator.
    pub hpki_cas: Vec<CaEntry>,
    pub jpki_auth_ca: CaEntry,
    pub jpki_sign_ca: CaEntry,
    pub holders: Vec<HolderEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaEntry {
    /// "JMA", "JPA", "MEDIS", "JPKI-AUTH", "JPKI-SIGN".
    pub name: String,
    /// PEM; the same name with `.der` holds DER.
    pub cert: String,
    /// DER CRL, if this CA publishes one here.
    pub crl: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderEntry {
    #[serde(flatten)]
    pub spec: HolderSpec,
    /// PEM paths; `.der` siblings hold DER; `*.key.pem` PKCS#8 private keys.
    pub hpki_cert: String,
    pub hpki_key: String,
    pub jpki_auth_cert: String,
    pub jpki_auth_key: String,
    pub jpki_sign_cert: String,
    pub jpki_sign_key: String,
    /// Hex serial of the JPKI auth certificate: the only thing identifying the card's holder.
    pub jpki_auth_serial: String,
    /// Hex SHA-256 of the DER certificates.
    pub hpki_cert_sha256: String,
    pub jpki_auth_cert_sha256: String,
}

fn pem(label: &str, der: &[u8]) -> String {
    use std::fmt::Write;
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |a, (i, b)| a | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        let _ = writeln!(out, "{}", std::str::from_utf8(line).expect("base64 is ASCII"));
    }
    let _ = writeln!(out, "-----END {label}-----");
    out
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) -> Result<(), PkiError> {
    let path = dir.join(rel);
    let io = |source| PkiError::Io { path: path.clone(), source };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(&path, bytes).map_err(io)
}

/// Writes certificate as `<stem>.pem` and `<stem>.der`; returns the PEM's relative path.
fn write_cert(dir: &Path, stem: &str, der: &[u8]) -> Result<String, PkiError> {
    write(dir, &format!("{stem}.der"), der)?;
    write(dir, &format!("{stem}.pem"), pem("CERTIFICATE", der).as_bytes())?;
    Ok(format!("{stem}.pem"))
}

fn write_key(dir: &Path, stem: &str, key: &PrivateKey) -> Result<String, PkiError> {
    let rel = format!("{stem}.key.pem");
    write(dir, &rel, key.to_pkcs8_pem(LineEnding::LF)?.as_bytes())?;
    Ok(rel)
}

/// Writes the PKI under `dir` and returns (and writes) the manifest `holders.json`.
pub fn write_pki(pki: &TestPki, dir: &Path) -> Result<Manifest, PkiError> {
    let hpki_root_ca = write_cert(dir, "hpki-root-ca", &pki.hpki_root.cert)?;
    let mut hpki_cas = Vec::new();
    for (issuer, ca) in &pki.hpki_cas {
        let stem = format!("hpki-ca-{}", issuer.code().to_lowercase());
        let cert = write_cert(dir, &stem, &ca.cert)?;
        let crl_der = &pki.hpki_crls.iter().find(|(i, _)| i == issuer).expect("CRL").1;
        let crl = format!("crl/{stem}.crl");
        write(dir, &crl, crl_der)?;
        hpki_cas.push(CaEntry { name: issuer.code().into(), cert, crl: Some(crl) });
    }
    let jpki_auth_ca = CaEntry {
        name: "JPKI-AUTH".into(),
        cert: write_cert(dir, "jpki-auth-ca", &pki.jpki_auth_ca.cert)?,
        crl: Some("crl/jpki-auth-ca.crl".into()),
    };
    write(dir, "crl/jpki-auth-ca.crl", &pki.jpki_auth_crl)?;
    let jpki_sign_ca = CaEntry {
        name: "JPKI-SIGN".into(),
        cert: write_cert(dir, "jpki-sign-ca", &pki.jpki_sign_ca.cert)?,
        crl: None,
    };
    let mut holders = Vec::new();
    for h in &pki.holders {
        let d = format!("holders/{}", h.spec.hpki_id);
        let (_, auth) = x509_parser::parse_x509_certificate(&h.jpki_auth_cert)
            .expect("generated certificate parses");
        holders.push(HolderEntry {
            spec: h.spec.clone(),
            hpki_cert: write_cert(dir, &format!("{d}/hpki-auth"), &h.hpki_cert)?,
            hpki_key: write_key(dir, &format!("{d}/hpki-auth"), &h.hpki_key)?,
            jpki_auth_cert: write_cert(dir, &format!("{d}/jpki-auth"), &h.jpki_auth_cert)?,
            jpki_auth_key: write_key(dir, &format!("{d}/jpki-auth"), &h.jpki_auth_key)?,
            jpki_sign_cert: write_cert(dir, &format!("{d}/jpki-sign"), &h.jpki_sign_cert)?,
            jpki_sign_key: write_key(dir, &format!("{d}/jpki-sign"), &h.jpki_sign_key)?,
            jpki_auth_serial: hex(auth.tbs_certificate.raw_serial()),
            hpki_cert_sha256: hex(&Sha256::digest(&h.hpki_cert)),
            jpki_auth_cert_sha256: hex(&Sha256::digest(&h.jpki_auth_cert)),
        });
    }
    let manifest =
        Manifest { seed: pki.seed, hpki_root_ca, hpki_cas, jpki_auth_ca, jpki_sign_ca, holders };
    write(dir, "holders.json", serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    write(dir, SERVER_IMPORT, serde_json::to_string_pretty(&server_import(&manifest))?.as_bytes())?;
    write(dir, SERVER_TRUST, server_trust(&manifest, dir).as_bytes())?;
    Ok(manifest)
}

/// The holder register in the form `mahpki-server identity import` reads.
pub const SERVER_IMPORT: &str = "server-import.json";
/// `[[hpki_trust]]` and `[[jpki_trust]]` for a server that trusts this PKI (the demo's).
pub const SERVER_TRUST: &str = "server-trust.toml";

fn server_import(m: &Manifest) -> Vec<mahpki_protocol::import::IdentityImportRow> {
    m.holders
        .iter()
        .map(|h| mahpki_protocol::import::IdentityImportRow {
            hpki_id: h.spec.hpki_id.clone(),
            ca: h.spec.issuer.code().into(),
            qualification: h.spec.qualification.japanese().into(),
            name_kanji: h.spec.name_kanji.clone(),
            name_kana: h.spec.name_kana.clone(),
            name_roman: h.spec.name_roman.clone(),
            registration_number: h.spec.registration_number.clone(),
            hpki_card_id: h.spec.hpki_card_id.clone(),
            certificate: h.hpki_cert.clone(),
        })
        .collect()
}

fn server_trust(m: &Manifest, dir: &Path) -> String {
    let oid = |arcs: &[u64]| arcs.iter().map(u64::to_string).collect::<Vec<_>>().join(".");
    // Absolute paths: the server reads this file from wherever it is given.
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let abs = |rel: &str| toml_string(&dir.join(rel).display().to_string());
    let mut out =
        String::from("# Trust in the mahpki test PKI (seeded); written by `cardsim pki`.\n");
    for ca in &m.hpki_cas {
        out += &format!(
            "\n[[hpki_trust]]\nca_cert = {}\npolicies = [\"{}\"]\nsigning_policies = [\"{}\"]\ncrls = [{}]\n",
            abs(&ca.cert),
            oid(OID_HPKI_AUTH_POLICY),
            oid(OID_HPKI_SECOND_POLICY),
            ca.crl.as_deref().map(abs).unwrap_or_default()
        );
    }
    let j = &m.jpki_auth_ca;
    out += &format!(
        "\n[[jpki_trust]]\nca_cert = {}\npolicies = [\"{}\"]\ncrls = [{}]\n",
        abs(&j.cert),
        oid(OID_JPKI_AUTH_POLICY),
        j.crl.as_deref().map(abs).unwrap_or_default()
    );
    out
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
