//! The relay: publishes every numbered outbox event to NATS JetStream, at
//! least once, in position order, for backends that follow a broker rather
//! than a gRPC stream.
//!
//! One replica relays at a time: the one holding the lease row in
//! `outbox_relays`, renewed as it goes; a replica that dies stops renewing
//! and another takes over when the lease runs out. Progress is recorded
//! after each round, so a relay killed between publishing and recording
//! publishes some events again: their `Nats-Msg-Id` (`<service>-<position>`)
//! makes JetStream drop them within the duplicate window.
//!
//! NATS being down never touches a write: events wait in the outbox, and
//! the relay publishes them, in order, once NATS answers again. Its state
//! is reported as the gRPC health of [`HEALTH_SERVICE`]: NOT_SERVING while
//! it cannot publish, or while its oldest unpublished event is more than a
//! minute old; and while it is behind, a log line every ten seconds says
//! how many events wait and how old the oldest is.

mod config;
mod lease;
mod observed;
mod publisher;

pub use config::RelayConfig;
pub use lease::Lag;
pub use publisher::{PublishError, Publisher, message_id, stream_config, stream_name, subject};

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use tokio::sync::watch;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use uuid::Uuid;

use super::{Envelope, Outbox, store};
use crate::metrics::Metrics;
use crate::shutdown::stopped;

/// The name under which the relay's health is reported.
pub const HEALTH_SERVICE: &str = "kursi.outbox.NatsRelay";
/// The relay's row in `outbox_relays`.
const RELAY: &str = "nats";
/// How often a relay that is behind says so.
const LAG_REPORT: Duration = Duration::from_secs(10);
/// A relay whose oldest unpublished event is older than this reports
/// NOT_SERVING though it publishes: it is not keeping up.
const TOO_FAR_BEHIND: f64 = 60.0;

/// What a relay is doing, for health and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayState {
    Starting,
    /// Another replica holds the lease.
    Standby,
    /// Holding the lease; everything up to `position` is published.
    Relaying {
        position: i64,
    },
    /// Holding the lease, but NATS (or the database) refuses.
    Failing {
        position: i64,
    },
}

pub struct Relay<E: Envelope> {
    outbox: Outbox,
    config: RelayConfig,
    poll: Duration,
    holder: Uuid,
    health: Option<HealthReporter>,
    state: watch::Sender<RelayState>,
    /// How far behind it was when it last looked.
    lag: watch::Sender<Lag>,
    /// Whether the last lag measured was beyond [`TOO_FAR_BEHIND`].
    far_behind: AtomicBool,
    /// The health last reported: 0 none yet, 1 serving, 2 not.
    reported: AtomicU8,
    /// Events this replica has published.
    published: Counter,
    envelope: PhantomData<fn() -> E>,
}

impl<E: Envelope> Relay<E> {
    /// A relay of `outbox` to `config.nats_url`, looking for events of other
    /// replicas every `poll` (its own replica's wake it at once).
    pub fn new(outbox: Outbox, config: RelayConfig, poll: Duration) -> Self {
        Self {
            outbox,
            config,
            poll,
            holder: Uuid::new_v4(),
            health: None,
            state: watch::channel(RelayState::Starting).0,
            lag: watch::channel(Lag::default()).0,
            far_behind: AtomicBool::new(false),
            reported: AtomicU8::new(0),
            published: Counter::default(),
            envelope: PhantomData,
        }
    }

    /// Reports the relay's health as [`HEALTH_SERVICE`].
    pub fn with_health(mut self, health: HealthReporter) -> Self {
        self.health = Some(health);
        self
    }

    /// Serves the relay's state, backlog and published count in `metrics`.
    pub fn observed_by(self, metrics: &Metrics) -> Self {
        metrics.register_collector(observed::RelayCollector {
            state: self.state.subscribe(),
            lag: self.lag.subscribe(),
            published: self.published.clone(),
        });
        self
    }

    /// Follows what the relay is doing.
    pub fn state(&self) -> watch::Receiver<RelayState> {
        self.state.subscribe()
    }

    /// Follows how far behind it is: the events waiting to be published
    /// and the age of the oldest, as last measured (after a round that did
    /// not empty a full batch, after a failure, and every ten seconds).
    pub fn lag(&self) -> watch::Receiver<Lag> {
        self.lag.subscribe()
    }

