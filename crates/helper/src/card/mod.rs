//! Everything that touches a card: the backends that reach a reader (PC/SC, a vendor's PKCS#11
//! module, in-process virtual cards), the APDU transport, the HPKI and JPKI drivers (HPKI cards
//! by the profile table in `mahpki_protocol::card_profile`) and the DER the drivers read.

pub mod backend;
pub mod der;
pub mod driver;
pub mod transport;
