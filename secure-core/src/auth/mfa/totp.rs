//! TOTP (RFC 6238) enrolment and one-time verification.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretBox, SecretString};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use totp_rs::{Algorithm, Builder, Secret};

use super::MfaError;
use crate::audit::{self, Outcome};
use crate::redact::Redacted;

/// Digits per code: 6, what every authenticator app shows.
pub const TOTP_DIGITS: usize = 6;
/// Seconds per time step: 30, the RFC 6238 default and the only period some apps support.
pub const TOTP_PERIOD_SECS: u64 = 30;
/// Accepted steps either side of now: 1 (RFC 6238 5.2), so a code typed as it rolls over, or
/// with a clock up to 30 s off, still works.
pub const TOTP_SKEW_STEPS: u64 = 1;
/// Bytes of a new secret: 20 (160 bits, RFC 4226 4's recommendation).
pub const TOTP_SECRET_BYTES: usize = 20;

/// A user's TOTP shared secret. Store it encrypted at rest: anyone who reads it can make codes.
///
/// `Debug` prints `TotpSecret([REDACTED])`; the bytes are wiped on drop.
///
/// ```
/// use secure_core::SecretString;
/// use secure_core::auth::mfa::TotpSecret;
///
/// let secret = TotpSecret::from_base32(&SecretString::from("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")).unwrap();
/// assert_eq!(format!("{secret:?}"), "TotpSecret([REDACTED])");
/// assert!(TotpSecret::from_base32(&SecretString::from("too-short")).is_err());
/// ```
pub struct TotpSecret {
    bytes: SecretBox<[u8]>,
}

impl TotpSecret {
    /// Parses a stored secret (RFC 4648 base32, as [`TotpSecret::to_base32`] writes it). Fails
    /// with [`MfaError::InvalidSecret`] if it is not base32 or shorter than 128 bits.
    pub fn from_base32(base32: &SecretString) -> Result<Self, MfaError> {
        let secret = Secret::try_from_base32(base32.expose_secret().trim_end_matches('='))
            .map_err(|_| MfaError::InvalidSecret)?;
        Self::from_bytes(secret.as_bytes())
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, MfaError> {
        if bytes.len() < 16 || bytes.len() > 1024 {
            return Err(MfaError::InvalidSecret);
        }
        Ok(TotpSecret {
            bytes: SecretBox::from(bytes.to_vec().into_boxed_slice()),
        })
    }

    fn generate() -> Self {
        let mut bytes = vec![0u8; TOTP_SECRET_BYTES].into_boxed_slice();
        rand::fill(&mut bytes[..]);
        TotpSecret {
            bytes: SecretBox::from(bytes),
        }
    }

    /// The secret in base32 without padding: what to store (encrypted), and what an
    /// authenticator app accepts when typed in by hand.
    ///
    /// ```
    /// use secure_core::{ExposeSecret, SecretString};
    /// use secure_core::auth::mfa::TotpSecret;
    ///
    /// let text = SecretString::from("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
    /// let secret = TotpSecret::from_base32(&text).unwrap();
    /// assert_eq!(secret.to_base32().expose_secret(), text.expose_secret());
    /// ```
    pub fn to_base32(&self) -> SecretString {
        let secret = Secret::new(self.bytes.expose_secret().to_vec().into_boxed_slice());
        SecretString::from(secret.to_base32())
    }

    fn totp(&self) -> Result<totp_rs::Totp, MfaError> {
        builder(self).build().map_err(|_| MfaError::InvalidSecret)
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TotpSecret").field(&Redacted).finish()
    }
}

fn builder(secret: &TotpSecret) -> Builder {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(TOTP_DIGITS as u8)
        .with_step_duration(TOTP_PERIOD_SECS)
        .with_skew(TOTP_SKEW_STEPS as u16)
        .with_secret(secret.bytes.expose_secret().to_vec())
}

/// The service that issues TOTP secrets, named in authenticator apps (`issuer` in the
/// otpauth URI).
///
/// Codes are HMAC-SHA-1, 6 digits, 30-second steps: the parameters Google Authenticator,
/// Microsoft Authenticator, Authy and most others support (several ignore or mishandle
/// `algorithm=SHA256`). HMAC-SHA-1 is not weakened by SHA-1 collisions (RFC 4226 B.2).
///
/// ```
/// use secure_core::ExposeSecret;
/// use secure_core::auth::mfa::TotpIssuer;
///
/// let issuer = TotpIssuer::new("Notes").unwrap();
/// let enrollment = issuer.enroll("ada@example.com").unwrap();
/// assert!(enrollment.otpauth_uri().expose_secret().starts_with("otpauth://totp/Notes:ada%40example.com?secret="));
/// assert!(TotpIssuer::new("Bad:Issuer").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct TotpIssuer {
    name: Box<str>,
}

