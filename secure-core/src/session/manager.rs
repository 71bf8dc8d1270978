//! [`SessionManager`]: login, authentication (with CSRF), renewal, logout and revocation of
//! cookie sessions.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};

use super::cookie::{Presented, SessionCookie, presented};
use super::csrf::{self, CsrfKey, CsrfToken, needs_csrf_check};
use super::store::{SessionRecord, SessionStore};
use crate::audit::{self, Outcome};
use crate::auth::refresh::clock::secs;
use crate::auth::refresh::opaque;
use crate::auth::{Amr, AuthError, Clock, Identity, SessionAuthenticator, SystemClock};
use crate::error::ConfigError;
use crate::error::StoreError;
use crate::observe;

/// Default idle timeout: 30 minutes without a request ends the session.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Default absolute timeout: 12 hours after login the session ends, however active.
pub const DEFAULT_ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(12 * 60 * 60);

const EVENT: &str = "auth.session";

/// Why a session request was refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionError {
    /// No session cookie (only from operations that need one, such as [`SessionManager::renew`]).
    Missing,
    /// A session cookie that is malformed, duplicated, unknown, revoked or replaced.
    Invalid,
    /// The session passed its idle or absolute timeout (it is now deleted).
    Expired,
    /// An unsafe request failed the CSRF check.
    CsrfFailed,
    /// The store failed.
    Store(StoreError),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SessionError::Missing => "no session cookie",
            SessionError::Invalid => "session not valid",
            SessionError::Expired => "session expired",
            SessionError::CsrfFailed => "CSRF check failed",
            SessionError::Store(_) => "credential store error",
        })
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SessionError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for SessionError {
    fn from(e: StoreError) -> Self {
        SessionError::Store(e)
    }
}

/// `Missing`/`Invalid`/`Expired` -> 401, `CsrfFailed` -> 403, a store failure -> 503
/// ([`AuthError::Unavailable`]: a generic server error, the cause logged, not returned).
///
/// ```
/// use secure_core::auth::AuthError;
/// use secure_core::session::SessionError;
///
/// assert_eq!(AuthError::from(SessionError::CsrfFailed), AuthError::CsrfFailed);
/// ```
impl From<SessionError> for AuthError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Missing => AuthError::Missing,
            SessionError::Invalid => AuthError::Invalid,
            SessionError::Expired => AuthError::Expired,
            SessionError::CsrfFailed => AuthError::CsrfFailed,
            SessionError::Store(error) => {
                tracing::error!(target: "secure::session", %error, "session store failed");
                AuthError::Unavailable
            }
        }
    }
}

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        AuthError::from(self).into_response()
    }
}

/// `?` in a handler: the answer of the [`AuthError`] it maps to (a store failure is logged
/// and answered 503).
impl From<SessionError> for crate::error::ApiError {
    fn from(error: SessionError) -> Self {
        AuthError::from(error).into()
    }
}

/// A session just opened or renewed: the cookie to set, and the CSRF token to give the client
/// (in the response body: `{"csrf_token": ...}`). Both `Debug`s are redacted.
#[derive(Debug, Clone)]
pub struct StartedSession {
    /// `Set-Cookie: __Host-session=...`: return it as a response part.
    pub cookie: SessionCookie,
    /// The token the client must send in `X-CSRF-Token` on unsafe requests.
    pub csrf_token: CsrfToken,
    /// Who the session is for; `session_id` is the id's hash, not the cookie value.
    pub identity: Identity,
}

/// Cookie sessions over a [`SessionStore`]: create them at login, authenticate requests (and
/// check CSRF) as the [`SessionAuthenticator`] of the `Principal` extractor, rotate the id on
/// privilege change, end them at logout.
///
/// Cheap to clone. Give it to [`Authenticator::with_sessions`](crate::auth::Authenticator::with_sessions)
/// as an `Arc`, and keep a clone in the app state for the login and logout handlers.
///
/// ```
/// use std::sync::Arc;
/// use axum::http::{HeaderMap, HeaderValue, Method, header};
/// use secure_core::ExposeSecret;
/// use secure_core::auth::{Amr, Identity};
/// use secure_core::session::{CsrfKey, MemorySessionStore, SessionError, SessionManager};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sessions = SessionManager::new(MemorySessionStore::new(), CsrfKey::new(vec![9u8; 32])?);
///
/// // POST /login, after the password check:
/// let started = sessions
///     .login(&HeaderMap::new(), Identity::new("user-42", 1_700_000_000).with_amr([Amr::Pwd]))
///     .await?;
/// let set_cookie = started.cookie.header_value().to_str()?;
/// assert!(set_cookie.ends_with("; HttpOnly; SameSite=Strict; Secure; Path=/"));
///
/// // A later request from the browser carries the cookie:
/// let mut headers = HeaderMap::new();
/// let cookie = set_cookie.split(';').next().unwrap();
/// headers.insert(header::COOKIE, HeaderValue::from_str(cookie)?);
/// let me = sessions.load(&Method::GET, &headers).await?.unwrap();
/// assert_eq!(me.subject, "user-42");
///
/// // An unsafe one needs the CSRF token too:
/// let refused = sessions.load(&Method::POST, &headers).await;
/// assert!(matches!(refused, Err(SessionError::CsrfFailed)));
/// headers.insert("x-csrf-token", HeaderValue::from_str(started.csrf_token.expose_secret())?);
/// assert!(sessions.load(&Method::POST, &headers).await?.is_some());
/// # Ok(())
/// # }
/// ```
pub struct SessionManager<S> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    key: Arc<CsrfKey>,
    idle: Duration,
    absolute: Duration,
}

