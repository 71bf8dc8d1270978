//! [`SecurityConfig::from_env`]: every setting from `SECURE_*` variables, checked at start-up.

use std::time::Duration;

use super::keys::{KeyMaterial, Keys, weakness};
use super::{ConfigError, SecurityConfig};
use crate::auth::password::HashLimit;
use crate::http::client::{Cidr, ClientAddresses, ProxyHeader};
use crate::http::connection::ConnectionLimits;
use crate::http::cors::CorsConfig;
use crate::http::headers::SecurityHeaders;
use crate::ratelimit::RateLimiter;

/// Which build reads the configuration: a debug build may run on generated development keys,
/// a release build never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `cfg(debug_assertions)`: development keys are generated when none are configured.
    Debug,
    /// Optimised builds: keys must be configured.
    Release,
}

impl Profile {
    /// The profile this crate was built with.
    pub fn current() -> Self {
        if cfg!(debug_assertions) {
            Profile::Debug
        } else {
            Profile::Release
        }
    }
}

/// Every variable [`SecurityConfig::from_env`] reads, with what it takes.
pub const VARIABLES: &[(&str, &str)] = &[
    ("SECURE_ENV", "`development` or `production`"),
    (
        "SECURE_JWT_KEY",
        "the HS256 access-token key, 32 bytes or more",
    ),
    ("SECURE_JWT_KEY_FILE", "a file holding SECURE_JWT_KEY"),
    (
        "SECURE_JWT_KEY_PREVIOUS",
        "the access-token key before a rotation: verifies the tokens it signed until they expire",
    ),
    (
        "SECURE_JWT_KEY_PREVIOUS_FILE",
        "a file holding SECURE_JWT_KEY_PREVIOUS",
    ),
    ("SECURE_CSRF_KEY", "the CSRF token key, 32 bytes or more"),
    ("SECURE_CSRF_KEY_FILE", "a file holding SECURE_CSRF_KEY"),
    (
        "SECURE_CSRF_KEY_PREVIOUS",
        "the CSRF key before a rotation: the tokens of sessions begun before still pass",
    ),
    (
        "SECURE_CSRF_KEY_PREVIOUS_FILE",
        "a file holding SECURE_CSRF_KEY_PREVIOUS",
    ),
    (
        "SECURE_DATA_KEY",
        "the key that seals secrets at rest, 32 bytes or more",
    ),
    ("SECURE_DATA_KEY_FILE", "a file holding SECURE_DATA_KEY"),
    (
        "SECURE_DATA_KEY_PREVIOUS",
        "the data key before a rotation, still read",
    ),
    (
        "SECURE_DATA_KEY_PREVIOUS_FILE",
        "a file holding SECURE_DATA_KEY_PREVIOUS",
    ),
    ("SECURE_BODY_LIMIT", "a size: `65536`, `64KiB`, `1MiB`"),
    (
        "SECURE_REQUEST_TIMEOUT",
        "a duration: `500ms`, `30s`, `2min`",
    ),
    ("SECURE_JSON_MAX_DEPTH", "1 to 128"),
    (
        "SECURE_HEADER_READ_TIMEOUT",
        "how long a request's head may take to arrive: `10s` (100 ms to 5 min)",
    ),
    (
        "SECURE_IDLE_TIMEOUT",
        "how long a keep-alive connection may wait for a request: `75s` (1 s to 1 h)",
    ),
    (
        "SECURE_CONNECTIONS_PER_ADDRESS",
        "open connections per client address: `64`, or `off`",
    ),
    (
        "SECURE_MAX_CONNECTIONS",
        "open connections in all (lowered to what the open-file limit allows)",
    ),
    (
        "SECURE_PASSWORD_HASHES",
        "password hashes at once: 1 to 512 (default: the number of CPUs)",
    ),
    (
        "SECURE_PASSWORD_HASH_WAIT",
        "how long a login waits for a hashing slot: `1s`, `500ms`",
    ),
    (
        "SECURE_RATE_LIMIT",
        "the per-IP default: `300/min` or `off`",
    ),
    (
        "SECURE_REDIS_URL",
        "`redis://[:password@]host[:port][/db]`: rate limits and account throttles shared by every instance (feature `redis`)",
    ),
    (
        "SECURE_TRUSTED_PROXIES",
        "comma-separated addresses or CIDR ranges",
    ),
    ("SECURE_PROXY_HEADER", "`x-forwarded-for` or `forwarded`"),
    ("SECURE_IPV6_PREFIX", "32 to 128"),
    ("SECURE_HEADERS", "`api` or `web`"),
    ("SECURE_HSTS_PRELOAD", "`true` or `false`"),
    ("SECURE_CORS_ORIGINS", "comma-separated origins"),
    ("SECURE_CORS_CREDENTIALS", "`true` or `false`"),
    (
        "SECURE_OIDC_ISSUER",
        "an OpenID Connect provider whose tokens are accepted (feature `oidc`)",
    ),
    ("SECURE_OIDC_AUDIENCE", "the audience its tokens must name"),
    (
        "SECURE_OIDC_ROLES_CLAIM",
        "where its roles are: `realm_access.roles`, `roles`, a namespaced claim",
    ),
    (
        "SECURE_OIDC_ROLES",
        "comma-separated `provider-role=app_role` mappings",
    ),
    (
        "SECURE_OIDC_MFA_ACR",
        "comma-separated `acr` values meaning a second factor",
    ),
];

