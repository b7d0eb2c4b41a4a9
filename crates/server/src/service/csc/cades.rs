//! Detached CAdES baseline B-B signatures (ETSI EN 319 122-1) for the CSC API's
//! `signatures/signDoc`: a CMS SignedData (RustCrypto's `cms` types) without the content, whose
//! one SignerInfo signs the signed attributes content-type, signing-time, message-digest and
//! signing-certificate-v2 with RSASSA-PKCS1-v1_5 SHA-256. The key is in the HSM, so building is
//! two steps: `prepare` (the digest to sign) and `finish` (with the HSM's signature).

use cms::{
    cert::{CertificateChoices, IssuerAndSerialNumber},
    content_info::{CmsVersion, ContentInfo},
    der::{
        Any, Decode as _, Encode as _,
        asn1::{Null, ObjectIdentifier, OctetString, SetOfVec, UtcTime},
    },
    signed_data::{
        CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier,
        SignerInfo, SignerInfos,
    },
    spki::AlgorithmIdentifierOwned,
    x509_cert::{Certificate, attr::Attribute},
};
use sha2::{Digest as _, Sha256};

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
/// id-aa-signingCertificateV2 (RFC 5035).
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// Why a signature could not be built: the stored certificate is not what it should be, or
/// the time cannot be written (both the server's side).
#[derive(Debug, thiserror::Error)]
#[error("CAdES: {0}")]
pub struct CadesError(String);

impl From<cms::der::Error> for CadesError {
    fn from(e: cms::der::Error) -> Self {
        Self(e.to_string())
    }
}

/// A signature waiting for its value: `digest` is what the HSM signs (SHA-256 of the signed
/// attributes' DER).
pub struct Prepared {
    pub digest: [u8; 32],
    cert: Certificate,
    signed_attrs: SignedAttributes,
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, CadesError> {
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value])? })
}

fn sha256_alg() -> AlgorithmIdentifierOwned {
    // RFC 5754: SHA-2 identifiers without parameters.
    AlgorithmIdentifierOwned { oid: ID_SHA256, parameters: None }
}

/// The signed attributes over the document whose SHA-256 is `document_digest`, signed by the
/// holder of `cert_der` at `now_ms`.
pub fn prepare(
    document_digest: &[u8; 32],
    cert_der: &[u8],
    now_ms: i64,
) -> Result<Prepared, CadesError> {
    let cert = Certificate::from_der(cert_der)?;
    let secs = u64::try_from(now_ms / 1000).map_err(|_| CadesError("time".into()))?;
    let time = UtcTime::from_unix_duration(std::time::Duration::from_secs(secs))?;
    // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }, one ESSCertIDv2 of
    // the certificate's SHA-256 (the default hashAlgorithm, so omitted in DER); issuerSerial
    // left out as EN 319 122-1 advises.
    let cert_hash: [u8; 32] = Sha256::digest(cert_der).into();
    let ess_cert_id = vec![OctetString::new(cert_hash)?];
    let certs = vec![Any::encode_from(&ess_cert_id)?];
    let signing_certificate = vec![Any::encode_from(&certs)?];
    let signed_attrs = SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?,
        attribute(ID_SIGNING_TIME, Any::encode_from(&time)?)?,
        attribute(ID_MESSAGE_DIGEST, Any::encode_from(&OctetString::new(*document_digest)?)?)?,
        attribute(ID_SIGNING_CERTIFICATE_V2, Any::encode_from(&signing_certificate)?)?,
    ])?;
    // The signature covers the attributes' DER as a SET OF (RFC 5652 §5.4), not their [0].
    let digest = Sha256::digest(signed_attrs.to_der()?).into();
    Ok(Prepared { digest, cert, signed_attrs })
}

/// The detached CMS SignedData (DER) with `signature`, the HSM's RSASSA-PKCS1-v1_5 SHA-256
/// signature of `p.digest`.
pub fn finish(p: Prepared, signature: &[u8]) -> Result<Vec<u8>, CadesError> {
    let tbs = p.cert.tbs_certificate();
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: tbs.issuer().clone(),
        serial_number: tbs.serial_number().clone(),
    });
    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid,
        digest_alg: sha256_alg(),
        signed_attrs: Some(p.signed_attrs),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: SHA256_WITH_RSA,
            parameters: Some(Any::encode_from(&Null)?),
        },
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256_alg()])?,
        // Detached: the content type, no content.
        encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: None },
        certificates: Some(CertificateSet(SetOfVec::try_from(vec![
            CertificateChoices::Certificate(p.cert),
        ])?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer])?),
    };
    let info =
        ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed_data)? };
    Ok(info.to_der()?)
}
