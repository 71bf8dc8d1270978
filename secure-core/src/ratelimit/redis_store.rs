//! A Redis store: several instances of a service enforce one limit together.
//!
//! # One round trip per decision
//!
//! A decision is one `EVALSHA` of [`GCRA_SCRIPT`], which reads the key's theoretical arrival
//! time (TAT), decides, and writes the new TAT atomically (Redis runs a script alone), so
//! concurrent requests on different instances cannot both take the last slot. The script is
//! sent by its SHA-1; when the server does not know it yet (first use, or after a restart or
//! `SCRIPT FLUSH`) it answers `NOSCRIPT` and the script is loaded and run again: that first
//! decision takes three round trips, every later one takes one.
//!
//! # Time and memory
//!
//! The script reads the clock with `redis.call('TIME')`: every instance uses the server's
//! clock, so instances whose clocks disagree still count one budget. Each write sets the
//! key's expiry (`SET .. PX`) to the moment its budget is full again, when a fresh key would
//! behave identically: idle keys vanish by themselves, which bounds Redis's memory by the
//! clients active in one window. Refusals do not write.
//!
//! # Keys
//!
//! `<prefix><22 characters>`: the prefix (`secure:rl:` unless set) and the SHA-256 (first
//! 128 bits, base64url) of the scope (route or default limit) and the client key. Keys have a
//! bounded length, and no client address or subject is ever written to Redis as text.
//!
//! Account throttle counters ([`super::account`]) are one `EVALSHA` of [`THROTTLE_SCRIPT`]
//! per step, on a hash under a key made the same way from the counter's name, and expire
//! when the counter is back to its starting state.
//!
//! # When Redis cannot answer
//!
//! See [`RateLimiter::fail_open`](super::RateLimiter::fail_open): by default the request is
//! refused with a 503 (fail closed).

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use sha2::{Digest, Sha256};

use super::ClientKey;
use super::RateLimit;
use super::account::{AccountThrottle, ThrottleKey};
use super::store::{
    RateLimitStore, ReadyFuture, Scope, StoreDecision, StoreFuture, ThrottleFuture, ThrottleOp,
};
use crate::error::StoreError;

/// The key prefix unless set.
pub const DEFAULT_PREFIX: &str = "secure:rl:";

/// How long one decision may take (connecting included) unless set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// The GCRA step, run atomically by Redis.
///
/// - `KEYS[1]`: the key; its value is the TAT in microseconds of server time.
/// - `ARGV[1]`: the emission interval in microseconds (window / quota).
/// - `ARGV[2]`: the burst (the quota).
/// - Returns `{allowed (1 or 0), remaining, ms}` where `ms` (rounded up) is, when allowed,
///   the time until the budget is full again (also the key's expiry), and when refused, the
///   time until the next request is allowed.
///
/// A request arriving at `now` is allowed when `max(tat, now) + interval - interval * burst
/// <= now`, the rule governor applies in memory, so both stores answer alike.
pub const GCRA_SCRIPT: &str = r"
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if allow_at > now then
  return {0, 0, math.ceil((allow_at - now) / 1000)}
end
local ttl = math.ceil((new_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl)
return {1, math.floor((now - allow_at) / interval), ttl}
";

/// One step of an account throttle counter, run atomically by Redis; the same rules as the
/// in-memory counter (`ThrottleState` in `account.rs`), on the server's clock in milliseconds.
///
/// - `KEYS[1]`: a hash with `level`, `blocked`, `tat`, `last`.
/// - `ARGV`: op (`1` attempt, `2` success), free failures, base delay, maximum delay, the
///   ceiling's interval and tolerance, and the quiet time that forgets the back-off (ms).
/// - Returns `-1` when the attempt goes ahead (or the success was recorded), else the wait in
///   ms.
pub const THROTTLE_SCRIPT: &str = r"
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'level', 'blocked', 'tat', 'last')
local level = tonumber(s[1]) or 0
local blocked = tonumber(s[2]) or 0
local tat = tonumber(s[3]) or 0
local last = tonumber(s[4]) or 0
local free = tonumber(ARGV[2])
local interval = tonumber(ARGV[5])
local tolerance = tonumber(ARGV[6])
local forget = tonumber(ARGV[7])
if ARGV[1] == '2' then
  if not s[1] then return -1 end
  level = 0
  blocked = 0
  tat = math.max(tat - interval, now)
