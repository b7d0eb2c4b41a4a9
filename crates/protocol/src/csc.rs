//! Cloud Signature Consortium API v2.0.0.2 (`/csc/v2/*`): the JSON the signing clients (a
//! prescription system) send and receive. Field names are the specification's.

use serde::{Deserialize, Serialize};

/// Where the API lives.
pub const PREFIX: &str = "/csc/v2";
pub const INFO_PATH: &str = "/csc/v2/info";
pub const CREDENTIALS_LIST_PATH: &str = "/csc/v2/credentials/list";
pub const CREDENTIALS_INFO_PATH: &str = "/csc/v2/credentials/info";
pub const CREDENTIALS_AUTHORIZE_PATH: &str = "/csc/v2/credentials/authorize";
pub const SIGN_HASH_PATH: &str = "/csc/v2/signatures/signHash";
pub const SIGN_DOC_PATH: &str = "/csc/v2/signatures/signDoc";

/// sha256WithRSAEncryption: RSASSA-PKCS1-v1_5 with SHA-256.
pub const OID_SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
/// id-RSASSA-PSS (with SHA-256, MGF1-SHA-256, 32-byte salt here).
pub const OID_RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
/// id-sha256.
pub const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
/// rsaEncryption (the key's algorithm).
pub const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// CAdES (`signature_format` "C"), the one signDoc makes.
pub const FORMAT_CADES: &str = "C";
/// Baseline B-B, the one conformance level signDoc makes (and its default).
pub const CONFORMANCE_B_B: &str = "Ades-B-B";
/// A detached signature: the document itself is not in the answer.
pub const ENVELOPE_DETACHED: &str = "Detached";
/// Largest document signDoc accepts (decoded), inside the API's 64 KiB request body: an
/// e-prescription's XML is a few KiB.
pub const MAX_DOCUMENT_BYTES: usize = 32 * 1024;

/// Most signatures one SAD may authorise (the credentials' `multisign`).
pub const MULTISIGN: u32 = 100;

/// Answer of `info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoResponse {
    pub specs: String,
    pub name: String,
    pub logo: String,
    pub region: String,
    pub lang: String,
    pub description: String,
    #[serde(rename = "authType")]
    pub auth_type: Vec<String>,
    pub oauth2: String,
    #[serde(rename = "oauth2Issuer")]
    pub oauth2_issuer: String,
    pub methods: Vec<String>,
    #[serde(rename = "signAlgorithms")]
    pub sign_algorithms: SignAlgorithms,
    pub signature_formats: SignatureFormats,
    pub conformance_levels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignAlgorithms {
    pub algos: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureFormats {
    pub formats: Vec<String>,
    pub envelope_properties: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRequest {
    #[serde(rename = "credentialInfo", default)]
    pub credential_info: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListResponse {
    #[serde(rename = "credentialIDs")]
    pub credential_ids: Vec<String>,
    #[serde(rename = "credentialInfos", default, skip_serializing_if = "Option::is_none")]
    pub credential_infos: Option<Vec<CredentialInfo>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoRequest {
    #[serde(rename = "credentialID")]
    pub credential_id: String,
    /// `none`, `single` or `chain` (the default).
    #[serde(default)]
    pub certificates: Option<String>,
    #[serde(rename = "certInfo", default)]
    pub cert_info: bool,
    #[serde(rename = "authInfo", default)]
    pub auth_info: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialInfo {
    #[serde(rename = "credentialID")]
    pub credential_id: String,
    pub description: String,
    pub key: KeyInfo,
    pub cert: CertInfo,
    pub auth: AuthInfo,
    #[serde(rename = "SCAL")]
    pub scal: String,
    pub multisign: u32,
    pub lang: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// `enabled` or `disabled`.
    pub status: String,
    pub algo: Vec<String>,
    pub len: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertInfo {
    /// `valid`, `expired`, `revoked`, `suspended`.
    pub status: String,
    /// Base64 DER, the end-entity certificate first, then its issuing CA.
    pub certificates: Vec<String>,
    #[serde(rename = "issuerDN", default, skip_serializing_if = "Option::is_none")]
    pub issuer_dn: Option<String>,
    #[serde(rename = "serialNumber", default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    #[serde(rename = "validFrom", default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(rename = "validTo", default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthInfo {
    /// `explicit`: the holder's daily sign-in through the OpenID Provider, no PIN or OTP here.
    pub mode: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    #[serde(rename = "credentialID")]
    pub credential_id: String,
    #[serde(rename = "numSignatures")]
    pub num_signatures: u32,
    /// Base64 hashes the SAD is bound to (SCAL2).
    #[serde(default)]
    pub hashes: Vec<String>,
    #[serde(rename = "hashAlgorithmOID", default)]
    pub hash_algorithm_oid: Option<String>,
    #[serde(rename = "clientData", default)]
    pub client_data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeResponse {
    #[serde(rename = "SAD")]
    pub sad: String,
    /// Seconds the SAD stays valid.
    #[serde(rename = "expiresIn")]
    pub expires_in: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignHashRequest {
    #[serde(rename = "credentialID")]
    pub credential_id: String,
    #[serde(rename = "SAD")]
    pub sad: String,
    pub hashes: Vec<String>,
    #[serde(rename = "hashAlgorithmOID", default)]
    pub hash_algorithm_oid: Option<String>,
    #[serde(rename = "signAlgo")]
    pub sign_algo: String,
    #[serde(rename = "signAlgoParams", default)]
    pub sign_algo_params: Option<String>,
    #[serde(rename = "operationMode", default)]
    pub operation_mode: Option<String>,
    #[serde(rename = "clientData", default)]
    pub client_data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignHashResponse {
    /// Base64 signatures, in the order of the request's hashes.
    pub signatures: Vec<String>,
}

/// `signatures/signDoc`. The SAD must cover each document's SHA-256 hash (what the signature's
/// message-digest attribute holds), as `credentials/authorize` was given them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignDocRequest {
    #[serde(rename = "credentialID")]
    pub credential_id: String,
    #[serde(rename = "SAD")]
    pub sad: String,
    #[serde(default)]
    pub documents: Vec<SignDocument>,
    /// Documents' hashes to sign instead of documents: not supported (use signHash).
    #[serde(rename = "documentDigests", default)]
    pub document_digests: Option<Vec<DocumentDigests>>,
    #[serde(rename = "operationMode", default)]
    pub operation_mode: Option<String>,
    #[serde(rename = "clientData", default)]
    pub client_data: Option<String>,
}

/// A `documentDigests` entry (refused: signDoc here signs documents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentDigests {
    #[serde(default)]
    pub hashes: Vec<String>,
    #[serde(rename = "hashAlgorithmOID", default)]
    pub hash_algorithm_oid: Option<String>,
}

/// One document of signDoc (the specification's mixed spelling).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignDocument {
    /// The document, base64.
    pub document: String,
    /// `C` (CAdES).
    pub signature_format: String,
    /// `Ades-B-B` (the default).
    #[serde(default)]
    pub conformance_level: Option<String>,
    #[serde(rename = "signAlgo")]
    pub sign_algo: String,
    #[serde(rename = "signAlgoParams", default)]
    pub sign_algo_params: Option<String>,
    /// `Detached` (the default for CAdES here).
    #[serde(default)]
    pub signed_envelope_property: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignDocResponse {
    /// Base64 DER CMS SignedData (detached CAdES), in the order of the request's documents.
    #[serde(rename = "signatureObject")]
    pub signature_object: Vec<String>,
}

/// A refusal, as OAuth 2.0 and the CSC API spell it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CscErrorBody {
    pub error: String,
    pub error_description: String,
}
