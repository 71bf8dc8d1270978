//! The service's keys: where they come from, and the checks that refuse weak ones.

use std::fmt;

use secrecy::{ExposeSecret, SecretBox, SecretSlice};

use crate::auth::jwt::AccessTokenKey;
use crate::crypto::{DataKey, DataKeys};
use crate::session::CsrfKey;

/// The fewest bytes a configured key may have (HS256 and the CSRF HMAC both want 256 bits).
pub const MIN_KEY_BYTES: usize = 32;

/// Words that make up the keys people paste from tutorials and `.env.example` files. A key
/// that is nothing but these (and digits, and separators) is refused whatever its length.
const PLACEHOLDER_WORDS: &[&str] = &[
    "changeme",
    "change",
    "replace",
    "secret",
    "password",
    "passw0rd",
    "placeholder",
    "default",
    "example",
    "sample",
    "development",
    "dev",
    "production",
    "prod",
    "test",
    "testing",
    "your",
    "my",
    "our",
    "the",
    "this",
    "here",
    "please",
    "key",
    "jwt",
    "csrf",
    "cookie",
    "token",
    "signing",
    "session",
    "super",
    "very",
    "long",
    "random",
    "string",
    "value",
    "for",
    "and",
    "with",
    "not",
    "use",
    "in",
    "me",
    "it",
    "todo",
    "fixme",
    "insecure",
    "unsafe",
    "xxx",
    "abc",
    "qwerty",
    "admin",
    "app",
    "api",
    "is",
    "a",
];

/// Why a configured key is refused (never its content).
pub(crate) fn weakness(key: &[u8]) -> Option<String> {
    if key.len() < MIN_KEY_BYTES {
        return Some(format!(
            "is {} bytes; at least {MIN_KEY_BYTES} are needed (for example `openssl rand -base64 48`)",
            key.len()
        ));
    }
    if is_placeholder(key) {
        return Some(
            "is a placeholder (words like `secret` or `changeme`), not a key; use random bytes (`openssl rand -base64 48`)"
                .to_owned(),
        );
    }
    let mut seen = [false; 256];
    for &b in key {
        seen[usize::from(b)] = true;
    }
    if seen.iter().filter(|s| **s).count() < 10 {
        return Some(
            "repeats a few characters; use random bytes (`openssl rand -base64 48`)".to_owned(),
        );
    }
    if key.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return text_weakness(key);
    }
    None
}

/// A key given as text must be random bytes written as hex (64 characters or more) or
/// base64 (43 or more): a key someone typed (words, a keyboard row, a name and a year, a
/// sentence) passes the length rule and is still guessable. What random text never has:
/// another alphabet, letters of one case only (base64), a repeated stretch. (Words in camel
/// case pass: no rule without a dictionary tells them from base64 of 32 random bytes.)
fn text_weakness(key: &[u8]) -> Option<String> {
    let refuse = |why: &str| {
        Some(format!(
            "{why}; a key given as text must be random bytes in base64 or hex (`openssl rand -base64 48`)"
        ))
    };
    let hex = key.iter().all(u8::is_ascii_hexdigit);
    let body = key
        .strip_suffix(b"==")
        .or_else(|| key.strip_suffix(b"="))
        .unwrap_or(key);
    let base64 = body
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'));
    if hex {
        if key.len() < 64 {
            return refuse("is hex shorter than 64 characters (32 bytes)");
        }
    } else if !base64 {
        return refuse("has characters of neither base64 nor hex");
    } else if body.len() < 43 {
        return refuse("is base64 shorter than 43 characters (32 bytes)");
    } else if !(body.iter().any(u8::is_ascii_uppercase) && body.iter().any(u8::is_ascii_lowercase))
    {
        return refuse("has letters of one case only, which base64 of random bytes never has");
    }
    if has_repeat(key, 12) {
        return refuse("repeats a stretch of itself");
    }
    None
}

/// Whether some `len` characters occur twice (overlapping or not).
fn has_repeat(text: &[u8], len: usize) -> bool {
    let mut seen = std::collections::HashSet::new();
    text.windows(len).any(|w| !seen.insert(w))
}

/// `key` as compared with the other keys: base64 without padding in one alphabet, hex in
/// lower case, so one key written two ways is still one key.
pub(crate) fn normalized(key: &[u8]) -> Vec<u8> {
    let text = key.iter().all(u8::is_ascii_graphic);
    if text && key.iter().all(u8::is_ascii_hexdigit) {
        return key.to_ascii_lowercase();
    }
    if !text {
        return key.to_vec();
    }
    let body = key
        .strip_suffix(b"==")
        .or_else(|| key.strip_suffix(b"="))
        .unwrap_or(key);
    body.iter()
        .map(|b| match b {
            b'-' => b'+',
            b'_' => b'/',
            b => *b,
        })
        .collect()
}

