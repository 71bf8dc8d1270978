//! Device tokens: proof that a client signed in to an account before, so that its sign-in
//! attempts are throttled on a counter of their own ([`crate::ratelimit::account`]) and an
//! attacker's failures on the account cannot lock its owner out (OWASP "Slow Down Online
//! Guessing Attacks with Device Cookies").
//!
//! A token is issued after a complete sign-in (every factor passed) and sent back with the
//! next sign-in attempts. It is sealed with the data key ([`crate::crypto`]) and bound to the
//! account it was issued for: it opens only for that account, says nothing readable to the
//! client, and expires after [`DeviceTokens::DEFAULT_LIFETIME`] (90 days) unless renewed by a
//! later sign-in. It grants nothing by itself: the password and the second factor are still
//! checked in full.
//!
//! ```
//! use secure_core::ExposeSecret;
//! use secure_core::auth::device::DeviceTokens;
//! use secure_core::crypto::{DataKey, DataKeys};
//!
//! let devices = DeviceTokens::new(DataKeys::new(DataKey::generate()));
//! let token = devices.issue("user-42", None);
//! let device = devices.verify(token.expose_secret(), "user-42").expect("issued for user-42");
//! assert!(devices.verify(token.expose_secret(), "user-7").is_none());
//! // Renewing keeps the device's identity.
//! let renewed = devices.issue("user-42", Some(&device));
//! assert_eq!(devices.verify(renewed.expose_secret(), "user-42"), Some(device));
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};

use crate::crypto::DataKeys;

/// A device the account signed in from before, as proven by a device token: its attempts
/// are counted apart from everyone else's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceId(String);

impl DeviceId {
    /// The id as text (random, not a secret; it is hashed before it reaches a store).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id a verified token names.
    pub(crate) fn from_verified(id: &str) -> Self {
        DeviceId(id.to_owned())
    }
}

/// Issues and checks device tokens under the data keys.
#[derive(Debug, Clone)]
pub struct DeviceTokens {
    keys: DataKeys,
    lifetime: Duration,
}

fn context(account: &str) -> Vec<u8> {
    let mut context = b"secure-core device token\0".to_vec();
    context.extend_from_slice(account.as_bytes());
    context
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl DeviceTokens {
    /// How long a token is good for unless a sign-in renews it.
    pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(90 * 24 * 60 * 60);

    /// Tokens sealed with `keys` (`Keys::data_keys`).
    pub fn new(keys: DataKeys) -> Self {
        DeviceTokens {
            keys,
            lifetime: Self::DEFAULT_LIFETIME,
        }
    }

    /// Another lifetime.
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// A token for `account` (its stable id) on `device`, or on a new device. Issue it only
    /// after a complete sign-in.
    pub fn issue(&self, account: &str, device: Option<&DeviceId>) -> SecretString {
        let id = match device {
            Some(device) => device.as_str().to_owned(),
            None => URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>()),
        };
        let expires = unix_now().saturating_add(self.lifetime.as_secs());
        let plain = format!("{expires}.{id}");
        SecretString::from(self.keys.seal(&context(account), plain.as_bytes()))
    }

    /// The device a token names, if it was issued for `account`, has not expired and opens
    /// under a configured data key; `None` otherwise (then the client is a new device).
    pub fn verify(&self, token: &str, account: &str) -> Option<DeviceId> {
        let plain = self.keys.open(&context(account), token).ok()?;
        let plain = std::str::from_utf8(&plain).ok()?;
        let (expires, id) = plain.split_once('.')?;
        let expires: u64 = expires.parse().ok()?;
        (expires > unix_now() && !id.is_empty()).then(|| DeviceId::from_verified(id))
    }

    /// [`verify`](Self::verify) of an optional secret from a request body.
    pub fn verify_secret(&self, token: Option<&SecretString>, account: &str) -> Option<DeviceId> {
        token.and_then(|t| self.verify(t.expose_secret(), account))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DataKey;

    #[test]
    fn expired_forged_and_foreign_tokens_name_no_device() {
        let keys = DataKeys::new(DataKey::generate());
        let devices = DeviceTokens::new(keys.clone());
        let expired = DeviceTokens::new(keys).with_lifetime(Duration::ZERO);
        let token = expired.issue("u", None);
        assert!(devices.verify(token.expose_secret(), "u").is_none());
        let other = DeviceTokens::new(DataKeys::new(DataKey::generate()));
        let token = other.issue("u", None);
        assert!(devices.verify(token.expose_secret(), "u").is_none());
        for junk in ["", "v1.", "device", "v1.abcdefgh.AAAA"] {
            assert!(devices.verify(junk, "u").is_none());
        }
        let a = devices.issue("u", None);
        let b = devices.issue("u", None);
        assert_ne!(
            devices.verify(a.expose_secret(), "u"),
            devices.verify(b.expose_secret(), "u"),
            "each new device gets its own id"
        );
    }
}
