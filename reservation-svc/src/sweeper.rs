//! The sweeper: a CONFIRMED reservation not checked in `AUTO_CANCEL_MINUTES`
//! after its start becomes NO_SHOW; a PENDING one not confirmed by its start
//! expires (CANCELLED, reason EXPIRED).
//!
//! Every replica runs one. Each batch locks its rows with `FOR UPDATE SKIP
//! LOCKED`, so two sweepers (or a sweeper and a caller) never act on the same
//! reservation, and the lock re-checks the status, so a row already handled
//! is not picked again. Each change goes through the aggregate and writes its
//! history and event like any command.
//!
//! It also ends the waitlist's offers not answered in time
//! (`WAITLIST_OFFER_MINUTES`) and the entries whose day has passed, offers
//! freed slots to the next in line, and deletes the CreateReservation idempotency keys that have expired
//! (`IDEMPOTENCY_KEY_TTL_HOURS` after they were first sent), so the keys'
//! table holds a day's keys, not every key ever sent.

use std::time::Duration;

use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::{ScopedFutureExt, transaction, write_once};
use service_kit::idempotency;
use service_kit::metrics::Sweeps;
use service_kit::outbox::Outbox;
use service_kit::shutdown;
use tokio::sync::watch;

use crate::db::{holds, reservations, tables};
use crate::domain::{RestaurantPolicy, Status};
use crate::reservations::{Reservations, aggregate, write_change};
use crate::waitlist::SweptLine;

/// How many rows one transaction handles.
const BATCH: i64 = 100;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub no_shows: usize,
    pub expired: usize,
}

/// What one sweep of the waitlist did.
pub type SweptWaitlist = SweptLine;

/// Runs on the same state as the commands: it is one more actor
/// ([`Actor::System`]) on the reservations and the waitlist.
#[derive(Clone)]
pub struct Sweeper {
    reservations: Reservations,
}

impl Sweeper {
    pub fn new(outbox: Outbox, policy: RestaurantPolicy, clock: Clock) -> Self {
        Self {
            reservations: Reservations::new(outbox, policy, clock),
        }
    }

    /// Handles every reservation overdue now, batch by batch, then offers
    /// the tables it freed to the waitlist.
    pub async fn sweep(&self) -> Result<Swept, ServiceError> {
        let mut total = Swept::default();
        let mut freed = Vec::new();
        loop {
            let (batch, days, seen) = self.sweep_batch().await?;
            total.no_shows += batch.no_shows;
            total.expired += batch.expired;
            freed.extend(days);
            if batch != Swept::default() {
                self.reservations.outbox().committed();
            }
            if seen < BATCH as usize {
                break;
            }
        }
        freed.sort();
        freed.dedup();
        for day in freed {
            self.reservations
                .waitlist()
                .offer_free_slots_after(day)
                .await;
        }
        Ok(total)
    }

    /// Lapses the waitlist offers not answered in time and expires the
    /// entries whose day has passed; the slots lapsed offers held go to the
    /// next in line. Then offers every day with a line what is free, so that
    /// a slot freed by a process that died before offering it is offered
    /// now.
    pub async fn sweep_waitlist(&self) -> Result<SweptWaitlist, ServiceError> {
        let waitlist = self.reservations.waitlist();
        let swept = waitlist.sweep().await?;
        waitlist.offer_free_slots_everywhere().await;
        Ok(swept)
    }

    async fn sweep_batch(&self) -> Result<(Swept, Vec<chrono::NaiveDate>, usize), ServiceError> {
        let policy = self.reservations.policy();
        transaction(self.reservations.pool(), |conn| {
            async move {
                let now = self.reservations.now();
                let rows =
                    reservations::lock_overdue(conn, now, policy.no_show_grace, BATCH).await?;
                let ids: Vec<_> = rows.iter().map(|row| row.id).collect();
                let holds = holds::of_reservations(conn, &ids).await?;
                let mut held: Vec<_> = holds
                    .iter()
                    .filter(|hold| hold.holding)
                    .map(|hold| hold.table_id)
                    .collect();
                held.sort();
                held.dedup();
                tables::lock_shared(conn, &held).await?;
                let mut swept = Swept::default();
                let mut days = Vec::new();
                for row in &rows {
                    let change = aggregate(row, &holds)?.sweep(policy, now)?;
                    match change.to {
                        Status::Cancelled => swept.expired += 1,
                        _ => swept.no_shows += 1,
                    }
                    let written = write_change(conn, row, &change, Actor::System, now).await?;
                    days.extend(written.freed.map(|start| policy.today(start)));
                }
                Ok::<_, ServiceError>((swept, days, rows.len()))
            }
            .scope_boxed()
        })
        .await
    }

    /// Deletes the idempotency keys expired by now on the service's clock;
    /// how many.
    pub async fn prune_keys(&self) -> Result<usize, ServiceError> {
        let now = self.reservations.now();
        write_once(self.reservations.pool(), |conn| {
            async move { Ok::<_, ServiceError>(idempotency::prune(conn, now).await?) }.scope_boxed()
        })
        .await
    }

    /// Sweeps reservations and the waitlist, and prunes expired keys,
    /// every `interval` until `shutdown` turns true, counting what it did
    /// in `sweeps`.
    pub async fn run(self, interval: Duration, shutdown: watch::Receiver<bool>, sweeps: Sweeps) {
        shutdown::every(interval, shutdown, || async {
            let swept = self.sweep().await;
            let waitlist = self.sweep_waitlist().await;
            let pruned = self.prune_keys().await;
            sweeps.ran(swept.is_ok() && waitlist.is_ok() && pruned.is_ok());
            match swept {
                Ok(swept) => {
                    sweeps.changed("no_show", swept.no_shows);
                    sweeps.changed("reservation_expired", swept.expired);
                    if swept != Swept::default() {
                        tracing::info!(
                            no_shows = swept.no_shows,
                            expired = swept.expired,
                            "sweeper ran"
                        );
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "sweeper failed; it tries again next interval")
                }
            }
            match waitlist {
                Ok(swept) => {
                    sweeps.changed("waitlist_offer_lapsed", swept.lapsed);
                    sweeps.changed("waitlist_expired", swept.expired);
                    if swept != SweptWaitlist::default() {
                        tracing::info!(
                            lapsed = swept.lapsed,
                            expired = swept.expired,
                            "sweeper ran over the waitlist"
                        );
                    }
                }
                Err(err) => tracing::warn!(
                    error = %err,
                    "sweeping the waitlist failed; it tries again next interval"
                ),
            }
            match pruned {
                Ok(pruned) => {
                    sweeps.changed("idempotency_key_pruned", pruned);
                    if pruned > 0 {
                        tracing::debug!(pruned, "expired idempotency keys deleted");
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
