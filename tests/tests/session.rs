//! Cookie sessions: exact cookie attributes, idle and absolute timeouts, id rotation, logout,
//! revoke-all, hashed storage, audit events; each body runs against the memory, SQLite and
//! PostgreSQL stores. CSRF has its own suite (`csrf.rs`).

#[macro_use]
mod identity_support;

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, Method, header};
use identity_support::{Inspect, record};
use secure_core::ExposeSecret;
use secure_core::auth::{Amr, AuthError, Identity, ManualClock};
use secure_core::error::ConfigError;
use secure_core::session::{
    CsrfKey, DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, MemorySessionStore, SessionError,
    SessionManager, SessionStore, SqlSessionStore, StartedSession,
};

const T0: i64 = 1_700_000_000;
const MINUTE: Duration = Duration::from_secs(60);

fn manager<S: SessionStore>(store: S) -> (SessionManager<S>, ManualClock) {
    let clock = ManualClock::new(T0);
    let key = CsrfKey::new(vec![7u8; 32]).unwrap();
    (
        SessionManager::new(store, key).with_clock(clock.clone()),
        clock,
    )
}

fn alice() -> Identity {
    Identity::new("alice", T0)
        .with_roles(["member"])
        .with_amr([Amr::Pwd])
}

/// The raw session id out of a `Set-Cookie`.
fn id_of(started: &StartedSession) -> String {
    let text = started.cookie.header_value().to_str().unwrap();
    let first = text.split(';').next().unwrap();
    first.strip_prefix("__Host-session=").unwrap().to_owned()
}

/// Request headers as the browser sends them after `started`.
fn browser(started: &StartedSession) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::COOKIE,
        HeaderValue::from_str(&format!("theme=dark; __Host-session={}", id_of(started))).unwrap(),
    );
    h
}

async fn get<S: SessionStore>(
    m: &SessionManager<S>,
    h: &HeaderMap,
) -> Result<Identity, SessionError> {
    m.load(&Method::GET, h).await.map(|o| o.expect("a session"))
}

for_each_store!(MemorySessionStore::new(), SqlSessionStore;
    login_opens_a_session_with_the_identity,
    store_never_holds_the_raw_id,
    idle_timeout_is_enforced_and_sliding,
    absolute_timeout_is_enforced,
    renew_rotates_the_id_and_invalidates_the_old,
    concurrent_renew_only_one_wins,
    logout_invalidates_and_clears_the_cookie,
    login_ends_the_previous_session,
    revoke_subject_ends_every_session_of_the_user,
    unknown_and_malformed_cookies_are_invalid,
    purge_deletes_expired_sessions,
);

async fn login_opens_a_session_with_the_identity<S: SessionStore>(store: S) {
    let (m, _clock) = manager(store);
    let (audit, _guard) = record();
    let started = m.login(&HeaderMap::new(), alice()).await.unwrap();
    let event = audit.find("session_created").unwrap();
    assert_eq!(
        (event.event.as_str(), event.subject.as_str()),
        ("auth.login", "alice")
    );

    let me = get(&m, &browser(&started)).await.unwrap();
    assert_eq!(me.subject, "alice");
    assert_eq!(me.roles, ["member"]);
    assert_eq!(me.amr, [Amr::Pwd]);
    assert_eq!(me.auth_time, T0);
    // The session id an app sees is the hash, never the cookie value.
    let sid = me.session_id.clone().unwrap();
    assert_eq!(sid, started.identity.session_id.clone().unwrap());
    assert_ne!(sid, id_of(&started));
    assert_eq!(id_of(&started).len(), 43);

    // No cookie: no session, not an error.
    assert!(
        m.load(&Method::GET, &HeaderMap::new())
            .await
            .unwrap()
            .is_none()
    );
    // Two logins, two different ids.
    let other = m.login(&HeaderMap::new(), alice()).await.unwrap();
    assert_ne!(id_of(&other), id_of(&started));
    assert!(!audit.text().contains(&id_of(&started)), "raw id logged");
}

