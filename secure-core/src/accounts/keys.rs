//! API keys: their form (`<prefix>_<random>_<checksum>`), made here and checked before any
//! lookup, and how a presented key becomes a scoped identity.
//!
//! The random part is 40 base62 characters (238 bits, from the OS's generator); its first 8
//! are the key's public id, which finds its row. The checksum is the CRC-32 of the rest, as 6
//! base62 characters: a mistyped or truncated key is refused without touching the store, and
//! secret scanners recognise a leaked one by its prefix and checksum. The store keeps only
//! `base64url(SHA-256(key))`: a key has far more entropy than a password, so a fast hash is
//! the right one, and the comparison is constant-time.

use crate::auth::refresh::opaque::hash;
use crate::redact::SecretString;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Characters of the random part.
const RANDOM_LEN: usize = 40;
/// Its first characters: the public id.
pub(super) const ID_LEN: usize = 8;
/// Characters of the checksum.
const CHECKSUM_LEN: usize = 6;
const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// A new key for `prefix`: the key (shown once), its id and its stored hash.
pub(super) fn generate(prefix: &str) -> (SecretString, String, String) {
    let random: String = (0..RANDOM_LEN).map(|_| base62_char()).collect();
    let body = format!("{prefix}_{random}");
    let key = format!("{body}_{}", checksum(&body));
    let hash = hash(&key);
    let id = random[..ID_LEN].to_owned();
    (SecretString::from(key), id, hash)
}

/// The id of `token` when it has the form of a key of `prefix` and its checksum holds.
pub(super) fn id_of<'a>(prefix: &str, token: &'a str) -> Option<&'a str> {
    let rest = token.strip_prefix(prefix)?.strip_prefix('_')?;
    let (random, sum) = rest.split_once('_')?;
    let well_formed = random.len() == RANDOM_LEN
        && sum.len() == CHECKSUM_LEN
        && random
            .bytes()
            .chain(sum.bytes())
            .all(|b| b.is_ascii_alphanumeric());
    if !well_formed {
        return None;
    }
    let body = &token[..token.len() - CHECKSUM_LEN - 1];
    (checksum(body) == sum).then(|| &random[..ID_LEN])
}

/// Whether `token` looks like a key of `prefix` (checksum aside): the authenticator then
/// treats it as one, never as an access token.
pub(super) fn looks_like(prefix: &str, token: &str) -> bool {
    token
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with('_') && !token.contains('.'))
}

/// A character of the random part, unbiased: bytes of 248 and above are drawn again.
fn base62_char() -> char {
    loop {
        let b: u8 = rand::random();
        if b < 248 {
            return char::from(BASE62[usize::from(b % 62)]);
        }
    }
}

/// The CRC-32 of `body` as 6 base62 characters (62^6 > 2^32).
fn checksum(body: &str) -> String {
    let mut n = CRC.checksum(body.as_bytes());
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::ExposeSecret;

    #[test]
    fn a_key_has_its_form_and_its_checksum_catches_a_changed_character() {
        let (key, id, stored) = generate("notes");
        let key = key.expose_secret();
        assert_eq!(key.len(), "notes_".len() + RANDOM_LEN + 1 + CHECKSUM_LEN);
        assert_eq!(id_of("notes", key), Some(id.as_str()));
        assert_eq!(hash(key), stored);
        assert!(looks_like("notes", key));
        for at in ["notes_".len(), key.len() - 1] {
            let mut changed = key.as_bytes().to_vec();
            changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(changed).unwrap();
            assert_eq!(id_of("notes", &changed), None, "{changed}");
        }
        for other in [
            &key[..key.len() - 1],
            "notes_",
            "billing_x_y",
            "eyJhbGciOi.x.y",
        ] {
            assert_eq!(id_of("notes", other), None, "{other}");
        }
        assert!(!looks_like("notes", "eyJhbGciOi.x.y"));
        // Ids do not repeat.
        let (_, second, _) = generate("notes");
        assert_ne!(id, second);
    }
}

/// API keys as the accounts' builder configured them.
#[derive(Clone, Copy)]
pub(super) struct KeyConfig {
    /// The app's prefix: `notes` in `notes_...`.
    pub(super) prefix: &'static str,
    /// Whether a scope wire name is one of the app's.
    pub(super) known_scope: fn(&str) -> bool,
    /// Requests each key may make (`api_key_rate`; 600 a minute by default).
    pub(super) rate: crate::ratelimit::Rate,
}

