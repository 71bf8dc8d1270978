//! Argon2 over a hashing slot's own memory area (`argon2`'s `hash_password_into_with_memory`),
//! so a hash allocates nothing large: the memory a login flood can take is the slots' areas.
//! The PHC encoding and the parameter checks are the `argon2` crate's; only the 19 MiB work
//! area comes from the slot.

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Params, Version};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroize as _;

use super::limit::Slot;
use super::{PasswordError, PasswordHash};

/// Salt bytes for new hashes (argon2's recommended length).
const SALT_LEN: usize = argon2::RECOMMENDED_SALT_LEN;

/// A new Argon2id hash of `password` under `params`, with a fresh random salt.
pub(super) fn hash(
    params: &Params,
    password: &[u8],
    slot: &mut Slot,
) -> Result<PasswordHash, PasswordError> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt = [0u8; SALT_LEN];
    rand::fill(&mut salt);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let memory = slot.memory(params.block_count());
    let computed = argon2.hash_password_into_with_memory(password, &salt, &mut out, &mut *memory);
    memory.iter_mut().for_each(zeroize::Zeroize::zeroize);
    computed.map_err(|_| PasswordError::Hashing)?;
    let parsed = argon2::PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|_| PasswordError::Hashing)?,
        salt: Some(Salt::new(&salt).map_err(|_| PasswordError::Hashing)?),
        hash: Some(Output::new(&out).map_err(|_| PasswordError::Hashing)?),
    };
    out.zeroize();
    PasswordHash::from_parsed(parsed)
}

/// Whether `password` hashes to `target` (with `target`'s own algorithm, version, parameters
/// and salt), compared in constant time.
pub(super) fn verify(password: &[u8], target: &argon2::PasswordHash, slot: &mut Slot) -> bool {
    let (Some(salt), Some(expected)) = (&target.salt, &target.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(target.algorithm.as_str()) else {
        return false;
    };
    let version = match target.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(target) else {
        return false;
    };
    let mut buffer = [0u8; Output::MAX_LENGTH];
    let Some(out) = buffer.get_mut(..expected.len()) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let memory = slot.memory(params.block_count());
    let computed = argon2.hash_password_into_with_memory(password, salt, &mut *out, &mut *memory);
    memory.iter_mut().for_each(zeroize::Zeroize::zeroize);
    let matches = computed.is_ok() && bool::from(expected.as_bytes().ct_eq(out));
    buffer.zeroize();
    matches
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use argon2::{PasswordHasher as _, PasswordVerifier as _};

    use super::super::HashLimit;
    use super::super::limit::Slots;
    use super::*;

    fn slots() -> Slots {
        Slots::new(HashLimit {
            concurrent: 1,
            wait: Duration::ZERO,
        })
    }

    #[test]
    fn agrees_with_the_argon2_crate_both_ways() {
        let params = Params::new(256, 2, 1, None).unwrap();
        let mut slot = slots().acquire_blocking().unwrap();
        // Ours, checked by argon2's own verifier.
        let ours = hash(&params, b"correct horse", &mut slot).unwrap();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        assert!(
            argon2
                .verify_password(b"correct horse", ours.parsed())
                .is_ok()
        );
        assert!(
            argon2
                .verify_password(b"correct horsf", ours.parsed())
                .is_err()
        );
        // argon2's, of every variant, checked by ours.
        for algorithm in [Algorithm::Argon2id, Algorithm::Argon2i, Algorithm::Argon2d] {
            let theirs = Argon2::new(algorithm, Version::V0x13, params.clone())
                .hash_password(b"battery staple")
                .unwrap();
            assert!(verify(b"battery staple", &theirs, &mut slot));
            assert!(!verify(b"battery stapler", &theirs, &mut slot));
        }
        // The slot's area was wiped after use.
        assert!(
            slot.memory(1)
                .iter()
                .all(|b| b.as_ref().iter().all(|w| *w == 0))
        );
    }
}
