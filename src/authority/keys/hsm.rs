//! Signing keys held in a hardware security module through PKCS#11, the one
//! interface every HSM speaks (SoftHSM2 in the tests). Keys are generated in
//! the token as sensitive, non-extractable private keys labelled with their
//! kid; the database keeps only the public key and a `pkcs11:` URI (RFC 7512)
//! naming the object, and the token signs. The module is initialised once per
//! process; logged-in sessions are pooled, so a token costs no session set-up.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

use aws_lc_rs::digest;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use cryptoki::{
    context::{CInitializeArgs, CInitializeFlags, Pkcs11},
    error::{Error, RvError},
    mechanism::{
        Mechanism, MechanismType,
        rsa::{PkcsMgfType, PkcsPssParams},
    },
    object::{Attribute, AttributeType, ObjectClass, ObjectHandle},
    session::{Session, UserType},
    slot::Slot,
    types::AuthPin,
};
use jsonwebtoken::jwk::Jwk;
use serde_json::json;

use super::{RsaKeySize, SigningAlgorithm};
use crate::authority::AuthError;

/// How a stored key held in an HSM starts: what follows names the token and the object.
pub const REFERENCE_PREFIX: &str = "pkcs11:";
/// The DER of the named curve P-256 (`prime256v1`), for `CKA_EC_PARAMS`.
const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const RSA_EXPONENT: [u8; 3] = [0x01, 0x00, 0x01];

/// Where the module is and how to log in, as the operator set it
/// (`--pkcs11-module`, `--pkcs11-token-label`, `--pkcs11-pin-file`).
#[derive(Debug, Clone)]
pub struct HsmSettings {
    pub module: PathBuf,
    pub token_label: String,
    pub pin_file: PathBuf,
}

/// A logged-in token. Clones of the `Arc` share its sessions.
pub struct Hsm {
    context: Pkcs11,
    slot: Slot,
    token_label: String,
    /// Logged-in sessions not in use; the first is never closed, so the
    /// login (which PKCS#11 keeps per process and token) lasts.
    idle: Mutex<Vec<Session>>,
}

impl std::fmt::Debug for Hsm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hsm({})", self.token_label)
    }
}

/// Loads and initialises each module once per process: PKCS#11 allows one
/// initialisation, and a second instance in the process shares it.
fn module(path: &Path) -> Result<Pkcs11, AuthError> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut modules = MODULES.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(context) = modules.get(path) {
        return Ok(context.clone());
    }
    let failed = |err: Error| {
        AuthError::Misconfigured(format!(
            "--pkcs11-module {}: does not load as a PKCS#11 module: {err}",
            path.display()
        ))
    };
    let context = Pkcs11::new(path).map_err(failed)?;
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(err) => return Err(failed(err)),
    }
    modules.insert(path.to_owned(), context.clone());
    Ok(context)
}