/// Names under this prefix belong to test harnesses and are not read.
const TEST_PREFIX: &str = "SECURE_TEST_";

fn env_error(var: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Env {
        var: var.to_owned(),
        reason: reason.into(),
    }
}

/// The variables, looked up by name; the values (keys among them) are wiped on drop.
struct Vars(Vec<(String, String)>);

impl Drop for Vars {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        for (_, value) in &mut self.0 {
            value.zeroize();
        }
    }
}

impl Vars {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A non-empty value, or `None` when unset or empty.
    fn value(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }

    fn parse<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        self.value(name)
            .map(|v| parse(v.trim()).map_err(|reason| env_error(name, reason)))
            .transpose()
    }
}

impl SecurityConfig {
    /// The configuration from the process's `SECURE_*` variables ([`VARIABLES`] lists them),
    /// every value checked now, with an error that names the variable at fault.
    ///
    /// - **Keys** (`SECURE_JWT_KEY`, `SECURE_CSRF_KEY`, or `..._FILE` naming a file that holds
    ///   one; a final newline is dropped): 32 bytes or more, not a placeholder (`secret`,
    ///   `changeme`, `your-secret-key-here`, ...), not a few repeated characters. The error
    ///   never contains the key.
    /// - **Without keys**: a debug build generates [`Keys::ephemeral`] and logs a loud warning
    ///   (tokens die with the process); a release build, or `SECURE_ENV=production`, refuses
    ///   to start.
    /// - **Unknown `SECURE_*` names** are refused with the closest known one, so a typo in a
    ///   key's name is not silently replaced by a development key (`SECURE_TEST_*` names are
    ///   left to test harnesses).
    ///
    /// Unset variables keep the defaults of [`SecurityConfig::new`].
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut vars = Vec::new();
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            if !name.starts_with("SECURE_") {
                continue;
            }
            let value = value
                .into_string()
                .map_err(|_| env_error(name, "is not valid UTF-8"))?;
            vars.push((name.to_owned(), value));
        }
        Self::from_vars(vars, Profile::current())
    }

    /// [`from_env`](SecurityConfig::from_env) over the given variables (names without the
    /// `SECURE_` prefix are ignored): for tests, and for settings kept elsewhere.
    ///
    /// ```
    /// use secure_core::config::{ConfigError, Profile, SecurityConfig};
    ///
    /// let config = SecurityConfig::from_vars([("SECURE_BODY_LIMIT", "16KiB")], Profile::Debug)?;
    /// assert_eq!(config.body_limit_bytes(), 16 * 1024);
    /// assert!(config.keys().is_some_and(|k| k.is_ephemeral()));
    ///
    /// let err = SecurityConfig::from_vars([("SECURE_JWT_KEY", "changeme")], Profile::Release);
    /// assert_eq!(
    ///     err.unwrap_err().to_string(),
    ///     "SECURE_JWT_KEY: is 8 bytes; at least 32 are needed (for example `openssl rand -base64 48`)"
    /// );
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn from_vars<I, K, V>(vars: I, profile: Profile) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars = Vars(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .filter(|(k, _)| k.starts_with("SECURE_") && !k.starts_with(TEST_PREFIX))
                .collect(),
        );
        for (name, _) in &vars.0 {
            if !VARIABLES.iter().any(|(known, _)| known == name) {
                return Err(env_error(name, unknown_reason(name)));
            }
        }

        let production = match vars.value("SECURE_ENV").map(str::trim) {
            None => profile == Profile::Release,
            Some("production") => true,
            Some("development") if profile == Profile::Release => {
                return Err(env_error(
                    "SECURE_ENV",
                    "`development` is refused by a release build; build in debug mode to run on development keys",
                ));
            }
            Some("development") => false,
            Some(_) => {
                return Err(env_error(
                    "SECURE_ENV",
                    "must be `development` or `production`",
                ));
            }
        };

        let mut config = SecurityConfig::new();
        config.keys = Some(read_keys(&vars, production)?);

        if let Some(bytes) = vars.parse("SECURE_BODY_LIMIT", parse_size)? {
            config.body_limit = bytes;
        }
        if let Some(timeout) = vars.parse("SECURE_REQUEST_TIMEOUT", parse_duration)? {
            config.request_timeout = Some(timeout);
        }
        if let Some(depth) = vars.parse("SECURE_JSON_MAX_DEPTH", |v| {
            parse_in_range(v, 1, crate::extract::MAX_JSON_DEPTH)
        })? {
            config.json_max_depth = depth;
        }
        if let Some(concurrent) = vars.parse("SECURE_PASSWORD_HASHES", |v| {
            parse_in_range(v, 1, HashLimit::MAX_CONCURRENT)
        })? {
            config.hash_limit.concurrent = concurrent;
        }
        if let Some(wait) = vars.parse("SECURE_PASSWORD_HASH_WAIT", |v| {
            // Waiting longer than 30 s is as good as refused.
            secure_units::duration(v, Duration::from_millis(1), Duration::from_secs(30))
                .map_err(|e| e.to_string())
        })? {
            config.hash_limit.wait = wait;
        }
        config.connections = read_connections(&vars)?;
        config.rate_limiter = std::sync::Arc::new(read_rate_limiter(&vars)?);
        config.clients = std::sync::Arc::new(read_client_addresses(&vars)?);
        config.headers = read_headers(&vars)?;
        config.cors = read_cors(&vars)?;
        config.oidc = read_oidc(&vars)?;
        Ok(config)
    }
}