/// Whether `key` is mostly placeholder words: of its letters and digits (lower-cased, in
/// order, everything else dropped), 60% or more belong to words from [`PLACEHOLDER_WORDS`].
/// Random keys, binary or text, share a few letters with those words by chance, far from 60%;
/// a key with fewer than 12 letters and digits is binary, not a phrase (and a phrase padded
/// with punctuation fails the distinct-bytes check).
fn is_placeholder(key: &[u8]) -> bool {
    let mut text: String = key
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|b| char::from(b.to_ascii_lowercase()))
        .collect();
    let total = text.len();
    // Longest words first, so `changeme` goes before `change` and `me`.
    let mut words: Vec<&str> = PLACEHOLDER_WORDS.to_vec();
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    for word in words {
        text = text.replace(word, " ");
    }
    let left = text.bytes().filter(|b| *b != b' ').count();
    use zeroize::Zeroize as _;
    text.zeroize();
    total >= 12 && (total - left) * 10 >= total * 6
}

/// The service's keys: the access-token (HS256) key, the CSRF key and the data key that
/// seals secrets at rest ([`crate::crypto`]), read by
/// [`SecurityConfig::from_env`](crate::config::SecurityConfig::from_env), or generated for
/// one development run. Each key is its own: the configuration refuses two equal ones.
///
/// There is no cookie key: the session cookie carries a 256-bit random identifier, not signed
/// data, and the server stores only its SHA-256.
///
/// ```
/// use secure_core::config::Keys;
///
/// let keys = Keys::ephemeral();
/// assert!(keys.is_ephemeral());
/// assert_eq!(keys.access_token_key().algorithm_name(), "HS256");
/// assert_eq!(
///     format!("{keys:?}"),
///     "Keys { jwt: [REDACTED], csrf: [REDACTED], data: [REDACTED], ephemeral: true }"
/// );
/// ```
pub struct Keys {
    jwt: SecretBox<[u8]>,
    /// The access-token key before a rotation: verifies, never signs.
    jwt_previous: Option<SecretBox<[u8]>>,
    csrf: SecretSlice<u8>,
    csrf_previous: Option<SecretSlice<u8>>,
    data: DataKeys,
    ephemeral: bool,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("jwt", &format_args!("[REDACTED]"))
            .field("csrf", &format_args!("[REDACTED]"))
            .field("data", &format_args!("[REDACTED]"))
            .field("ephemeral", &self.ephemeral)
            .finish()
    }
}

/// Key material read from the configuration, each already checked for strength.
#[derive(Default)]
pub(crate) struct KeyMaterial {
    pub(crate) jwt: Option<Vec<u8>>,
    pub(crate) jwt_previous: Option<Vec<u8>>,
    pub(crate) csrf: Option<Vec<u8>>,
    pub(crate) csrf_previous: Option<Vec<u8>>,
    pub(crate) data: Option<Vec<u8>>,
    pub(crate) data_previous: Option<Vec<u8>>,
}

impl Drop for KeyMaterial {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        for key in [
            &mut self.jwt,
            &mut self.jwt_previous,
            &mut self.csrf,
            &mut self.csrf_previous,
            &mut self.data,
            &mut self.data_previous,
        ]
        .into_iter()
        .flatten()
        {
            key.zeroize();
        }
    }
}

fn random_key() -> Vec<u8> {
    use rand::Rng as _;
    let mut key = vec![0u8; MIN_KEY_BYTES];
    rand::rng().fill_bytes(&mut key);
    key
}

impl Keys {
    /// Random keys for one process: tokens and CSRF tokens die with it. For development and
    /// tests; [`SecurityConfig::from_env`](crate::config::SecurityConfig::from_env) makes them
    /// only in debug builds, and says so loudly.
    pub fn ephemeral() -> Self {
        Keys::from_material(KeyMaterial::default())
    }