async fn store_never_holds_the_raw_id<S: SessionStore + Inspect>(store: S) {
    let (m, _clock) = manager(store);
    let a = m.login(&HeaderMap::new(), alice()).await.unwrap();
    let b = m.login(&HeaderMap::new(), alice()).await.unwrap();
    let renewed = m.renew(&browser(&b), |_| {}).await.unwrap();
    let stored = m.store().stored_text().await;
    assert!(stored.contains("alice"));
    for s in [&a, &b, &renewed] {
        assert!(!stored.contains(&id_of(s)), "raw session id stored");
        assert!(
            !stored.contains(s.csrf_token.expose_secret()),
            "CSRF token stored"
        );
    }
}

async fn idle_timeout_is_enforced_and_sliding<S: SessionStore>(store: S) {
    let (m, clock) = manager(store);
    let (audit, _guard) = record();
    let started = m.login(&HeaderMap::new(), alice()).await.unwrap();
    let h = browser(&started);

    // Activity every 29 minutes keeps it alive for hours.
    for _ in 0..10 {
        clock.advance(DEFAULT_IDLE_TIMEOUT - MINUTE);
        get(&m, &h).await.unwrap();
    }
    // 30 minutes of silence end it, server-side.
    clock.advance(DEFAULT_IDLE_TIMEOUT);
    assert!(matches!(get(&m, &h).await, Err(SessionError::Expired)));
    let event = audit.find("idle_timeout").unwrap();
    assert_eq!(
        (
            event.event.as_str(),
            event.outcome.as_str(),
            event.subject.as_str()
        ),
        ("auth.session", "failure", "alice")
    );
    // Deleted: the next try is an unknown session.
    assert!(matches!(get(&m, &h).await, Err(SessionError::Invalid)));
}

async fn absolute_timeout_is_enforced<S: SessionStore>(store: S) {
    let (m, clock) = manager(store);
    let (audit, _guard) = record();
    let started = m.login(&HeaderMap::new(), alice()).await.unwrap();
    let mut h = browser(&started);
    let deadline = T0 + DEFAULT_ABSOLUTE_TIMEOUT.as_secs() as i64;

    // Busy all day, even renewing the id: the deadline stays where login put it.
    while clock_now(&clock) + 600 < deadline {
        clock.advance(10 * MINUTE);
        get(&m, &h).await.unwrap();
    }
    let renewed = m.renew(&h, |_| {}).await.unwrap();
    h = browser(&renewed);
    clock.set(deadline - 1);
    get(&m, &h).await.unwrap();
    clock.set(deadline);
    assert!(matches!(get(&m, &h).await, Err(SessionError::Expired)));
    assert!(audit.has("auth.session", "failure", "absolute_timeout"));
    assert_eq!(AuthError::from(SessionError::Expired), AuthError::Expired);
}

fn clock_now(clock: &ManualClock) -> i64 {
    use secure_core::auth::Clock;
    clock.now()
}

async fn renew_rotates_the_id_and_invalidates_the_old<S: SessionStore>(store: S) {
    let (m, clock) = manager(store);
    let (audit, _guard) = record();
    let started = m.login(&HeaderMap::new(), alice()).await.unwrap();
    let old = browser(&started);
    clock.advance(MINUTE);

    // MFA step passed: new id, more privilege.
    let renewed = m
        .renew(&old, |identity| {
            identity.amr.push(Amr::Otp);
            identity.roles.push("admin".into());
            identity.auth_time = T0 + 60;
            identity.subject = "mallory".into(); // ignored: renew cannot change the user
        })
        .await
        .unwrap();
    assert!(audit.has("auth.session", "success", "session_renewed"));
    assert_ne!(id_of(&renewed), id_of(&started));
    assert_ne!(
        renewed.csrf_token.expose_secret(),
        started.csrf_token.expose_secret()
    );

    assert!(matches!(get(&m, &old).await, Err(SessionError::Invalid)));
    let me = get(&m, &browser(&renewed)).await.unwrap();
    assert_eq!(me.subject, "alice");
    assert_eq!(me.amr, [Amr::Pwd, Amr::Otp]);
    assert_eq!(me.roles, ["member", "admin"]);
    assert_eq!(me.auth_time, T0 + 60);

    // Renewing needs a session.
    assert!(matches!(
        m.renew(&HeaderMap::new(), |_| {}).await,
        Err(SessionError::Missing)
    ));
    assert!(matches!(
        m.renew(&old, |_| {}).await,
        Err(SessionError::Invalid)
    ));
}

