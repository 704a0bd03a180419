//! The edge's settings:
//!
//! - `LISTEN_ADDR` (`127.0.0.1:8080`): the HTTP address (HTTP/1.1 and h2c).
//! - `AUTH_GRPC_URL` (`http://127.0.0.1:50051`), `RESERVATION_GRPC_URL`
//!   (`…:50052`), `CATALOG_GRPC_URL` (`…:50053`), `ORDER_GRPC_URL` (`…:50054`):
//!   the service behind each contract package (`kursi.<name>.v1`). A package
//!   added later is served from `<NAME>_GRPC_URL`.
//! - `JWT_ISSUER` (`kursi`), `JWT_AUDIENCE` (`kursi`): what tokens must say.
//! - `REQUEST_TIMEOUT_SECONDS` (30): the deadline of a call whose caller
//!   names none; `MAX_REQUEST_TIMEOUT_SECONDS` (300): the longest one a
//!   caller may ask for with `Grpc-Timeout` or `X-Request-Timeout`.
//! - `MAX_BODY_BYTES` (1048576): larger request bodies get 413.
//! - `CORS_ALLOWED_ORIGINS` (empty: no CORS): comma-separated origins such
//!   as `https://app.example.com`, or `*` for any.
//! - `METRICS_ADDR` (unset: none): where `GET /metrics` is served.
//! - What a client may take of the edge ([`ClientLimits`], `server.rs` says
//!   how each is applied): `EDGE_MAX_CONNECTIONS` (10000),
//!   `EDGE_HEADER_READ_TIMEOUT_SECONDS` (10), `EDGE_BODY_IDLE_TIMEOUT_SECONDS`
//!   (10), `EDGE_BODY_TIMEOUT_SECONDS` (60), `EDGE_IDLE_TIMEOUT_SECONDS` (60),
//!   `EDGE_MAX_HEADERS` (100), `EDGE_MAX_HEADER_BYTES` (65536),
//!   `EDGE_H2_MAX_CONCURRENT_STREAMS` (100).

use std::net::SocketAddr;
use std::time::Duration;

use prost_reflect::DescriptorPool;
use service_kit::config::{self, ConfigError, JwtSettings};

pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:8080";

/// The services the edge knows a default address for.
const KNOWN_UPSTREAMS: [(&str, &str, &str); 4] = [
    ("auth", "AUTH_GRPC_URL", "http://127.0.0.1:50051"),
    (
        "reservation",
        "RESERVATION_GRPC_URL",
        "http://127.0.0.1:50052",
    ),
    ("catalog", "CATALOG_GRPC_URL", "http://127.0.0.1:50053"),
    ("order", "ORDER_GRPC_URL", "http://127.0.0.1:50054"),
];

#[derive(Debug, Clone)]
pub struct EdgeConfig {
    pub listen_addr: SocketAddr,
    pub upstreams: Vec<Upstream>,
    pub jwt: JwtSettings,
    pub request_timeout: Duration,
    pub max_request_timeout: Duration,
    pub max_body_bytes: usize,
    pub cors: Cors,
    pub clients: ClientLimits,
    /// Where `GET /metrics` is served (`METRICS_ADDR`); `None`: nowhere.
    pub metrics_addr: Option<SocketAddr>,
}

/// What one client may take of the edge: connections, and time to send
/// its side of them. Defaults are what a public edge would use.
#[derive(Debug, Clone)]
pub struct ClientLimits {
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// HTTP/1: time to send a request's headers, from the connection's
    /// start or the end of its previous response.
    pub header_read_timeout: Duration,
    /// The longest pause between two parts of a request body.
    pub body_idle_timeout: Duration,
    /// The longest a whole request body may take.
    pub body_timeout: Duration,
    /// A connection with nothing in flight for this long is closed.
    pub idle_timeout: Duration,
    pub max_headers: usize,
    /// Request headers, in bytes (HTTP/1 head; HTTP/2 header list).
    pub max_header_bytes: usize,
    pub h2_max_concurrent_streams: u32,
}

impl Default for ClientLimits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            header_read_timeout: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            max_headers: 100,
            max_header_bytes: 64 * 1024,
            h2_max_concurrent_streams: 100,
        }
    }
}

impl ClientLimits {
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        let secs = |d: Duration| d.as_secs();
        Ok(Self {
            max_connections: config::ranged_or(
                "EDGE_MAX_CONNECTIONS",
                d.max_connections,
                1..=1_000_000,
            )?,
            header_read_timeout: config::seconds_or(
                "EDGE_HEADER_READ_TIMEOUT_SECONDS",
                secs(d.header_read_timeout),
                1..=3600,
            )?,
            body_idle_timeout: config::seconds_or(
                "EDGE_BODY_IDLE_TIMEOUT_SECONDS",
                secs(d.body_idle_timeout),
                1..=3600,
            )?,
            body_timeout: config::seconds_or(
                "EDGE_BODY_TIMEOUT_SECONDS",
                secs(d.body_timeout),
                1..=86_400,
            )?,
            idle_timeout: config::seconds_or(
                "EDGE_IDLE_TIMEOUT_SECONDS",
                secs(d.idle_timeout),
                1..=86_400,
            )?,
            max_headers: config::ranged_or("EDGE_MAX_HEADERS", d.max_headers, 16..=10_000)?,
            max_header_bytes: config::ranged_or(
                "EDGE_MAX_HEADER_BYTES",
                d.max_header_bytes,
                8 * 1024..=1024 * 1024,
            )?,
            h2_max_concurrent_streams: config::ranged_or(
                "EDGE_H2_MAX_CONCURRENT_STREAMS",
                d.h2_max_concurrent_streams,
                1..=10_000,
            )?,
        })
    }
}

