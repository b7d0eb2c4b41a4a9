//! The test PKI: determinism, chains verified with the `rsa` crate, certificate shape, CRLs,
//! and the files `write_pki` leaves behind.

mod common;

use common::*;
use mahpki_cardsim::pki::{self, HpkiIssuer, Manifest};
use rsa::Pkcs1v15Sign;
use sha2::{Digest, Sha256};
use x509_parser::prelude::*;

fn verify_signed_by(tbs: &[u8], sig: &[u8], issuer_der: &[u8]) -> bool {
    cert_public_key(issuer_der)
        .verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(tbs), sig)
        .is_ok()
}

fn cert_signed_by(der: &[u8], issuer_der: &[u8]) -> bool {
    let (_, c) = parse_x509_certificate(der).unwrap();
    assert_eq!(c.signature_algorithm.algorithm.to_id_string(), "1.2.840.113549.1.1.11");
    verify_signed_by(c.tbs_certificate.as_ref(), &c.signature_value.data, issuer_der)
}

#[test]
fn same_seed_same_bytes_other_seed_other_keys() {
    let a = pki();
    let b = pki::generate(SEED).unwrap();
    let c = pki::generate(SEED + 1).unwrap();
    assert_eq!(a.hpki_root.cert, b.hpki_root.cert);
    assert_eq!(a.jpki_auth_crl, b.jpki_auth_crl);
    for (x, y) in a.holders.iter().zip(&b.holders) {
        assert_eq!(x.hpki_cert, y.hpki_cert);
        assert_eq!(x.jpki_auth_cert, y.jpki_auth_cert);
        assert_eq!(x.jpki_sign_cert, y.jpki_sign_cert);
        assert_eq!(x.hpki_key, y.hpki_key);
    }
    assert_ne!(a.hpki_root.cert, c.hpki_root.cert);
    assert_ne!(a.holders[0].jpki_auth_key, c.holders[0].jpki_auth_key);
}

#[test]
fn chains_verify() {
    let p = pki();
    assert!(cert_signed_by(&p.hpki_root.cert, &p.hpki_root.cert));
    assert!(cert_signed_by(&p.jpki_auth_ca.cert, &p.jpki_auth_ca.cert));
    for (_, ca) in &p.hpki_cas {
        assert!(cert_signed_by(&ca.cert, &p.hpki_root.cert));
    }
    for h in &p.holders {
        let ca = p.hpki_ca(h.spec.issuer);
        assert!(cert_signed_by(&h.hpki_cert, &ca.cert), "{}", h.spec.hpki_id);
        assert!(!cert_signed_by(&h.hpki_cert, &p.hpki_root.cert));
        assert!(cert_signed_by(&h.jpki_auth_cert, &p.jpki_auth_ca.cert));
        assert!(cert_signed_by(&h.jpki_sign_cert, &p.jpki_sign_ca.cert));
        assert_eq!(h.hpki_chain, vec![p.hpki_root.cert.clone(), ca.cert.clone()]);
    }
}

fn ext<'a>(c: &'a X509Certificate<'a>, oid: &str) -> &'a X509Extension<'a> {
    c.extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == oid)
        .unwrap_or_else(|| panic!("extension {oid} missing"))
}

#[test]
fn hpki_auth_certificate_shape() {
    let h = &pki().holders[2];
    let (_, c) = parse_x509_certificate(&h.hpki_cert).unwrap();
    let spki = c.public_key();
    match spki.parsed().unwrap() {
        x509_parser::public_key::PublicKey::RSA(k) => assert_eq!(k.key_size(), 2048),
        other => panic!("not RSA: {other:?}"),
    }
    let ku = ext(&c, "2.5.29.15");
    assert!(ku.critical);
    let ParsedExtension::KeyUsage(ku) = ku.parsed_extension() else { panic!() };
    assert!(ku.digital_signature() && !ku.key_cert_sign());
    let cp = ext(&c, "2.5.29.32");
    assert!(cp.critical, "certificatePolicies must be critical");
    let ParsedExtension::CertificatePolicies(cp) = cp.parsed_extension() else { panic!() };
    assert_eq!(cp[0].policy_id.to_id_string(), "1.2.392.100495.1.5.1.1.2");
    // hcRole: subjectDirectoryAttributes carrying 1.0.17090.0.1 with the qualification code.
    let sda = ext(&c, "2.5.29.9");
    assert!(!sda.critical);
    assert_eq!(sda.value, pki::hc_role_extension_der(h.spec.qualification));
    let (_, der) = der_parser::parse_der(sda.value).unwrap();
    let attr = &der.as_sequence().unwrap()[0];
    let attr = attr.as_sequence().unwrap();
    assert_eq!(attr[0].as_oid().unwrap().to_id_string(), "1.0.17090.0.1");
    assert!(sda.value.windows(7).any(|w| w == b"Dentist"));
    let cn: Vec<_> = c.subject().iter_common_name().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(cn, vec!["SUZUKI ICHIRO"]);
    assert!(c.issuer().to_string().contains("MEDIS"));
}

