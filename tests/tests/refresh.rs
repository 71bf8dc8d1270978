//! Refresh tokens: rotation, reuse detection (family revoked + audit event), logout, token
//! TTL and family lifetime, concurrent double use, hashed storage; each body runs against the
//! memory, SQLite and PostgreSQL stores.

#[macro_use]
mod identity_support;

use std::time::Duration;

use axum::response::IntoResponse;
use identity_support::{Inspect, record};
use secure_core::ExposeSecret;
use secure_core::auth::ManualClock;
use secure_core::auth::refresh::{
    DEFAULT_FAMILY_LIFETIME, DEFAULT_TOKEN_TTL, MemoryRefreshTokenStore, RefreshError,
    RefreshToken, RefreshTokenStore, RefreshTokens, SqlRefreshTokenStore,
};
use secure_core::error::ConfigError;

const DAY: Duration = Duration::from_secs(86_400);
const T0: i64 = 1_700_000_000;

fn tokens<S: RefreshTokenStore>(store: S) -> (RefreshTokens<S>, ManualClock) {
    let clock = ManualClock::new(T0);
    (RefreshTokens::new(store).with_clock(clock.clone()), clock)
}

for_each_store!(MemoryRefreshTokenStore::new(), SqlRefreshTokenStore;
    rotation_returns_a_new_token_and_invalidates_the_old,
    reuse_revokes_the_family_and_is_audited,
    logout_revokes_the_family,
    revoke_subject_revokes_every_family_of_the_user,
    token_ttl_is_enforced,
    family_lifetime_is_absolute,
    concurrent_double_use_only_one_wins,
    store_holds_only_hashes,
    unknown_and_malformed_tokens_are_invalid,
    purge_deletes_ended_families,
);

async fn rotation_returns_a_new_token_and_invalidates_the_old<S: RefreshTokenStore>(store: S) {
    let (tokens, clock) = tokens(store);
    let first = tokens.issue("alice").await.unwrap();
    assert_eq!(first.subject, "alice");
    assert_eq!(first.expires_at, T0 + 14 * 86_400);
    assert_eq!(first.token.expose_secret().len(), 43);

    clock.advance(Duration::from_secs(60));
    let second = tokens.rotate(&first.token).await.unwrap();
    assert_eq!(second.subject, "alice");
    assert_eq!(second.family_id, first.family_id);
    assert_ne!(second.token.expose_secret(), first.token.expose_secret());
    assert_eq!(second.expires_at, T0 + 60 + 14 * 86_400);

    // A chain of rotations keeps working, each from the latest token only.
    let mut current = second;
    for _ in 0..5 {
        clock.advance(DAY);
        current = tokens.rotate(&current.token).await.unwrap();
    }
    assert_eq!(current.family_id, first.family_id);

    // Two logins are two families.
    let other = tokens.issue("alice").await.unwrap();
    assert_ne!(other.family_id, first.family_id);
}

async fn reuse_revokes_the_family_and_is_audited<S: RefreshTokenStore>(store: S) {
    let (tokens, _clock) = tokens(store);
    let (audit, _guard) = record();
    let first = tokens.issue("alice").await.unwrap();
    let second = tokens.rotate(&first.token).await.unwrap();
    let sibling = tokens.issue("alice").await.unwrap();

    // The attacker (or the victim) replays the rotated token.
    assert!(matches!(
        tokens.rotate(&first.token).await,
        Err(RefreshError::Reused)
    ));
    let event = audit.find("refresh_reuse").expect("reuse audited");
    assert_eq!(event.event, "auth.refresh");
    assert_eq!(event.outcome, "denied");
    assert_eq!(event.subject, "alice");

    // The whole family is dead, including the newest token...
    assert!(matches!(
        tokens.rotate(&second.token).await,
        Err(RefreshError::Revoked)
    ));
    assert!(audit.has("auth.refresh", "denied", "family_revoked"));
    // ...and replaying again does not revive anything.
    assert!(matches!(
        tokens.rotate(&first.token).await,
        Err(RefreshError::Revoked)
    ));
    // Another family of the same user (another device) is not affected.
    tokens.rotate(&sibling.token).await.unwrap();

    // No token reached the log.
    let logged = audit.text();
    for t in [&first.token, &second.token, &sibling.token] {
        assert!(!logged.contains(t.expose_secret()));
    }
}

