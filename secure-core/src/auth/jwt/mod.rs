//! Access tokens: short-lived JWTs (RFC 7519) signed with one pinned algorithm.
//!
//! What this protects against (RFC 8725, the JWT BCP; OWASP ASVS 3.5.x token sessions and
//! 2.x/6.2 key strength):
//! * **Algorithm confusion** (RFC 8725 §2.1, §3.1): the algorithm comes from the
//!   [`AccessTokenKey`], never from the token. `alg: none` in any spelling, an HS256 token
//!   forged with an EdDSA/ES256 public key as HMAC secret, or any other algorithm is refused
//!   before any cryptography runs.
//! * **Sender-supplied keys** (RFC 8725 §3.10): headers with `jwk`, `jku`, `x5u`, `x5c` are
//!   refused; nothing is ever fetched. `kid` selects only among the configured keys, all of
//!   the pinned algorithm: the current key and, during a rotation, the previous ones
//!   ([`AccessTokensBuilder::previous_key`]); a `kid` none of them has is refused.
//! * **Unknown extensions and cross-JWT confusion** (RFC 7515 §4.1.11, RFC 8725 §3.11): any
//!   `crit`, and a `typ` other than `JWT`/`at+jwt`, are refused. Tokens are issued with
//!   `typ: at+jwt` (RFC 9068).
//! * **Replay beyond a short window** (ASVS 3.5.3): `exp` is required and tokens live 15 min by
//!   default (at most 1 h); `nbf`, `iat` and `auth_time` may not be in the future; clock leeway
//!   is at most 30 s. `iss` and `aud` are required and must match (RFC 8725 §3.8, §3.9).
//! * **Parser differentials**: the header is checked here, strictly (canonical base64url, one
//!   JSON object, no duplicate members, an allowlist of parameters); the token is at most 8 KiB
//!   and made of base64url characters and exactly two dots. Claims must be an object of the
//!   expected types (a string `exp` is refused).
//! * **Weak or leaked keys** (ASVS 6.2.x, 6.4.x): HS256 secrets have at least 32 bytes; keys live
//!   in a [`SecretBox`](crate::SecretBox), are wiped on drop and never appear in `Debug`.
//!
//! The signature is checked by jsonwebtoken (`crypto::verify`, RustCrypto backend) with the
//! pinned algorithm and key; base64 is the `base64` crate's and JSON is serde_json's. Around
//! them, this module reads each part once, in order: shape, header (before any cryptography),
//! signature, payload, claims. Each rule is explicit here and tested in `tests/tests/jwt.rs`,
//! and the whole is a little faster than `jsonwebtoken::decode` (which parses the header twice
//! and the claims twice).
//!
//! ```
//! use std::time::Duration;
//! use secure_core::SecretBox;
//! use secure_core::auth::{Amr, Identity};
//! use secure_core::auth::jwt::{AccessTokenKey, AccessTokens, TokenError};
//!
//! let key = AccessTokenKey::hs256(SecretBox::from(vec![42u8; 32])).unwrap();
//! let tokens = AccessTokens::builder(key, "https://auth.example", "notes-api")
//!     .leeway(Duration::from_secs(5))
//!     .build()
//!     .unwrap();
//!
//! let identity = Identity::new("user-1", 1_700_000_000)
//!     .with_roles(["admin"])
//!     .with_amr([Amr::Pwd, Amr::Otp]);
//! let token = tokens.issue(&identity).unwrap();
//!
//! let claims = tokens.verify(&token).unwrap();
//! assert_eq!(claims.sub, "user-1");
//! assert_eq!(claims.roles, ["admin"]);
//!
//! assert_eq!(tokens.verify("e30.e30.").unwrap_err(), TokenError::Header);
//! ```

pub(crate) mod claims;
mod error;
pub(crate) mod header;
mod key;
pub(crate) mod object;

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Header;
use jsonwebtoken::errors::ErrorKind;

pub use claims::AccessClaims;
pub use error::{IssueError, TokenConfigError, TokenError};
pub use key::{AccessTokenKey, MIN_HS256_KEY_BYTES};

use crate::auth::identity::Identity;
use crate::redact::ExposeSecret;
use claims::{IssuedClaims, WireClaims};