/// The accounts' keys as an authenticator source.
pub(super) struct KeySource(pub(super) super::Accounts);

impl crate::auth::KeyAuthenticator for KeySource {
    fn recognises(&self, token: &str) -> bool {
        self.0
            .inner
            .api_keys
            .is_some_and(|config| looks_like(config.prefix, token))
    }

    fn authenticate<'a>(
        &'a self,
        token: &'a str,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<crate::auth::Identity, crate::auth::AuthError>>
                + Send
                + 'a,
        >,
    > {
        Box::pin(identity_of_key(&self.0.inner, token))
    }
}

/// The identity a presented key acts as: its owner, the owner's current roles (those this
/// version knows, and none that needs a second factor: a key presents none), its scopes.
async fn identity_of_key(
    inner: &super::Inner,
    token: &str,
) -> Result<crate::auth::Identity, crate::auth::AuthError> {
    use crate::audit::{self, Outcome};
    use crate::auth::AuthError;
    use subtle::ConstantTimeEq as _;
    let refuse = |subject: Option<&str>, reason: &'static str, error: AuthError| {
        audit::emit("auth.api_key", Outcome::Failure, subject, reason);
        error
    };
    let Some(config) = inner.api_keys else {
        return Err(refuse(None, "api_keys_off", AuthError::Invalid));
    };
    // The checksum first: a mistyped or made-up key never reaches the store.
    let Some(id) = id_of(config.prefix, token) else {
        return Err(refuse(None, "malformed_key", AuthError::Invalid));
    };
    let record = match inner.store.api_key(id).await {
        Ok(record) => record,
        Err(e) => {
            tracing::error!(target: "secure::accounts", error = %e, "API key lookup failed");
            return Err(refuse(None, "store_unavailable", AuthError::Unavailable));
        }
    };
    let presented = hash(token);
    let Some(record) =
        record.filter(|r| bool::from(r.key_hash.as_bytes().ct_eq(presented.as_bytes())))
    else {
        return Err(refuse(None, "unknown_key", AuthError::Invalid));
    };
    let now = super::unix_now();
    if record.revoked_at.is_some() {
        return Err(refuse(
            Some(&record.owner_id),
            "revoked_key",
            AuthError::Invalid,
        ));
    }
    if record.expires_at.is_some_and(|at| at <= now) {
        return Err(refuse(
            Some(&record.owner_id),
            "expired_key",
            AuthError::Expired,
        ));
    }
    // Each key its own budget, on the limiter's store (shared by instances through Redis).
    let limit = crate::ratelimit::RateLimit {
        rate: config.rate,
        key: crate::ratelimit::RateKey::User,
    };
    let key = crate::ratelimit::ClientKey::User(format!("api_key\n{}", record.id).into_boxed_str());
    match inner
        .limiter
        .decide("secure::accounts::api_key", limit, &key)
        .await
    {
        crate::ratelimit::Verdict::Decided(decision) if !decision.allowed => {
            let retry_after = decision.retry_after_secs().unwrap_or(1);
            return Err(refuse(
                Some(&record.owner_id),
                "api_key_rate_limited",
                AuthError::RateLimited { retry_after },
            ));
        }
        crate::ratelimit::Verdict::Unavailable => {
            return Err(refuse(
                Some(&record.owner_id),
                "limiter_unavailable",
                AuthError::Unavailable,
            ));
        }
        _ => {}
    }
    // A write at most once a minute per key, not a statement per request.
    if record
        .last_used_at
        .is_none_or(|at| at < now.saturating_sub(60))
        && let Err(e) = inner.store.touch_api_key(&record.id, now).await
    {
        tracing::warn!(target: "secure::accounts", error = %e, "API key use not recorded");
    }
    let scopes: Vec<&str> = record
        .scopes
        .iter()
        .map(String::as_str)
        .filter(|s| (config.known_scope)(s))
        .collect();
    // A key presents no second factor.
    let roles = super::issue::granted_roles(inner, &record.owner_id, &record.owner_roles, false);
    Ok(
        crate::auth::Identity::new(record.owner_id.as_str(), record.created_at)
            .with_roles(roles)
            .with_scopes(scopes),
    )
}