#[test]
fn jpki_auth_certificate_names_nobody() {
    let p = pki();
    let h = &p.holders[0];
    let (_, c) = parse_x509_certificate(&h.jpki_auth_cert).unwrap();
    assert_eq!(c.subject().iter_common_name().count(), 0);
    assert_eq!(c.subject().to_string(), "C=JP");
    assert!(c.tbs_certificate.raw_serial().len() >= 16);
    assert!(ext(&c, "2.5.29.32").critical);
    assert!(ext(&c, "2.5.29.15").critical);
    // Issuer shaped like the real JPKI user-authentication CA.
    let (_, ca) = parse_x509_certificate(&p.jpki_auth_ca.cert).unwrap();
    let ous: Vec<_> =
        ca.subject().iter_organizational_unit().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(
        ous,
        [
            "TEST JPKI for user authentication",
            "Japan Agency for Local Authority Information Systems"
        ]
    );
    assert!(ext(&ca, "2.5.29.19").critical);
}

#[test]
fn crls_revoke_exactly_the_revoked_holder() {
    let p = pki();
    let revoked = p.holders.iter().find(|h| h.spec.revoked).unwrap();
    assert_eq!(revoked.spec.issuer, HpkiIssuer::Jma);
    for (issuer, der) in &p.hpki_crls {
        let (_, crl) = parse_x509_crl(der).unwrap();
        let ca = p.hpki_ca(*issuer);
        assert!(verify_signed_by(crl.tbs_cert_list.as_ref(), &crl.signature_value.data, &ca.cert));
        let serials: Vec<_> =
            crl.iter_revoked_certificates().map(|r| r.raw_serial().to_vec()).collect();
        let (_, rc) = parse_x509_certificate(&revoked.hpki_cert).unwrap();
        if *issuer == HpkiIssuer::Jma {
            assert_eq!(serials, vec![rc.tbs_certificate.raw_serial().to_vec()]);
        } else {
            assert!(serials.is_empty());
        }
    }
    let (_, crl) = parse_x509_crl(&p.jpki_auth_crl).unwrap();
    assert!(verify_signed_by(
        crl.tbs_cert_list.as_ref(),
        &crl.signature_value.data,
        &p.jpki_auth_ca.cert
    ));
    let (_, rc) = parse_x509_certificate(&revoked.jpki_auth_cert).unwrap();
    let serials: Vec<_> =
        crl.iter_revoked_certificates().map(|r| r.raw_serial().to_vec()).collect();
    assert_eq!(serials, vec![rc.tbs_certificate.raw_serial().to_vec()]);
}

#[test]
fn writes_files_and_manifest() {
    let dir = std::env::temp_dir().join(format!("cardsim-pki-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let m = pki::write_pki(pki(), &dir).unwrap();
    let back: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("holders.json")).unwrap()).unwrap();
    assert_eq!(back, m);
    assert_eq!(m.holders.len(), 4);
    let h = &m.holders[0];
    assert_eq!(h.spec.qualification, pki::Qualification::Doctor);
    let raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("holders.json")).unwrap()).unwrap();
    assert_eq!(raw["holders"][0]["qualification"], "医師");
    assert_eq!(raw["holders"][0]["name_kanji"], "山田 太郎");
    assert_eq!(raw["holders"][0]["issuer"], "JMA");
    let der = std::fs::read(dir.join(h.hpki_cert.replace(".pem", ".der"))).unwrap();
    assert_eq!(der, pki().holders[0].hpki_cert);
    let pem = std::fs::read_to_string(dir.join(&h.hpki_cert)).unwrap();
    let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
    assert_eq!(parsed.contents, der);
    assert_eq!(h.hpki_cert_sha256, pki::hex(&Sha256::digest(&der)));
    assert!(dir.join(m.hpki_cas[0].crl.as_ref().unwrap()).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A PKCS#10 request for `key`, as any requester (here rcgen) makes one.
fn csr_for(key: &rsa::PrivateKey) -> Vec<u8> {
    use rsa::pkcs8::EncodePrivateKey as _;
    let pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let kp = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).unwrap();
    let params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.serialize_request(&kp).unwrap().der().to_vec()
}

#[test]
fn second_certificates_from_requests_have_the_hpki_profile() {
    let p = pki();
    let h = &p.holders[0];
    let key = pki::derive_key(SEED, "second-cert test key").unwrap();
    let csr = csr_for(&key);
    let der = p.second_certificate(&h.spec.hpki_id, &csr).unwrap();
    let (_, c) = parse_x509_certificate(&der).unwrap();
    assert!(cert_signed_by(&der, &p.hpki_ca(h.spec.issuer).cert));
    // The holder's name from the CA's register, exactly as on the card's certificate.
    let (_, card) = parse_x509_certificate(&h.hpki_cert).unwrap();
    assert_eq!(c.subject().as_raw(), card.subject().as_raw());
    // The request's key.
    use rsa::traits::PublicKeyParts as _;
    assert_eq!(cert_public_key(&der).n(), key.n());
    let ParsedExtension::KeyUsage(ku) = ext(&c, "2.5.29.15").parsed_extension() else { panic!() };
    assert!(ku.digital_signature() && ku.non_repudiation() && !ku.key_cert_sign());
    let cp = ext(&c, "2.5.29.32");
    assert!(cp.critical);
    let ParsedExtension::CertificatePolicies(cp) = cp.parsed_extension() else { panic!() };
    assert_eq!(cp[0].policy_id.to_id_string(), "1.2.392.100495.1.5.1.1.3");
    assert_eq!(ext(&c, "2.5.29.9").value, pki::hc_role_extension_der(h.spec.qualification));

    // A request whose signature does not verify is refused (a CA checks proof of possession).
    let mut forged = csr.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert!(p.second_certificate(&h.spec.hpki_id, &forged).is_err());
    assert!(p.second_certificate("HP0000000099", &csr).is_err());
}