/// Largest clock leeway a configuration may ask for.
pub const MAX_LEEWAY_SECS: u64 = 30;
/// Default clock leeway.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(5);
/// Default access token lifetime: 15 minutes.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Longest access token lifetime a configuration may ask for: 1 hour.
pub const MAX_LIFETIME: Duration = Duration::from_secs(60 * 60);
/// Longest token accepted by [`AccessTokens::verify`], in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The `typ` header of issued tokens (RFC 9068).
pub const TOKEN_TYPE: &str = "at+jwt";

/// Issues and verifies access tokens for one issuer and one audience, with one key.
///
/// Build it once at start-up with [`AccessTokens::builder`]; configuration mistakes are
/// [`TokenConfigError`]s. It is `Send + Sync`: share it behind an `Arc`.
///
/// ```
/// use secure_core::SecretBox;
/// use secure_core::auth::Identity;
/// use secure_core::auth::jwt::{AccessTokenKey, AccessTokens, TokenError};
///
/// let key = || AccessTokenKey::hs256(SecretBox::from(vec![42u8; 32])).unwrap();
/// let api = AccessTokens::builder(key(), "https://auth.example", "notes-api").build().unwrap();
/// let other = AccessTokens::builder(key(), "https://auth.example", "billing-api").build().unwrap();
///
/// let token = api.issue(&Identity::new("user-1", 1_700_000_000)).unwrap();
/// assert!(api.verify(&token).is_ok());
/// assert_eq!(other.verify(&token).unwrap_err(), TokenError::Audience);
/// ```
#[derive(Clone)]
pub struct AccessTokens {
    key: AccessTokenKey,
    issuer: String,
    audience: String,
    kid: Option<String>,
    /// Keys of a rotation that still verify (never sign), each with its `kid`.
    previous: std::sync::Arc<[(String, AccessTokenKey)]>,
    leeway: u64,
    lifetime: u64,
    header: Header,
}

/// Configures [`AccessTokens`]; see [`AccessTokens::builder`].
///
/// ```
/// use std::time::Duration;
/// use secure_core::SecretBox;
/// use secure_core::auth::jwt::{AccessTokenKey, AccessTokens, TokenConfigError};
///
/// let key = AccessTokenKey::hs256(SecretBox::from(vec![42u8; 32])).unwrap();
/// let refused = AccessTokens::builder(key, "https://auth.example", "notes-api")
///     .leeway(Duration::from_secs(60))
///     .build();
/// assert_eq!(refused.unwrap_err(), TokenConfigError::LeewayTooLarge);
/// ```
#[derive(Debug)]
#[must_use = "call .build() to get the AccessTokens"]
pub struct AccessTokensBuilder {
    key: AccessTokenKey,
    issuer: String,
    audience: String,
    kid: Option<String>,
    previous: Vec<(String, AccessTokenKey)>,
    leeway: Duration,
    lifetime: Duration,
}

impl AccessTokens {
    /// Starts a configuration: the key (which pins the algorithm), the issuer (`iss`) and the
    /// audience (`aud`) this service issues for and accepts.
    ///
    /// ```
    /// use std::time::Duration;
    /// use secure_core::SecretBox;
    /// use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
    ///
    /// let key = AccessTokenKey::hs256(SecretBox::from(vec![42u8; 32])).unwrap();
    /// let tokens = AccessTokens::builder(key, "https://auth.example", "notes-api")
    ///     .lifetime(Duration::from_secs(5 * 60))
    ///     .kid("2025-01")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(tokens.lifetime(), Duration::from_secs(300));
    /// ```
    pub fn builder(
        key: AccessTokenKey,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> AccessTokensBuilder {
        AccessTokensBuilder {
            key,
            issuer: issuer.into(),
            audience: audience.into(),
            kid: None,
            previous: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            lifetime: DEFAULT_LIFETIME,
        }
    }

    /// Signs a token for `identity`, valid from now for the configured lifetime, with a fresh
    /// random `jti`.
    ///
    /// ```
    /// use secure_core::SecretBox;
    /// use secure_core::auth::Identity;
    /// use secure_core::auth::jwt::{AccessTokenKey, AccessTokens, IssueError};
    ///
    /// let key = AccessTokenKey::hs256(SecretBox::from(vec![42u8; 32])).unwrap();
    /// let tokens = AccessTokens::builder(key, "https://auth.example", "notes-api").build().unwrap();
    /// let token = tokens.issue(&Identity::new("user-1", 1_700_000_000)).unwrap();
    /// assert_eq!(token.split('.').count(), 3);
    /// assert_eq!(tokens.issue(&Identity::new("", 0)).unwrap_err(), IssueError::Identity);
    /// ```
    pub fn issue(&self, identity: &Identity) -> Result<String, IssueError> {
        let material = self.key.material.expose_secret();
        let encoding = material.encoding.as_ref().ok_or(IssueError::NoSigningKey)?;
        if identity.subject.is_empty() || identity.roles.iter().any(String::is_empty) {
            return Err(IssueError::Identity);
        }
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| IssueError::Clock)?
            .as_secs();
        let now = i64::try_from(now).map_err(|_| IssueError::Clock)?;
        let jti = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
        let claims = IssuedClaims {
            iss: &self.issuer,
            sub: &identity.subject,
            aud: &self.audience,
            exp: now.saturating_add_unsigned(self.lifetime),
            nbf: now,
            iat: now,
            jti: &jti,
            roles: &identity.roles,
            amr: &identity.amr,
            auth_time: identity.auth_time,
            sid: identity.session_id.as_deref(),
        };
        jsonwebtoken::encode(&self.header, &claims, encoding).map_err(|_| IssueError::Signing)
    }