impl<S> Clone for SessionManager<S> {
    fn clone(&self) -> Self {
        SessionManager {
            store: Arc::clone(&self.store),
            clock: Arc::clone(&self.clock),
            key: Arc::clone(&self.key),
            idle: self.idle,
            absolute: self.absolute,
        }
    }
}

impl<S> fmt::Debug for SessionManager<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionManager")
            .field("idle_timeout", &self.idle)
            .field("absolute_timeout", &self.absolute)
            .field("csrf_key", &self.key)
            .finish_non_exhaustive()
    }
}

impl<S: SessionStore> SessionManager<S> {
    /// Default timeouts (30 min idle, 12 h absolute) and the system clock.
    pub fn new(store: S, csrf_key: CsrfKey) -> Self {
        SessionManager {
            store: Arc::new(store),
            clock: Arc::new(SystemClock),
            key: Arc::new(csrf_key),
            idle: DEFAULT_IDLE_TIMEOUT,
            absolute: DEFAULT_ABSOLUTE_TIMEOUT,
        }
    }

    /// Sets the idle and absolute timeouts; each must be at least one second.
    ///
    /// ```
    /// use std::time::Duration;
    /// use secure_core::error::ConfigError;
    /// use secure_core::session::{CsrfKey, MemorySessionStore, SessionManager};
    ///
    /// let m = SessionManager::new(MemorySessionStore::new(), CsrfKey::generate());
    /// let m = m.with_timeouts(Duration::from_secs(600), Duration::from_secs(3600)).unwrap();
    /// assert_eq!(m.idle_timeout(), Duration::from_secs(600));
    /// let zero = m.with_timeouts(Duration::ZERO, Duration::from_secs(3600));
    /// assert_eq!(zero.unwrap_err(), ConfigError::ZeroDuration("idle_timeout"));
    /// ```
    pub fn with_timeouts(
        mut self,
        idle: Duration,
        absolute: Duration,
    ) -> Result<Self, ConfigError> {
        if idle.as_secs() == 0 {
            return Err(ConfigError::ZeroDuration("idle_timeout"));
        }
        if absolute.as_secs() == 0 {
            return Err(ConfigError::ZeroDuration("absolute_timeout"));
        }
        self.idle = idle;
        self.absolute = absolute;
        Ok(self)
    }

    /// Reads the time from `clock` (a [`ManualClock`](crate::auth::ManualClock) in tests).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The idle timeout.
    pub fn idle_timeout(&self) -> Duration {
        self.idle
    }