async fn logout_revokes_the_family<S: RefreshTokenStore>(store: S) {
    let (tokens, _clock) = tokens(store);
    let (audit, _guard) = record();
    let first = tokens.issue("alice").await.unwrap();
    let second = tokens.rotate(&first.token).await.unwrap();

    assert!(tokens.revoke(&second.token).await.unwrap());
    assert!(audit.has("auth.logout", "success", "refresh_family_revoked"));
    assert!(matches!(
        tokens.rotate(&second.token).await,
        Err(RefreshError::Revoked)
    ));
    // Idempotent; an older token of the family or an unknown token is no error either.
    assert!(!tokens.revoke(&second.token).await.unwrap());
    assert!(!tokens.revoke(&first.token).await.unwrap());
    assert!(
        !tokens
            .revoke(&RefreshToken::from_client("x".repeat(43)))
            .await
            .unwrap()
    );
    assert!(
        !tokens
            .revoke(&RefreshToken::from_client("garbage"))
            .await
            .unwrap()
    );

    // Logging out with an old (used) token of a live family revokes it too.
    let a = tokens.issue("bob").await.unwrap();
    let b = tokens.rotate(&a.token).await.unwrap();
    assert!(tokens.revoke(&a.token).await.unwrap());
    assert!(matches!(
        tokens.rotate(&b.token).await,
        Err(RefreshError::Revoked)
    ));
}

async fn revoke_subject_revokes_every_family_of_the_user<S: RefreshTokenStore>(store: S) {
    let (tokens, _clock) = tokens(store);
    let (audit, _guard) = record();
    let laptop = tokens.issue("alice").await.unwrap();
    let phone = tokens.issue("alice").await.unwrap();
    let phone = tokens.rotate(&phone.token).await.unwrap();
    let bob = tokens.issue("bob").await.unwrap();

    assert_eq!(tokens.revoke_subject("alice").await.unwrap(), 2);
    assert!(audit.has("auth.refresh", "success", "families_revoked"));
    for t in [&laptop.token, &phone.token] {
        assert!(matches!(tokens.rotate(t).await, Err(RefreshError::Revoked)));
    }
    tokens.rotate(&bob.token).await.unwrap();
    assert_eq!(tokens.revoke_subject("alice").await.unwrap(), 0);
}

async fn token_ttl_is_enforced<S: RefreshTokenStore>(store: S) {
    let (tokens, clock) = tokens(store);
    let (audit, _guard) = record();
    let a = tokens.issue("alice").await.unwrap();
    let b = tokens.issue("alice").await.unwrap();

    // One second before the end: accepted.
    clock.advance(DEFAULT_TOKEN_TTL - Duration::from_secs(1));
    let a2 = tokens.rotate(&a.token).await.unwrap();
    // At the end: refused, and audited; the family is not revoked for that.
    clock.advance(Duration::from_secs(1));
    assert!(matches!(
        tokens.rotate(&b.token).await,
        Err(RefreshError::Expired)
    ));
    assert!(audit.has("auth.refresh", "failure", "token_expired"));
    // The rotated token has a fresh TTL.
    clock.advance(DAY);
    tokens.rotate(&a2.token).await.unwrap();
}

