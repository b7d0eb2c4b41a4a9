//! HPKI cards through the issuer's PKCS#11 middleware (what most HPKI holders have installed).
//! Each token is a "reader"; the certificate and private key are found by label (JAHIS guideline
//! table 3 gives the defaults) and the key signs the DigestInfo with `CKM_RSA_PKCS`, which pads.

use std::path::Path;

use cryptoki::{
    context::{CInitializeArgs, CInitializeFlags, Pkcs11},
    error::{Error as P11Error, RvError},
    mechanism::Mechanism,
    object::{Attribute, AttributeType, ObjectClass, ObjectHandle},
    session::{Session, UserType},
    slot::Slot,
    types::AuthPin,
};

use crate::{
    card::backend::{CardBackend, CardSession},
    card::driver::{CardInfo, Detected, PinStatus},
    error::CardError,
    pin::Pin,
};
use mahpki_protocol::helper::CardType;

/// Object labels to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkcs11Labels {
    pub certificate: String,
    pub private_key: String,
}

impl Default for Pkcs11Labels {
    fn default() -> Self {
        Self {
            certificate: "HPKI END ENTITY CERTIFICATE".into(),
            private_key: "Private key of HPKI".into(),
        }
    }
}

pub struct Pkcs11Backend {
    ctx: Pkcs11,
    labels: Pkcs11Labels,
}

fn map_err(e: P11Error) -> CardError {
    match e {
        P11Error::Pkcs11(rv, _) => match rv {
            RvError::PinIncorrect => CardError::PinWrong { tries_left: None },
            RvError::PinLocked => CardError::PinLocked(CardType::Hpki),
            RvError::PinLenRange | RvError::PinInvalid => CardError::PinFormat,
            RvError::TokenNotPresent | RvError::DeviceRemoved | RvError::SessionHandleInvalid => {
                CardError::Removed
            }
            other => CardError::Communication(format!("PKCS#11: {other}")),
        },
        other => CardError::Communication(format!("PKCS#11: {other}")),
    }
}

/// What the token's flags say about the user PIN.
fn pin_status(ctx: &Pkcs11, slot: Slot) -> Result<PinStatus, CardError> {
    let info = ctx.get_token_info(slot).map_err(map_err)?;
    Ok(if info.user_pin_locked() {
        PinStatus::Locked
    } else if info.user_pin_final_try() {
        PinStatus::TriesLeft(1)
    } else {
        PinStatus::Unknown
    })
}

fn reader_name(slot: Slot, label: &str) -> String {
    format!("{} (PKCS#11 slot {})", label.trim(), slot.id())
}

impl Pkcs11Backend {
    /// Loads and initialises the middleware module.
    pub fn open(module: &Path, labels: Pkcs11Labels) -> Result<Self, CardError> {
        let ctx = Pkcs11::new(module).map_err(map_err)?;
        ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)).map_err(map_err)?;
        Ok(Self { ctx, labels })
    }

    fn tokens(&self) -> Result<Vec<(Slot, String)>, CardError> {
        let slots = self.ctx.get_slots_with_token().map_err(map_err)?;
        Ok(slots
            .into_iter()
            .filter_map(|s| self.ctx.get_token_info(s).ok().map(|i| (s, reader_name(s, i.label()))))
            .collect())
    }
}

impl CardBackend for Pkcs11Backend {
    fn readers(&self) -> Result<Vec<String>, CardError> {
        Ok(self.tokens()?.into_iter().map(|(_, name)| name).collect())
    }

    fn connect(&self, reader: &str) -> Result<Box<dyn CardSession>, CardError> {
        let (slot, _) =
            self.tokens()?.into_iter().find(|(_, name)| name == reader).ok_or(CardError::NoCard)?;
        let session = self.ctx.open_ro_session(slot).map_err(map_err)?;
        Ok(Box::new(Pkcs11Session {
            ctx: self.ctx.clone(),
            slot,
            session,
            labels: self.labels.clone(),
        }))
    }
}

struct Pkcs11Session {
    ctx: Pkcs11,
    slot: Slot,
    session: Session,
    labels: Pkcs11Labels,
}

impl Pkcs11Session {
    fn find(&self, class: ObjectClass, label: &str) -> Result<Option<ObjectHandle>, CardError> {
        let template = [Attribute::Class(class), Attribute::Label(label.as_bytes().to_vec())];
        Ok(self.session.find_objects(&template).map_err(map_err)?.into_iter().next())
    }

    fn certificate(&self) -> Result<Vec<u8>, CardError> {
        let cert = self
            .find(ObjectClass::CERTIFICATE, &self.labels.certificate)?
            .ok_or(CardError::Unsupported)?;
        let attrs = self.session.get_attributes(cert, &[AttributeType::Value]).map_err(map_err)?;
        attrs
            .into_iter()
            .find_map(|a| match a {
                Attribute::Value(v) => Some(v),
                _ => None,
            })
            .ok_or(CardError::Unsupported)
    }
}

impl CardSession for Pkcs11Session {
    fn identify(&mut self) -> Result<Detected, CardError> {
        Ok(match self.find(ObjectClass::CERTIFICATE, &self.labels.certificate)? {
            Some(_) => Detected::HpkiToken,
            None => Detected::Unsupported,
        })
    }

    fn read_info(&mut self, _card: Detected) -> Result<CardInfo, CardError> {
        Ok(CardInfo {
            certificate: self.certificate()?,
            ca_certificate: None,
            pin: pin_status(&self.ctx, self.slot)?,
        })
    }

    fn authenticate(
        &mut self,
        _card: Detected,
        _info: &CardInfo,
        pin: &Pin,
        digest_info: &[u8],
    ) -> Result<Vec<u8>, CardError> {
        // The PIN was checked for ASCII, so it is valid UTF-8; AuthPin wipes its copy on drop.
        let secret = AuthPin::from(String::from_utf8_lossy(pin.as_bytes()).into_owned());
        match self.session.login(UserType::User, Some(&secret)) {
            Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => {
                return Err(match map_err(e) {
                    // Report what the token now knows about the count.
                    CardError::PinWrong { .. } => match pin_status(&self.ctx, self.slot)? {
                        PinStatus::Locked => CardError::PinLocked(CardType::Hpki),
                        PinStatus::TriesLeft(n) => CardError::PinWrong { tries_left: Some(n) },
                        _ => CardError::PinWrong { tries_left: None },
                    },
                    other => other,
                });
            }
        }
        let result = self
            .find(ObjectClass::PRIVATE_KEY, &self.labels.private_key)
            .and_then(|key| key.ok_or(CardError::Unsupported))
            .and_then(|key| {
                self.session.sign(&Mechanism::RsaPkcs, key, digest_info).map_err(map_err)
            });
        // Never leave the token logged in for other programs.
        let _ = self.session.logout();
        result
    }
}
