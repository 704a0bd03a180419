//! Following catalog-svc's ShowtimeCancelled events, from NATS JetStream:
//! the showtime's PENDING orders are cancelled and its PAID ones refunded,
//! and it takes no new orders. A cross-service change made through an
//! event, never through the catalog's tables or a call back.
//!
//! A durable consumer ("order-svc") on `KURSI_CATALOG`, filtered to
//! `kursi.catalog.v1.showtime_cancelled`: JetStream remembers how far it
//! got, so a restarted order-svc resumes there. An event is acknowledged
//! only after its transaction committed; one that fails (the database is
//! down) is redelivered. Handling is idempotent: a second delivery finds
//! nothing PENDING or PAID left and changes nothing.

use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures_util::StreamExt;
use kursi_proto::catalog::v1::{CatalogEvent, catalog_event::Event as CatalogChange};
use prost::Message;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::Pool;
use service_kit::db::{ScopedFutureExt, transaction};
use service_kit::outbox::Outbox;
use service_kit::outbox::relay::{RelayConfig, stream_config, stream_name};
use service_kit::shutdown::stopped;
use tokio::sync::watch;
use uuid::Uuid;

use crate::catalog::copy_of;
use crate::db::{orders, showtimes};
use crate::domain::Command;
use crate::domain::OrderStatus::{Paid, Pending};
use crate::transition;

/// The durable consumer's name.
pub const CONSUMER: &str = "order-svc";
const SUBJECT: &str = "kursi.catalog.v1.showtime_cancelled";

#[derive(Clone)]
pub struct Cancellations {
    pool: Pool,
    outbox: Outbox,
    clock: Clock,
}

impl Cancellations {
    pub fn new(outbox: Outbox, clock: Clock) -> Self {
        Self {
            pool: outbox.pool().clone(),
            outbox,
            clock,
        }
    }

    /// Cancels and refunds the orders of a showtime the catalog cancelled;
    /// how many orders changed.
    pub async fn showtime_cancelled(
        &self,
        event: &kursi_proto::catalog::v1::Showtime,
    ) -> Result<usize, ServiceError> {
        let id: Uuid = event.showtime_id.parse().map_err(|_| {
            ServiceError::internal("a ShowtimeCancelled event without a showtime id")
        })?;
        let now = self.clock.now();
        let mut copy = copy_of(id, event, now)
            .ok_or_else(|| {
                ServiceError::internal("a ShowtimeCancelled event without its showtime")
            })?
            .copy;
        copy.status = showtimes::CANCELLED.into();
        let command = Command::ShowtimeCancelled {
            reason: match copy.cancel_reason.as_deref() {
                Some(why) => format!("the showtime was cancelled: {why}"),
                None => "the showtime was cancelled".into(),
            },
        };
        let (copy, command) = (&copy, &command);
        let changed = transaction(&self.pool, |conn| {
            async move {
                showtimes::lock(conn, id).await?;
                showtimes::upsert(conn, copy).await?;
                let live = orders::lock_of_showtime(conn, id, &[Pending, Paid]).await?;
                transition::apply_each(conn, &live, command, Actor::System, now).await
            }
            .scope_boxed()
        })
        .await?;
        if changed > 0 {
            self.outbox.committed();
        }
        tracing::info!(showtime_id = %id, orders = changed, "showtime cancelled: its orders were closed");
        Ok(changed)
    }

    /// Follows the catalog's stream on `config`'s NATS until `shutdown`,
    /// reconnecting after failures.
    pub async fn follow(self, config: RelayConfig, mut shutdown: watch::Receiver<bool>) {
        let mut wait = Duration::from_millis(200);
        loop {
            tokio::select! {
                result = self.follow_once(&config) => {
                    if let Err(err) = result {
                        tracing::warn!(error = %err, retry_in_ms = wait.as_millis() as u64, "following the catalog's cancellations failed");
                    }
                }
                () = stopped(&mut shutdown) => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                () = stopped(&mut shutdown) => return,
            }
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }

    async fn follow_once(&self, config: &RelayConfig) -> Result<(), String> {
        let client = async_nats::ConnectOptions::new()
            .name("kursi-order-catalog-follower")
            .connection_timeout(Duration::from_secs(5))
            .connect(config.nats_url.as_str())
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", config.nats_url))?;
        let js = jetstream::new(client);
        // The same stream the catalog's relay makes, if it has not yet.
        let stream = js
            .get_or_create_stream(stream_config::<CatalogEvent>(config))
            .await
            .map_err(|e| format!("stream {}: {e}", stream_name::<CatalogEvent>()))?;
        let consumer = stream
            .get_or_create_consumer(
                CONSUMER,
                pull::Config {
                    durable_name: Some(CONSUMER.into()),
                    filter_subject: SUBJECT.into(),
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(30),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| format!("consumer {CONSUMER}: {e}"))?;
        let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
        while let Some(message) = messages.next().await {
            let message = message.map_err(|e| e.to_string())?;
            let outcome = match CatalogEvent::decode(message.payload.as_ref()) {
                Ok(CatalogEvent {
                    event: Some(CatalogChange::ShowtimeCancelled(cancelled)),
                    ..
                }) => match cancelled.showtime {
                    Some(showtime) => self.showtime_cancelled(&showtime).await.map(drop),
                    None => Ok(()),
                },
                // Not for us, or not an envelope: nothing to do, ever.
                _ => Ok(()),
            };
            let ack = match outcome {
                Ok(()) => message.double_ack().await,
                Err(err) => {
                    tracing::warn!(error = %err, "a showtime cancellation failed; it is delivered again");
                    message
                        .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                        .await
                }
            };
            ack.map_err(|e| e.to_string())?;
        }
        Err("the catalog's event stream ended".into())
    }
}