else
  if blocked > now then return blocked - now end
  local t = math.max(tat, now)
  if t - now > tolerance then return t - now - tolerance end
  if now - last >= forget then level = 0 end
  level = level + 1
  last = now
  tat = t + interval
  local delay = 0
  if level > free then
    delay = math.min(tonumber(ARGV[3]) * 2 ^ math.min(level - free - 1, 40), tonumber(ARGV[4]))
  end
  blocked = now + delay
end
redis.call('HSET', KEYS[1], 'level', level, 'blocked', string.format('%.0f', blocked),
  'tat', string.format('%.0f', tat), 'last', string.format('%.0f', last))
local expire = math.max(blocked, tat, last + forget) - now
if expire < 1 then expire = 1 end
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', expire))
return -1
";

#[derive(Clone)]
enum Connection {
    Manager(ConnectionManager),
    Multiplexed(MultiplexedConnection),
}

impl Connection {
    async fn ping(&self) -> redis::RedisResult<()> {
        let ping = redis::cmd("PING");
        match self {
            Connection::Manager(c) => ping.query_async(&mut c.clone()).await,
            Connection::Multiplexed(c) => ping.query_async(&mut c.clone()).await,
        }
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> redis::RedisResult<T> {
        // Both are handles to one shared connection: cloning one is cheap.
        match self {
            Connection::Manager(c) => invocation.invoke_async(&mut c.clone()).await,
            Connection::Multiplexed(c) => invocation.invoke_async(&mut c.clone()).await,
        }
    }
}

/// A [`RateLimitStore`] in Redis (feature `redis`): see the [module documentation](self).
///
/// ```no_run
/// # async fn run() -> Result<(), redis::RedisError> {
/// use secure_core::config::SecurityConfig;
/// use secure_core::ratelimit::{RateLimiter, RedisStore};
///
/// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
/// let config = SecurityConfig::new().rate_limiter(RateLimiter::new().redis(store));
/// # drop(config);
/// # Ok(())
/// # }
/// ```
pub struct RedisStore {
    connection: Connection,
    script: redis::Script,
    throttle_script: redis::Script,
    prefix: String,
    timeout: Duration,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No connection details: the URL may hold a password.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

fn manager_config() -> ConnectionManagerConfig {
    // Fail fast while Redis is down: a request waits at most the store's timeout anyway,
    // and the manager reconnects on a later request.
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(DEFAULT_TIMEOUT))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500))
}

