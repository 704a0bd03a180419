//! reservation-svc's settings. Besides the shared ones ([`service_kit::config`]):
//!
//! - `RESTAURANT_TIME_ZONE` (`Asia/Jakarta`): the restaurant's clock (IANA name).
//! - `OPENING_HOURS` (`10:00-23:00`): when bookings may start, restaurant clock.
//! - `PEAK_HOURS` (`18:00-22:00`): starts in this window are peak hours.
//! - `SLOT_MINUTES` (30): the availability grid's step.
//! - `BOOKING_WINDOW_DAYS` (60): how far ahead a start may be.
//! - `TURN_TIMES` (empty): default durations by party size, `2:90,4:105,20:150`.
//! - `DEPOSIT_MIN_PARTY_SIZE` (6), `DEPOSIT_PER_PERSON_IDR` (50000),
//!   `DEPOSIT_REFUND_CUTOFF_HOURS` (24): the deposit policy.
//! - `AUTO_CANCEL_MINUTES` (15): grace after the start before a CONFIRMED
//!   reservation becomes NO_SHOW.
//! - `WAITLIST_OFFER_MINUTES` (15): how long a waitlist offer holds its slot
//!   before it lapses and goes to the next in line.
//! - `SWEEPER_INTERVAL_SECONDS` (30): how often the sweeper runs.
//! - `IDEMPOTENCY_KEY_TTL_HOURS` (24): how long a CreateReservation key names
//!   its request ([`service_kit::idempotency::ttl_from_env`]); the sweeper
//!   deletes expired keys.
//! - `EVENT_POLL_INTERVAL_MILLIS` (1000): how often event streams and the
//!   relay look for events committed by other replicas.
//! - `NATS_URL` and `EVENT_RELAY_*`: the relay to NATS JetStream
//!   ([`service_kit::outbox::relay::RelayConfig`]).

use std::time::Duration;

use service_kit::config::{self, CommonConfig, ConfigError};
use service_kit::idempotency;
use service_kit::outbox::relay::RelayConfig;

use crate::domain::{DailyWindow, DepositPolicy, RestaurantPolicy, TurnTimes};

pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:50052";

#[derive(Debug, Clone)]
pub struct ReservationConfig {
    pub common: CommonConfig,
    pub policy: RestaurantPolicy,
    pub sweeper_interval: Duration,
    pub idempotency_key_ttl: chrono::Duration,
    pub event_poll_interval: Duration,
    /// `None`: no relay (NATS_URL unset).
    pub relay: Option<RelayConfig>,
}

impl ReservationConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(DEFAULT_LISTEN_ADDR)?,
            policy: policy_from_env()?,
            sweeper_interval: config::seconds_or("SWEEPER_INTERVAL_SECONDS", 30, 1..=86_400)?,
            idempotency_key_ttl: idempotency::ttl_from_env()?,
            event_poll_interval: service_kit::outbox::poll_interval_from_env()?,
            relay: RelayConfig::from_env()?,
        })
    }

    /// The defaults, on the given shared settings (for tests and tools).
    pub fn with_defaults(common: CommonConfig) -> Self {
        Self {
            common,
            policy: RestaurantPolicy::default(),
            sweeper_interval: Duration::from_secs(30),
            idempotency_key_ttl: chrono::Duration::hours(idempotency::DEFAULT_TTL_HOURS),
            event_poll_interval: Duration::from_secs(1),
            relay: None,
        }
    }
}

fn invalid(name: &'static str, value: String, reason: String) -> ConfigError {
    ConfigError::Invalid {
        name,
        value,
        reason,
    }
}

fn window(name: &'static str, default: &str) -> Result<DailyWindow, ConfigError> {
    let value = config::var(name).unwrap_or_else(|| default.to_owned());
    DailyWindow::parse(&value).map_err(|reason| invalid(name, value, reason))
}

fn policy_from_env() -> Result<RestaurantPolicy, ConfigError> {
    let zone = config::var("RESTAURANT_TIME_ZONE").unwrap_or_else(|| "Asia/Jakarta".into());
    let time_zone = zone.parse::<chrono_tz::Tz>().map_err(|_| {
        invalid(
            "RESTAURANT_TIME_ZONE",
            zone.clone(),
            "expected an IANA time zone such as Asia/Jakarta".into(),
        )
    })?;
    let turns = config::var("TURN_TIMES").unwrap_or_default();
    let turn_times =
        TurnTimes::parse(&turns).map_err(|reason| invalid("TURN_TIMES", turns, reason))?;
    let slot_minutes: i64 = config::ranged_or("SLOT_MINUTES", 30, 5..=240)?;
    Ok(RestaurantPolicy {
        time_zone,
        opening_hours: window("OPENING_HOURS", "10:00-23:00")?,
        peak_hours: window("PEAK_HOURS", "18:00-22:00")?,
        slot_minutes,
        booking_window: chrono::Duration::days(config::ranged_or(
            "BOOKING_WINDOW_DAYS",
            60,
            1..=730,
        )?),
        turn_times,
        deposit: DepositPolicy {
            min_party_size: config::ranged_or("DEPOSIT_MIN_PARTY_SIZE", 6, 1..=21)?,
            per_person: config::ranged_or("DEPOSIT_PER_PERSON_IDR", 50_000, 0..=100_000_000)?,
            refund_cutoff: chrono::Duration::hours(config::ranged_or(
                "DEPOSIT_REFUND_CUTOFF_HOURS",
                24,
                0..=24 * 60,
            )?),
        },
        no_show_grace: chrono::Duration::minutes(config::ranged_or(
            "AUTO_CANCEL_MINUTES",
            15,
            0..=24 * 60,
        )?),
        waitlist_offer: chrono::Duration::minutes(config::ranged_or(
            "WAITLIST_OFFER_MINUTES",
            15,
            1..=24 * 60,
        )?),
    })
}