impl TotpIssuer {
    /// `name` must be non-empty, without `:` (the label separator) and without control
    /// characters; otherwise [`MfaError::InvalidIssuer`].
    pub fn new(name: &str) -> Result<Self, MfaError> {
        if name.is_empty()
            || name.len() > 256
            || name.contains(':')
            || name.chars().any(char::is_control)
        {
            return Err(MfaError::InvalidIssuer);
        }
        Ok(TotpIssuer { name: name.into() })
    }

    /// The issuer name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Makes a new 160-bit secret (from the OS-seeded CSPRNG) for `account_name` (what the app
    /// shows under the issuer, such as the e-mail address; non-empty, no `:`, no control
    /// characters, else [`MfaError::InvalidAccountName`]).
    ///
    /// Show the URI as a QR code, then ask for a first code and check it with [`verify_totp`]
    /// (with `last_used_step: None`) before turning MFA on, so a user who scanned nothing is
    /// not locked out. Store the secret and the returned step only then.
    pub fn enroll(&self, account_name: &str) -> Result<TotpEnrollment, MfaError> {
        if account_name.is_empty()
            || account_name.len() > 256
            || account_name.contains(':')
            || account_name.chars().any(char::is_control)
        {
            return Err(MfaError::InvalidAccountName);
        }
        let secret = TotpSecret::generate();
        let uri = builder(&secret)
            .with_issuer(Some(&*self.name))
            .with_account_name(account_name)
            .build()
            .and_then(|totp| totp.to_url())
            .map_err(|_| MfaError::InvalidAccountName)?;
        // totp-rs leaves out parameters that equal the defaults; say them anyway, so an app
        // with other defaults cannot guess wrong.
        let uri = format!("{uri}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_PERIOD_SECS}");
        Ok(TotpEnrollment {
            secret,
            otpauth_uri: SecretString::from(uri),
        })
    }
}

/// A new TOTP secret and its `otpauth://` URI (for the QR code). Both are secret: `Debug`
/// prints neither.
///
/// ```
/// use secure_core::auth::mfa::TotpIssuer;
///
/// let enrollment = TotpIssuer::new("Notes").unwrap().enroll("ada").unwrap();
/// assert_eq!(
///     format!("{enrollment:?}"),
///     "TotpEnrollment { secret: TotpSecret([REDACTED]), otpauth_uri: [REDACTED] }"
/// );
/// ```
pub struct TotpEnrollment {
    secret: TotpSecret,
    otpauth_uri: SecretString,
}

impl TotpEnrollment {
    /// The shared secret, to store once the first code is confirmed.
    pub fn secret(&self) -> &TotpSecret {
        &self.secret
    }

    /// `otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=SHA1&digits=6&period=30`
    /// (Key URI Format; issuer and account percent-encoded).
    pub fn otpauth_uri(&self) -> &SecretString {
        &self.otpauth_uri
    }

    /// The secret, dropping the URI.
    pub fn into_secret(self) -> TotpSecret {
        self.secret
    }
}

impl fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpEnrollment")
            .field("secret", &self.secret)
            .field("otpauth_uri", &Redacted)
            .finish()
    }
}