    /// Verifies `token` and returns its claims: the header check (see the module docs), then
    /// the signature, then `iss`, `aud`, `exp`, `nbf`, `iat`, `auth_time` and the lifetime.
    ///
    /// Never panics, whatever `token` holds.
    ///
    /// ```
    /// use secure_core::SecretBox;
    /// use secure_core::auth::jwt::{AccessTokenKey, AccessTokens, TokenError};
    ///
    /// let key = AccessTokenKey::hs256(SecretBox::from(vec![42u8; 32])).unwrap();
    /// let tokens = AccessTokens::builder(key, "https://auth.example", "notes-api").build().unwrap();
    /// // {"alg":"none"}.{}.
    /// assert_eq!(tokens.verify("eyJhbGciOiJub25lIn0.e30.").unwrap_err(), TokenError::Algorithm);
    /// assert_eq!(tokens.verify("not a token").unwrap_err(), TokenError::Malformed);
    /// ```
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let mut buf = PayloadBuf::default();
        self.verify_wire(token, &mut buf)
            .map(WireClaims::into_claims)
    }

    /// [`verify`](Self::verify), giving the identity the token carries: what the
    /// authenticator does on every request, without copying the claims it only compares.
    pub(crate) fn verify_identity(&self, token: &str) -> Result<Identity, TokenError> {
        let mut buf = PayloadBuf::default();
        self.verify_wire(token, &mut buf)
            .map(WireClaims::into_identity)
    }

    /// The signature, then the claims, read from the payload decoded into `buf`.
    fn verify_wire<'b>(
        &self,
        token: &str,
        buf: &'b mut PayloadBuf,
    ) -> Result<WireClaims<'b>, TokenError> {
        let (header, payload, signature) = compact_parts(token)?;
        let key = header::check(header, self.key.algorithm_name(), |kid| self.key_for(kid))?;
        // The signed message: `header.payload`, the raw segments (never re-encoded).
        let message = &token.as_bytes()[..header.len() + 1 + payload.len()];
        let verified = match key {
            Some(key) => signed_by(key, signature, message)?,
            // No `kid` during a rotation: the current key, then each previous one.
            None => {
                let mut verified = signed_by(&self.key, signature, message)?;
                for (_, key) in self.previous.iter() {
                    if verified {
                        break;
                    }
                    verified = signed_by(key, signature, message)?;
                }
                verified
            }
        };
        if !verified {
            return Err(TokenError::Signature);
        }
        let json = buf.decode(payload)?;
        let claims = WireClaims::from_json(json).map_err(|_| TokenError::Claims)?;
        self.check_claims(&claims)?;
        Ok(claims)
    }

    /// The key a token's `kid` names (`None`: try each, a token without `kid` during a
    /// rotation). `kid` chooses only among the configured keys, all of the pinned algorithm;
    /// a `kid` none has is refused, unless no key has one (then there is one key).
    fn key_for(&self, kid: Option<&str>) -> Result<Option<&AccessTokenKey>, TokenError> {
        match kid {
            None if self.previous.is_empty() => Ok(Some(&self.key)),
            None => Ok(None),
            Some(kid) if self.kid.as_deref() == Some(kid) => Ok(Some(&self.key)),
            Some(kid) => match self.previous.iter().find(|(k, _)| k == kid) {
                Some((_, key)) => Ok(Some(key)),
                None if self.kid.is_none() && self.previous.is_empty() => Ok(Some(&self.key)),
                None => Err(TokenError::Header),
            },
        }
    }

    /// The lifetime of issued tokens (for an OAuth `expires_in`).
    pub fn lifetime(&self) -> Duration {
        Duration::from_secs(self.lifetime)
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The configured audience.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The claim rules, in jsonwebtoken's order: times, then issuer, then audience.
    fn check_claims(&self, claims: &WireClaims<'_>) -> Result<(), TokenError> {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let earliest = now.saturating_sub_unsigned(self.leeway);
        let latest = now.saturating_add_unsigned(self.leeway);
        if claims.exp < earliest {
            return Err(TokenError::Expired);
        }
        if claims.nbf.is_some_and(|nbf| nbf > latest)
            || claims.iat > latest
            || claims.auth_time > latest
        {
            return Err(TokenError::NotYetValid);
        }
        // No longer-lived token than this configuration issues; exp before iat is nonsense.
        match claims.exp.checked_sub(claims.iat) {
            Some(lived)
                if lived >= 0
                    && lived.unsigned_abs() <= self.lifetime.saturating_add(self.leeway) => {}
            _ => return Err(TokenError::Claims),
        }
        if claims.sub.is_empty() || claims.jti.0.is_empty() {
            return Err(TokenError::Claims);
        }
        if claims.iss.0 != self.issuer {
            return Err(TokenError::Issuer);
        }
        if !claims.aud.contains(&self.audience) {
            return Err(TokenError::Audience);
        }
        Ok(())
    }
}

