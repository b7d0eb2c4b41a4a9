//! The session pool: one loaded module, logged in once per connection, with sessions reused
//! across operations and a reconnect when the token went away.

use std::sync::{Arc, Mutex, RwLock};

use cryptoki::{
    context::{CInitializeArgs, CInitializeFlags, Pkcs11},
    error::{Error as P11Error, RvError},
    mechanism::{
        Mechanism, MechanismType,
        rsa::{PkcsMgfType, PkcsPssParams},
    },
    object::{Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle},
    session::{Session, UserType},
    slot::Slot,
    types::{AuthPin, Ulong},
};
use rsa::BoxedUint;

use super::{HsmConfig, HsmError, SHA256_DIGEST_INFO_PREFIX, SignAlg, key_id_hex};

/// The pool. Cheap to clone (one shared state); `Send + Sync`.
#[derive(Clone)]
pub struct Hsm {
    inner: Arc<Inner>,
}

struct Inner {
    config: HsmConfig,
    /// Operations hold it shared while they use a session; a reconnect holds it alone, so no
    /// call is in flight when C_Finalize runs.
    conn: RwLock<Conn>,
    /// Idle sessions, tagged with the connection generation that opened them.
    idle: Mutex<Vec<(u64, Session)>>,
}

impl Drop for Inner {
    /// The pool's end is the application's: log out and release the module's state.
    fn drop(&mut self) {
        let conn = self.conn.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        if conn.slot.is_some() {
            self.idle.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
            conn.login.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            if let Some(module) = conn.module.clone() {
                let _ = module.finalize();
            }
        }
    }
}

#[derive(Default)]
struct Conn {
    /// Loaded once and kept: unloading and reloading a module is not safe for every vendor's.
    module: Option<Pkcs11>,
    /// Initialised, logged in and the token found.
    slot: Option<Slot>,
    /// The session that logged in, kept open: PKCS#11 logs the user out when an application's
    /// last session closes, and the pool may have none idle.
    login: Mutex<Option<Session>>,
    generation: u64,
}

/// What the token says about a private key's protection (the tests check these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyAttributes {
    pub sensitive: bool,
    pub extractable: bool,
    pub always_sensitive: bool,
    pub never_extractable: bool,
}

/// Errors after which the connection is not worth keeping: the token went away, the library
/// was finalised under us, or our sessions are gone.
fn is_connection_error(e: &P11Error) -> bool {
    matches!(
        e,
        P11Error::Pkcs11(
            RvError::DeviceRemoved
                | RvError::DeviceError
                | RvError::TokenNotPresent
                | RvError::TokenNotRecognized
                | RvError::CryptokiNotInitialized
                | RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::UserNotLoggedIn
                | RvError::GeneralError
                | RvError::SlotIdInvalid,
            _
        )
    )
}

fn device(e: P11Error) -> HsmError {
    HsmError::Device(e.to_string())
}