/// A gRPC service the edge forwards to.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// The package's name in `kursi.<name>.v1`: `auth`, `reservation`, …
    pub name: String,
    pub url: String,
}

impl Upstream {
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            url: url.into(),
        }
    }
}

/// Which browser origins may call the edge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Cors {
    /// No CORS headers: browsers keep other origins out.
    #[default]
    Off,
    Any,
    Origins(Vec<String>),
}

impl EdgeConfig {
    /// The defaults, with these upstreams: what tests start from.
    pub fn new(listen_addr: SocketAddr, upstreams: Vec<Upstream>) -> Self {
        Self {
            listen_addr,
            upstreams,
            jwt: JwtSettings::default(),
            request_timeout: Duration::from_secs(30),
            max_request_timeout: Duration::from_secs(300),
            max_body_bytes: 1024 * 1024,
            cors: Cors::Off,
            clients: ClientLimits::default(),
            metrics_addr: None,
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let mut upstreams = Vec::new();
        for (name, variable, default) in KNOWN_UPSTREAMS {
            upstreams.push(Upstream::new(name, config::grpc_url_or(variable, default)?));
        }
        // A contract package with no default address is served once its
        // `<NAME>_GRPC_URL` is set, and answers 503 until then.
        for name in contract_packages() {
            if upstreams.iter().any(|u| u.name == name) {
                continue;
            }
            let variable = leak(format!("{}_GRPC_URL", name.to_uppercase()));
            if config::var(variable).is_some() {
                upstreams.push(Upstream::new(
                    name.clone(),
                    config::grpc_url_or(variable, "")?,
                ));
            }
        }
        Ok(Self {
            listen_addr: config::listen_addr_or(DEFAULT_LISTEN_ADDR)?,
            upstreams,
            jwt: JwtSettings::from_env()?,
            request_timeout: config::seconds_or("REQUEST_TIMEOUT_SECONDS", 30, 1..=3600)?,
            max_request_timeout: config::seconds_or(
                "MAX_REQUEST_TIMEOUT_SECONDS",
                300,
                1..=86_400,
            )?,
            max_body_bytes: config::ranged_or(
                "MAX_BODY_BYTES",
                1024 * 1024,
                1024..=64 * 1024 * 1024,
            )?,
            cors: cors_from_env()?,
            clients: ClientLimits::from_env()?,
            metrics_addr: config::metrics_addr()?,
        })
    }
}

/// Variable names are `&'static str` in service-kit's helpers; the one of a
/// package added after these four lives as long as the process anyway.
fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

/// `reservation` for every `kursi.reservation.v1` service in the contracts.
fn contract_packages() -> Vec<String> {
    let Ok(pool) = DescriptorPool::decode(kursi_proto::FILE_DESCRIPTOR_SET) else {
        return Vec::new();
    };
    let mut names: Vec<String> = pool
        .services()
        .map(|service| crate::routes::upstream_name(service.package_name()))
        .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    names.sort();
    names.dedup();
    names
}

fn cors_from_env() -> Result<Cors, ConfigError> {
    let Some(value) = config::var("CORS_ALLOWED_ORIGINS") else {
        return Ok(Cors::Off);
    };
    parse_cors(&value).map_err(|reason| ConfigError::Invalid {
        name: "CORS_ALLOWED_ORIGINS",
        value,
        reason,
    })
}

fn parse_cors(value: &str) -> Result<Cors, String> {
    let origins: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if origins == ["*"] {
        return Ok(Cors::Any);
    }
    for origin in &origins {
        let uri: http::Uri = origin
            .parse()
            .map_err(|_| format!("{origin:?} is not an origin such as https://app.example.com"))?;
        let plain = matches!(uri.scheme_str(), Some("http" | "https"))
            && uri.host().is_some()
            && uri.path_and_query().is_none_or(|p| p.as_str() == "/")
            && !origin.ends_with('/');
        if !plain {
            return Err(format!(
                "{origin:?} is not an origin such as https://app.example.com (scheme, host and port only)"
            ));
        }
    }
    if origins.is_empty() {
        return Ok(Cors::Off);
    }
    Ok(Cors::Origins(
        origins.into_iter().map(str::to_owned).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origins() {
        assert_eq!(parse_cors("*"), Ok(Cors::Any));
        assert_eq!(
            parse_cors("https://a.example, http://localhost:3000"),
            Ok(Cors::Origins(vec![
                "https://a.example".into(),
                "http://localhost:3000".into()
            ]))
        );
        assert!(parse_cors("https://a.example/path").is_err());
        assert!(parse_cors("a.example").is_err());
        assert!(parse_cors("https://a.example/").is_err());
    }

    #[test]
    fn the_contracts_name_the_known_upstreams() {
        let names = contract_packages();
        for (known, _, _) in KNOWN_UPSTREAMS {
            assert!(names.iter().any(|n| n == known), "{names:?}");
        }
    }
}
