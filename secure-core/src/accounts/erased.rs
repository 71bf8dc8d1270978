//! [`AccountStore`] behind one object type, so the account routes (ordinary
//! `#[secure_handler]` functions, which cannot be generic) serve any store.

use std::future::Future;
use std::pin::Pin;

use super::store::{
    AccountRecord, AccountStore, ApiKeyRecord, Created, CredentialChange, NewAccount, NewApiKey,
    SignInRecord,
};
use crate::error::StoreError;
use crate::observe;

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// One call of the store, timed and its failure counted (`observe::store`), boxed.
fn timed<'a, T: 'a>(
    operation: &'static str,
    call: impl Future<Output = Result<T, StoreError>> + Send + 'a,
) -> Boxed<'a, T> {
    Box::pin(observe::store("accounts", operation, call))
}

/// The object-safe twin of [`AccountStore`]; every store is one.
pub(super) trait Store: Send + Sync + 'static {
    fn create<'a>(&'a self, account: NewAccount<'a>) -> Boxed<'a, Created>;
    fn by_username<'a>(&'a self, username: &'a str) -> Boxed<'a, Option<AccountRecord>>;
    fn by_id<'a>(&'a self, id: &'a str) -> Boxed<'a, Option<AccountRecord>>;
    fn rehash_password<'a>(&'a self, id: &'a str, hash: &'a str) -> Boxed<'a, ()>;
    fn advance_totp_step<'a>(&'a self, id: &'a str, step: i64) -> Boxed<'a, bool>;
    fn recovery_codes<'a>(&'a self, id: &'a str) -> Boxed<'a, Vec<(String, String)>>;
    fn use_recovery_code<'a>(&'a self, id: &'a str, code_id: &'a str) -> Boxed<'a, bool>;
    fn record_sign_in<'a>(&'a self, record: &'a SignInRecord, now: i64) -> Boxed<'a, ()>;
    fn sign_in<'a>(&'a self, family_id: &'a str) -> Boxed<'a, Option<SignInRecord>>;
    fn end_sign_ins<'a>(&'a self, id: &'a str) -> Boxed<'a, Option<i64>>;
    fn change_credentials<'a>(
        &'a self,
        id: &'a str,
        change: CredentialChange<'a>,
    ) -> Boxed<'a, Option<i64>>;
    fn set_pending_totp<'a>(&'a self, id: &'a str, sealed: &'a str) -> Boxed<'a, bool>;
    fn create_reset<'a>(&'a self, hash: &'a str, id: &'a str, expires_at: i64) -> Boxed<'a, ()>;
    fn use_reset<'a>(&'a self, hash: &'a str, now: i64) -> Boxed<'a, Option<String>>;
    fn sealed_sample(&self) -> Boxed<'_, Vec<(String, String)>>;
    fn purge_sign_ins(&self, before: i64) -> Boxed<'_, u64>;
    fn sealed_secrets(&self) -> Boxed<'_, Vec<(String, String)>>;
    fn set_roles<'a>(&'a self, id: &'a str, roles: &'a [&'a str]) -> Boxed<'a, bool>;
    fn create_api_key<'a>(&'a self, key: NewApiKey<'a>) -> Boxed<'a, ()>;
    fn api_key<'a>(&'a self, id: &'a str) -> Boxed<'a, Option<ApiKeyRecord>>;
    fn api_keys_of<'a>(&'a self, owner_id: &'a str) -> Boxed<'a, Vec<ApiKeyRecord>>;
    fn revoke_api_key<'a>(&'a self, owner_id: &'a str, id: &'a str, now: i64) -> Boxed<'a, bool>;
    fn touch_api_key<'a>(&'a self, id: &'a str, now: i64) -> Boxed<'a, ()>;
    #[cfg_attr(
        not(feature = "oidc"),
        allow(dead_code, reason = "links are made for providers")
    )]
    fn link<'a>(
        &'a self,
        issuer: &'a str,
        subject: &'a str,
        account: NewAccount<'a>,
    ) -> Boxed<'a, String>;
    fn replace_sealed<'a>(&'a self, id: &'a str, old: &'a str, new: &'a str) -> Boxed<'a, bool>;
}