async fn family_lifetime_is_absolute<S: RefreshTokenStore>(store: S) {
    let (tokens, clock) = tokens(store);
    let (audit, _guard) = record();
    let mut current = tokens.issue("alice").await.unwrap();
    let family_end = T0 + DEFAULT_FAMILY_LIFETIME.as_secs() as i64;

    // Rotating every 13 days keeps each token fresh, but not the family.
    for _ in 0..2 {
        clock.advance(13 * DAY);
        current = tokens.rotate(&current.token).await.unwrap();
    }
    // Day 26: the new token's expiry is clamped to the family's end (day 30).
    assert_eq!(current.expires_at, family_end);
    clock.set(family_end - 1);
    current = tokens.rotate(&current.token).await.unwrap();
    assert_eq!(current.expires_at, family_end);
    clock.set(family_end);
    assert!(matches!(
        tokens.rotate(&current.token).await,
        Err(RefreshError::Expired)
    ));
    assert!(audit.has("auth.refresh", "failure", "family_expired"));
}

fn tokens_with(
    store: MemoryRefreshTokenStore,
    ttl: Duration,
    family: Duration,
) -> (RefreshTokens<MemoryRefreshTokenStore>, ManualClock) {
    let clock = ManualClock::new(T0);
    let tokens = RefreshTokens::new(store)
        .with_clock(clock.clone())
        .with_lifetimes(ttl, family)
        .unwrap();
    (tokens, clock)
}

async fn concurrent_double_use_only_one_wins<S: RefreshTokenStore>(store: S) {
    let (tokens, _clock) = tokens(store);
    let (audit, _guard) = record();
    for _ in 0..5 {
        let first = tokens.issue("alice").await.unwrap();
        let (a, b) = (tokens.clone(), tokens.clone());
        let (ta, tb) = (first.token.clone(), first.token.clone());
        let ha = tokio::spawn(async move { a.rotate(&ta).await });
        let hb = tokio::spawn(async move { b.rotate(&tb).await });
        let results = [ha.await.unwrap(), hb.await.unwrap()];
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        // The loser presented a token that was already used: reuse, family revoked, so the
        // winner's token is dead too (clients must not refresh in parallel).
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(RefreshError::Reused))),
            "{results:?}"
        );
        assert!(matches!(
            tokens.rotate(&winners[0].token).await,
            Err(RefreshError::Revoked)
        ));
    }
    assert!(audit.has("auth.refresh", "denied", "refresh_reuse"));
}

async fn store_holds_only_hashes<S: RefreshTokenStore + Inspect>(store: S) {
    let (tokens, _clock) = tokens(store);
    let first = tokens.issue("alice").await.unwrap();
    let second = tokens.rotate(&first.token).await.unwrap();
    let stored = tokens.store().stored_text().await;
    assert!(!stored.is_empty());
    for t in [&first.token, &second.token] {
        assert!(!stored.contains(t.expose_secret()), "raw token stored");
    }
}

async fn unknown_and_malformed_tokens_are_invalid<S: RefreshTokenStore>(store: S) {
    let (tokens, _clock) = tokens(store);
    let (audit, _guard) = record();
    tokens.issue("alice").await.unwrap();
    let unknown = RefreshToken::from_client("A".repeat(43));
    assert!(matches!(
        tokens.rotate(&unknown).await,
        Err(RefreshError::Invalid)
    ));
    assert!(audit.has("auth.refresh", "failure", "unknown_token"));
    for junk in [
        "",
        "short",
        &"A".repeat(44),
        &"A".repeat(4096),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        "' OR 1=1 --AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "ÄAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        assert!(matches!(
            tokens.rotate(&RefreshToken::from_client(junk)).await,
            Err(RefreshError::Invalid)
        ));
    }
    assert!(audit.has("auth.refresh", "failure", "malformed_token"));
}

async fn purge_deletes_ended_families<S: RefreshTokenStore>(store: S) {
    let (tokens, clock) = tokens(store);
    let old = tokens.issue("old-user").await.unwrap();
    clock.advance(20 * DAY);
    let young = tokens.issue("young-user").await.unwrap();
    clock.advance(10 * DAY);
    assert_eq!(tokens.purge_expired().await.unwrap(), 1);
    assert!(matches!(
        tokens.rotate(&old.token).await,
        Err(RefreshError::Invalid)
    ));
    tokens.rotate(&young.token).await.unwrap();
}

