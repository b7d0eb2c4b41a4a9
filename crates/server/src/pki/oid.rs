//! OIDs of extensions a certificate may mark critical and still be accepted: the ones we
//! understand and check (or that real HPKI/JPKI certificates carry and that carry no constraint
//! we would have to enforce).

pub const KEY_USAGE: &str = "2.5.29.15";
pub const BASIC_CONSTRAINTS: &str = "2.5.29.19";
pub const CERTIFICATE_POLICIES: &str = "2.5.29.32";
pub const SUBJECT_ALT_NAME: &str = "2.5.29.17";
pub const EXTENDED_KEY_USAGE: &str = "2.5.29.37";
/// subjectDirectoryAttributes: where HPKI certificates carry the ISO 17090 hcRole.
pub const SUBJECT_DIRECTORY_ATTRIBUTES: &str = "2.5.29.9";
/// CRL distribution points (the real JPKI CA names a directory, not a URL).
pub const CRL_DISTRIBUTION_POINTS: &str = "2.5.29.31";
pub const AUTHORITY_KEY_IDENTIFIER: &str = "2.5.29.35";
pub const SUBJECT_KEY_IDENTIFIER: &str = "2.5.29.14";
