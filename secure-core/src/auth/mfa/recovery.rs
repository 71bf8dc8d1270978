//! Single-use recovery codes: 10 random codes shown once, stored salted and hashed.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::MfaError;
use crate::audit::{self, Outcome};
use crate::redact::Redacted;

/// How many codes [`RecoveryCodes::generate`] makes.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// Symbols per code: 16 symbols of Crockford base32, 5 bits each, 80 bits of entropy.
const SYMBOLS: usize = 16;
/// Crockford's base32 alphabet: no I, L, O or U, so codes read aloud or copied by hand survive.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const SALT_BYTES: usize = 16;
const STORED_PREFIX: &str = "rc1$";
const DOMAIN: &[u8] = b"secure-core recovery code v1\0";

/// A fresh set of [`RECOVERY_CODE_COUNT`] recovery codes: the codes to show the user once,
/// and their hashes to store. `Debug` shows neither.
///
/// Each code is 80 random bits from the OS-seeded CSPRNG, written as 16 Crockford base32
/// symbols in groups of four (`7K2M-9QXD-…`). They are stored as SHA-256 over a random
/// 128-bit salt and the code. A slow hash such as Argon2 would add nothing: 2^80 guesses per
/// code is out of reach of any offline attack at any hash speed, and the salt stops one
/// computation from serving several codes (ASVS 2.6.2 asks for 112 bits, or a salted approved
/// hash below that). It would also cost ten Argon2 runs per attempt, since a submitted code
/// must be checked against every stored one.
///
/// ```
/// use secure_core::ExposeSecret;
/// use secure_core::auth::mfa::{RecoveryCodeHash, RecoveryCodes};
///
/// let set = RecoveryCodes::generate();
/// assert_eq!(set.codes().len(), 10);
/// let shown: Vec<&str> = set.codes().iter().map(|c| c.expose_secret()).collect();
/// assert_eq!(shown[0].len(), 19); // XXXX-XXXX-XXXX-XXXX
/// let stored: Vec<String> = set.hashes().iter().map(RecoveryCodeHash::to_stored_string).collect();
/// assert!(!stored[0].contains(&shown[0].replace('-', "")));
/// ```
pub struct RecoveryCodes {
    codes: Vec<SecretString>,
    hashes: Vec<RecoveryCodeHash>,
}

impl RecoveryCodes {
    /// Makes [`RECOVERY_CODE_COUNT`] distinct codes and their hashes. Generating a new set
    /// replaces the old one: store only the new hashes.
    pub fn generate() -> Self {
        let mut canonical: Vec<zeroize::Zeroizing<[u8; SYMBOLS]>> =
            Vec::with_capacity(RECOVERY_CODE_COUNT);
        while canonical.len() < RECOVERY_CODE_COUNT {
            let code = random_code();
            // 2^-80 per pair: this loop runs once per code in practice.
            if !canonical.iter().any(|c| c[..] == code[..]) {
                canonical.push(code);
            }
        }
        let codes = canonical
            .iter()
            .map(|c| SecretString::from(grouped(c)))
            .collect();
        let hashes = canonical.iter().map(|c| RecoveryCodeHash::new(c)).collect();
        RecoveryCodes { codes, hashes }
    }

    /// The codes, `XXXX-XXXX-XXXX-XXXX`, to show once and never store.
    pub fn codes(&self) -> &[SecretString] {
        &self.codes
    }

    /// The hashes to store, one per code, in the same order.
    pub fn hashes(&self) -> &[RecoveryCodeHash] {
        &self.hashes
    }

    /// The hashes, dropping (and wiping) the codes.
    pub fn into_hashes(self) -> Vec<RecoveryCodeHash> {
        self.hashes
    }
}

impl fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryCodes")
            .field("codes", &Redacted)
            .field("count", &self.codes.len())
            .finish()
    }
}

/// The stored form of one recovery code: `rc1$<salt>$<sha256>` (base64url).
///
/// ```
/// use secure_core::auth::mfa::{RecoveryCodeHash, RecoveryCodes};
///
/// let set = RecoveryCodes::generate();
/// let text = set.hashes()[0].to_stored_string();
/// assert!(text.starts_with("rc1$"));
/// assert_eq!(RecoveryCodeHash::parse(&text).unwrap(), set.hashes()[0]);
/// assert!(RecoveryCodeHash::parse("rc1$nope").is_err());
/// assert_eq!(format!("{:?}", set.hashes()[0]), "RecoveryCodeHash { .. }");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCodeHash {
    salt: [u8; SALT_BYTES],
    digest: [u8; 32],
}

impl RecoveryCodeHash {
    fn new(canonical: &[u8; SYMBOLS]) -> Self {
        let mut salt = [0u8; SALT_BYTES];
        rand::fill(&mut salt[..]);
        RecoveryCodeHash {
            salt,
            digest: digest(&salt, canonical),
        }
    }

    /// Parses a stored string; [`MfaError::MalformedRecoveryHash`] if it is not one.
    pub fn parse(stored: &str) -> Result<Self, MfaError> {
        let bad = || MfaError::MalformedRecoveryHash;
        let rest = stored.strip_prefix(STORED_PREFIX).ok_or_else(bad)?;
        let (salt, digest) = rest.split_once('$').ok_or_else(bad)?;
        let salt = URL_SAFE_NO_PAD.decode(salt).map_err(|_| bad())?;
        let digest = URL_SAFE_NO_PAD.decode(digest).map_err(|_| bad())?;
        Ok(RecoveryCodeHash {
            salt: salt.try_into().map_err(|_| bad())?,
            digest: digest.try_into().map_err(|_| bad())?,
        })
    }