#[tokio::test]
async fn short_lifetimes_and_clamping() {
    let (tokens, clock) = tokens_with(
        MemoryRefreshTokenStore::new(),
        Duration::from_secs(100),
        Duration::from_secs(150),
    );
    let a = tokens.issue("alice").await.unwrap();
    assert_eq!(a.expires_at, T0 + 100);
    clock.advance(Duration::from_secs(99));
    let b = tokens.rotate(&a.token).await.unwrap();
    assert_eq!(b.expires_at, T0 + 150, "clamped to the family's end");
    clock.advance(Duration::from_secs(51));
    assert!(matches!(
        tokens.rotate(&b.token).await,
        Err(RefreshError::Expired)
    ));

    // A TTL longer than the family: the first token is clamped too.
    let (tokens, _) = tokens_with(
        MemoryRefreshTokenStore::new(),
        Duration::from_secs(500),
        Duration::from_secs(150),
    );
    assert_eq!(tokens.issue("a").await.unwrap().expires_at, T0 + 150);
}

#[test]
fn config_errors_are_results() {
    let zero = RefreshTokens::new(MemoryRefreshTokenStore::new())
        .with_lifetimes(Duration::ZERO, DAY)
        .unwrap_err();
    assert_eq!(zero, ConfigError::ZeroDuration("token_ttl"));
    let zero = RefreshTokens::new(MemoryRefreshTokenStore::new())
        .with_lifetimes(DAY, Duration::from_millis(999))
        .unwrap_err();
    assert_eq!(zero, ConfigError::ZeroDuration("family_lifetime"));
    assert_eq!(
        zero.to_string(),
        "family_lifetime must be at least one second"
    );
    let defaults = RefreshTokens::new(MemoryRefreshTokenStore::new());
    assert_eq!(defaults.token_ttl(), 14 * DAY);
    assert_eq!(defaults.family_lifetime(), 30 * DAY);
}

#[tokio::test]
async fn nothing_secret_in_debug_or_errors() {
    let (tokens, _clock) = tokens(MemoryRefreshTokenStore::new());
    let issued = tokens.issue("alice").await.unwrap();
    let secret = issued.token.expose_secret().to_owned();
    assert!(!format!("{issued:?}").contains(&secret));
    assert!(!format!("{tokens:?}").contains(&secret));
    assert!(!format!("{:?}", tokens.store()).contains(&secret));
    tokens.rotate(&issued.token).await.unwrap();
    let err = tokens.rotate(&issued.token).await.unwrap_err();
    assert!(!format!("{err:?} {err}").contains(&secret));
}

#[tokio::test]
async fn refusals_answer_401_problem_with_challenge() {
    use http_body_util::BodyExt;
    for e in [
        RefreshError::Invalid,
        RefreshError::Expired,
        RefreshError::Revoked,
        RefreshError::Reused,
    ] {
        let r = e.into_response();
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.headers()["www-authenticate"],
            r#"Bearer error="invalid_token""#
        );
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let body = r.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json["detail"],
            "The refresh token is not valid. Sign in again."
        );
    }
    let store = RefreshError::Store(secure_core::error::StoreError::new(std::io::Error::other(
        "db-7 down",
    )));
    let r = store.into_response();
    assert_eq!(r.status(), 500);
    let body = r.into_body().collect().await.unwrap().to_bytes();
    assert!(!String::from_utf8_lossy(&body).contains("db-7"));
}

#[tokio::test]
async fn sqlite_in_memory_pool_works() {
    let db = secure_core::sql::Database::connect("sqlite::memory:")
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db.migrate().await.unwrap(); // a second run finds nothing to do
    let store = SqlRefreshTokenStore::new(db);
    let (tokens, _) = tokens(store);
    let a = tokens.issue("alice").await.unwrap();
    tokens.rotate(&a.token).await.unwrap();
    assert!(matches!(
        tokens.rotate(&a.token).await,
        Err(RefreshError::Reused)
    ));
}