fn unknown_reason(name: &str) -> String {
    let closest = VARIABLES
        .iter()
        .map(|(known, _)| (edit_distance(name, known), *known))
        .min();
    match closest {
        Some((distance, known)) if distance <= 3 => {
            format!("unknown setting; did you mean `{known}`?")
        }
        _ => "unknown setting (see secure_core::config::VARIABLES)".to_owned(),
    }
}

/// Levenshtein distance over bytes (variable names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// One key: from `NAME` or from the file `NAME_FILE`, checked; `None` when neither is set.
fn read_key(vars: &Vars, name: &str) -> Result<Option<Vec<u8>>, ConfigError> {
    let file_var = format!("{name}_FILE");
    // The key, the variable it came from, and how to name it in an error.
    let (mut key, var, what) = match (vars.value(name), vars.value(&file_var)) {
        (Some(_), Some(_)) => {
            return Err(env_error(
                name,
                format!("set both {name} and {file_var}; keep one"),
            ));
        }
        (Some(value), None) => (value.as_bytes().to_vec(), name, String::new()),
        (None, Some(path)) => {
            let mut bytes = std::fs::read(path)
                .map_err(|e| env_error(&file_var, format!("cannot read `{path}`: {}", e.kind())))?;
            // Files written by `echo` or editors end with a newline that is not part of the key.
            if bytes.ends_with(b"\r\n") {
                bytes.truncate(bytes.len() - 2);
            } else if bytes.ends_with(b"\n") {
                bytes.truncate(bytes.len() - 1);
            }
            (bytes, file_var.as_str(), format!("the key in `{path}` "))
        }
        (None, None) => return Ok(None),
    };
    if let Some(reason) = weakness(&key) {
        use zeroize::Zeroize as _;
        key.zeroize();
        return Err(env_error(var, format!("{what}{reason}")));
    }
    Ok(Some(key))
}