impl Hsm {
    /// A pool for `config`. Nothing is loaded yet: the first operation connects, so a server
    /// whose HSM is down still starts and answers 503 until it is back.
    pub fn new(config: HsmConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                conn: RwLock::new(Conn::default()),
                idle: Mutex::new(Vec::new()),
            }),
        }
    }

    pub fn config(&self) -> &HsmConfig {
        &self.inner.config
    }

    /// Runs `f` with a logged-in session, connecting first if needed. After a connection error
    /// it reconnects and tries once more, so an HSM that came back serves the very next call.
    /// `f` must be safe to run twice (every operation here looks before it creates).
    pub fn with_session<T>(
        &self,
        f: impl Fn(&Session) -> Result<T, HsmError>,
    ) -> Result<T, HsmError> {
        let mut last = None;
        for _ in 0..2 {
            let conn = self.connected()?;
            let generation = conn.generation;
            let session = match self.checkout(&conn) {
                Ok(s) => s,
                Err(e) if is_connection_error(&e) => {
                    drop(conn);
                    self.reset(generation);
                    last = Some(device(e));
                    continue;
                }
                Err(e) => return Err(device(e)),
            };
            let result = f(&session);
            match &result {
                Err(HsmError::Device(_)) if self.session_broken(&session) => {
                    // The session (or the whole token) is gone: never reuse it.
                    drop(session);
                    drop(conn);
                    self.reset(generation);
                    last = Some(result.err().unwrap_or(HsmError::Device("reset".into())));
                    continue;
                }
                _ => self.checkin(generation, session),
            }
            return result;
        }
        Err(last.unwrap_or_else(|| HsmError::Device("no session".into())))
    }

    /// Whether `session` still works (a failed operation may have been the token's fault).
    fn session_broken(&self, session: &Session) -> bool {
        match session.get_session_info() {
            Ok(_) => false,
            Err(e) => is_connection_error(&e) || matches!(e, P11Error::Pkcs11(..)),
        }
    }

    /// The connection, made if there is none.
    fn connected(&self) -> Result<std::sync::RwLockReadGuard<'_, Conn>, HsmError> {
        {
            let conn = self.inner.conn.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            if conn.slot.is_some() {
                return Ok(conn);
            }
        }
        {
            let mut conn =
                self.inner.conn.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            if conn.slot.is_none() {
                self.connect(&mut conn)?;
            }
        }
        let conn = self.inner.conn.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        if conn.slot.is_some() {
            Ok(conn)
        } else {
            Err(HsmError::Device("the connection was lost while it was made".into()))
        }
    }

    /// C_Initialize, find the token by label, log in. On failure the library is finalised
    /// again, so the next attempt starts clean.
    fn connect(&self, conn: &mut Conn) -> Result<(), HsmError> {
        let config = &self.inner.config;
        if conn.module.is_none() {
            let module = Pkcs11::new(&config.module).map_err(|e| HsmError::Module {
                module: config.module.display().to_string(),
                reason: e.to_string(),
            })?;
            conn.module = Some(module);
        }
        let module = conn.module.clone().ok_or(HsmError::Device("no module".into()))?;
        match module.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(device(e)),
        }
        let attempt = |conn: &mut Conn| -> Result<Slot, HsmError> {
            let slot = module
                .get_slots_with_initialized_token()
                .map_err(device)?
                .into_iter()
                .find(|s| {
                    module.get_token_info(*s).is_ok_and(|i| i.label().trim() == config.token_label)
                })
                .ok_or_else(|| HsmError::NoToken(config.token_label.clone()))?;
            let pin = config.user_pin()?;
            let session = module.open_rw_session_no_drop(slot).map_err(device)?;
            let login = session.login(UserType::User, Some(&AuthPin::from(pin.as_str())));
            match login {
                Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
                    *conn.login.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                        Some(session);
                    Ok(slot)
                }
                Err(P11Error::Pkcs11(
                    RvError::PinIncorrect | RvError::PinLocked | RvError::PinInvalid,
                    _,
                )) => Err(HsmError::PinRefused),
                Err(e) => Err(device(e)),
            }
        };
        match attempt(conn) {
            Ok(slot) => {
                conn.slot = Some(slot);
                conn.generation += 1;
                tracing::debug!(token = %config.token_label, "HSM connected");
                Ok(())
            }
            Err(e) => {
                // Logging in is per application: finalising forgets it, and the sessions.
                let _ = module.finalize();
                Err(e)
            }
        }
    }

    /// Drops the connection of `generation` (if it is still the current one): its sessions
    /// are forgotten and the library finalised, so the next operation starts from C_Initialize.
    fn reset(&self, generation: u64) {
        let mut conn = self.inner.conn.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if conn.generation != generation || conn.slot.is_none() {
            return;
        }
        // Finalising closes every session; none may be closed by handle afterwards (a new
        // connection may reuse the numbers), so they are dropped without C_CloseSession.
        self.inner.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
        conn.login.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        conn.slot = None;
        if let Some(module) = conn.module.clone() {
            let _ = module.finalize();
        }
        tracing::warn!(token = %self.inner.config.token_label, "HSM connection lost: reconnecting on the next operation");
    }

    fn checkout(&self, conn: &Conn) -> Result<Session, P11Error> {
        let mut idle = self.inner.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some((generation, session)) = idle.pop() {
            if generation == conn.generation {
                return Ok(session);
            }
        }
        drop(idle);
        let (Some(module), Some(slot)) = (&conn.module, conn.slot) else {
            return Err(P11Error::Pkcs11(
                RvError::CryptokiNotInitialized,
                cryptoki::context::Function::OpenSession,
            ));
        };
        // Not closed on drop: see `reset`.
        module.open_rw_session_no_drop(slot)
    }

    fn checkin(&self, generation: u64, session: Session) {
        let mut idle = self.inner.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < self.inner.config.idle_sessions {
            idle.push((generation, session));
        } else {
            drop(idle);
            let _ = session.close();
        }
    }

    // ---- Operations (blocking; the async wrappers below run them off the runtime) ----

    /// The RSA-2048 key pair with `key_id`, generated in the token if it has none: private key
    /// sensitive, not extractable, a token object; `label` for people reading the token.
    pub fn ensure_key_pair_blocking(
        &self,
        key_id: &[u8],
        label: &str,
    ) -> Result<rsa::PublicKey, HsmError> {
        self.with_session(|s| {
            if find(s, ObjectClass::PRIVATE_KEY, key_id)?.is_none() {
                // A public half left from an interrupted attempt would be a second one.
                for h in find_all(s, key_id)? {
                    s.destroy_object(h).map_err(device)?;
                }
                let public = [
                    Attribute::Token(true),
                    Attribute::Private(false),
                    Attribute::Verify(true),
                    Attribute::Encrypt(false),
                    Attribute::Wrap(false),
                    Attribute::ModulusBits(Ulong::from(2048)),
                    Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
                    Attribute::Id(key_id.to_vec()),
                    Attribute::Label(label.as_bytes().to_vec()),
                ];
                let private = [
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Sensitive(true),
                    Attribute::Extractable(false),
                    Attribute::Sign(true),
                    // A signing key only: it never decrypts or unwraps.
                    Attribute::Decrypt(false),
                    Attribute::Unwrap(false),
                    Attribute::Id(key_id.to_vec()),
                    Attribute::Label(label.as_bytes().to_vec()),
                ];
                s.generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private)
                    .map_err(device)?;
            }
            read_public_key(s, key_id)
        })
    }

    pub fn public_key_blocking(&self, key_id: &[u8]) -> Result<rsa::PublicKey, HsmError> {
        self.with_session(|s| read_public_key(s, key_id))
    }

    /// Signs a SHA-256 `digest` with the private key `key_id`.
    pub fn sign_digest_blocking(
        &self,
        key_id: &[u8],
        alg: SignAlg,
        digest: &[u8; 32],
    ) -> Result<Vec<u8>, HsmError> {
        let mut signatures =
            self.sign_digests_blocking(key_id, alg, std::slice::from_ref(digest))?;
        signatures.pop().ok_or_else(|| HsmError::Device("no signature".into()))
    }

    /// Signs each SHA-256 digest of `digests`, in order, with the private key `key_id`, on one
    /// session (the key found once).
    pub fn sign_digests_blocking(
        &self,
        key_id: &[u8],
        alg: SignAlg,
        digests: &[[u8; 32]],
    ) -> Result<Vec<Vec<u8>>, HsmError> {
        self.with_session(|s| {
            let key = find(s, ObjectClass::PRIVATE_KEY, key_id)?
                .ok_or_else(|| HsmError::KeyMissing(key_id_hex(key_id)))?;
            digests.iter().map(|d| sign_with(s, key, alg, d)).collect()
        })
    }

    pub fn key_attributes_blocking(&self, key_id: &[u8]) -> Result<KeyAttributes, HsmError> {
        self.with_session(|s| {
            let key = find(s, ObjectClass::PRIVATE_KEY, key_id)?
                .ok_or_else(|| HsmError::KeyMissing(key_id_hex(key_id)))?;
            let mut out = KeyAttributes {
                sensitive: false,
                extractable: true,
                always_sensitive: false,
                never_extractable: false,
            };
            let types = [
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::AlwaysSensitive,
                AttributeType::NeverExtractable,
            ];
            for a in s.get_attributes(key, &types).map_err(device)? {
                match a {
                    Attribute::Sensitive(v) => out.sensitive = v,
                    Attribute::Extractable(v) => out.extractable = v,
                    Attribute::AlwaysSensitive(v) => out.always_sensitive = v,
                    Attribute::NeverExtractable(v) => out.never_extractable = v,
                    _ => {}
                }
            }
            Ok(out)
        })
    }

    /// Destroys every object with `key_id` (a revoked credential's key never signs again).
    /// Returns how many there were.
    pub fn destroy_blocking(&self, key_id: &[u8]) -> Result<usize, HsmError> {
        self.with_session(|s| {
            let all = find_all(s, key_id)?;
            for h in &all {
                s.destroy_object(*h).map_err(device)?;
            }
            Ok(all.len())
        })
    }

    /// Stores `der` as the X.509 certificate object beside the key `key_id` (same CKA_ID), in
    /// place of any earlier one.
    pub fn store_certificate_blocking(
        &self,
        key_id: &[u8],
        label: &str,
        der: &[u8],
        subject: &[u8],
        issuer: &[u8],
        serial: &[u8],
    ) -> Result<(), HsmError> {
        self.with_session(|s| {
            for h in find_certificates(s, key_id)? {
                s.destroy_object(h).map_err(device)?;
            }
            let template = [
                Attribute::Class(ObjectClass::CERTIFICATE),
                Attribute::CertificateType(CertificateType::X_509),
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Id(key_id.to_vec()),
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Subject(subject.to_vec()),
                Attribute::Issuer(issuer.to_vec()),
                Attribute::SerialNumber(der_integer(serial)),
                Attribute::Value(der.to_vec()),
            ];
            s.create_object(&template).map_err(device)?;
            Ok(())
        })
    }

    pub fn destroy_certificate_blocking(&self, key_id: &[u8]) -> Result<(), HsmError> {
        self.with_session(|s| {
            for h in find_certificates(s, key_id)? {
                s.destroy_object(h).map_err(device)?;
            }
            Ok(())
        })
    }

    /// Connects (if needed) and says whether the token answers: for the CLI, before it writes.
    pub fn check_blocking(&self) -> Result<(), HsmError> {
        self.with_session(|s| s.get_session_info().map(|_| ()).map_err(device))
    }

    // ---- Async: the same, on tokio's blocking threads ----

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(Hsm) -> Result<T, HsmError> + Send + 'static,
    ) -> Result<T, HsmError> {
        let hsm = self.clone();
        tokio::task::spawn_blocking(move || f(hsm))
            .await
            .map_err(|e| HsmError::Device(format!("HSM task failed: {e}")))?
    }

    pub async fn ensure_key_pair(
        &self,
        key_id: Vec<u8>,
        label: String,
    ) -> Result<rsa::PublicKey, HsmError> {
        self.blocking(move |h| h.ensure_key_pair_blocking(&key_id, &label)).await
    }

    pub async fn public_key(&self, key_id: Vec<u8>) -> Result<rsa::PublicKey, HsmError> {
        self.blocking(move |h| h.public_key_blocking(&key_id)).await
    }

    pub async fn sign_digest(
        &self,
        key_id: Vec<u8>,
        alg: SignAlg,
        digest: [u8; 32],
    ) -> Result<Vec<u8>, HsmError> {
        self.blocking(move |h| h.sign_digest_blocking(&key_id, alg, &digest)).await
    }

    /// The signatures of `digests`, in order, all or none: split into up to
    /// `parallel_signatures` lanes signing at once, each on its own session and blocking
    /// thread, so one call's batch keeps the HSM's cores busy even while the callers themselves
    /// wait in line (SQLite's one writer holds the SAD's spend open while the HSM signs).
    pub async fn sign_digests(
        &self,
        key_id: Vec<u8>,
        alg: SignAlg,
        digests: Vec<[u8; 32]>,
    ) -> Result<Vec<Vec<u8>>, HsmError> {
        let lanes = self.inner.config.parallel_signatures.clamp(1, digests.len().max(1));
        let per_lane = digests.len().div_ceil(lanes).max(1);
        let key_id: Arc<[u8]> = key_id.into();
        let lanes = digests.chunks(per_lane).map(|chunk| {
            let (chunk, key_id) = (chunk.to_vec(), key_id.clone());
            self.blocking(move |h| h.sign_digests_blocking(&key_id, alg, &chunk))
        });
        let mut signatures = Vec::with_capacity(digests.len());
        for lane in futures_util::future::join_all(lanes).await {
            signatures.extend(lane?);
        }
        Ok(signatures)
    }

    pub async fn key_attributes(&self, key_id: Vec<u8>) -> Result<KeyAttributes, HsmError> {
        self.blocking(move |h| h.key_attributes_blocking(&key_id)).await
    }

    pub async fn destroy(&self, key_id: Vec<u8>) -> Result<usize, HsmError> {
        self.blocking(move |h| h.destroy_blocking(&key_id)).await
    }

    pub async fn store_certificate(
        &self,
        key_id: Vec<u8>,
        label: String,
        der: Vec<u8>,
        subject: Vec<u8>,
        issuer: Vec<u8>,
        serial: Vec<u8>,
    ) -> Result<(), HsmError> {
        self.blocking(move |h| {
            h.store_certificate_blocking(&key_id, &label, &der, &subject, &issuer, &serial)
        })
        .await
    }

    pub async fn destroy_certificate(&self, key_id: Vec<u8>) -> Result<(), HsmError> {
        self.blocking(move |h| h.destroy_certificate_blocking(&key_id)).await
    }

    pub async fn check(&self) -> Result<(), HsmError> {
        self.blocking(|h| h.check_blocking()).await
    }
}

