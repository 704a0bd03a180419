//! The transactional outbox every service with domain events uses: events are
//! written in the same transaction as the change they record, numbered after
//! they commit, and followed from a position over gRPC (`follow`) and relayed
//! to NATS JetStream (`relay`).
//!
//! How the order is kept without making writers wait for each other (the
//! argument in full is in `sequencer`): a writer only inserts its events;
//! the sequencer gives committed events their positions, in insert order, one
//! batch at a time; followers read by position. A position becomes visible
//! only once every smaller one is visible, so "everything after p" never
//! misses an event that commits late.

mod envelope;
mod follow;
pub mod relay;
mod schema;
mod sequencer;
mod signal;
mod store;

pub use envelope::Envelope;
pub use follow::EventStream;
pub use sequencer::Sequencer;
pub use signal::Signal;
pub use store::{EventRow, NewEvent, after, append};

use std::time::Duration;

use diesel_migrations::EmbeddedMigrations;
use tokio::sync::watch;
use tonic_health::server::HealthReporter;

use crate::config::{self, ConfigError};
use crate::db::Pool;
use crate::metrics::Metrics;

/// The outbox's tables, applied before a service's own migrations.
pub static MIGRATIONS: EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../migrations/outbox");

/// `EVENT_POLL_INTERVAL_MILLIS` (1000, 10–60000): how often event streams
/// and the relay look for events numbered by other replicas.
pub fn poll_interval_from_env() -> Result<Duration, ConfigError> {
    Ok(Duration::from_millis(config::ranged_or(
        "EVENT_POLL_INTERVAL_MILLIS",
        1000,
        10..=60_000,
    )?))
}

/// One service's outbox: its pool and the signals that wake the sequencer
/// (events committed here) and the followers (events numbered). Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    pool: Pool,
    committed: Signal,
    sequenced: Signal,
}

impl Outbox {
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            committed: Signal::default(),
            sequenced: Signal::default(),
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Call after a transaction that appended events has committed: the
    /// sequencer numbers them at once instead of at its next poll.
    pub fn committed(&self) {
        self.committed.notify();
    }

    /// Rings whenever this process has numbered events.
    pub fn sequenced(&self) -> &Signal {
        &self.sequenced
    }

    /// Starts what every service with events runs once its database is
    /// ready: the sequencer, and the relay to NATS when `relay` says where,
    /// reporting its health on `health` and its progress in `metrics`. Both
    /// stop when `shutdown` does.
    pub fn start<E: Envelope>(
        &self,
        poll: Duration,
        relay: Option<relay::RelayConfig>,
        health: HealthReporter,
        metrics: &Metrics,
        shutdown: watch::Receiver<bool>,
    ) {
        tokio::spawn(self.sequencer().run(poll, shutdown.clone()));
        if let Some(relay) = relay {
            let relay = relay::Relay::<E>::new(self.clone(), relay, poll)
                .with_health(health)
                .observed_by(metrics);
            tokio::spawn(relay.run(shutdown));
        }
    }

    /// The task that numbers committed events; run one per process.
    pub fn sequencer(&self) -> Sequencer {
        Sequencer::new(
            self.pool.clone(),
            self.committed.clone(),
            self.sequenced.clone(),
        )
    }

    /// Every event after `position` (of one aggregate, if given), then the
    /// new ones as they are numbered, until the client goes away or
    /// `shutdown` turns true. `poll` bounds how late an event numbered by
    /// another replica arrives.
    pub fn follow<E: Envelope>(
        &self,
        position: i64,
        aggregate: Option<uuid::Uuid>,
        shutdown: watch::Receiver<bool>,
        poll: Duration,
    ) -> EventStream<E> {
        follow::follow(self.clone(), position, aggregate, shutdown, poll)
    }
}
