//! Following the outbox: WatchReservationEvents sends every event after a
//! position, then keeps the stream open for new ones.
//!
//! Delivery polls the outbox (an index range scan on its primary key) every
//! `EVENT_POLL_INTERVAL_MILLIS`, and wakes at once when this process commits
//! an event ([`EventSignal`]). Polling rather than LISTEN/NOTIFY: NOTIFY
//! needs a dedicated connection per replica outside the pool, with its own
//! reconnect logic, and a notification lost during a reconnect would stall
//! followers anyway, so polling would still be needed as the backstop. Events
//! written by other replicas arrive within one poll interval.

use std::sync::Arc;
use std::time::Duration;

use kursi_proto::reservation::v1::{ReservationEvent, WatchReservationEventsResponse};
use prost::Message;
use service_kit::db::Pool;
use tokio::sync::{mpsc, watch};
use tonic::Status;
use uuid::Uuid;

use crate::db::events;

/// Rings whenever this process commits outbox events.
#[derive(Clone)]
pub struct EventSignal(Arc<watch::Sender<u64>>);

impl Default for EventSignal {
    fn default() -> Self {
        Self(Arc::new(watch::channel(0).0))
    }
}

impl EventSignal {
    pub fn notify(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}

const BATCH: i64 = 200;

/// Resolves once shutdown has begun (or its sender is gone).
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopping| *stopping).await.map(drop);
}

pub type EventStream =
    tokio_stream::wrappers::ReceiverStream<Result<WatchReservationEventsResponse, Status>>;

/// Starts following the outbox after `position`; the stream ends when the
/// client goes away or the service shuts down.
pub fn follow(
    pool: Pool,
    signal: EventSignal,
    mut shutdown: watch::Receiver<bool>,
    poll: Duration,
    mut position: i64,
    reservation_id: Option<Uuid>,
) -> EventStream {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut rung = signal.subscribe();
        loop {
            rung.borrow_and_update();
            let rows = match pool.get().await {
                Ok(mut conn) => events::after(&mut conn, position, reservation_id, BATCH).await,
                Err(err) => {
                    tracing::warn!(error = %err, "event stream: no database connection");
                    let _ = tx
                        .send(Err(Status::unavailable(
                            "the database is unavailable; resume from your last position",
                        )))
                        .await;
                    return;
                }
            };
            let rows = match rows {
                Ok(rows) => rows,
                Err(err) => {
                    tracing::error!(error = %err, "event stream: reading the outbox failed");
                    let _ = tx
                        .send(Err(Status::unavailable(
                            "reading events failed; resume from your last position",
                        )))
                        .await;
                    return;
                }
            };
            let full = rows.len() as i64 == BATCH;
            for row in rows {
                let mut event = match ReservationEvent::decode(row.payload.as_slice()) {
                    Ok(event) => event,
                    Err(err) => {
                        tracing::error!(position = row.position, error = %err, "undecodable outbox event; skipped");
                        position = row.position;
                        continue;
                    }
                };
                event.position = row.position;
                position = row.position;
                let message = WatchReservationEventsResponse { event: Some(event) };
                if tx.send(Ok(message)).await.is_err() {
                    return;
                }
            }
            if full {
                continue;
            }
            tokio::select! {
                rang = rung.changed() => {
                    if rang.is_err() {
                        tokio::time::sleep(poll).await;
                    }
                }
                _ = tokio::time::sleep(poll) => {}
                () = stopped(&mut shutdown) => return,
                _ = tx.closed() => return,
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}