/// One signature of a SHA-256 `digest` with the private key object `key`.
fn sign_with(
    s: &Session,
    key: ObjectHandle,
    alg: SignAlg,
    digest: &[u8; 32],
) -> Result<Vec<u8>, HsmError> {
    match alg {
        SignAlg::RsaPkcs1Sha256 => {
            let mut info = SHA256_DIGEST_INFO_PREFIX.to_vec();
            info.extend_from_slice(digest);
            s.sign(&Mechanism::RsaPkcs, key, &info).map_err(device)
        }
        SignAlg::RsaPssSha256 => {
            let params = PkcsPssParams {
                hash_alg: MechanismType::SHA256,
                mgf: PkcsMgfType::MGF1_SHA256,
                s_len: Ulong::from(32),
            };
            s.sign(&Mechanism::RsaPkcsPss(params), key, digest).map_err(device)
        }
    }
}

fn find(s: &Session, class: ObjectClass, key_id: &[u8]) -> Result<Option<ObjectHandle>, HsmError> {
    let template = [Attribute::Class(class), Attribute::Id(key_id.to_vec())];
    Ok(s.find_objects(&template).map_err(device)?.into_iter().next())
}

fn find_certificates(s: &Session, key_id: &[u8]) -> Result<Vec<ObjectHandle>, HsmError> {
    let template = [Attribute::Class(ObjectClass::CERTIFICATE), Attribute::Id(key_id.to_vec())];
    s.find_objects(&template).map_err(device)
}