impl Hsm {
    /// Opens the token and logs in, or says which setting is wrong: a module
    /// that does not load, a label no token has, a PIN the token refuses.
    pub fn open(settings: &HsmSettings) -> Result<Arc<Self>, AuthError> {
        let pin = std::fs::read_to_string(&settings.pin_file).map_err(|err| {
            AuthError::Misconfigured(format!("--pkcs11-pin-file {}: {err}", settings.pin_file.display()))
        })?;
        let pin = AuthPin::new(pin.trim().into());
        let context = module(&settings.module)?;
        let token_error =
            |err: Error| AuthError::Misconfigured(format!("PKCS#11 token {:?}: {err}", settings.token_label));
        let mut labels = Vec::new();
        let mut found = None;
        for slot in context.get_slots_with_initialized_token().map_err(token_error)? {
            let label = context.get_token_info(slot).map_err(token_error)?.label().trim_end().to_owned();
            if label == settings.token_label {
                found = Some(slot);
                break;
            }
            labels.push(label);
        }
        let slot = found.ok_or_else(|| {
            AuthError::Misconfigured(format!(
                "--pkcs11-token-label {:?}: no token of {} has that label (found {labels:?})",
                settings.token_label,
                settings.module.display()
            ))
        })?;
        let session = context.open_rw_session(slot).map_err(token_error)?;
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) | Err(Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(Error::Pkcs11(RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange, _)) => {
                return Err(AuthError::Misconfigured(format!(
                    "--pkcs11-pin-file {}: the token {:?} refuses this PIN",
                    settings.pin_file.display(),
                    settings.token_label
                )));
            }
            Err(err) => return Err(token_error(err)),
        }
        let token_label = settings.token_label.clone();
        Ok(Arc::new(Self { context, slot, token_label, idle: Mutex::new(vec![session]) }))
    }

    /// Runs `job` on a logged-in session of the pool, opening one when all are busy.
    fn with_session<T>(&self, job: impl FnOnce(&Session) -> Result<T, Error>) -> Result<T, AuthError> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let session = match idle {
            Some(session) => session,
            None => self.context.open_rw_session(self.slot).map_err(|err| self.failed(err))?,
        };
        let done = job(&session).map_err(|err| self.failed(err));
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(session);
        done
    }

    fn failed(&self, err: Error) -> AuthError {
        AuthError::internal(format!("PKCS#11 token {:?}: {err}", self.token_label))
    }

    /// A new key pair of `algorithm` made in the token, its private half
    /// sensitive and never extractable: the reference to store and the public
    /// key. The objects are labelled with the key's kid (its RFC 7638
    /// thumbprint), which is returned too.
    pub fn generate(
        &self,
        algorithm: SigningAlgorithm,
        rsa: RsaKeySize,
    ) -> Result<(String, String, Jwk), AuthError> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(AuthError::internal)?;
        let (mechanism, public_template) = match algorithm {
            SigningAlgorithm::Es256 => {
                (Mechanism::EccKeyPairGen, vec![Attribute::EcParams(P256_PARAMS.to_vec())])
            }
            SigningAlgorithm::Rs256 | SigningAlgorithm::Ps256 => (
                Mechanism::RsaPkcsKeyPairGen,
                vec![
                    Attribute::ModulusBits(rsa.bits().into()),
                    Attribute::PublicExponent(RSA_EXPONENT.to_vec()),
                ],
            ),
            SigningAlgorithm::EdDsa => {
                return Err(AuthError::Misconfigured(
                    "tokend makes ES256, RS256 or PS256 keys in a PKCS#11 token, not EdDSA: choose one with \
                     --signing-algorithm"
                        .into(),
                ));
            }
        };
        let common = [Attribute::Token(true), Attribute::Id(id.to_vec())];
        let mut public = vec![Attribute::Verify(true), Attribute::Private(false)];
        public.extend(public_template);
        public.extend(common.clone());
        let mut private = vec![
            Attribute::Sign(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
        ];
        private.extend(common);
        self.with_session(|session| {
            let (public_key, private_key) = session.generate_key_pair(&mechanism, &public, &private)?;
            let jwk = public_jwk(session, public_key, algorithm)?;
            let kid =
                jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256).map_err(|_| Error::NotSupported)?;
            for object in [public_key, private_key] {
                session.update_attributes(object, &[Attribute::Label(kid.as_bytes().to_vec())])?;
            }
            Ok((self.reference(&id), kid, jwk))
        })
    }

    /// The private key a stored reference names, found in the token once.
    pub fn find(&self, kid: &str, reference: &str) -> Result<ObjectHandle, AuthError> {
        let missing = |why: &str| AuthError::Misconfigured(format!("signing key {kid} ({reference}): {why}"));
        let (token, id) =
            parse_reference(reference).ok_or_else(|| missing("not a pkcs11: URI tokend wrote"))?;
        if token != self.token_label {
            return Err(missing(&format!("it lives in the token {token:?}, not {:?}", self.token_label)));
        }
        let template = [Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Id(id)];
        let found = self.with_session(|session| session.find_objects(&template))?;
        found.first().copied().ok_or_else(|| missing("the token has no such private key any more"))
    }

    /// The signature of `message` by the private key `key`, as JWS wants it
    /// (ES256: `r ‖ s`, RS256: PKCS#1 v1.5 over SHA-256, PS256: PSS with
    /// SHA-256, MGF1-SHA-256 and a 32-byte salt).
    pub fn sign(
        &self,
        key: ObjectHandle,
        algorithm: SigningAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, AuthError> {
        self.with_session(|session| match algorithm {
            SigningAlgorithm::Es256 => {
                let hash = digest::digest(&digest::SHA256, message);
                session.sign(&Mechanism::Ecdsa, key, hash.as_ref())
            }
            SigningAlgorithm::Rs256 => session.sign(&Mechanism::Sha256RsaPkcs, key, message),
            SigningAlgorithm::Ps256 => {
                let pss = PkcsPssParams {
                    hash_alg: MechanismType::SHA256,
                    mgf: PkcsMgfType::MGF1_SHA256,
                    s_len: 32.into(),
                };
                session.sign(&Mechanism::Sha256RsaPkcsPss(pss), key, message)
            }
            SigningAlgorithm::EdDsa => Err(Error::NotSupported),
        })
    }

    /// `pkcs11:token=LABEL;id=%XX…` (RFC 7512), with the label percent-encoded.
    fn reference(&self, id: &[u8]) -> String {
        let token =
            percent_encoding::utf8_percent_encode(&self.token_label, percent_encoding::NON_ALPHANUMERIC);
        let id: String = id.iter().map(|byte| format!("%{byte:02X}")).collect();
        format!("{REFERENCE_PREFIX}token={token};id={id}")
    }
}