    /// The string to store.
    pub fn to_stored_string(&self) -> String {
        format!(
            "{STORED_PREFIX}{}${}",
            URL_SAFE_NO_PAD.encode(self.salt),
            URL_SAFE_NO_PAD.encode(self.digest)
        )
    }
}

impl fmt::Debug for RecoveryCodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryCodeHash").finish_non_exhaustive()
    }
}

/// Checks a recovery code against an account's remaining hashes and returns the index of the
/// one it matched: **delete that hash** (atomically, `DELETE ... WHERE id = ?` and check one
/// row went) so the code cannot be used again.
///
/// Case, dashes and spaces do not matter, and Crockford's look-alikes are read as intended
/// (`O` as `0`, `I`/`L` as `1`). Every stored hash is compared, in constant time.
///
/// Emits `auth.mfa` for `subject`: `success` / `recovery_code_used` on a match (tell the user
/// by another channel, and offer new codes when few are left), `failure` / `bad_otp` otherwise.
///
/// ```
/// use secure_core::ExposeSecret;
/// use secure_core::SecretString;
/// use secure_core::auth::mfa::{MfaError, RecoveryCodes, verify_recovery_code};
///
/// let set = RecoveryCodes::generate();
/// let mut stored = set.hashes().to_vec();
/// let typed = SecretString::from(set.codes()[3].expose_secret().to_lowercase());
///
/// let used = verify_recovery_code("user-42", &typed, &stored).unwrap();
/// assert_eq!(used, 3);
/// stored.remove(used);
/// assert_eq!(verify_recovery_code("user-42", &typed, &stored), Err(MfaError::WrongCode));
/// ```
pub fn verify_recovery_code(
    subject: &str,
    code: &SecretString,
    stored: &[RecoveryCodeHash],
) -> Result<usize, MfaError> {
    let result = check(code, stored);
    match &result {
        Ok(_) => audit::emit(
            "auth.mfa",
            Outcome::Success,
            Some(subject),
            "recovery_code_used",
        ),
        Err(e) => audit::emit(
            "auth.mfa",
            Outcome::Failure,
            Some(subject),
            e.audit_reason().unwrap_or("bad_otp"),
        ),
    }
    result
}

fn check(code: &SecretString, stored: &[RecoveryCodeHash]) -> Result<usize, MfaError> {
    let canonical = canonicalize(code.expose_secret()).ok_or(MfaError::MalformedCode)?;
    let mut found = subtle::Choice::from(0);
    let mut index = 0u64;
    for (i, hash) in stored.iter().enumerate() {
        let matches = digest(&hash.salt, &canonical).ct_eq(&hash.digest);
        index.conditional_assign(&(i as u64), matches & !found);
        found |= matches;
    }
    if bool::from(found) {
        usize::try_from(index).map_err(|_| MfaError::WrongCode)
    } else {
        Err(MfaError::WrongCode)
    }
}

fn digest(salt: &[u8; SALT_BYTES], canonical: &[u8; SYMBOLS]) -> [u8; 32] {
    Sha256::new()
        .chain_update(DOMAIN)
        .chain_update(salt)
        .chain_update(canonical)
        .finalize()
        .into()
}

fn random_code() -> zeroize::Zeroizing<[u8; SYMBOLS]> {
    // 10 random bytes = 80 bits = 16 symbols of 5 bits.
    let mut bytes = zeroize::Zeroizing::new([0u8; SYMBOLS * 5 / 8]);
    rand::fill(&mut bytes[..]);
    let mut code = zeroize::Zeroizing::new([0u8; SYMBOLS]);
    let mut acc: u16 = 0;
    let mut bits = 0;
    let mut n = 0;
    for &b in bytes.iter() {
        acc = (acc << 8) | u16::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            code[n] = ALPHABET[usize::from((acc >> bits) & 0x1f)];
            n += 1;
        }
        acc &= (1 << bits) - 1;
    }
    code
}

fn grouped(code: &[u8; SYMBOLS]) -> String {
    let mut out = String::with_capacity(SYMBOLS + SYMBOLS / 4);
    for (i, &c) in code.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(c));
    }
    out
}

/// Upper-cases, drops `-` and spaces, maps Crockford look-alikes, and checks the alphabet and
/// length. `None` for anything else (other scripts, too long, too short).
fn canonicalize(input: &str) -> Option<zeroize::Zeroizing<[u8; SYMBOLS]>> {
    if input.len() > 64 {
        return None;
    }
    let mut out = zeroize::Zeroizing::new([0u8; SYMBOLS]);
    let mut n = 0;
    for b in input.bytes() {
        let c = match b.to_ascii_uppercase() {
            b'-' | b' ' => continue,
            b'O' => b'0',
            b'I' | b'L' => b'1',
            c if ALPHABET.contains(&c) => c,
            _ => return None,
        };
        *out.get_mut(n)? = c;
        n += 1;
    }
    (n == SYMBOLS).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_alphabet_and_canonicalize_to_themselves() {
        for _ in 0..100 {
            let code = random_code();
            assert!(code.iter().all(|c| ALPHABET.contains(c)));
            let shown = grouped(&code);
            assert_eq!(canonicalize(&shown).as_deref(), Some(&*code));
        }
    }

    #[test]
    fn malformed_input_is_refused() {
        for bad in [
            "",
            "ABCD",
            "ABCD-EFGH-JKMN-PQRS-T",
            "ABCD-EFGH-JKMN-PQRU",
            "ÄBCD-EFGH-JKMN-PQRS",
            &"A".repeat(1000),
        ] {
            assert_eq!(canonicalize(bad), None, "{bad:?}");
        }
        assert!(canonicalize("abcd efgh jkmn pqrs").is_some());
        assert_eq!(
            canonicalize("0O1I-L000-0000-0000").as_deref(),
            Some(b"0011100000000000")
        );
    }
}