/// CKA_SERIAL_NUMBER holds the DER INTEGER (tag, length, content bytes as the certificate has
/// them).
fn der_integer(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x02];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let len = n.to_be_bytes();
        let skip = len.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (len.len() - skip) as u8);
        out.extend_from_slice(&len[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn find_all(s: &Session, key_id: &[u8]) -> Result<Vec<ObjectHandle>, HsmError> {
    s.find_objects(&[Attribute::Id(key_id.to_vec())]).map_err(device)
}

fn read_public_key(s: &Session, key_id: &[u8]) -> Result<rsa::PublicKey, HsmError> {
    let key = find(s, ObjectClass::PUBLIC_KEY, key_id)?
        .ok_or_else(|| HsmError::KeyMissing(key_id_hex(key_id)))?;
    let attrs = s
        .get_attributes(
            key,
            &[AttributeType::KeyType, AttributeType::Modulus, AttributeType::PublicExponent],
        )
        .map_err(device)?;
    let (mut n, mut e, mut rsa_key) = (None, None, false);
    for a in attrs {
        match a {
            Attribute::KeyType(t) => rsa_key = t == KeyType::RSA,
            Attribute::Modulus(v) => n = Some(v),
            Attribute::PublicExponent(v) => e = Some(v),
            _ => {}
        }
    }
    let (Some(n), Some(e), true) = (n, e, rsa_key) else {
        return Err(HsmError::Device(format!("key {} is not an RSA key", key_id_hex(key_id))));
    };
    let n = BoxedUint::from_be_slice_vartime(&n);
    let e = BoxedUint::from_be_slice_vartime(&e);
    rsa::PublicKey::new(n, e).map_err(|err| HsmError::Device(format!("public key: {err}")))
}

#[cfg(test)]
mod tests {
    use super::der_integer;

    #[test]
    fn serial_numbers_are_der_integers() {
        assert_eq!(der_integer(&[0x53, 0xcd]), [0x02, 0x02, 0x53, 0xcd]);
        let long = vec![0x11; 200];
        let der = der_integer(&long);
        assert_eq!(&der[..3], &[0x02, 0x81, 200]);
        assert_eq!(&der[3..], &long[..]);
    }
}