/// The token label and object id of a reference [`Hsm::reference`] wrote.
fn parse_reference(reference: &str) -> Option<(String, Vec<u8>)> {
    let path = reference.strip_prefix(REFERENCE_PREFIX)?;
    let (mut token, mut id) = (None, None);
    for part in path.split(';') {
        let (name, value) = part.split_once('=')?;
        let value: Vec<u8> = percent_encoding::percent_decode_str(value).collect();
        match name {
            "token" => token = Some(String::from_utf8(value).ok()?),
            "id" => id = Some(value),
            _ => {}
        }
    }
    Some((token?, id?))
}

/// The public half of a key pair in the token, as a JWK without kid or use.
fn public_jwk(session: &Session, key: ObjectHandle, algorithm: SigningAlgorithm) -> Result<Jwk, Error> {
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let jwk = match algorithm {
        SigningAlgorithm::Es256 => {
            let Some(Attribute::EcPoint(point)) =
                session.get_attributes(key, &[AttributeType::EcPoint])?.pop()
            else {
                return Err(Error::NotSupported);
            };
            // CKA_EC_POINT is the DER OCTET STRING of the uncompressed point;
            // some modules give the bare point.
            let point = match point.as_slice() {
                [0x04, 0x41, rest @ ..] if rest.len() == 65 => rest.to_vec(),
                _ => point,
            };
            if point.len() != 65 || point[0] != 0x04 {
                return Err(Error::NotSupported);
            }
            json!({ "kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..]), "alg": "ES256" })
        }
        SigningAlgorithm::Rs256 | SigningAlgorithm::Ps256 => {
            let attributes =
                session.get_attributes(key, &[AttributeType::Modulus, AttributeType::PublicExponent])?;
            let (mut n, mut e) = (None, None);
            for attribute in attributes {
                match attribute {
                    Attribute::Modulus(modulus) => n = Some(modulus),
                    Attribute::PublicExponent(exponent) => e = Some(exponent),
                    _ => {}
                }
            }
            let (Some(n), Some(e)) = (n, e) else {
                return Err(Error::NotSupported);
            };
            json!({ "kty": "RSA", "n": b64(&n), "e": b64(&e), "alg": algorithm.as_str() })
        }
        SigningAlgorithm::EdDsa => return Err(Error::NotSupported),
    };
    serde_json::from_value(jwk).map_err(|_| Error::NotSupported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_its_token_and_object() {
        let reference = "pkcs11:token=tokend%20prod;id=%01%FE";
        assert_eq!(parse_reference(reference), Some(("tokend prod".into(), vec![0x01, 0xfe])));
        assert_eq!(parse_reference("pkcs11:id=%01"), None, "no token");
        assert_eq!(parse_reference("sealed:v2:abc:def"), None);
    }
}
