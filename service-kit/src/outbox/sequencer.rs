//! The sequencer: gives committed outbox events their positions.
//!
//! Why not let an identity column number events as they are inserted? A
//! sequence hands numbers out in the order transactions *ask*, not the order
//! they *commit*: a follower that read 12 before 11 committed would pass 11
//! by for ever. Holding a lock from insert to commit fixes that by making
//! every writer wait for every other, which switches off PostgreSQL's group
//! commit (measured: 25 000 single-row commits a second at 64 clients fell
//! to 2 500 with `pg_advisory_xact_lock` in front).
//!
//! Why not order by transaction id (`pg_current_xact_id()`) and read only
//! below the snapshot's `xmin`? The order is stable, but not the order the
//! changes happened in: a transaction gets its id at its first write and may
//! then wait for a row lock that a younger transaction holds. The younger
//! one's event about that row commits first, yet sorts second: a follower
//! would see "order refunded" before the "order paid" it reverses.
//!
//! What this does instead. Writers only insert; `id` comes from an identity
//! sequence (CACHE 1, so ids are handed out in time order across sessions)
//! when the insert runs, which is after the writer holds every row lock it
//! needed. The sequencer, in one transaction holding an advisory lock that
//! only sequencers take, numbers the unnumbered rows it can see in `id`
//! order, continuing after the largest position. Then:
//!
//! - Only committed events get positions: an UPDATE never sees rows of
//!   transactions still in progress, and it never waits for a writer.
//! - A follower never misses an event: positions are given only by sequencer
//!   transactions, one at a time, each above every earlier position, and
//!   each commits all its positions at once; so a follower that sees
//!   position p sees every position below p.
//! - Changes to one aggregate keep their order: if B changed a row after A
//!   did (it waited for A's row lock), B inserted its event after A
//!   committed, so B's id is larger; and whenever B's event is visible, A's
//!   is too, A having committed first. So A's is numbered first, in the same
//!   batch or an earlier one.
//!
//! An event that commits late with a small id is numbered when it is seen,
//! after larger ids: its transaction ran alongside theirs, so no order
//! between them is owed. The cost is one UPDATE per event, in batches, off
//! the writers' path.

use std::time::Duration;

use diesel::sql_types::{BigInt, Int8};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::watch;

use super::Signal;
use crate::ServiceError;
use crate::db::{Pool, bind, prepared};
use crate::shutdown::stopped;

/// The advisory lock sequencers take ("kursi.outbox.seq"); writers never do.
const SEQUENCER_LOCK: i64 = 0x6b75_7273_6f62_7371;
/// Events numbered in one transaction.
const BATCH: i64 = 1000;
/// The least time between two runs while events keep coming: under load,
/// events then arrive in batches of many instead of one run per commit,
/// each run costing PostgreSQL three statements. It bounds how much later
/// than its commit an event reaches followers.
const PAUSE_UNDER_LOAD: Duration = Duration::from_millis(5);

/// Numbers committed events; one runs in every replica, and they take turns.
#[derive(Clone)]
pub struct Sequencer {
    pool: Pool,
    committed: Signal,
    sequenced: Signal,
}

impl Sequencer {
    pub(super) fn new(pool: Pool, committed: Signal, sequenced: Signal) -> Self {
        Self {
            pool,
            committed,
            sequenced,
        }
    }

    /// Numbers every committed event that has no position yet; how many.
    pub async fn run_once(&self) -> Result<usize, ServiceError> {
        let mut conn = self.pool.get().await?;
        self.number_all(&mut conn).await
    }

    async fn number_all(&self, conn: &mut AsyncPgConnection) -> Result<usize, ServiceError> {
        let mut total = 0;
        loop {
            let numbered = number_batch(conn).await?;
            total += numbered;
            if numbered > 0 {
                self.sequenced.notify();
            }
            if (numbered as i64) < BATCH {
                return Ok(total);
            }
        }
    }

    /// Numbers events whenever this process commits some, and every `poll`
    /// for those of replicas that died before numbering theirs, until
    /// `shutdown` turns true. It keeps a connection of its own, outside the
    /// pool, so that writers never wait for it.
    pub async fn run(self, poll: Duration, mut shutdown: watch::Receiver<bool>) {
        let mut rung = self.committed.subscribe();
        let mut conn: Option<AsyncPgConnection> = None;
        loop {
            rung.borrow_and_update();
            if conn.is_none() {
                conn = self.pool.dedicated_connection().await.ok();
            }
            let numbered = match conn.as_mut() {
                Some(c) => self.number_all(c).await,
                None => Err(ServiceError::Unavailable("no database connection".into())),
            };
            let pause = match numbered {
                Ok(0) => Duration::ZERO,
                Ok(_) => PAUSE_UNDER_LOAD,
                Err(err) => {
                    tracing::warn!(error = %err, "outbox sequencer failed; it tries again");
                    // Whatever state the connection is in, start afresh.
                    conn = None;
                    poll
                }
            };
            if !pause.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    () = stopped(&mut shutdown) => return,
                }
            }
            tokio::select! {
                _ = rung.changed() => {}
                _ = tokio::time::sleep(poll) => {}
                () = stopped(&mut shutdown) => return,
            }
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Numbered {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// One batch, in a transaction: the lock, the numbering, the commit. The
/// lock and the numbering are sent together (pipelined): PostgreSQL runs
/// them in order, and the numbering's snapshot is taken when it starts,
/// after the lock is granted, so it sees the positions the previous holder
/// committed.
async fn number_batch(conn: &mut AsyncPgConnection) -> Result<usize, ServiceError> {
    conn.transaction(async |conn| {
        let shared: &AsyncPgConnection = conn;
        let lock = prepared("SELECT pg_advisory_xact_lock(?)", (bind::<Int8, _>(SEQUENCER_LOCK),))
            .execute(&mut &*shared);
        let number = prepared(
            "WITH last AS (SELECT coalesce(max(position), 0) AS position FROM outbox),
                  batch AS (
                      SELECT id, row_number() OVER (ORDER BY id) AS n
                      FROM (SELECT id FROM outbox WHERE position IS NULL ORDER BY id LIMIT ?) unnumbered
                  ),
                  done AS (
                      UPDATE outbox SET position = last.position + batch.n
                      FROM batch, last
                      WHERE outbox.id = batch.id
                      RETURNING 1
                  )
             SELECT count(*) AS count FROM done",
            (bind::<Int8, _>(BATCH),),
        )
        .get_result::<Numbered>(&mut &*shared);
        let (_, numbered) = futures_util::future::try_join(lock, number).await?;
        Ok::<_, ServiceError>(numbered.count as usize)
    })
    .await
}
