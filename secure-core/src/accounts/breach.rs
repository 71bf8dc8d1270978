//! The app's breached-password check behind one object type, and the hashing of every new
//! password through it.

use std::future::Future;
use std::pin::Pin;

use super::Inner;
use crate::auth::password::{
    BreachCheckError, BreachedPasswords, PasswordError, PasswordHash, SkipBreachCheck,
};
use crate::redact::SecretString;

type Checked<'a> = Pin<Box<dyn Future<Output = Result<bool, BreachCheckError>> + Send + 'a>>;

/// The object-safe twin of [`BreachedPasswords`].
pub(super) trait DynBreached: Send + Sync + 'static {
    fn check<'a>(&'a self, password: &'a SecretString) -> Checked<'a>;
}

impl<T: BreachedPasswords + 'static> DynBreached for T {
    fn check<'a>(&'a self, password: &'a SecretString) -> Checked<'a> {
        Box::pin(self.is_breached(password))
    }
}

struct Configured<'a>(&'a dyn DynBreached);

impl BreachedPasswords for Configured<'_> {
    async fn is_breached(&self, password: &SecretString) -> Result<bool, BreachCheckError> {
        self.0.check(password).await
    }
}

impl Inner {
    /// A new password (signup, change, reset) under the length rules and the configured
    /// breached-password check, hashed.
    pub(super) async fn hash_new_password(
        &self,
        password: &SecretString,
    ) -> Result<PasswordHash, PasswordError> {
        match &self.breached {
            Some(check) => {
                self.hasher
                    .hash(password, &Configured(check.as_ref()))
                    .await
            }
            None => self.hasher.hash(password, &SkipBreachCheck).await,
        }
    }
}