fn read_keys(vars: &Vars, production: bool) -> Result<Keys, ConfigError> {
    let material = KeyMaterial {
        jwt: read_key(vars, "SECURE_JWT_KEY")?,
        jwt_previous: read_key(vars, "SECURE_JWT_KEY_PREVIOUS")?,
        csrf: read_key(vars, "SECURE_CSRF_KEY")?,
        csrf_previous: read_key(vars, "SECURE_CSRF_KEY_PREVIOUS")?,
        data: read_key(vars, "SECURE_DATA_KEY")?,
        data_previous: read_key(vars, "SECURE_DATA_KEY_PREVIOUS")?,
    };
    refuse_reused_keys(&material)?;
    if material.jwt_previous.is_some() && material.jwt.is_none() {
        return Err(env_error(
            "SECURE_JWT_KEY_PREVIOUS",
            "set without SECURE_JWT_KEY: the previous key only verifies old tokens, the current one signs",
        ));
    }
    if material.csrf_previous.is_some() && material.csrf.is_none() {
        return Err(env_error(
            "SECURE_CSRF_KEY_PREVIOUS",
            "set without SECURE_CSRF_KEY: the previous key only accepts old tokens, the current one makes them",
        ));
    }
    if material.data_previous.is_some() && material.data.is_none() {
        return Err(env_error(
            "SECURE_DATA_KEY_PREVIOUS",
            "set without SECURE_DATA_KEY: the previous key only opens old values, the current one seals",
        ));
    }
    let missing: Vec<&str> = [
        ("SECURE_JWT_KEY", material.jwt.is_none()),
        ("SECURE_CSRF_KEY", material.csrf.is_none()),
        ("SECURE_DATA_KEY", material.data.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, missing)| missing.then_some(name))
    .collect();
    if let Some(first) = missing.first() {
        if production {
            return Err(env_error(
                first,
                format!(
                    "not set: production needs {} (or the _FILE form); development keys are generated only by debug builds",
                    english_list(&missing)
                ),
            ));
        }
        warn_ephemeral(&missing);
    }
    Ok(Keys::from_material(material))
}

