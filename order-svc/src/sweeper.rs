//! Expiry: a PENDING order not paid by its `expire_time` becomes EXPIRED and
//! releases its seats.
//!
//! Every replica runs a sweeper, every `ORDER_SWEEP_INTERVAL_SECONDS`. Each
//! batch locks its orders with `FOR UPDATE SKIP LOCKED`, so two sweepers (or
//! a sweeper and a customer paying) never act on the same order. An order
//! made for a showtime also expires that showtime's overdue orders first,
//! so their seats are free at once rather than at the next sweep; paying
//! after `expire_time` is refused whether or not a sweep has run.
//!
//! Each run also deletes the idempotency keys that expired
//! (`IDEMPOTENCY_KEY_TTL_HOURS`); an expired key answers nothing even
//! before it is deleted.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::{Pool, ScopedFutureExt, transaction, write_once};
use service_kit::idempotency;
use service_kit::metrics::Sweeps;
use service_kit::outbox::Outbox;
use service_kit::shutdown;
use tokio::sync::watch;

use crate::db::orders::{self, OrderRow};
use crate::domain::Command;
use crate::transition;

/// How many orders one transaction expires.
const BATCH: i64 = 100;

#[derive(Clone)]
pub struct Sweeper {
    pool: Pool,
    outbox: Outbox,
    clock: Clock,
}

impl Sweeper {
    pub fn new(outbox: Outbox, clock: Clock) -> Self {
        Self {
            pool: outbox.pool().clone(),
            outbox,
            clock,
        }
    }

    /// Expires every order overdue now, batch by batch; how many.
    pub async fn sweep(&self) -> Result<usize, ServiceError> {
        let mut total = 0;
        loop {
            let now = self.clock.now();
            let (expired, seen) = transaction(&self.pool, |conn| {
                async move {
                    let rows = orders::lock_expired(conn, now, BATCH).await?;
                    let expired = expire(conn, &rows, now).await?;
                    Ok::<_, ServiceError>((expired, rows.len()))
                }
                .scope_boxed()
            })
            .await?;
            total += expired;
            if expired > 0 {
                self.outbox.committed();
            }
            if (seen as i64) < BATCH {
                return Ok(total);
            }
        }
    }

    /// Deletes the idempotency keys expired by now; how many.
    pub async fn prune_keys(&self) -> Result<usize, ServiceError> {
        let now = self.clock.now();
        write_once(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(idempotency::prune(conn, now).await?) }.scope_boxed()
        })
        .await
    }

    /// Sweeps every `interval` until `shutdown` turns true: expires overdue
    /// orders, then deletes expired idempotency keys, counting what it did
    /// in `sweeps`.
    pub async fn run(self, interval: Duration, stop: watch::Receiver<bool>, sweeps: Sweeps) {
        shutdown::every(interval, stop, || async {
            let swept = self.sweep().await;
            let pruned = self.prune_keys().await;
            sweeps.ran(swept.is_ok() && pruned.is_ok());
            match swept {
                Ok(expired) => {
                    sweeps.changed("order_expired", expired);
                    if expired > 0 {
                        tracing::info!(expired, "sweeper expired orders");
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "sweeper failed; it tries again next interval")
                }
            }
            match pruned {
                Ok(keys) => {
                    sweeps.changed("idempotency_key_pruned", keys);
                    if keys > 0 {
                        tracing::info!(keys, "sweeper deleted expired idempotency keys");
                    }
                }
                Err(err) => tracing::warn!(
                    error = %err,
                    "deleting expired idempotency keys failed; the sweeper tries again next interval"
                ),
            }
        })
        .await;
    }
}

/// Expires the locked orders `rows` whose hold ran out by `now`, as the
/// service; how many.
pub(crate) async fn expire(
    conn: &mut AsyncPgConnection,
    rows: &[OrderRow],
    now: DateTime<Utc>,
) -> Result<usize, ServiceError> {
    transition::apply_each(conn, rows, &Command::Expire, Actor::System, now).await
}
