//! Virtual smart cards for tests and the demo.
//!
//! - [`Card`] is the whole in-process interface: `atr`, `power_on`, `transmit(apdu) -> data+SW`.
//! - [`JpkiCard`] is a My Number card's JPKI AP; [`HpkiCard`] an HPKI card's authentication
//!   application laid out by a data [`HpkiProfile`] ([`profile::JMA`], [`profile::GUIDELINE`],
//!   [`profile::GUIDELINE_SHORT`]).
//! - [`pki`] makes a deterministic test PKI (HPKI and JPKI CAs, holders, CRLs) and the cards that
//!   belong to each holder.
//! - [`vpcd`] frames messages for vsmartcard's vpcd driver, which pcscd loads, so a virtual card
//!   looks like a card in a real reader to every PC/SC program; [`serve`] runs that link and
//!   [`control`] lets tests insert and remove cards; [`pcscd`] starts/stops pcscd for tests and
//!   waits for card insertion and removal.
//! - [`cia`] derives the ISO/IEC 7816-15 information files an HPKI profile carries.
//!
//! See the crate's README.md for the APDUs, status words, manifest and control protocol.

pub mod card;
pub mod cia;
pub mod control;
pub mod hpki;
pub mod jpki;
pub mod pcscd;
pub mod pin;
pub mod pki;
pub mod profile;
mod rsakey;
pub mod serve;
pub mod vpcd;

pub use card::Card;
pub use hpki::{HpkiCard, HpkiContents};
pub use jpki::{JpkiCard, JpkiContents};
pub use profile::HpkiProfile;