/// `A`, `A and B`, `A, B and C`.
fn english_list(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// One key in two places would let a token of one kind pass for another (a CSRF token for a
/// signature, say) and tie their rotations together: each key must be its own.
fn refuse_reused_keys(material: &KeyMaterial) -> Result<(), ConfigError> {
    let keys = [
        ("SECURE_JWT_KEY", &material.jwt),
        ("SECURE_JWT_KEY_PREVIOUS", &material.jwt_previous),
        ("SECURE_CSRF_KEY", &material.csrf),
        ("SECURE_CSRF_KEY_PREVIOUS", &material.csrf_previous),
        ("SECURE_DATA_KEY", &material.data),
        ("SECURE_DATA_KEY_PREVIOUS", &material.data_previous),
    ];
    for (i, (name, key)) in keys.iter().enumerate() {
        let Some(key) = key else { continue };
        let key = super::keys::normalized(key);
        if let Some((earlier, _)) = keys[..i].iter().find(|(_, other)| {
            other
                .as_ref()
                .is_some_and(|o| super::keys::normalized(o) == key)
        }) {
            return Err(env_error(
                name,
                format!(
                    "is the same key as {earlier}; every key must be its own (`openssl rand -base64 48` for each)"
                ),
            ));
        }
    }
    Ok(())
}

fn warn_ephemeral(missing: &[&str]) {
    let names = missing.join(", ");
    tracing::warn!(
        target: "secure::config",
        missing = %names,
        "DEVELOPMENT KEYS: generated for this process only; tokens and sessions end with it. Never run like this in production."
    );
    eprintln!(
        "\n\
         ************************************************************************\n\
         *  WARNING: DEVELOPMENT KEYS                                           *\n\
         *  {names:<68}*\n\
         *  not set: random keys were generated for this process only.         *\n\
         *  Tokens and sessions end with it. Never run like this in production. *\n\
         ************************************************************************\n"
    );
}

fn read_rate_limiter(vars: &Vars) -> Result<RateLimiter, ConfigError> {
    let mut limiter = RateLimiter::new();
    if let Some(url) = vars.value("SECURE_REDIS_URL").map(str::trim) {
        limiter = with_redis(limiter, url)?;
    }
    if let Some(rate) = vars.parse("SECURE_RATE_LIMIT", parse_rate)? {
        limiter = match rate {
            Some(rate) => limiter.default_limit(rate.count, Duration::from_secs(rate.period_secs)),
            None => limiter.without_default_limit(),
        };
    }
    Ok(limiter)
}

fn read_client_addresses(vars: &Vars) -> Result<ClientAddresses, ConfigError> {
    let mut clients = ClientAddresses::new();
    if let Some(header) = vars.parse("SECURE_PROXY_HEADER", |v| {
        match v.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ProxyHeader::XForwardedFor),
            "forwarded" => Ok(ProxyHeader::Forwarded),
            _ => Err("must be `x-forwarded-for` or `forwarded`".to_owned()),
        }
    })? {
        clients = clients.proxy_header(header);
    }
    if let Some(ranges) = vars.parse("SECURE_TRUSTED_PROXIES", |v| {
        v.split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| r.parse::<Cidr>().map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()
    })? {
        clients = clients.trust_proxy_ranges(ranges);
    }
    if let Some(bits) = vars.parse("SECURE_IPV6_PREFIX", |v| parse_in_range(v, 32, 128))? {
        clients = clients.ipv6_prefix(u8::try_from(bits).unwrap_or(128));
    }
    Ok(clients)
}

fn read_connections(vars: &Vars) -> Result<ConnectionLimits, ConfigError> {
    let mut limits = ConnectionLimits::new();
    if let Some(timeout) = vars.parse("SECURE_HEADER_READ_TIMEOUT", |v| {
        secure_units::duration(v, Duration::from_millis(100), Duration::from_secs(300))
            .map_err(|e| e.to_string())
    })? {
        limits = limits.header_read_timeout(timeout);
    }
    if let Some(timeout) = vars.parse("SECURE_IDLE_TIMEOUT", |v| {
        secure_units::duration(v, Duration::from_secs(1), Duration::from_secs(3600))
            .map_err(|e| e.to_string())
    })? {
        limits = limits.idle_timeout(timeout);
    }
    if let Some(cap) = vars.parse("SECURE_CONNECTIONS_PER_ADDRESS", |v| {
        if v.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        parse_in_range(v, 1, 1 << 20)
            .map(|n| Some(u32::try_from(n).unwrap_or(u32::MAX)))
            .map_err(|e| format!("{e}, or `off`"))
    })? {
        limits = match cap {
            Some(cap) => limits.per_address(cap),
            None => limits.without_per_address_limit(),
        };
    }
    if let Some(max) = vars.parse("SECURE_MAX_CONNECTIONS", |v| parse_in_range(v, 1, 1 << 20))? {
        limits = limits.max_connections(max);
    }
    Ok(limits)
}