impl RedisStore {
    /// Connects to `url` (`redis://[:password@]host[:port][/db]`, or `rediss://` when the
    /// `redis` crate's TLS features are enabled), failing now when Redis cannot be reached.
    /// The connection reconnects by itself after a failure.
    pub async fn connect(url: &str) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let manager = ConnectionManager::new_with_config(client, manager_config()).await?;
        Ok(Self::with_connection(Connection::Manager(manager)))
    }

    /// Like [`connect`](Self::connect), but connects on the first decision: a service can
    /// start while Redis is still down (its requests then meet the failure policy). Call it
    /// inside a tokio runtime; outside one it returns an error.
    pub fn connect_lazy(url: &str) -> redis::RedisResult<Self> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(redis::RedisError::from((
                redis::ErrorKind::Client,
                "RedisStore::connect_lazy needs a tokio runtime",
            )));
        }
        let client = redis::Client::open(url)?;
        let manager = ConnectionManager::new_lazy_with_config(client, manager_config())?;
        Ok(Self::with_connection(Connection::Manager(manager)))
    }

    /// Uses an existing (reconnecting) connection.
    pub fn from_manager(connection: ConnectionManager) -> Self {
        Self::with_connection(Connection::Manager(connection))
    }

    /// Uses an existing multiplexed connection (which does not reconnect by itself).
    pub fn from_multiplexed(connection: MultiplexedConnection) -> Self {
        Self::with_connection(Connection::Multiplexed(connection))
    }

    fn with_connection(connection: Connection) -> Self {
        RedisStore {
            connection,
            script: redis::Script::new(GCRA_SCRIPT),
            throttle_script: redis::Script::new(THROTTLE_SCRIPT),
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The prefix of every key (`secure:rl:` unless set): instances that must share limits
    /// use the same one; services that must not, different ones.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long one decision may take, connecting included (1 s unless set); past it the
    /// store counts as unreachable.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The Redis key of `key` in `scope`: the prefix, then 128 bits of SHA-256, base64url.
    pub fn key(&self, scope: Scope, key: &ClientKey) -> String {
        let mut hash = Sha256::new();
        match scope {
            Scope::Route(route) => {
                hash.update(b"r");
                hash.update(route.as_bytes());
            }
            Scope::Default => hash.update(b"d"),
        }
        // A separator no route name contains, then a tagged client key.
        hash.update([0]);
        match key {
            ClientKey::Ip(IpAddr::V4(ip)) => {
                hash.update(b"4");
                hash.update(ip.octets());
            }
            ClientKey::Ip(IpAddr::V6(ip)) => {
                hash.update(b"6");
                hash.update(ip.octets());
            }
            ClientKey::User(subject) => {
                hash.update(b"u");
                hash.update(subject.as_bytes());
            }
            ClientKey::Global => hash.update(b"g"),
        }
        let digest = hash.finalize();
        let mut out = String::with_capacity(self.prefix.len() + 22);
        out.push_str(&self.prefix);
        URL_SAFE_NO_PAD.encode_string(&digest[..16], &mut out);
        out
    }

    /// The Redis key of an account throttle counter: the prefix, then 128 bits of SHA-256 of
    /// the counter's name (never the account name in clear).
    pub fn throttle_key(&self, key: &ThrottleKey) -> String {
        let mut hash = Sha256::new();
        hash.update(b"a");
        hash.update(key.canonical());
        let digest = hash.finalize();
        let mut out = String::with_capacity(self.prefix.len() + 22);
        out.push_str(&self.prefix);
        URL_SAFE_NO_PAD.encode_string(&digest[..16], &mut out);
        out
    }

    /// One step of an account throttle counter: one `EVALSHA`.
    pub async fn throttle(
        &self,
        key: &ThrottleKey,
        op: ThrottleOp,
        policy: AccountThrottle,
    ) -> Result<Option<Duration>, StoreError> {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let (interval, tolerance) = policy.ceiling_ms();
        let mut invocation = self.throttle_script.prepare_invoke();
        invocation
            .key(self.throttle_key(key))
            .arg(match op {
                ThrottleOp::Attempt => 1,
                ThrottleOp::Success => 2,
            })
            .arg(policy.free_failures)
            .arg(ms(policy.base_delay))
            .arg(ms(policy.max_delay))
            .arg(interval)
            .arg(tolerance)
            .arg(ms(policy.forget_after));
        let wait: i64 = self
            .within_timeout(self.connection.run(&invocation))
            .await?;
        Ok(u64::try_from(wait).ok().map(Duration::from_millis))
    }

    /// `call`'s reply, or a store error when it fails or takes longer than the timeout.
    async fn within_timeout<T>(
        &self,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(e)) => Err(StoreError::new(e)),
            Err(elapsed) => Err(StoreError::new(elapsed)),
        }
    }

    /// Counts one request of `key` against `limit` in `scope`: one `EVALSHA`.
    pub async fn decide(
        &self,
        scope: Scope,
        key: &ClientKey,
        limit: RateLimit,
    ) -> Result<StoreDecision, StoreError> {
        let quota = limit.rate.count.max(1);
        let window_us = u128::from(limit.rate.period_secs.max(1)) * 1_000_000;
        let interval_us = u64::try_from(window_us / u128::from(quota))
            .unwrap_or(u64::MAX)
            .max(1);
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(self.key(scope, key))
            .arg(interval_us)
            .arg(quota);
        let (allowed, remaining, ms): (i64, i64, i64) = self
            .within_timeout(self.connection.run(&invocation))
            .await?;
        let allowed = match allowed {
            1 => true,
            0 => false,
            _ => return Err(StoreError::new("unexpected reply from the GCRA script")),
        };
        Ok(StoreDecision {
            allowed,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
            reset: Duration::from_millis(u64::try_from(ms.max(0)).unwrap_or(0)),
        })
    }
}

impl RateLimitStore for RedisStore {
    fn decide<'a>(&'a self, scope: Scope, key: &'a ClientKey, limit: RateLimit) -> StoreFuture<'a> {
        Box::pin(RedisStore::decide(self, scope, key, limit))
    }

    fn throttle<'a>(
        &'a self,
        key: &'a ThrottleKey,
        op: ThrottleOp,
        policy: AccountThrottle,
    ) -> ThrottleFuture<'a> {
        Box::pin(RedisStore::throttle(self, key, op, policy))
    }

    /// `PING`, within the store's timeout.
    fn ready(&self) -> ReadyFuture<'_> {
        Box::pin(self.within_timeout(self.connection.ping()))
    }
}
