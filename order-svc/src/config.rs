//! order-svc's settings. Besides the shared ones ([`service_kit::config`]):
//!
//! - `CATALOG_GRPC_URL` (`http://127.0.0.1:50053`): catalog-svc, asked for
//!   each order's showtime.
//! - `CATALOG_TIMEOUT_MILLIS` (2000): how long to wait for it (50–60000);
//!   past it, CreateOrder answers UNAVAILABLE and writes nothing.
//! - `ORDER_HOLD_SECONDS` (600): how long a PENDING order holds its seats
//!   (30–86400).
//! - `ORDER_SWEEP_INTERVAL_SECONDS` (5): how often expired holds are
//!   released and expired idempotency keys deleted (1–3600).
//! - `MAX_TICKETS_PER_ORDER` (10): seats one order may hold (1–50).
//! - `IDEMPOTENCY_KEY_TTL_HOURS` (24): how long a CreateOrder key names its
//!   request (1–720; [`service_kit::idempotency::ttl_from_env`]).
//! - `DOORS_OPEN_MINUTES` (30): a ticket admits from this long before its
//!   showing starts until the showing ends (0–240).
//! - `CINEMA_TIME_ZONE` (`Asia/Jakarta`): the cinema's clock (IANA name), as
//!   catalog-svc reads it; the times order-svc's refusals give are on it.
//! - `EVENT_POLL_INTERVAL_MILLIS` (1000), `NATS_URL` and `EVENT_RELAY_*`:
//!   events, as in every service ([`service_kit::outbox::relay::RelayConfig`]).
//!   The same NATS carries the catalog's events, which order-svc follows
//!   for cancelled showtimes; without `NATS_URL` it does not.

use std::time::Duration;

use chrono_tz::Tz;
use service_kit::config::{self, CommonConfig, ConfigError};
use service_kit::outbox::relay::RelayConfig;

pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:50054";

#[derive(Debug, Clone)]
pub struct OrderConfig {
    pub common: CommonConfig,
    pub catalog_url: String,
    pub catalog_timeout: Duration,
    pub hold: Duration,
    pub sweep_interval: Duration,
    pub max_tickets: i32,
    /// How long an idempotency key names the order it made.
    pub idempotency_ttl: chrono::Duration,
    /// How long before its showing's start a ticket admits.
    pub doors_open: chrono::Duration,
    /// The cinema's clock, for the times refusals give.
    pub time_zone: Tz,
    pub event_poll_interval: Duration,
    /// `None`: no relay, and no following of the catalog (NATS_URL unset).
    pub relay: Option<RelayConfig>,
}

impl OrderConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(DEFAULT_LISTEN_ADDR)?,
            catalog_url: config::grpc_url_or("CATALOG_GRPC_URL", "http://127.0.0.1:50053")?,
            catalog_timeout: Duration::from_millis(config::ranged_or(
                "CATALOG_TIMEOUT_MILLIS",
                2000,
                50..=60_000,
            )?),
            hold: config::seconds_or("ORDER_HOLD_SECONDS", 600, 30..=86_400)?,
            sweep_interval: config::seconds_or("ORDER_SWEEP_INTERVAL_SECONDS", 5, 1..=3600)?,
            max_tickets: config::ranged_or("MAX_TICKETS_PER_ORDER", 10, 1..=50)?,
            idempotency_ttl: service_kit::idempotency::ttl_from_env()?,
            doors_open: chrono::Duration::minutes(config::ranged_or(
                "DOORS_OPEN_MINUTES",
                DEFAULT_DOORS_OPEN_MINUTES,
                0..=240,
            )?),
            time_zone: time_zone_from_env()?,
            event_poll_interval: service_kit::outbox::poll_interval_from_env()?,
            relay: RelayConfig::from_env()?,
        })
    }

    /// The defaults, on the given shared settings and catalog-svc's URL
    /// (for tests and tools).
    pub fn with_defaults(common: CommonConfig, catalog_url: impl Into<String>) -> Self {
        Self {
            common,
            catalog_url: catalog_url.into(),
            catalog_timeout: Duration::from_secs(2),
            hold: Duration::from_secs(600),
            sweep_interval: Duration::from_secs(5),
            max_tickets: 10,
            idempotency_ttl: chrono::Duration::hours(service_kit::idempotency::DEFAULT_TTL_HOURS),
            doors_open: chrono::Duration::minutes(DEFAULT_DOORS_OPEN_MINUTES),
            time_zone: DEFAULT_TIME_ZONE,
            event_poll_interval: Duration::from_secs(1),
            relay: None,
        }
    }
}

const DEFAULT_DOORS_OPEN_MINUTES: i64 = 30;
const DEFAULT_TIME_ZONE: Tz = chrono_tz::Asia::Jakarta;

/// `CINEMA_TIME_ZONE`, read as catalog-svc reads it.
fn time_zone_from_env() -> Result<Tz, ConfigError> {
    let Some(zone) = config::var("CINEMA_TIME_ZONE") else {
        return Ok(DEFAULT_TIME_ZONE);
    };
    zone.trim().parse::<Tz>().map_err(|_| ConfigError::Invalid {
        name: "CINEMA_TIME_ZONE",
        value: zone.clone(),
        reason: "expected an IANA time zone such as Asia/Jakarta".into(),
    })
}