/// The `iss` a token's payload names, unverified: only to choose which issuer's keys and
/// rules verify it (each checks `iss` again).
pub(crate) fn unverified_issuer(token: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Iss<'a> {
        #[serde(borrow)]
        iss: object::Text<'a>,
    }
    let (_, payload, _) = compact_parts(token).ok()?;
    let mut buf = PayloadBuf::default();
    let json = buf.decode(payload).ok()?;
    let mut de = serde_json::Deserializer::from_slice(json);
    let iss: Iss<'_> = object::deserialize_object(&mut de).ok()?;
    Some(iss.iss.0.into_owned())
}

/// Where a token's payload is decoded: on the stack when it is as short as ours (about 270
/// bytes), else on the heap (a token is at most [`MAX_TOKEN_BYTES`]).
pub(crate) struct PayloadBuf {
    stack: [u8; 1024],
    heap: Vec<u8>,
}

impl Default for PayloadBuf {
    fn default() -> Self {
        PayloadBuf {
            stack: [0; 1024],
            heap: Vec::new(),
        }
    }
}

impl PayloadBuf {
    /// The decoded `segment` (canonical unpadded base64url, else `Malformed`).
    pub(crate) fn decode(&mut self, segment: &str) -> Result<&[u8], TokenError> {
        if segment.len() / 4 * 3 + 3 <= self.stack.len() {
            let len = URL_SAFE_NO_PAD
                .decode_slice(segment, &mut self.stack)
                .map_err(|_| TokenError::Malformed)?;
            return self.stack.get(..len).ok_or(TokenError::Malformed);
        }
        self.heap = URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|_| TokenError::Malformed)?;
        Ok(&self.heap)
    }
}

/// The three segments of a compact JWS: at most [`MAX_TOKEN_BYTES`], exactly two dots. Each
/// segment's alphabet is checked by its strict base64url decoder (the header's here, before
/// any cryptography; the signature's and the payload's by the decoders that read them).
pub(crate) fn compact_parts(token: &str) -> Result<(&str, &str, &str), TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Malformed);
    }
    let mut segments = token.split('.');
    match (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) {
        (Some(header), Some(payload), Some(signature), None) => Ok((header, payload, signature)),
        _ => Err(TokenError::Malformed),
    }
}

