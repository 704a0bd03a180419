//! Settings shared by every service, read from the environment.
//!
//! - `DATABASE_URL` (required): the service's own PostgreSQL database.
//! - `LISTEN_ADDR`: address to serve gRPC on; each service has its own default.
//! - `AUTH_GRPC_URL` (`http://127.0.0.1:50051`): where the JWKS is fetched.
//! - `JWT_ISSUER` (`kursi`), `JWT_AUDIENCE` (`kursi`): required `iss` and `aud`.
//! - `REQUEST_TIMEOUT_SECONDS` (30), `MAX_CONCURRENT_REQUESTS` (512).
//! - `DATABASE_POOL_SIZE` (10).
//! - `RUST_LOG` (`info`) and `LOG_FORMAT` (`text` or `json`): see [`crate::telemetry`].
//!
//! A missing or malformed setting is an [`ConfigError`] naming the variable, and
//! the binary stops with it before doing anything else.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use crate::clock::Clock;

/// A setting that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required but not set")]
    Missing(&'static str),
    #[error("{name} is invalid ({value:?}): {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

/// A value that must never reach a log line, such as a database URL with a password.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Reads `name`; an unset or empty variable counts as missing.
pub fn var(name: &'static str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

pub fn required(name: &'static str) -> Result<String, ConfigError> {
    var(name).ok_or(ConfigError::Missing(name))
}

/// Parses `name` when set, otherwise returns `default`.
pub fn parsed_or<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(value) => value
            .trim()
            .parse()
            .map_err(|err: T::Err| ConfigError::Invalid {
                name,
                reason: err.to_string(),
                value,
            }),
    }
}

/// Like [`parsed_or`], and refuses values outside `range`.
pub fn ranged_or<T>(
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + fmt::Display + Copy,
    T::Err: fmt::Display,
{
    let value = parsed_or(name, default)?;
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            name,
            value: value.to_string(),
            reason: format!("must be between {} and {}", range.start(), range.end()),
        })
    }
}

pub fn seconds_or(
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Duration, ConfigError> {
    ranged_or(name, default, range).map(Duration::from_secs)
}

/// An `http://` or `https://` URL of another service.
pub fn grpc_url_or(name: &'static str, default: &str) -> Result<String, ConfigError> {
    let value = var(name).unwrap_or_else(|| default.to_owned());
    match value.parse::<http::Uri>() {
        Ok(uri) if matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some() => {
            Ok(value)
        }
        _ => Err(ConfigError::Invalid {
            name,
            value,
            reason: "expected an http:// or https:// URL such as http://127.0.0.1:50051".into(),
        }),
    }
}

/// Settings every service reads.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    pub database_url: Secret,
    pub listen_addr: SocketAddr,
    pub auth_grpc_url: String,
    pub jwt: JwtSettings,
    pub request_timeout: Duration,
    pub max_concurrent_requests: usize,
    pub database_pool_size: u32,
    /// How long a request waits for a database connection before it is
    /// told UNAVAILABLE (`DATABASE_CONNECT_TIMEOUT_SECONDS`).
    pub database_connect_timeout: Duration,
    /// Where `GET /metrics` is served (`METRICS_ADDR`); `None`: nowhere.
    pub metrics_addr: Option<SocketAddr>,
    /// A client's connection is asked to move on after this long
    /// (`MAX_CONNECTION_AGE_SECONDS`), so that replicas added later get
    /// their share of long-lived HTTP/2 connections.
    pub max_connection_age: Duration,
    /// Not a setting: the system clock, which tests replace with one they
    /// move forward.
    pub clock: Clock,
}

/// What an access token must say to be accepted.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    pub issuer: String,
    pub audience: String,
    /// How far past its `exp` (or before its `nbf`) a token is still
    /// taken, for clocks that disagree a little. A few seconds: every
    /// second of it is a second an expired token still works.
    pub leeway: Duration,
}

impl Default for JwtSettings {
    fn default() -> Self {
        Self {
            issuer: "kursi".into(),
            audience: "kursi".into(),
            leeway: Duration::from_secs(DEFAULT_JWT_LEEWAY_SECONDS),
        }
    }
}

const DEFAULT_JWT_LEEWAY_SECONDS: u64 = 5;

impl JwtSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            issuer: var("JWT_ISSUER").unwrap_or_else(|| "kursi".into()),
            audience: var("JWT_AUDIENCE").unwrap_or_else(|| "kursi".into()),
            leeway: seconds_or("JWT_LEEWAY_SECONDS", DEFAULT_JWT_LEEWAY_SECONDS, 0..=300)?,
        })
    }
}

impl CommonConfig {
    /// Reads the shared settings; `default_listen` is the service's own port.
    pub fn from_env(default_listen: &str) -> Result<Self, ConfigError> {
        let database_url = required("DATABASE_URL")?;
        crate::db::DatabaseUrl::parse(&database_url).map_err(|reason| ConfigError::Invalid {
            name: "DATABASE_URL",
            value: "(hidden)".into(),
            reason,
        })?;
        Ok(Self {
            database_url: Secret::new(database_url),
            listen_addr: listen_addr_or(default_listen)?,
            auth_grpc_url: grpc_url_or("AUTH_GRPC_URL", "http://127.0.0.1:50051")?,
            jwt: JwtSettings::from_env()?,
            request_timeout: seconds_or("REQUEST_TIMEOUT_SECONDS", 30, 1..=3600)?,
            max_concurrent_requests: ranged_or("MAX_CONCURRENT_REQUESTS", 512, 1..=100_000)?,
            database_pool_size: ranged_or("DATABASE_POOL_SIZE", 10, 1..=1000)?,
            database_connect_timeout: seconds_or("DATABASE_CONNECT_TIMEOUT_SECONDS", 1, 1..=60)?,
            metrics_addr: metrics_addr()?,
            max_connection_age: seconds_or("MAX_CONNECTION_AGE_SECONDS", 300, 10..=86_400)?,
            clock: Clock::system(),
        })
    }
}

/// `METRICS_ADDR` (`HOST:PORT`): where `GET /metrics` is served; unset or
/// empty, metrics are not served.
pub fn metrics_addr() -> Result<Option<SocketAddr>, ConfigError> {
    match var("METRICS_ADDR") {
        None => Ok(None),
        Some(value) => value.parse().map(Some).map_err(|_| ConfigError::Invalid {
            name: "METRICS_ADDR",
            value,
            reason: "expected HOST:PORT with a numeric host, such as 127.0.0.1:9090".into(),
        }),
    }
}

pub fn listen_addr_or(default: &str) -> Result<SocketAddr, ConfigError> {
    let value = var("LISTEN_ADDR").unwrap_or_else(|| default.to_owned());
    value.parse().map_err(|_| ConfigError::Invalid {
        name: "LISTEN_ADDR",
        value,
        reason: "expected HOST:PORT with a numeric host, such as 127.0.0.1:50051".into(),
    })
}