    /// Relays until `shutdown` turns true, then hands the lease back.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut publisher = match Publisher::connect(&self.config, E::SERVICE).await {
            Ok(publisher) => publisher,
            Err(err) => {
                tracing::error!(error = %err, "event relay not started");
                self.set(RelayState::Failing { position: 0 }).await;
                return;
            }
        };
        let mut rung = self.outbox.sequenced().subscribe();
        let mut backoff = Backoff::default();
        let mut last_report = Instant::now();
        let mut held = None;
        loop {
            rung.borrow_and_update();
            let wait = match self
                .round(&mut publisher, &mut last_report, &mut held)
                .await
            {
                Ok(Round::Busy) => {
                    backoff.reset();
                    Duration::ZERO
                }
                Ok(Round::Idle) => {
                    backoff.reset();
                    self.poll.min(self.config.lease / 3)
                }
                Ok(Round::Standby) => self.config.lease / 3,
                Err(err) => {
                    let wait = backoff.next();
                    tracing::warn!(error = %err, retry_in_ms = wait.as_millis() as u64, "event relay: cannot publish; events wait in the outbox");
                    wait
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                _ = rung.changed() => {}
                _ = tokio::time::sleep(wait) => {}
                () = stopped(&mut shutdown) => break,
            }
        }
        if let Ok(mut conn) = self.outbox.pool().get().await {
            let _ = lease::release(&mut conn, RELAY, self.holder).await;
        }
    }

    /// One round: take or renew the lease (unless it was renewed a moment
    /// ago: `held` is when, and the position then), publish what waits (up
    /// to a batch), record how far it got.
    async fn round(
        &self,
        publisher: &mut Publisher,
        last_report: &mut Instant,
        held: &mut Option<(Instant, i64)>,
    ) -> Result<Round, String> {
        let mut conn = self.outbox.pool().get().await.map_err(|e| e.to_string())?;
        let fresh = held.filter(|(at, _)| at.elapsed() < self.config.lease / 3);
        let (taken, mut position) = match fresh {
            Some(lease) => lease,
            None => match lease::acquire(&mut conn, RELAY, self.holder, self.config.lease)
                .await
                .map_err(|e| e.to_string())?
            {
                Some(position) => (Instant::now(), position),
                None => {
                    *held = None;
                    self.set(RelayState::Standby).await;
                    return Ok(Round::Standby);
                }
            },
        };
        *held = Some((taken, position));
        let rows = store::after(&mut conn, position, None, self.config.batch)
            .await
            .map_err(|e| e.to_string())?;
        if rows.is_empty() {
            // Nothing waits: no backlog, whatever was measured before.
            self.lag.send_replace(Lag::default());
            self.far_behind.store(false, Ordering::Relaxed);
            self.set(RelayState::Relaying { position }).await;
            return Ok(Round::Idle);
        }
        let full = rows.len() as i64 == self.config.batch;
        let mut failure = None;
        for row in &rows {
            // Never publish on a lease that may have run out meanwhile.
            if taken.elapsed() > self.config.lease * 2 / 3 {
                break;
            }
            match publisher.publish::<E>(row).await {
                Ok(_) => {
                    position = row.position;
                    self.published.inc();
                }
                Err(PublishError::Undecodable {
                    position: p,
                    reason,
                }) => {
                    // A bug, not a fault to wait out: skipping keeps the
                    // rest flowing; the event stays in the outbox.
                    tracing::error!(position = p, %reason, "event relay: undecodable event skipped");
                    position = row.position;
                }
                Err(err) => {
                    failure = Some(err.to_string());
                    break;
                }
            }
        }
        let renewed = Instant::now();
        let still_ours = lease::advance(&mut conn, RELAY, self.holder, self.config.lease, position)
            .await
            .map_err(|e| e.to_string())?;
        if !still_ours {
            tracing::warn!("event relay: the lease passed to another replica");
            *held = None;
            self.set(RelayState::Standby).await;
            return Ok(Round::Standby);
        }
        *held = Some((renewed, position));
        if (last_report.elapsed() >= LAG_REPORT || failure.is_some() || !full)
            && let Ok(lag) = lease::lag(&mut conn, position).await
        {
            if lag.events > 0 && (last_report.elapsed() >= LAG_REPORT || failure.is_some()) {
                tracing::info!(
                    events = lag.events,
                    oldest_seconds = lag.seconds,
                    position,
                    "event relay is behind"
                );
                *last_report = Instant::now();
            }
            self.far_behind
                .store(lag.seconds > TOO_FAR_BEHIND, Ordering::Relaxed);
            self.lag.send_replace(lag);
        }
        match failure {
            Some(err) => {
                self.set(RelayState::Failing { position }).await;
                Err(err)
            }
            None => {
                self.set(RelayState::Relaying { position }).await;
                Ok(if full { Round::Busy } else { Round::Idle })
            }
        }
    }

    async fn set(&self, state: RelayState) {
        self.state.send_replace(state);
        let far_behind = self.far_behind.load(Ordering::Relaxed);
        let healthy = !matches!(state, RelayState::Failing { .. }) && !far_behind;
        // Told to the health service only when it changes.
        let reported = self.reported.swap(health_code(healthy), Ordering::Relaxed);
        if let Some(health) = &self.health
            && reported != health_code(healthy)
        {
            let status = if healthy {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            health.set_service_status(HEALTH_SERVICE, status).await;
        }
    }
}

fn health_code(healthy: bool) -> u8 {
    if healthy { 1 } else { 2 }
}

/// What a round found.
enum Round {
    /// A full batch went out: more may wait.
    Busy,
    /// Nothing (more) to publish.
    Idle,
    /// Another replica relays.
    Standby,
}

/// 100 ms, doubling to 5 s, while NATS keeps refusing.
#[derive(Default)]
struct Backoff(u32);

impl Backoff {
    fn next(&mut self) -> Duration {
        let wait = Duration::from_millis(100) * 2u32.saturating_pow(self.0.min(6));
        self.0 += 1;
        wait.min(Duration::from_secs(5))
    }

    fn reset(&mut self) {
        self.0 = 0;
    }
}