async fn concurrent_renew_only_one_wins<S: SessionStore>(store: S) {
    let (m, _clock) = manager(store);
    for _ in 0..5 {
        let started = m.login(&HeaderMap::new(), alice()).await.unwrap();
        let h = browser(&started);
        let (a, b) = (m.clone(), m.clone());
        let (ha, hb) = (h.clone(), h.clone());
        let ta = tokio::spawn(async move { a.renew(&ha, |_| {}).await });
        let tb = tokio::spawn(async move { b.renew(&hb, |_| {}).await });
        let results = [ta.await.unwrap(), tb.await.unwrap()];
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        get(&m, &browser(winners[0])).await.unwrap();
        assert!(matches!(get(&m, &h).await, Err(SessionError::Invalid)));
    }
}

async fn logout_invalidates_and_clears_the_cookie<S: SessionStore>(store: S) {
    let (m, _clock) = manager(store);
    let (audit, _guard) = record();
    let started = m.login(&HeaderMap::new(), alice()).await.unwrap();
    let h = browser(&started);

    let clear = m.logout(&h).await.unwrap();
    let text = clear.header_value().to_str().unwrap();
    assert!(
        text.starts_with(
            "__Host-session=; HttpOnly; SameSite=Strict; Secure; Path=/; Max-Age=0; Expires="
        ),
        "{text}"
    );
    assert!(!text.contains("Domain"));
    assert!(audit.has("auth.logout", "success", "session_ended"));
    assert!(matches!(get(&m, &h).await, Err(SessionError::Invalid)));

    // Idempotent: again, without a cookie, with junk: the same clearing cookie, no error.
    for h in [h.clone(), HeaderMap::new(), junk_cookie("x")] {
        let again = m.logout(&h).await.unwrap();
        assert!(again.header_value().to_str().unwrap().contains("Max-Age=0"));
    }
}

async fn login_ends_the_previous_session<S: SessionStore>(store: S) {
    let (m, _clock) = manager(store);
    let before = m.login(&HeaderMap::new(), alice()).await.unwrap();
    let old = browser(&before);
    let after = m.login(&old, Identity::new("bob", T0)).await.unwrap();
    assert!(matches!(get(&m, &old).await, Err(SessionError::Invalid)));
    assert_eq!(get(&m, &browser(&after)).await.unwrap().subject, "bob");
}

async fn revoke_subject_ends_every_session_of_the_user<S: SessionStore>(store: S) {
    let (m, _clock) = manager(store);
    let (audit, _guard) = record();
    let laptop = m.login(&HeaderMap::new(), alice()).await.unwrap();
    let phone = m.login(&HeaderMap::new(), alice()).await.unwrap();
    let bob = m
        .login(&HeaderMap::new(), Identity::new("bob", T0))
        .await
        .unwrap();

    assert_eq!(m.revoke_subject("alice").await.unwrap(), 2);
    assert!(audit.has("auth.session", "success", "sessions_revoked"));
    for s in [&laptop, &phone] {
        assert!(matches!(
            get(&m, &browser(s)).await,
            Err(SessionError::Invalid)
        ));
    }
    get(&m, &browser(&bob)).await.unwrap();
    assert_eq!(m.revoke_subject("alice").await.unwrap(), 0);
}

fn junk_cookie(value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("__Host-session={value}")) {
        h.insert(header::COOKIE, v);
    }
    h
}