/// Whether `key` signed `message` (jsonwebtoken's constant-time verification).
fn signed_by(key: &AccessTokenKey, signature: &str, message: &[u8]) -> Result<bool, TokenError> {
    let material = key.material.expose_secret();
    jsonwebtoken::crypto::verify(signature, message, &material.decoding, key.algorithm)
        .map_err(|e| map_error(e.kind()))
}

/// Errors of `jsonwebtoken::crypto::verify`: a signature that is not base64url, or (never
/// after the construction probe) a key the backend refuses.
fn map_error(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::Base64(_) => TokenError::Malformed,
        _ => TokenError::Signature,
    }
}

impl AccessTokensBuilder {
    /// Clock leeway for `exp`, `nbf`, `iat` and `auth_time`: at most 30 s (default 5 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Lifetime of issued tokens, and the longest `exp - iat` accepted: 1 s to 1 h (default
    /// 15 min).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// A key id written into issued headers; tokens naming a `kid` no configured key has
    /// are then refused.
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// A key of a rotation, still verifying the tokens it signed (named `kid` in their
    /// headers) until they expire; it never signs. Of the same algorithm as the current key.
    ///
    /// ```
    /// use secure_core::SecretBox;
    /// use secure_core::auth::Identity;
    /// use secure_core::auth::jwt::{AccessTokenKey, AccessTokens};
    ///
    /// let key = |b| AccessTokenKey::hs256(SecretBox::from(vec![b; 32])).unwrap();
    /// let before = AccessTokens::builder(key(1), "https://auth.example", "api")
    ///     .kid("2025-01")
    ///     .build()
    ///     .unwrap();
    /// let token = before.issue(&Identity::new("user-1", 1_700_000_000)).unwrap();
    /// let after = AccessTokens::builder(key(2), "https://auth.example", "api")
    ///     .kid("2025-02")
    ///     .previous_key(key(1), "2025-01")
    ///     .build()
    ///     .unwrap();
    /// assert!(after.verify(&token).is_ok());
    /// ```
    pub fn previous_key(mut self, key: AccessTokenKey, kid: impl Into<String>) -> Self {
        self.previous.push((kid.into(), key));
        self
    }

    /// Checks the configuration.
    pub fn build(self) -> Result<AccessTokens, TokenConfigError> {
        if self.leeway > Duration::from_secs(MAX_LEEWAY_SECS) {
            return Err(TokenConfigError::LeewayTooLarge);
        }
        if self.lifetime < Duration::from_secs(1) || self.lifetime > MAX_LIFETIME {
            return Err(TokenConfigError::LifetimeOutOfRange);
        }
        let bad_kid = |k: &String| k.is_empty() || k.len() > 128;
        if self.issuer.is_empty()
            || self.audience.is_empty()
            || self.kid.as_ref().is_some_and(bad_kid)
            || self.previous.iter().any(|(k, _)| bad_kid(k))
        {
            return Err(TokenConfigError::EmptyName);
        }
        if self
            .previous
            .iter()
            .any(|(_, key)| key.algorithm != self.key.algorithm)
        {
            return Err(TokenConfigError::MixedAlgorithms);
        }
        let mut kids: Vec<&str> = self.previous.iter().map(|(k, _)| k.as_str()).collect();
        kids.extend(self.kid.as_deref());
        kids.sort_unstable();
        if kids.windows(2).any(|w| w[0] == w[1]) {
            return Err(TokenConfigError::DuplicateKid);
        }
        let algorithm = self.key.algorithm;
        let mut header = Header::new(algorithm);
        header.typ = Some(TOKEN_TYPE.to_owned());
        header.kid.clone_from(&self.kid);

        let leeway = self.leeway.as_secs();
        Ok(AccessTokens {
            key: self.key,
            issuer: self.issuer,
            audience: self.audience,
            kid: self.kid,
            previous: self.previous.into(),
            leeway,
            lifetime: self.lifetime.as_secs(),
            header,
        })
    }
}

impl fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokens")
            .field("key", &self.key)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("kid", &self.kid)
            .field(
                "previous_kids",
                &self.previous.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("leeway_secs", &self.leeway)
            .field("lifetime_secs", &self.lifetime)
            .finish_non_exhaustive()
    }
}
