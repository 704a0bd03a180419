//! catalog-svc's settings. Besides the shared ones ([`service_kit::config`])
//! and TheMovieDB's ([`crate::tmdb::settings`]):
//!
//! - `CINEMA_TIME_ZONE` (`Asia/Jakarta`): the cinema's clock (IANA name);
//!   ListShowtimes' days are its days.
//! - `SHOWTIME_TURNAROUND_MINUTES` (15): how long an auditorium stays busy
//!   after a showing ends (0–240).
//! - `SCHEDULE_WINDOW_DAYS` (365): how far ahead a showtime may start (1–730).
//! - `TMDB_IMPORT_PAGES` (1): pages of popular movies the start-up and
//!   periodic imports fetch (1–10).
//! - `TMDB_IMPORT_ON_START` (false): import once when the service starts.
//! - `TMDB_IMPORT_INTERVAL_SECONDS` (0 = never): import this often; a
//!   replica skips when any replica imported less than an interval ago.
//! - `EVENT_POLL_INTERVAL_MILLIS` (1000): how often event streams and the
//!   relay look for events of other replicas.
//! - `NATS_URL` and `EVENT_RELAY_*`: the relay to NATS JetStream
//!   ([`service_kit::outbox::relay::RelayConfig`]).

use std::time::Duration;

use service_kit::config::{self, CommonConfig, ConfigError};
use service_kit::outbox::relay::RelayConfig;

use crate::domain::ScheduleRules;
use crate::tmdb::TmdbSettings;

pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:50053";

#[derive(Debug, Clone)]
pub struct CatalogConfig {
    pub common: CommonConfig,
    pub schedule: ScheduleRules,
    pub tmdb: TmdbSettings,
    pub import: ImportSchedule,
    pub event_poll_interval: Duration,
    /// `None`: no relay (NATS_URL unset).
    pub relay: Option<RelayConfig>,
}

/// When catalog-svc imports by itself.
#[derive(Debug, Clone, Copy)]
pub struct ImportSchedule {
    pub pages: u32,
    pub on_start: bool,
    pub interval: Option<Duration>,
}

impl CatalogConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let zone = config::var("CINEMA_TIME_ZONE").unwrap_or_else(|| "Asia/Jakarta".into());
        let time_zone = zone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| ConfigError::Invalid {
                name: "CINEMA_TIME_ZONE",
                value: zone.clone(),
                reason: "expected an IANA time zone such as Asia/Jakarta".into(),
            })?;
        let interval: u64 = config::ranged_or("TMDB_IMPORT_INTERVAL_SECONDS", 0, 0..=30 * 86_400)?;
        Ok(Self {
            common: CommonConfig::from_env(DEFAULT_LISTEN_ADDR)?,
            schedule: ScheduleRules {
                time_zone,
                turnaround: chrono::Duration::minutes(config::ranged_or(
                    "SHOWTIME_TURNAROUND_MINUTES",
                    15,
                    0..=240,
                )?),
                window: chrono::Duration::days(config::ranged_or(
                    "SCHEDULE_WINDOW_DAYS",
                    365,
                    1..=730,
                )?),
            },
            tmdb: TmdbSettings::from_env()?,
            import: ImportSchedule {
                pages: config::ranged_or("TMDB_IMPORT_PAGES", 1, 1..=10)?,
                on_start: flag("TMDB_IMPORT_ON_START", false)?,
                interval: (interval > 0).then(|| Duration::from_secs(interval)),
            },
            event_poll_interval: service_kit::outbox::poll_interval_from_env()?,
            relay: RelayConfig::from_env()?,
        })
    }

    /// The defaults, on the given shared settings (for tests and tools).
    pub fn with_defaults(common: CommonConfig) -> Self {
        Self {
            common,
            schedule: ScheduleRules::default(),
            tmdb: TmdbSettings::with_defaults(),
            import: ImportSchedule {
                pages: 1,
                on_start: false,
                interval: None,
            },
            event_poll_interval: Duration::from_secs(1),
            relay: None,
        }
    }
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`), any case.
fn flag(name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match config::var(name) {
        None => Ok(default),
        Some(value) => match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(ConfigError::Invalid {
                name,
                value,
                reason: "expected true or false".into(),
            }),
        },
    }
}
