//! Just enough DER to size a file from its header and to find an RSA modulus in a certificate.
//! Certificates are not validated here (the server does that); this only walks lengths.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DerError {
    #[error("DER is truncated")]
    Truncated,
    #[error("DER length form not supported")]
    BadLength,
    #[error("expected DER tag {expected:#04x}, found {found:#04x}")]
    UnexpectedTag { expected: u8, found: u8 },
    #[error("the file is empty (no DER object)")]
    Empty,
}

/// From the first bytes of a TLV, `(header_len, content_len)`. Needs at most 5 bytes (tags are
/// single-byte in everything the cards hold; lengths up to 3 bytes cover any card file).
pub fn header(bytes: &[u8]) -> Result<(usize, usize), DerError> {
    let tag = *bytes.first().ok_or(DerError::Truncated)?;
    // Erased EEPROM reads as FF (or 00): no object was ever written.
    if tag == 0xff || tag == 0x00 {
        return Err(DerError::Empty);
    }
    let first = *bytes.get(1).ok_or(DerError::Truncated)?;
    if first < 0x80 {
        return Ok((2, first as usize));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 3 {
        return Err(DerError::BadLength);
    }
    let len_bytes = bytes.get(2..2 + n).ok_or(DerError::Truncated)?;
    let len = len_bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
    Ok((2 + n, len))
}

/// Total encoded size of the TLV starting at `bytes`.
pub fn total_len(bytes: &[u8]) -> Result<usize, DerError> {
    let (h, c) = header(bytes)?;
    Ok(h + c)
}

/// A cursor over consecutive TLVs.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// Next TLV: `(tag, content)`.
    fn next(&mut self) -> Result<(u8, &'a [u8]), DerError> {
        let (h, c) = header(self.0)?;
        let end = h.checked_add(c).ok_or(DerError::BadLength)?;
        let tlv = self.0.get(..end).ok_or(DerError::Truncated)?;
        self.0 = &self.0[end..];
        Ok((tlv[0], &tlv[h..]))
    }

    fn expect(&mut self, tag: u8) -> Result<&'a [u8], DerError> {
        let (found, content) = self.next()?;
        if found == tag {
            Ok(content)
        } else {
            Err(DerError::UnexpectedTag { expected: tag, found })
        }
    }
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const VERSION_TAG: u8 = 0xa0;

/// Byte length of the RSA modulus in an X.509 certificate: the size of the block a card signs.
pub fn rsa_modulus_len(cert: &[u8]) -> Result<usize, DerError> {
    let cert = Reader(cert).expect(SEQUENCE)?;
    let mut tbs = Reader(Reader(cert).expect(SEQUENCE)?);
    let (mut tag, _) = tbs.next()?;
    if tag == VERSION_TAG {
        tag = tbs.next()?.0; // serialNumber
    }
    if tag != INTEGER {
        return Err(DerError::UnexpectedTag { expected: INTEGER, found: tag });
    }
    for _ in 0..4 {
        tbs.expect(SEQUENCE)?; // signature, issuer, validity, subject
    }
    let mut spki = Reader(tbs.expect(SEQUENCE)?);
    spki.expect(SEQUENCE)?; // algorithm
    let bits = spki.expect(BIT_STRING)?;
    let rsa_key = bits.get(1..).ok_or(DerError::Truncated)?; // skip unused-bits byte
    let mut key = Reader(Reader(rsa_key).expect(SEQUENCE)?);
    let modulus = key.expect(INTEGER)?;
    // A positive INTEGER with its top bit set carries a leading 00.
    let modulus = modulus.strip_prefix(&[0]).unwrap_or(modulus);
    Ok(modulus.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_in_every_form() {
        assert_eq!(header(&[0x30, 0x05]), Ok((2, 5)));
        assert_eq!(header(&[0x30, 0x81, 0xc8]), Ok((3, 200)));
        assert_eq!(header(&[0x30, 0x82, 0x05, 0xa1]), Ok((4, 0x5a1)));
        assert_eq!(header(&[0x30, 0x83, 0x01, 0x00, 0x00]), Ok((5, 0x10000)));
        assert_eq!(total_len(&[0x30, 0x82, 0x05, 0xa1]), Ok(0x5a5));
        assert_eq!(header(&[0x30, 0x80]), Err(DerError::BadLength)); // indefinite: not DER
        assert_eq!(header(&[0x30, 0x84, 1, 2, 3, 4]), Err(DerError::BadLength));
        assert_eq!(header(&[0x30, 0x82, 0x05]), Err(DerError::Truncated));
        assert_eq!(header(&[0xff, 0xff, 0xff, 0xff]), Err(DerError::Empty));
        assert_eq!(header(&[]), Err(DerError::Truncated));
    }

    #[test]
    fn modulus_length_of_a_real_certificate() {
        let cert = include_bytes!("../../testdata/test-cert.der");
        assert_eq!(total_len(cert), Ok(cert.len()));
        assert_eq!(rsa_modulus_len(cert), Ok(256));
        assert!(rsa_modulus_len(&cert[..cert.len() - 10]).is_err());
    }
}