impl<T: AccountStore> Store for T {
    fn create<'a>(&'a self, account: NewAccount<'a>) -> Boxed<'a, Created> {
        timed("create", AccountStore::create(self, account))
    }
    fn by_username<'a>(&'a self, username: &'a str) -> Boxed<'a, Option<AccountRecord>> {
        timed("by_username", AccountStore::by_username(self, username))
    }
    fn by_id<'a>(&'a self, id: &'a str) -> Boxed<'a, Option<AccountRecord>> {
        timed("by_id", AccountStore::by_id(self, id))
    }
    fn rehash_password<'a>(&'a self, id: &'a str, hash: &'a str) -> Boxed<'a, ()> {
        timed(
            "rehash_password",
            AccountStore::rehash_password(self, id, hash),
        )
    }
    fn advance_totp_step<'a>(&'a self, id: &'a str, step: i64) -> Boxed<'a, bool> {
        timed(
            "advance_totp_step",
            AccountStore::advance_totp_step(self, id, step),
        )
    }
    fn recovery_codes<'a>(&'a self, id: &'a str) -> Boxed<'a, Vec<(String, String)>> {
        timed("recovery_codes", AccountStore::recovery_codes(self, id))
    }
    fn use_recovery_code<'a>(&'a self, id: &'a str, code_id: &'a str) -> Boxed<'a, bool> {
        timed(
            "use_recovery_code",
            AccountStore::use_recovery_code(self, id, code_id),
        )
    }
    fn record_sign_in<'a>(&'a self, record: &'a SignInRecord, now: i64) -> Boxed<'a, ()> {
        timed(
            "record_sign_in",
            AccountStore::record_sign_in(self, record, now),
        )
    }
    fn sign_in<'a>(&'a self, family_id: &'a str) -> Boxed<'a, Option<SignInRecord>> {
        timed("sign_in", AccountStore::sign_in(self, family_id))
    }
    fn end_sign_ins<'a>(&'a self, id: &'a str) -> Boxed<'a, Option<i64>> {
        timed("end_sign_ins", AccountStore::end_sign_ins(self, id))
    }
    fn change_credentials<'a>(
        &'a self,
        id: &'a str,
        change: CredentialChange<'a>,
    ) -> Boxed<'a, Option<i64>> {
        timed(
            "change_credentials",
            AccountStore::change_credentials(self, id, change),
        )
    }
    fn set_pending_totp<'a>(&'a self, id: &'a str, sealed: &'a str) -> Boxed<'a, bool> {
        timed(
            "set_pending_totp",
            AccountStore::set_pending_totp(self, id, sealed),
        )
    }
    fn create_reset<'a>(&'a self, hash: &'a str, id: &'a str, expires_at: i64) -> Boxed<'a, ()> {
        timed(
            "create_reset",
            AccountStore::create_reset(self, hash, id, expires_at),
        )
    }
    fn use_reset<'a>(&'a self, hash: &'a str, now: i64) -> Boxed<'a, Option<String>> {
        timed("use_reset", AccountStore::use_reset(self, hash, now))
    }
    fn sealed_sample(&self) -> Boxed<'_, Vec<(String, String)>> {
        timed("sealed_sample", AccountStore::sealed_sample(self))
    }
    fn purge_sign_ins(&self, before: i64) -> Boxed<'_, u64> {
        timed("purge_sign_ins", AccountStore::purge_sign_ins(self, before))
    }
    fn sealed_secrets(&self) -> Boxed<'_, Vec<(String, String)>> {
        timed("sealed_secrets", AccountStore::sealed_secrets(self))
    }
    fn replace_sealed<'a>(&'a self, id: &'a str, old: &'a str, new: &'a str) -> Boxed<'a, bool> {
        timed(
            "replace_sealed",
            AccountStore::replace_sealed(self, id, old, new),
        )
    }
    fn set_roles<'a>(&'a self, id: &'a str, roles: &'a [&'a str]) -> Boxed<'a, bool> {
        timed("set_roles", AccountStore::set_roles(self, id, roles))
    }
    fn create_api_key<'a>(&'a self, key: NewApiKey<'a>) -> Boxed<'a, ()> {
        timed("create_api_key", AccountStore::create_api_key(self, key))
    }
    fn api_key<'a>(&'a self, id: &'a str) -> Boxed<'a, Option<ApiKeyRecord>> {
        timed("api_key", AccountStore::api_key(self, id))
    }
    fn api_keys_of<'a>(&'a self, owner_id: &'a str) -> Boxed<'a, Vec<ApiKeyRecord>> {
        timed("api_keys_of", AccountStore::api_keys_of(self, owner_id))
    }
    fn revoke_api_key<'a>(&'a self, owner_id: &'a str, id: &'a str, now: i64) -> Boxed<'a, bool> {
        timed(
            "revoke_api_key",
            AccountStore::revoke_api_key(self, owner_id, id, now),
        )
    }
    fn touch_api_key<'a>(&'a self, id: &'a str, now: i64) -> Boxed<'a, ()> {
        timed("touch_api_key", AccountStore::touch_api_key(self, id, now))
    }
    fn link<'a>(
        &'a self,
        issuer: &'a str,
        subject: &'a str,
        account: NewAccount<'a>,
    ) -> Boxed<'a, String> {
        timed("link", AccountStore::link(self, issuer, subject, account))
    }
}