async fn unknown_and_malformed_cookies_are_invalid<S: SessionStore>(store: S) {
    let (m, _clock) = manager(store);
    let (audit, _guard) = record();
    let started = m.login(&HeaderMap::new(), alice()).await.unwrap();

    assert!(matches!(
        get(&m, &junk_cookie(&"A".repeat(43))).await,
        Err(SessionError::Invalid)
    ));
    assert!(audit.has("auth.session", "failure", "unknown_session"));
    for junk in [
        "x",
        &"A".repeat(44),
        &"A".repeat(5000),
        "\"AAAA\"",
        "' OR 1=1 --",
    ] {
        assert!(matches!(
            get(&m, &junk_cookie(junk)).await,
            Err(SessionError::Invalid)
        ));
    }
    assert!(audit.has("auth.session", "failure", "malformed_session_cookie"));

    // Two session cookies (cookie tossing): refused, even if one is valid.
    let mut two = browser(&started);
    two.append(
        header::COOKIE,
        HeaderValue::from_str(&format!("__Host-session={}", "B".repeat(43))).unwrap(),
    );
    assert!(matches!(get(&m, &two).await, Err(SessionError::Invalid)));
    assert!(audit.has("auth.session", "failure", "ambiguous_session_cookie"));

    // A non-UTF-8 Cookie header: refused, no panic.
    let mut bad = HeaderMap::new();
    bad.insert(
        header::COOKIE,
        HeaderValue::from_bytes(b"__Host-session=\xff").unwrap(),
    );
    assert!(matches!(get(&m, &bad).await, Err(SessionError::Invalid)));

    // An emptied cookie, as a logout leaves it, is no session at all.
    assert!(
        m.load(&Method::GET, &junk_cookie(""))
            .await
            .unwrap()
            .is_none()
    );
    // Cookies with other names are ignored.
    let mut other = HeaderMap::new();
    other.insert(
        header::COOKIE,
        HeaderValue::from_static("session=abc; __Host-sessionx=1"),
    );
    assert!(m.load(&Method::GET, &other).await.unwrap().is_none());
}

async fn purge_deletes_expired_sessions<S: SessionStore + Inspect>(store: S) {
    let (m, clock) = manager(store);
    let idle = m
        .login(&HeaderMap::new(), Identity::new("idle-user", T0))
        .await
        .unwrap();
    let busy = m
        .login(&HeaderMap::new(), Identity::new("busy-user", T0))
        .await
        .unwrap();
    clock.advance(20 * MINUTE);
    get(&m, &browser(&busy)).await.unwrap();
    clock.advance(15 * MINUTE);
    assert_eq!(m.purge_expired().await.unwrap(), 1);
    let stored = m.store().stored_text().await;
    assert!(!stored.contains("idle-user") && stored.contains("busy-user"));
    get(&m, &browser(&busy)).await.unwrap();
    assert!(matches!(
        get(&m, &browser(&idle)).await,
        Err(SessionError::Invalid)
    ));
}

#[tokio::test]
async fn login_cookie_has_exactly_the_required_attributes() {
    let (m, _clock) = manager(MemorySessionStore::new());
    let started = m.login(&HeaderMap::new(), alice()).await.unwrap();
    let text = started.cookie.header_value().to_str().unwrap();
    assert_eq!(
        text,
        format!(
            "__Host-session={}; HttpOnly; SameSite=Strict; Secure; Path=/",
            id_of(&started)
        )
    );
    // As a response part it becomes one Set-Cookie header.
    use axum::response::IntoResponse;
    let response = (started.cookie.clone(), "ok").into_response();
    let set: Vec<_> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .collect();
    assert_eq!(set.len(), 1);
    assert_eq!(set[0], text);
}

