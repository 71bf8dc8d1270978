//! API keys: their form (`<prefix>_<random>_<checksum>`), made here and checked before any
//! lookup, and how a presented key becomes a scoped identity.
//!
//! The random part is 40 base62 characters (238 bits, from the OS's generator); its first 8
//! are the key's public id, which finds its row. The checksum is the CRC-32 of the rest, as 6
//! base62 characters: a mistyped or truncated key is refused without touching the store, and
//! secret scanners recognise a leaked one by its prefix and checksum. The store keeps only
//! `base64url(SHA-256(key))`: a key has far more entropy than a password, so a fast hash is
//! the right one, and the comparison is constant-time.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::store::ApiKeyRecord;
use crate::audit::{self, Outcome};
use crate::auth::refresh::opaque::hash;
use crate::auth::{AuthError, Identity};
use crate::ratelimit::{ClientKey, RateKey, RateLimit, Verdict};
use crate::redact::SecretString;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Characters of the random part.
const RANDOM_LEN: usize = 40;
/// Its first characters: the public id.
pub(super) const ID_LEN: usize = 8;
/// Characters of the checksum.
const CHECKSUM_LEN: usize = 6;
// Slice-by-16: the checksum runs on every request with a key.
const CRC: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISO_HDLC);

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
    let id = id_of_form(prefix, token)?;
    let body = &token[..token.len() - CHECKSUM_LEN - 1];
    (checksum_bytes(body) == token.as_bytes()[token.len() - CHECKSUM_LEN..]).then_some(id)
}

/// The id of `token` when it has the form of a key of `prefix`, its checksum not computed:
/// enough to find a record in memory, where the SHA-256 of the whole key decides. Before a
/// store lookup, [`id_of`] checks the checksum too.
fn id_of_form<'a>(prefix: &str, token: &'a str) -> Option<&'a str> {
    let rest = token.strip_prefix(prefix)?.strip_prefix('_')?;
    let bytes = rest.as_bytes();
    let well_formed = bytes.len() == RANDOM_LEN + 1 + CHECKSUM_LEN
        && bytes[RANDOM_LEN] == b'_'
        && bytes[..RANDOM_LEN]
            .iter()
            .chain(&bytes[RANDOM_LEN + 1..])
            .all(u8::is_ascii_alphanumeric);
    well_formed.then(|| &rest[..ID_LEN])
}

/// Whether `token` looks like a key of `prefix` (checksum aside): the authenticator then
/// treats it as one, never as an access token.
pub(super) fn looks_like(prefix: &str, token: &str) -> bool {
    // An access token starts with `eyJ` (a JSON header in base64url); a prefix is lowercase.
    token
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with('_'))
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
    String::from_utf8_lossy(&checksum_bytes(body)).into_owned()
}

fn checksum_bytes(body: &str) -> [u8; CHECKSUM_LEN] {
    let mut n = CRC.checksum(body.as_bytes());
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
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
        // Digests compare equal only when every byte is.
        let digest = [7u8; 32];
        assert!(digests_equal(&digest, &digest));
        for at in [0, 9, 17, 31] {
            let mut other = digest;
            other[at] ^= 1;
            assert!(!digests_equal(&digest, &other), "{at}");
        }
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
    /// How long a key's record is used from memory (`api_key_cache`; 30 s by default).
    pub(super) cache_for: Duration,
}

/// Key records read recently, by id: a request with a key reads its record from memory, not
/// the store, for [`KeyConfig::cache_for`]. What this instance changes (a revocation, an
/// owner's roles) leaves the cache at once; what another instance changes is seen here within
/// that time.
#[derive(Default)]
pub(super) struct KeyCache(RwLock<HashMap<String, Arc<Entry>>>);

/// Most records kept; a full cache drops what is stale, then everything.
const MAX_CACHED_KEYS: usize = 10_000;

/// A key's record as each request needs it, prepared once when it is read from the store.
struct Entry {
    id: String,
    owner_id: String,
    /// The stored hash, decoded: the presented key's SHA-256 is compared with it.
    digest: [u8; 32],
    expires_at: Option<i64>,
    revoked: bool,
    /// Its own budget's key in the limiter.
    limit_key: ClientKey,
    /// What it acts as: its owner, the owner's roles this version knows (none that needs a
    /// second factor: a key presents none), its scopes the app knows.
    identity: Identity,
    /// When it was read from the store (a monotonic clock read from the TSC: the check of
    /// a cached key reads no other clock, unless the key expires).
    read_at: quanta::Instant,
}