fn read_headers(vars: &Vars) -> Result<SecurityHeaders, ConfigError> {
    let mut headers = vars
        .parse("SECURE_HEADERS", |v| match v {
            "api" => Ok(SecurityHeaders::api()),
            "web" => Ok(SecurityHeaders::web()),
            _ => Err("must be `api` or `web`".to_owned()),
        })?
        .unwrap_or_else(SecurityHeaders::api);
    if vars.parse("SECURE_HSTS_PRELOAD", parse_bool)? == Some(true) {
        headers = headers.hsts_preload();
    }
    Ok(headers)
}

fn read_cors(vars: &Vars) -> Result<Option<CorsConfig>, ConfigError> {
    let credentials = vars.parse("SECURE_CORS_CREDENTIALS", parse_bool)?;
    let Some(origins) = vars.value("SECURE_CORS_ORIGINS") else {
        if credentials.is_some() {
            return Err(env_error(
                "SECURE_CORS_CREDENTIALS",
                "set without SECURE_CORS_ORIGINS",
            ));
        }
        return Ok(None);
    };
    let mut builder = CorsConfig::builder()
        .allow_origins(origins.split(',').map(str::trim).filter(|o| !o.is_empty()));
    if credentials == Some(true) {
        builder = builder.allow_credentials();
    }
    builder
        .build()
        .map(Some)
        .map_err(|e| env_error("SECURE_CORS_ORIGINS", e.to_string()))
}

fn parse_in_range(value: &str, min: usize, max: usize) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{value}` is not a whole number from {min} to {max}"
        )),
    }
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("`{value}` is not `true` or `false`")),
    }
}

/// The grammars are `secure-units`', shared with `#[secure_handler]`: a value that compiles in
/// an attribute is accepted here, with the same messages.
fn parse_size(value: &str) -> Result<usize, String> {
    let bytes = secure_units::size(value).map_err(|e| e.to_string())?;
    usize::try_from(bytes).map_err(|_| format!("`{value}` is too large for this platform"))
}

/// A request timeout: from 1 ms to 1 h.
fn parse_duration(value: &str) -> Result<Duration, String> {
    secure_units::duration(value, Duration::from_millis(1), Duration::from_secs(3600))
        .map_err(|e| e.to_string())
}

/// `300/min` → the rate; `off` → `None`.
fn parse_rate(value: &str) -> Result<Option<secure_units::Rate>, String> {
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    secure_units::rate(value)
        .map(Some)
        .map_err(|e| format!("{e}, or `off`"))
}

/// The limits in Redis at `url`, connected on the first decision (start-up does not wait for
/// Redis). Errors never repeat the URL: it may hold a password.
#[cfg(feature = "redis")]
fn with_redis(limiter: RateLimiter, url: &str) -> Result<RateLimiter, ConfigError> {
    const VAR: &str = "SECURE_REDIS_URL";
    if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
        return Err(env_error(VAR, "must be a `redis://` or `rediss://` URL"));
    }
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(env_error(
            VAR,
            "is read inside the tokio runtime (its connection is made there)",
        ));
    }
    match crate::ratelimit::RedisStore::connect_lazy(url) {
        Ok(store) => Ok(limiter.redis(store)),
        Err(e) => Err(env_error(
            VAR,
            format!("is not a usable Redis URL ({:?})", e.kind()),
        )),
    }
}

#[cfg(not(feature = "redis"))]
fn with_redis(_: RateLimiter, _: &str) -> Result<RateLimiter, ConfigError> {
    Err(env_error(
        "SECURE_REDIS_URL",
        "needs secure-core's `redis` feature",
    ))
}

