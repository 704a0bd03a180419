//! The relay's settings, read by every service with events:
//!
//! - `NATS_URL` (none): the NATS server (JetStream on) to publish to, e.g.
//!   `nats://127.0.0.1:4222`. Unset or empty: no relay; the gRPC Watch
//!   stream still serves every event.
//! - `EVENT_RELAY_BATCH` (100): events read and published per round (1–10000).
//! - `EVENT_RELAY_LEASE_SECONDS` (15): how long a replica's turn to relay
//!   lasts unless renewed (3–600); a replica that dies hands over after it.
//! - `EVENT_RELAY_DUPLICATE_WINDOW_SECONDS` (300): the stream's duplicate
//!   window, within which JetStream drops an event published twice (10–86400).
//! - `EVENT_STREAM_REPLICAS` (1): copies JetStream keeps of the stream
//!   (1–5; more only on a NATS cluster).

use std::time::Duration;

use crate::config::{self, ConfigError};

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub nats_url: String,
    pub batch: i64,
    pub lease: Duration,
    pub duplicate_window: Duration,
    pub stream_replicas: usize,
}

impl RelayConfig {
    /// `None` when `NATS_URL` is unset or empty.
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        let Some(nats_url) = config::var("NATS_URL") else {
            return Ok(None);
        };
        let nats_url = nats_url.trim().to_owned();
        if !nats_url.contains("://") && nats_url.contains(' ') {
            return Err(ConfigError::Invalid {
                name: "NATS_URL",
                value: nats_url,
                reason: "expected a URL such as nats://127.0.0.1:4222".into(),
            });
        }
        Ok(Some(Self {
            nats_url,
            batch: config::ranged_or("EVENT_RELAY_BATCH", 100, 1..=10_000)?,
            lease: config::seconds_or("EVENT_RELAY_LEASE_SECONDS", 15, 3..=600)?,
            duplicate_window: config::seconds_or(
                "EVENT_RELAY_DUPLICATE_WINDOW_SECONDS",
                300,
                10..=86_400,
            )?,
            stream_replicas: config::ranged_or("EVENT_STREAM_REPLICAS", 1, 1..=5)?,
        }))
    }

    /// The defaults, publishing to `nats_url` (for tests and tools).
    pub fn new(nats_url: impl Into<String>) -> Self {
        Self {
            nats_url: nats_url.into(),
            batch: 100,
            lease: Duration::from_secs(15),
            duplicate_window: Duration::from_secs(300),
            stream_replicas: 1,
        }
    }
}