impl Entry {
    /// `None` when the stored hash is not one (a damaged row): the key is unknown.
    fn new(inner: &super::Inner, config: &KeyConfig, record: ApiKeyRecord) -> Option<Entry> {
        use base64::Engine as _;
        let mut digest = [0u8; 32];
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode_slice(record.key_hash.as_bytes(), &mut digest);
        if decoded != Ok(32) {
            return None;
        }
        let scopes = record
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| (config.known_scope)(s));
        let roles =
            super::issue::granted_roles(inner, &record.owner_id, &record.owner_roles, false);
        let identity = Identity::new(record.owner_id.as_str(), record.created_at)
            .with_roles(roles)
            .with_scopes(scopes);
        Some(Entry {
            limit_key: ClientKey::User(format!("api_key\n{}", record.id).into_boxed_str()),
            identity,
            digest,
            expires_at: record.expires_at,
            revoked: record.revoked_at.is_some(),
            read_at: quanta::Instant::now(),
            id: record.id,
            owner_id: record.owner_id,
        })
    }

    /// Read from the store less than `ttl` ago.
    fn fresh(&self, ttl: Duration) -> bool {
        self.read_at.elapsed() < ttl
    }

    /// The presented key is this one, not revoked, not expired.
    fn admits(&self, token: &str) -> Result<(), (Option<&str>, &'static str, AuthError)> {
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if !digests_equal(&presented, &self.digest) {
            return Err((None, "unknown_key", AuthError::Invalid));
        }
        if self.revoked {
            return Err((Some(&self.owner_id), "revoked_key", AuthError::Invalid));
        }
        if self.expires_at.is_some_and(|at| at <= super::unix_now()) {
            return Err((Some(&self.owner_id), "expired_key", AuthError::Expired));
        }
        Ok(())
    }

    /// The limiter's verdict on this key's own budget.
    fn within_budget(
        &self,
        verdict: Verdict,
    ) -> Result<(), (Option<&str>, &'static str, AuthError)> {
        match verdict {
            Verdict::Decided(decision) if !decision.allowed => {
                let retry_after = decision.retry_after_secs().unwrap_or(1);
                Err((
                    Some(&self.owner_id),
                    "api_key_rate_limited",
                    AuthError::RateLimited { retry_after },
                ))
            }
            Verdict::Unavailable => Err((
                Some(&self.owner_id),
                "limiter_unavailable",
                AuthError::Unavailable,
            )),
            Verdict::Decided(_) | Verdict::Unchecked => Ok(()),
        }
    }
}

/// Whether two SHA-256 digests are equal, in constant time: as four words (one `subtle`
/// comparison each, not thirty-two).
fn digests_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let word = |d: &[u8; 32], i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&d[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    let equal = (0..4).fold(subtle::Choice::from(1), |acc, i| {
        acc & word(a, i).ct_eq(&word(b, i))
    });
    bool::from(equal)
}

/// The name each key's own budget counts under in the limiter.
const KEY_LIMIT_NAME: &str = "secure::accounts::api_key";

/// The limit of each key's own budget.
fn key_limit(config: &KeyConfig) -> RateLimit {
    RateLimit {
        rate: config.rate,
        key: RateKey::User,
    }
}