/// Checks a TOTP code, once: returns the time step it belongs to, which the caller must store
/// as the account's new `last_used_step`. A code from a step at or before `last_used_step`
/// is refused as [`MfaError::Replay`] (ASVS 2.8.4, RFC 6238 5.2), whether it is the same code
/// again or an older one after a newer was used.
///
/// Accepts the steps `now - 1`, `now`, `now + 1` (30 s each). The code must be exactly 6 ASCII
/// digits; spaces are ignored (`123 456`). Every candidate step is computed and compared in
/// constant time, whichever matches.
///
/// **Store the step atomically.** Two requests with the same code can both pass this check
/// before either stores its step. Store with a compare-and-set, such as
/// `UPDATE mfa SET last_step = ?1 WHERE user_id = ?2 AND (last_step IS NULL OR last_step < ?1)`,
/// and treat "no row changed" as a replay (emit `auth.mfa` / `failure` / `otp_replay`).
///
/// Emits `auth.mfa` for `subject`: `success` / `otp_ok` when the code matches, `failure` with
/// reason `bad_otp` (malformed or wrong code) or `otp_replay`. A replay found by the caller's
/// compare-and-set is the caller's to emit (`auth.mfa` / `failure` / `otp_replay`). Limit attempts per account (ASVS 2.2.1): a million codes is not many.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use secure_core::SecretString;
/// use secure_core::auth::mfa::{MfaError, TotpSecret, verify_totp};
///
/// // RFC 6238 appendix B's SHA-1 key; at T = 59 s its 6-digit code is 287082.
/// let secret = TotpSecret::from_base32(&SecretString::from("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")).unwrap();
/// let now = UNIX_EPOCH + Duration::from_secs(59);
///
/// let step = verify_totp("user-42", &secret, "287082", None, now).unwrap();
/// assert_eq!(step, 1);
/// assert_eq!(verify_totp("user-42", &secret, "287082", Some(step), now), Err(MfaError::Replay));
/// assert_eq!(verify_totp("user-42", &secret, "123456", None, now), Err(MfaError::WrongCode));
/// assert_eq!(verify_totp("user-42", &secret, "28708", None, now), Err(MfaError::MalformedCode));
/// ```
pub fn verify_totp(
    subject: &str,
    secret: &TotpSecret,
    code: &str,
    last_used_step: Option<u64>,
    now: SystemTime,
) -> Result<u64, MfaError> {
    let result = check(secret, code, last_used_step, now);
    match &result {
        Ok(_) => audit::emit("auth.mfa", Outcome::Success, Some(subject), "otp_ok"),
        Err(e) => {
            if let Some(reason) = e.audit_reason() {
                audit::emit("auth.mfa", Outcome::Failure, Some(subject), reason);
            }
        }
    }
    result
}

fn check(
    secret: &TotpSecret,
    code: &str,
    last_used_step: Option<u64>,
    now: SystemTime,
) -> Result<u64, MfaError> {
    let submitted = parse_code(code).ok_or(MfaError::MalformedCode)?;
    let totp = secret.totp()?;
    // A clock before 1970 is broken; step 0 then, which matches nothing an app shows today.
    let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let current = now_secs / TOTP_PERIOD_SECS;

    let mut accepted = 0u64;
    let mut found = subtle::Choice::from(0);
    let mut replayed = subtle::Choice::from(0);
    for step in current.saturating_sub(TOTP_SKEW_STEPS)..=current.saturating_add(TOTP_SKEW_STEPS) {
        let expected = zeroize::Zeroizing::new(
            totp.generate(step.saturating_mul(TOTP_PERIOD_SECS))
                .to_string(),
        );
        let matches = expected.as_bytes().ct_eq(&submitted[..]);
        let fresh = subtle::Choice::from(u8::from(last_used_step.is_none_or(|last| step > last)));
        accepted.conditional_assign(&step, matches & fresh);
        found |= matches & fresh;
        replayed |= matches & !fresh;
    }
    if bool::from(found) {
        Ok(accepted)
    } else if bool::from(replayed) {
        Err(MfaError::Replay)
    } else {
        Err(MfaError::WrongCode)
    }
}

/// Exactly [`TOTP_DIGITS`] ASCII digits, ASCII spaces ignored; `None` for anything else,
/// including other Unicode digits (`١٢٣٤٥٦`) and input longer than 32 bytes.
fn parse_code(code: &str) -> Option<[u8; TOTP_DIGITS]> {
    if code.len() > 32 {
        return None;
    }
    let mut out = [0u8; TOTP_DIGITS];
    let mut n = 0;
    for b in code.bytes() {
        match b {
            b' ' => {}
            b'0'..=b'9' => {
                *out.get_mut(n)? = b;
                n += 1;
            }
            _ => return None,
        }
    }
    (n == TOTP_DIGITS).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_code_edges() {
        assert_eq!(parse_code("123456"), Some(*b"123456"));
        assert_eq!(parse_code(" 123 456 "), Some(*b"123456"));
        for bad in [
            "",
            "12345",
            "1234567",
            "12345a",
            "+12345",
            "١٢٣٤٥٦",
            "１２３４５６",
            "123\u{0}456",
        ] {
            assert_eq!(parse_code(bad), None, "{bad:?}");
        }
        assert_eq!(parse_code(&"1".repeat(10_000)), None);
    }

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1 key "12345678901234567890", last 6 of the 8 digits.
        let secret = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            let now = UNIX_EPOCH + std::time::Duration::from_secs(t);
            assert_eq!(check(&secret, code, None, now), Ok(t / 30), "t={t}");
        }
    }
}