    /// Checked keys, with a random one for each that is missing (then the keys are
    /// ephemeral).
    pub(crate) fn from_material(mut material: KeyMaterial) -> Self {
        let ephemeral =
            material.jwt.is_none() || material.csrf.is_none() || material.data.is_none();
        let data = match &material.data {
            Some(data) => DataKey::derive(data),
            None => DataKey::generate(),
        };
        let mut data = DataKeys::new(data);
        if let Some(previous) = &material.data_previous {
            data = data.with_previous(DataKey::derive(previous));
        }
        Keys {
            ephemeral,
            jwt: SecretBox::from(material.jwt.take().unwrap_or_else(random_key)),
            jwt_previous: material.jwt_previous.take().map(SecretBox::from),
            csrf: SecretSlice::from(material.csrf.take().unwrap_or_else(random_key)),
            csrf_previous: material.csrf_previous.take().map(SecretSlice::from),
            data,
        }
    }

    /// The HS256 access-token key, for [`AccessTokens::builder`](crate::auth::jwt::AccessTokens::builder).
    pub fn access_token_key(&self) -> AccessTokenKey {
        let bytes: Box<[u8]> = self.jwt.expose_secret().into();
        // The length was checked when the keys were made, so this cannot fail; the fallback
        // keeps the signature infallible without a panic path.
        AccessTokenKey::hs256(SecretBox::new(bytes))
            .unwrap_or_else(|_| unreachable_key("access-token"))
    }

