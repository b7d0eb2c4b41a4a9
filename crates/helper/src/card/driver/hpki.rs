//! HPKI card authentication application, driven by an [`HpkiProfile`]. The card signs a raw
//! block (PSO CDS), so the host applies PKCS#1 v1.5 padding to the modulus size.

use mahpki_protocol::{card_profile::HpkiProfile, helper::CardType};

use super::iso7816::{
    CardInfo, PinStatus, is_length_refusal, pin_status, read_der_file, select_aid, select_ef,
    sign_outcome, verify,
};
use mahpki_protocol::apdu::Command;

use crate::{
    card::der,
    card::transport::{Response, Transport, exchange},
    error::CardError,
    pin::Pin,
    signing::pkcs1_v15_sign_block,
};

fn select_ap(t: &mut dyn Transport, p: &HpkiProfile) -> Result<(), CardError> {
    if select_aid(t, p.auth_aid)? { Ok(()) } else { Err(CardError::WrongCard) }
}

fn select_pin(t: &mut dyn Transport, p: &HpkiProfile) -> Result<(), CardError> {
    match p.pin_ef_to_select() {
        Some(ef) => select_ef(t, ef.fid_bytes()),
        None => Ok(()),
    }
}

pub fn read_info(t: &mut dyn Transport, p: &HpkiProfile) -> Result<CardInfo, CardError> {
    select_ap(t, p)?;
    read_selected(t, p)
}

/// [`read_info`] once the application is selected (by `identify`, in the same hold of the card).
pub fn read_selected(t: &mut dyn Transport, p: &HpkiProfile) -> Result<CardInfo, CardError> {
    // A certificate EF with a short identifier is read without selecting it.
    if p.cert_ef.sfi.is_none() {
        select_ef(t, p.cert_ef.fid_bytes())?;
    }
    let certificate = read_der_file(t, p.cert_ef.sfi, p.extended_length)?;
    select_pin(t, p)?;
    let pin = match pin_status(t, p.verify_p2)? {
        // Some cards answer 63Cx only after a failure; the issuer's count is then the truth.
        PinStatus::Verified => PinStatus::TriesLeft(p.pin_tries),
        other => other,
    };
    Ok(CardInfo { certificate, ca_certificate: None, pin })
}

/// The PSO commands for `block`: one extended APDU, or a chain of short ones.
pub fn pso_commands(p: &HpkiProfile, block: &[u8]) -> Vec<(Command, bool)> {
    if p.extended_length {
        vec![(Command::new(p.pso, block, Some(65536)), true)]
    } else {
        Command::new(p.pso, block, Some(256)).chained().into_iter().map(|c| (c, false)).collect()
    }
}

/// Sends the PSO (one command, or every link of a chain), returning the final answer; stops at
/// the first link that fails.
fn pso(t: &mut dyn Transport, p: &HpkiProfile, block: &[u8]) -> Result<Response, CardError> {
    let mut last = Response { data: vec![], sw: 0x9000 };
    for (cmd, extended) in pso_commands(p, block) {
        last = exchange(t, &cmd, extended)?;
        if !last.ok() {
            break;
        }
    }
    Ok(last)
}

/// VERIFY, MSE SET, PSO CDS over the padded DigestInfo. `certificate` gives the modulus size.
pub fn authenticate(
    t: &mut dyn Transport,
    p: &HpkiProfile,
    certificate: &[u8],
    pin: &Pin,
    digest_info: &[u8],
) -> Result<Vec<u8>, CardError> {
    let k = der::rsa_modulus_len(certificate).map_err(|_| CardError::Unsupported)?;
    let block = pkcs1_v15_sign_block(digest_info, k).map_err(|_| CardError::Unsupported)?;
    select_ap(t, p)?;
    select_pin(t, p)?;
    verify(t, p.verify_p2, pin, CardType::Hpki)?;
    let mse = Command::from_short_bytes(p.mse_set)
        .ok_or_else(|| CardError::Communication(format!("profile {} MSE malformed", p.name)))?;
    let r = exchange(t, &mse, false)?;
    if !r.ok() {
        return Err(CardError::Status { step: "MSE SET", sw: r.sw });
    }
    let mut last = pso(t, p, &block)?;
    if p.extended_length && is_length_refusal(last.sw) {
        // The card takes no extended APDUs after all: the security state stands, so chain.
        tracing::debug!(sw = format_args!("{:04X}", last.sw), "extended PSO refused; chaining");
        last = pso(t, &HpkiProfile { extended_length: false, ..*p }, &block)?;
    }
    sign_outcome(last.sw)?;
    if last.data.len() != k {
        return Err(CardError::Communication(format!(
            "signature is {} bytes, key is {k}",
            last.data.len()
        )));
    }
    Ok(last.data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mahpki_protocol::card_profile::JMA;

    #[test]
    fn pso_is_one_extended_apdu_or_a_chain() {
        let block = [0x5a; 256];
        let ext = pso_commands(&JMA, &block);
        assert_eq!(ext.len(), 1);
        let bytes = ext[0].0.encode(ext[0].1).unwrap();
        assert_eq!(&bytes[..7], &[0x00, 0x2a, 0x9e, 0x9a, 0x00, 0x01, 0x00]);
        let short = HpkiProfile { extended_length: false, ..JMA };
        let chain = pso_commands(&short, &block);
        assert_eq!(chain.len(), 2);
        assert!(chain.iter().all(|(_, ext)| !ext));
        assert_eq!(chain[0].0.encode(false).unwrap()[..5], [0x10, 0x2a, 0x9e, 0x9a, 0xff]);
        assert_eq!(chain[1].0.encode(false).unwrap(), [0x00, 0x2a, 0x9e, 0x9a, 0x01, 0x5a, 0x00]);
    }
}