#[tokio::test]
async fn custom_timeouts() {
    let clock = ManualClock::new(T0);
    let m = SessionManager::new(MemorySessionStore::new(), CsrfKey::generate())
        .with_clock(clock.clone())
        .with_timeouts(Duration::from_secs(10), Duration::from_secs(25))
        .unwrap();
    let h = browser(&m.login(&HeaderMap::new(), alice()).await.unwrap());
    clock.advance(Duration::from_secs(9));
    get(&m, &h).await.unwrap();
    clock.advance(Duration::from_secs(9));
    get(&m, &h).await.unwrap();
    clock.advance(Duration::from_secs(7)); // 25 s after login, 7 s idle
    assert!(matches!(get(&m, &h).await, Err(SessionError::Expired)));
}

#[test]
fn config_errors_are_results() {
    assert_eq!(
        CsrfKey::new(vec![0u8; 31]).unwrap_err(),
        ConfigError::KeyTooShort {
            key: "CSRF",
            min: 32,
            got: 31
        }
    );
    assert_eq!(
        CsrfKey::new(Vec::new()).unwrap_err().to_string(),
        "the CSRF key must be at least 32 bytes, not 0"
    );
    assert!(CsrfKey::new(vec![0u8; 64]).is_ok());
    let m = SessionManager::new(MemorySessionStore::new(), CsrfKey::generate());
    assert_eq!(m.idle_timeout(), Duration::from_secs(30 * 60));
    assert_eq!(m.absolute_timeout(), Duration::from_secs(12 * 3600));
    let m = m.with_timeouts(MINUTE, Duration::ZERO).unwrap_err();
    assert_eq!(m, ConfigError::ZeroDuration("absolute_timeout"));
}

#[tokio::test]
async fn nothing_secret_in_debug_or_errors() {
    let (m, _clock) = manager(MemorySessionStore::new());
    let started = m.login(&HeaderMap::new(), alice()).await.unwrap();
    let id = id_of(&started);
    let csrf = started.csrf_token.expose_secret().to_owned();
    for text in [
        format!("{started:?}"),
        format!("{m:?}"),
        format!("{:?}", m.store()),
        format!("{:?}", started.cookie),
    ] {
        assert!(!text.contains(&id), "{text}");
        assert!(!text.contains(&csrf), "{text}");
    }
    assert!(format!("{m:?}").contains("CsrfKey([REDACTED])"));
}

#[tokio::test]
async fn session_errors_answer_auth_problems() {
    use axum::response::IntoResponse;
    assert_eq!(SessionError::Invalid.into_response().status(), 401);
    assert_eq!(SessionError::Expired.into_response().status(), 401);
    assert_eq!(SessionError::Missing.into_response().status(), 401);
    assert_eq!(SessionError::CsrfFailed.into_response().status(), 403);
    let store = SessionError::Store(secure_core::error::StoreError::new(std::io::Error::other(
        "db",
    )));
    // A store outage is a generic 503 with no detail: never "not logged in", never the cause.
    let response = store.into_response();
    assert_eq!(response.status(), 503);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body = String::from_utf8_lossy(&body);
    assert!(!body.contains("db") && !body.contains("detail"), "{body}");
}

#[tokio::test]
async fn junk_cookie_headers_never_panic() {
    let (m, _clock) = manager(MemorySessionStore::new());
    let samples: Vec<Vec<u8>> = vec![
        b";".to_vec(),
        b"=".to_vec(),
        b"__Host-session".to_vec(),
        b"__Host-session==".to_vec(),
        b"__Host-session=;__Host-session=".to_vec(),
        b" ; ; __Host-session = AAAA ; ".to_vec(),
        vec![0x80; 100],
        b"a=\"b".to_vec(),
        "__Host-session=ÄÖÜ".as_bytes().to_vec(),
    ];
    for bytes in samples {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_bytes(&bytes) {
            h.insert(header::COOKIE, v);
        }
        for method in [Method::GET, Method::POST] {
            let _ = m.load(&method, &h).await;
        }
        let _ = m.logout(&h).await;
        let _ = m.renew(&h, |_| {}).await;
    }
}