    /// Access tokens under these keys: signed with `SECURE_JWT_KEY`, and during a rotation
    /// verified with `SECURE_JWT_KEY_PREVIOUS` too, each key named in the tokens' `kid` by a
    /// fingerprint (the first 16 base64url characters of a SHA-256 of the key, which tells
    /// nothing of it): nobody signed in is signed out by a rotation. What
    /// `secure_core::accounts::Accounts` uses.
    ///
    /// ```
    /// use secure_core::auth::Identity;
    /// use secure_core::config::{Profile, SecurityConfig};
    ///
    /// let key = |b: u8| "q3J8c1XvYp0m2bWfHk9tLz4rNs7dEaG6uQiVoRyTxCwMjP5B".replace('q', &b.to_string());
    /// let config = |vars: &[(&str, String)]| {
    ///     let mut all = vec![("SECURE_CSRF_KEY", key(3)), ("SECURE_DATA_KEY", key(4))];
    ///     all.extend(vars.iter().cloned());
    ///     SecurityConfig::from_vars(all, Profile::Release).unwrap()
    /// };
    /// let before = config(&[("SECURE_JWT_KEY", key(1))]);
    /// let tokens = before.keys().unwrap().access_tokens("https://auth.example", "api").build().unwrap();
    /// let token = tokens.issue(&Identity::new("user-1", 1_700_000_000)).unwrap();
    ///
    /// let after = config(&[("SECURE_JWT_KEY", key(2)), ("SECURE_JWT_KEY_PREVIOUS", key(1))]);
    /// let tokens = after.keys().unwrap().access_tokens("https://auth.example", "api").build().unwrap();
    /// assert!(tokens.verify(&token).is_ok());
    /// ```
    pub fn access_tokens(
        &self,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> crate::auth::jwt::AccessTokensBuilder {
        self.access_token_keys().builder(issuer, audience)
    }

    /// The access-token keys with their `kid`s, for a builder made later.
    pub(crate) fn access_token_keys(&self) -> AccessTokenKeys {
        let previous = self.jwt_previous.as_ref().map(|previous| {
            let key = AccessTokenKey::hs256(SecretBox::new(previous.expose_secret().into()))
                .unwrap_or_else(|_| unreachable_key("previous access-token"));
            (key, fingerprint(previous.expose_secret()))
        });
        AccessTokenKeys {
            current: (
                self.access_token_key(),
                fingerprint(self.jwt.expose_secret()),
            ),
            previous,
        }
    }

    /// The CSRF key, for [`SessionManager::new`](crate::session::SessionManager::new).
    pub fn csrf_key(&self) -> CsrfKey {
        let key = CsrfKey::new(self.csrf.expose_secret().to_vec())
            .unwrap_or_else(|_| unreachable_key("CSRF"));
        match &self.csrf_previous {
            Some(previous) => key
                .with_previous(previous.expose_secret().to_vec())
                .unwrap_or_else(|_| unreachable_key("previous CSRF")),
            None => key,
        }
    }

    /// The data keys that seal secrets at rest ([`crate::crypto`]): `SECURE_DATA_KEY`, and
    /// `SECURE_DATA_KEY_PREVIOUS` during a rotation.
    pub fn data_keys(&self) -> DataKeys {
        self.data.clone()
    }

    /// Whether these keys were generated for this process (development only).
    pub fn is_ephemeral(&self) -> bool {
        self.ephemeral
    }
}

/// The access-token keys of [`Keys`], each with its `kid`.
#[derive(Clone)]
pub(crate) struct AccessTokenKeys {
    current: (AccessTokenKey, String),
    previous: Option<(AccessTokenKey, String)>,
}

impl AccessTokenKeys {
    /// A builder signing with the current key, verifying with both.
    pub(crate) fn builder(
        self,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> crate::auth::jwt::AccessTokensBuilder {
        let (key, kid) = self.current;
        let mut builder = crate::auth::jwt::AccessTokens::builder(key, issuer, audience).kid(kid);
        if let Some((key, kid)) = self.previous {
            builder = builder.previous_key(key, kid);
        }
        builder
    }
}

/// A key's `kid`: 16 base64url characters (96 bits) of a SHA-256 of it, under a label of
/// its own, so it names the key without telling anything of it.
fn fingerprint(key: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::new()
        .chain_update(b"secure.jwt.kid\0")
        .chain_update(key)
        .finalize();
    let mut kid = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    kid.truncate(16);
    kid
}

#[cold]
fn unreachable_key<T>(which: &str) -> T {
    // Keys are 32 bytes or more by construction; reaching this is a bug in this module.
    unreachable!("{which} key shorter than {MIN_KEY_BYTES} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_keys_are_refused_with_a_reason() {
        assert!(weakness(b"short").unwrap().contains("is 5 bytes"));
        assert!(weakness(&[b'7'; 64]).unwrap().contains("repeats"));
        // A placeholder padded with punctuation has too few distinct bytes.
        assert!(
            weakness(b"!!!!!!!!!!!!changeme!!!!!!!!!!!!!!!!!!!!")
                .unwrap()
                .contains("repeats")
        );
        for placeholder in [
            "changeme-changeme-changeme-changeme",
            "my-super-secret-jwt-key-for-development",
            "your_secret_key_here_please_change_it_123",
            "CHANGE_ME_PLEASE_THIS_IS_NOT_A_SECRET_2024",
            "replace-this-with-a-long-random-string!!",
        ] {
            let reason = weakness(placeholder.as_bytes());
            assert!(
                reason.as_deref().is_some_and(|r| r.contains("placeholder")),
                "{placeholder}: {reason:?}"
            );
        }
    }

    #[test]
    fn typed_text_keys_are_refused_random_text_passes() {
        for typed in [
            "acme-notes-jwt-2024-acme-notes-jwt-2024",
            "qwertyuiopasdfghjklzxcvbnm1234567890",
            "the quick brown fox jumps over the lazy dog again",
            "Kx9-Kx9-Kx9-Kx9-Kx9-Kx9-Kx9-Kx9-Kx9-Kx9-Kx9-Kx9",
            "deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef",
            "0123456789abcdef0123456789",
            "Ab1!Ab1@Ab1#Ab1$Ab1%Ab1^Ab1&Ab1*Ab1(Ab1)Ab1",
        ] {
            assert!(weakness(typed.as_bytes()).is_some(), "{typed}");
        }
        use base64::Engine as _;
        let (std, url) = (
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        );
        for _ in 0..20_000 {
            let bytes: [u8; 48] = rand::random();
            for text in [std.encode(bytes), url.encode(&bytes[..32])] {
                assert_eq!(weakness(text.as_bytes()), None, "{text}");
            }
            let hex: String = bytes[..32].iter().map(|b| format!("{b:02X}")).collect();
            assert_eq!(weakness(hex.as_bytes()), None, "{hex}");
        }
        // One key written two ways is one key.
        let bytes: [u8; 48] = rand::random();
        assert_eq!(
            normalized(std.encode(bytes).as_bytes()),
            normalized(url.encode(bytes).as_bytes())
        );
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            normalized(hex.as_bytes()),
            normalized(hex.to_uppercase().as_bytes())
        );
    }

    #[test]
    fn random_keys_pass() {
        use base64::Engine as _;
        for _ in 0..1000 {
            let key = random_key();
            assert_eq!(weakness(&key), None);
            // As `openssl rand -hex 32` and `openssl rand -base64 48` print them.
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(weakness(hex.as_bytes()), None, "{hex}");
            let mut long = random_key();
            long.extend(random_key());
            let text = base64::engine::general_purpose::STANDARD.encode(&long[..48]);
            assert_eq!(weakness(text.as_bytes()), None, "{text}");
        }
        // base64 text of random bytes, as `openssl rand -base64 48` prints.
        assert_eq!(
            weakness(b"q3J8c1XvYp0m2bWfHk9tLz4rNs7dEaG6uQiVoRyTxCwMjP5Bn"),
            None
        );
    }
}
