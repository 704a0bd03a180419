//! The edge's settings:
//!
//! - `LISTEN_ADDR` (`127.0.0.1:8080`): the HTTP address.
//! - `AUTH_GRPC_URL` (`http://127.0.0.1:50051`), `RESERVATION_GRPC_URL`
//!   (`…:50052`), `CATALOG_GRPC_URL` (`…:50053`), `ORDER_GRPC_URL` (`…:50054`).

use std::net::SocketAddr;

use service_kit::config::{self, ConfigError};

pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:8080";

#[derive(Debug, Clone)]
pub struct EdgeConfig {
    pub listen_addr: SocketAddr,
    pub upstreams: Vec<Upstream>,
}

/// A gRPC service the edge forwards to.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// Short name used in `/healthz`: `auth`, `reservation`, …
    pub name: &'static str,
    pub url: String,
}

impl EdgeConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let upstream = |name, variable, default| {
            config::grpc_url_or(variable, default).map(|url| Upstream { name, url })
        };
        Ok(Self {
            listen_addr: config::listen_addr_or(DEFAULT_LISTEN_ADDR)?,
            upstreams: vec![
                upstream("auth", "AUTH_GRPC_URL", "http://127.0.0.1:50051")?,
                upstream(
                    "reservation",
                    "RESERVATION_GRPC_URL",
                    "http://127.0.0.1:50052",
                )?,
                upstream("catalog", "CATALOG_GRPC_URL", "http://127.0.0.1:50053")?,
                upstream("order", "ORDER_GRPC_URL", "http://127.0.0.1:50054")?,
            ],
        })
    }
}
