//! Following the outbox over gRPC: every event after a position, then the
//! new ones as they are numbered.
//!
//! Delivery polls (an index range scan on `position`) every poll interval,
//! and wakes at once when this process numbers events. Polling rather than
//! LISTEN/NOTIFY: NOTIFY needs a dedicated connection per replica outside the
//! pool, with its own reconnect logic, and a notification lost during a
//! reconnect would stall followers anyway, so polling would still be needed
//! as the backstop.

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tonic::Status;
use uuid::Uuid;

use super::{Envelope, Outbox, store};
use crate::shutdown::stopped;

const BATCH: i64 = 200;

/// Events with their positions set, in position order.
pub type EventStream<E> = tokio_stream::wrappers::ReceiverStream<Result<E, Status>>;

pub(super) fn follow<E: Envelope>(
    outbox: Outbox,
    mut position: i64,
    aggregate: Option<Uuid>,
    mut shutdown: watch::Receiver<bool>,
    poll: Duration,
) -> EventStream<E> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut rung = outbox.sequenced().subscribe();
        loop {
            rung.borrow_and_update();
            let rows = match outbox.pool().get().await {
                Ok(mut conn) => store::after(&mut conn, position, aggregate, BATCH).await,
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
                position = row.position;
                let event = match row.envelope::<E>() {
                    Ok(event) => event,
                    Err(err) => {
                        tracing::error!(position = row.position, error = %err, "undecodable outbox event; skipped");
                        continue;
                    }
                };
                if tx.send(Ok(event)).await.is_err() {
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
