//! Publishing outbox events to NATS JetStream: the stream, the subjects,
//! the headers, and one event at a time, each acknowledged before the next
//! is sent, so the stream holds them in position order even across a lost
//! connection (a pipelined batch could lose one event and keep the next).

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use bytes::Bytes;

use super::RelayConfig;
use crate::outbox::{Envelope, EventRow};

/// The stream of a service's events: `KURSI_RESERVATION`.
pub fn stream_name<E: Envelope>() -> String {
    format!("KURSI_{}", E::SERVICE.to_ascii_uppercase())
}

/// An event's subject: `kursi.reservation.v1.created`.
pub fn subject<E: Envelope>(event_type: &str) -> String {
    format!("kursi.{}.v1.{event_type}", E::SERVICE)
}

/// JetStream's de-duplication key of an event: `reservation-42`.
pub fn message_id<E: Envelope>(position: i64) -> String {
    format!("{}-{position}", E::SERVICE)
}

/// The stream of a service's events as its relay creates it; a follower
/// that starts first may create it the same way.
pub fn stream_config<E: Envelope>(config: &RelayConfig) -> stream::Config {
    stream::Config {
        name: stream_name::<E>(),
        subjects: vec![format!("kursi.{}.>", E::SERVICE)],
        storage: stream::StorageType::File,
        duplicate_window: config.duplicate_window,
        num_replicas: config.stream_replicas,
        description: Some(format!("{}'s domain events ({})", E::SERVICE, E::FULL_NAME)),
        ..Default::default()
    }
}

/// Why an event was not published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("NATS: {0}")]
    Nats(String),
    #[error("outbox event {position} does not decode: {reason}")]
    Undecodable { position: i64, reason: String },
}

pub struct Publisher {
    jetstream: jetstream::Context,
    config: RelayConfig,
    stream_ready: bool,
}

impl Publisher {
    /// Connects in the background: a NATS that is down now is retried,
    /// and publishing fails (and is retried) until it answers.
    pub async fn connect(config: &RelayConfig, service: &str) -> Result<Self, PublishError> {
        let client = async_nats::ConnectOptions::new()
            .name(format!("kursi-{service}-relay"))
            .connection_timeout(Duration::from_secs(5))
            .retry_on_initial_connect()
            .connect(config.nats_url.as_str())
            .await
            .map_err(|err| {
                PublishError::Nats(format!("cannot connect to {}: {err}", config.nats_url))
            })?;
        let mut jetstream = jetstream::new(client);
        // An answer takes milliseconds; waiting longer than a third of the
        // lease would let it run out while NATS is down.
        jetstream.set_timeout((config.lease / 3).min(Duration::from_secs(5)));
        Ok(Self {
            jetstream,
            config: config.clone(),
            stream_ready: false,
        })
    }

    /// Creates the service's stream when it is missing; an existing one is
    /// used as it is (an operator may have tuned it).
    async fn ensure_stream<E: Envelope>(&mut self) -> Result<(), PublishError> {
        if self.stream_ready {
            return Ok(());
        }
        self.jetstream
            .get_or_create_stream(stream_config::<E>(&self.config))
            .await
            .map_err(|err| PublishError::Nats(format!("stream {}: {err}", stream_name::<E>())))?;
        self.stream_ready = true;
        Ok(())
    }

    /// Publishes one event and waits for JetStream to store it. Returns
    /// whether JetStream had it already (a republished event, dropped by
    /// its message id).
    pub async fn publish<E: Envelope>(&mut self, row: &EventRow) -> Result<bool, PublishError> {
        self.ensure_stream::<E>().await?;
        let envelope: E = row.envelope().map_err(|err| PublishError::Undecodable {
            position: row.position,
            reason: err.to_string(),
        })?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", message_id::<E>(row.position));
        headers.insert("Kursi-Event-Type", E::FULL_NAME);
        let payload = Bytes::from(prost::Message::encode_to_vec(&envelope));
        let sent = self
            .jetstream
            .publish_with_headers(subject::<E>(&row.event_type), headers, payload)
            .await;
        let ack = match sent {
            Ok(pending) => pending.await,
            Err(err) => Err(err),
        };
        match ack {
            Ok(ack) => Ok(ack.duplicate),
            Err(err) => {
                // The stream may have been deleted: make sure of it next time.
                self.stream_ready = false;
                Err(PublishError::Nats(format!(
                    "publishing event {} failed: {err}",
                    row.position
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kursi_proto::reservation::v1::ReservationEvent;

    #[test]
    fn names_follow_the_service() {
        assert_eq!(stream_name::<ReservationEvent>(), "KURSI_RESERVATION");
        assert_eq!(
            subject::<ReservationEvent>("created"),
            "kursi.reservation.v1.created"
        );
        assert_eq!(message_id::<ReservationEvent>(42), "reservation-42");
    }
}