/// `SECURE_OIDC_*`: read and checked for form here; the provider is built from them by
/// `SecurityConfig::oidc_provider`, which knows the app's roles.
fn read_oidc(vars: &Vars) -> Result<Option<super::OidcSettings>, ConfigError> {
    let others = [
        "SECURE_OIDC_AUDIENCE",
        "SECURE_OIDC_ROLES_CLAIM",
        "SECURE_OIDC_ROLES",
        "SECURE_OIDC_MFA_ACR",
    ];
    let Some(issuer) = vars.value("SECURE_OIDC_ISSUER").map(str::trim) else {
        if let Some(set) = others.iter().find(|name| vars.value(name).is_some()) {
            return Err(env_error(set, "needs SECURE_OIDC_ISSUER"));
        }
        return Ok(None);
    };
    if !cfg!(feature = "oidc") {
        return Err(env_error(
            "SECURE_OIDC_ISSUER",
            "needs secure-core's `oidc` feature",
        ));
    }
    let audience = vars
        .value("SECURE_OIDC_AUDIENCE")
        .map(str::trim)
        .ok_or_else(|| {
            env_error(
                "SECURE_OIDC_AUDIENCE",
                "is required with SECURE_OIDC_ISSUER",
            )
        })?;
    let list = |v: &str| -> Vec<String> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let roles_claim = vars
        .value("SECURE_OIDC_ROLES_CLAIM")
        .map(str::trim)
        .map(|claim| {
            // A namespaced claim (`https://notes.example/roles`) is one name; else dots
            // separate the members of the path.
            if claim.contains("://") {
                vec![claim.to_owned()]
            } else {
                claim.split('.').map(str::to_owned).collect()
            }
        })
        .unwrap_or_default();
    let roles = vars
        .parse("SECURE_OIDC_ROLES", |v| {
            list(v)
                .into_iter()
                .map(|pair| match pair.split_once('=') {
                    Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => {
                        Ok((from.trim().to_owned(), to.trim().to_owned()))
                    }
                    _ => Err(format!("`{pair}` is not `provider-role=app_role`")),
                })
                .collect::<Result<Vec<_>, _>>()
        })?
        .unwrap_or_default();
    if !roles.is_empty() && roles_claim.is_empty() {
        return Err(env_error(
            "SECURE_OIDC_ROLES",
            "needs SECURE_OIDC_ROLES_CLAIM",
        ));
    }
    Ok(Some(super::OidcSettings {
        issuer: issuer.to_owned(),
        audience: audience.to_owned(),
        roles_claim,
        roles,
        mfa_acr: vars
            .value("SECURE_OIDC_MFA_ACR")
            .map(list)
            .unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_durations_rates() {
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("100"), Ok(100));
        // What `#[secure_handler(body_limit = "64KB")]` accepts, the variable accepts too.
        assert_eq!(parse_size("64KB"), Ok(64_000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("99999999999999999999").is_err());
        assert!(parse_size("65MiB").unwrap_err().contains("64MiB"));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2min"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("30").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("2h").is_err());
        let rate = |count, period_secs| Ok(Some(secure_units::Rate { count, period_secs }));
        assert_eq!(parse_rate("300/min"), rate(300, 60));
        assert_eq!(parse_rate("OFF"), Ok(None));
        assert_eq!(parse_rate("5/m"), rate(5, 60));
        assert!(parse_rate("5/fortnight").unwrap_err().ends_with("or `off`"));
        assert!(parse_rate("0/min").is_err());
    }

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(
            unknown_reason("SECURE_JWT_KYE"),
            "unknown setting; did you mean `SECURE_JWT_KEY`?"
        );
        assert_eq!(
            unknown_reason("SECURE_SOMETHING_ELSE_ENTIRELY"),
            "unknown setting (see secure_core::config::VARIABLES)"
        );
    }
}
