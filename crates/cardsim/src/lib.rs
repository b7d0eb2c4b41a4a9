//! Virtual smart cards for tests and the demo.
//!
//! `apdu` parses ISO 7816-4 command APDUs exactly as a card would (short and extended forms);
//! `vpcd` frames messages for vsmartcard's vpcd driver, which pcscd loads, so a virtual card here
//! looks like a card in a real reader to every PC/SC program.

pub mod apdu;
pub mod vpcd;