/// Emits the refusal's audit event and gives its error.
fn refuse((subject, reason, error): (Option<&str>, &'static str, AuthError)) -> AuthError {
    audit::emit("auth.api_key", Outcome::Failure, subject, reason);
    error
}

impl KeyCache {
    /// Key `id`'s record in `map` (this cache's, read), when read less than `ttl` ago.
    fn fresh<'m>(
        map: &'m HashMap<String, Arc<Entry>>,
        id: &str,
        ttl: Duration,
    ) -> Option<&'m Arc<Entry>> {
        map.get(id).filter(|e| e.fresh(ttl))
    }

    fn put(&self, entry: Arc<Entry>, ttl: Duration) {
        let Ok(mut map) = self.0.write() else { return };
        if map.len() >= MAX_CACHED_KEYS {
            map.retain(|_, e| e.fresh(ttl));
            if map.len() >= MAX_CACHED_KEYS {
                map.clear();
            }
        }
        map.insert(entry.id.clone(), entry);
    }

    /// Forgets key `id` (revoked here).
    pub(super) fn forget(&self, id: &str) {
        if let Ok(mut map) = self.0.write() {
            map.remove(id);
        }
    }

    /// Forgets the keys of `owner_id` (their roles changed here).
    pub(super) fn forget_owner(&self, owner_id: &str) {
        if let Ok(mut map) = self.0.write() {
            map.retain(|_, e| e.owner_id != owner_id);
        }
    }
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
        let inner = &self.0.inner;
        match cached_identity(inner, token) {
            Some(done) => Box::pin(std::future::ready(done)),
            None => Box::pin(identity_of_key(inner, token)),
        }
    }
}

/// The common case without awaiting anything: the key's record in the cache, a limiter in
/// memory. `None`: the full check must run ([`identity_of_key`]).
fn cached_identity(inner: &super::Inner, token: &str) -> Option<Result<Identity, AuthError>> {
    let config = inner.api_keys.as_ref()?;
    if inner.limiter.has_store() {
        return None;
    }
    let id = id_of_form(config.prefix, token)?;
    let map = inner.key_cache.0.read().ok()?;
    let entry = KeyCache::fresh(&map, id, config.cache_for)?;
    if let Err(refusal) = entry.admits(token) {
        return Some(Err(refuse(refusal)));
    }
    let verdict = Verdict::Decided(inner.limiter.check(
        KEY_LIMIT_NAME,
        key_limit(config),
        &entry.limit_key,
    ));
    Some(
        entry
            .within_budget(verdict)
            .map(|()| entry.identity.clone())
            .map_err(refuse),
    )
}

/// The identity a presented key acts as: its owner, the owner's current roles (those this
/// version knows, and none that needs a second factor: a key presents none), its scopes.
async fn identity_of_key(inner: &super::Inner, token: &str) -> Result<Identity, AuthError> {
    let Some(config) = &inner.api_keys else {
        return Err(refuse((None, "api_keys_off", AuthError::Invalid)));
    };
    // The checksum first: a mistyped or made-up key never reaches the store.
    let Some(id) = id_of(config.prefix, token) else {
        return Err(refuse((None, "malformed_key", AuthError::Invalid)));
    };
    let cached = inner
        .key_cache
        .0
        .read()
        .ok()
        .and_then(|map| KeyCache::fresh(&map, id, config.cache_for).cloned());
    // The last use is written when the record is read from the store and it is a minute
    // old: at most once a minute, or once a cache time, per key and instance.
    let mut last_used_at = None;
    let entry = match cached {
        Some(entry) => entry,
        None => match inner.store.api_key(id).await {
            Ok(Some(record)) => {
                last_used_at = Some(record.last_used_at.unwrap_or(i64::MIN));
                let Some(entry) = Entry::new(inner, config, record) else {
                    return Err(refuse((None, "unknown_key", AuthError::Invalid)));
                };
                let entry = Arc::new(entry);
                if !config.cache_for.is_zero() {
                    inner.key_cache.put(entry.clone(), config.cache_for);
                }
                entry
            }
            Ok(None) => return Err(refuse((None, "unknown_key", AuthError::Invalid))),
            Err(e) => {
                tracing::error!(target: "secure::accounts", error = %e, "API key lookup failed");
                return Err(refuse((None, "store_unavailable", AuthError::Unavailable)));
            }
        },
    };
    entry.admits(token).map_err(refuse)?;
    // Each key its own budget, on the limiter's store (shared by instances through Redis).
    let verdict = inner
        .limiter
        .decide(KEY_LIMIT_NAME, key_limit(config), &entry.limit_key)
        .await;
    entry.within_budget(verdict).map_err(refuse)?;
    let now = super::unix_now();
    if last_used_at.is_some_and(|at| at < now.saturating_sub(60))
        && let Err(e) = inner.store.touch_api_key(&entry.id, now).await
    {
        tracing::warn!(target: "secure::accounts", error = %e, "API key use not recorded");
    }
    Ok(entry.identity.clone())
}