    /// The absolute timeout.
    pub fn absolute_timeout(&self) -> Duration {
        self.absolute
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Opens a session for `identity` after a successful login, with a fresh random id (any
    /// session the request's cookie names is deleted first: ASVS 3.2.1, no fixation).
    /// `identity.session_id` is ignored.
    pub async fn login(
        &self,
        request_headers: &HeaderMap,
        identity: Identity,
    ) -> Result<StartedSession, SessionError> {
        if let Presented::One(raw) = presented(request_headers)
            && opaque::well_formed(raw)
        {
            observe::store("sessions", "remove", self.store.remove(&opaque::hash(raw))).await?;
        }
        let started = self.open(identity).await?;
        audit::emit(
            "auth.login",
            Outcome::Success,
            Some(&started.identity.subject),
            "session_created",
        );
        Ok(started)
    }

    /// After a credential change (password, second factor): ends **every** session of
    /// `identity.subject`, this client's included, and opens a new one for this client only,
    /// with a fresh id (ASVS 3.3.3, 3.3.4). Audited as `auth.session` / `sessions_replaced`.
    pub async fn replace_all(&self, identity: Identity) -> Result<StartedSession, SessionError> {
        observe::store(
            "sessions",
            "remove_subject",
            self.store.remove_subject(&identity.subject),
        )
        .await?;
        let started = self.open(identity).await?;
        audit::emit(
            EVENT,
            Outcome::Success,
            Some(&started.identity.subject),
            "sessions_replaced",
        );
        Ok(started)
    }

    /// A new session record for `identity`, stored, with its cookie and CSRF token.
    async fn open(&self, identity: Identity) -> Result<StartedSession, SessionError> {
        let now = self.clock.now();
        let (id, id_hash) = opaque::generate();
        let record = SessionRecord {
            id_hash,
            subject: identity.subject,
            roles: identity.roles,
            amr: identity.amr.iter().map(|a| a.as_str().to_owned()).collect(),
            auth_time: identity.auth_time,
            created_at: now,
            last_seen: now,
        };
        let identity = to_identity(&record).ok_or(SessionError::Invalid)?;
        observe::store("sessions", "insert", self.store.insert(record)).await?;
        Ok(self.started(&id, identity))
    }

    fn started(&self, id: &secrecy::SecretString, identity: Identity) -> StartedSession {
        use secrecy::ExposeSecret;
        StartedSession {
            cookie: SessionCookie::set(id.expose_secret()),
            csrf_token: self.key.token(id.expose_secret()),
            identity,
        }
    }

    /// Authenticates a request from its session cookie: `Ok(None)` without one. Checks the
    /// absolute and idle timeouts (an expired session is deleted) and, for unsafe methods,
    /// CSRF ([`csrf`](super::csrf)); then records the request for the idle timeout. Every
    /// refusal is audited (`auth.session`, or `auth.csrf`).
    pub async fn load(
        &self,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<Option<Identity>, SessionError> {
        let Some((raw, record)) = self.current(headers).await? else {
            return Ok(None);
        };
        if needs_csrf_check(method)
            && let Err(failure) = csrf::check(&self.key, raw, headers)
        {
            audit::emit(
                "auth.csrf",
                Outcome::Denied,
                Some(&record.subject),
                failure.reason(),
            );
            return Err(SessionError::CsrfFailed);
        }
        if !observe::store(
            "sessions",
            "touch",
            self.store.touch(&record.id_hash, self.clock.now()),
        )
        .await?
        {
            audit::emit(
                EVENT,
                Outcome::Failure,
                Some(&record.subject),
                "session_ended",
            );
            return Err(SessionError::Invalid);
        }
        self.identity(&record).map(Some)
    }

    /// The CSRF token of the request's session (for a client that reloaded and lost it):
    /// `Ok(None)` without a session cookie. Serve it from a `GET` endpoint.
    pub async fn csrf_token(&self, headers: &HeaderMap) -> Result<Option<CsrfToken>, SessionError> {
        Ok(self
            .current(headers)
            .await?
            .map(|(raw, _)| self.key.token(raw)))
    }

    /// Rotates the session id, keeping the session (same subject, same absolute deadline),
    /// after `change` updated roles, `amr` or `auth_time`: call it on every privilege change
    /// (role granted, MFA step passed; ASVS 3.2.1, 3.3.x). The old id stops working at once;
    /// the answer carries the new cookie and its new CSRF token. `change` cannot change the
    /// subject (that is a new [`login`](Self::login)).
    pub async fn renew(
        &self,
        request_headers: &HeaderMap,
        change: impl FnOnce(&mut Identity),
    ) -> Result<StartedSession, SessionError> {
        let Some((_, old)) = self.current(request_headers).await? else {
            return Err(SessionError::Missing);
        };
        let mut identity = self.identity(&old)?;
        change(&mut identity);
        let (id, id_hash) = opaque::generate();
        let record = SessionRecord {
            id_hash,
            subject: old.subject.clone(),
            roles: identity.roles,
            amr: identity.amr.iter().map(|a| a.as_str().to_owned()).collect(),
            auth_time: identity.auth_time,
            created_at: old.created_at,
            last_seen: self.clock.now(),
        };
        let identity = to_identity(&record).ok_or(SessionError::Invalid)?;
        if !observe::store(
            "sessions",
            "replace",
            self.store.replace(&old.id_hash, record),
        )
        .await?
        {
            audit::emit(EVENT, Outcome::Failure, Some(&old.subject), "session_ended");
            return Err(SessionError::Invalid);
        }
        audit::emit(
            EVENT,
            Outcome::Success,
            Some(&old.subject),
            "session_renewed",
        );
        Ok(self.started(&id, identity))
    }

    /// Logout: deletes the request's session server-side (if any) and returns the
    /// `Set-Cookie` that clears the cookie (`Max-Age=0`, same attributes). Idempotent.
    pub async fn logout(&self, request_headers: &HeaderMap) -> Result<SessionCookie, StoreError> {
        if let Presented::One(raw) = presented(request_headers)
            && opaque::well_formed(raw)
        {
            let id_hash = opaque::hash(raw);
            if let Some(record) =
                observe::store("sessions", "get", self.store.get(&id_hash)).await?
                && observe::store("sessions", "remove", self.store.remove(&id_hash)).await?
            {
                audit::emit(
                    "auth.logout",
                    Outcome::Success,
                    Some(&record.subject),
                    "session_ended",
                );
            }
        }
        Ok(SessionCookie::clear())
    }

    /// Ends every session of `subject` (password change, account lock; ASVS 3.3.3).
    /// Returns how many.
    pub async fn revoke_subject(&self, subject: &str) -> Result<u64, StoreError> {
        let n = observe::store(
            "sessions",
            "remove_subject",
            self.store.remove_subject(subject),
        )
        .await?;
        audit::emit(EVENT, Outcome::Success, Some(subject), "sessions_revoked");
        Ok(n)
    }

    /// Deletes sessions past either timeout. Run it on a timer.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let now = self.clock.now();
        observe::store(
            "sessions",
            "purge_expired",
            self.store.purge_expired(
                now.saturating_sub(secs(self.idle)),
                now.saturating_sub(secs(self.absolute)),
            ),
        )
        .await
    }

    /// The request's session cookie and live record, after both timeouts.
    async fn current<'h>(
        &self,
        headers: &'h HeaderMap,
    ) -> Result<Option<(&'h str, SessionRecord)>, SessionError> {
        let raw = match presented(headers) {
            Presented::Absent => return Ok(None),
            Presented::Ambiguous => return Err(refuse("ambiguous_session_cookie")),
            Presented::One(raw) => raw,
        };
        if !opaque::well_formed(raw) {
            return Err(refuse("malformed_session_cookie"));
        }
        let id_hash = opaque::hash(raw);
        let Some(record) = observe::store("sessions", "get", self.store.get(&id_hash)).await?
        else {
            return Err(refuse("unknown_session"));
        };
        let now = self.clock.now();
        let reason = if now >= record.created_at.saturating_add(secs(self.absolute)) {
            Some("absolute_timeout")
        } else if now >= record.last_seen.saturating_add(secs(self.idle)) {
            Some("idle_timeout")
        } else {
            None
        };
        if let Some(reason) = reason {
            observe::store("sessions", "remove", self.store.remove(&id_hash)).await?;
            audit::emit(EVENT, Outcome::Failure, Some(&record.subject), reason);
            return Err(SessionError::Expired);
        }
        Ok(Some((raw, record)))
    }

    fn identity(&self, record: &SessionRecord) -> Result<Identity, SessionError> {
        to_identity(record).ok_or_else(|| {
            audit::emit(
                EVENT,
                Outcome::Failure,
                Some(&record.subject),
                "corrupt_session",
            );
            SessionError::Invalid
        })
    }
}

fn refuse(reason: &'static str) -> SessionError {
    audit::emit(EVENT, Outcome::Failure, None, reason);
    SessionError::Invalid
}

/// The identity a record stands for; `None` if an `amr` value is unknown (fail closed).
fn to_identity(record: &SessionRecord) -> Option<Identity> {
    let amr = record
        .amr
        .iter()
        .map(|a| serde_json::from_value::<Amr>(serde_json::Value::String(a.clone())).ok())
        .collect::<Option<Vec<_>>>()?;
    Some(Identity {
        subject: record.subject.clone(),
        roles: record.roles.clone(),
        amr,
        auth_time: record.auth_time,
        session_id: Some(record.id_hash.clone()),
        // A session is the user's own: not scoped.
        scopes: None,
    })
}

/// The `Principal` extractor's cookie path: [`SessionManager::load`] with the request's
/// method and headers.
impl<S: SessionStore> SessionAuthenticator for SessionManager<S> {
    fn authenticate<'a>(
        &'a self,
        parts: &'a Parts,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Identity>, AuthError>> + Send + 'a>> {
        Box::pin(async move {
            self.load(&parts.method, &parts.headers)
                .await
                .map_err(AuthError::from)
        })
    }
}
