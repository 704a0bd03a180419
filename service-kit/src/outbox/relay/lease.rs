//! The relay's row in `outbox_relays`: whose turn it is to relay (the
//! lease) and how far relaying has got (the position). Every statement
//! checks the holder in SQL, with the database's clock, so two replicas
//! never both believe they hold it, whatever their own clocks say.

use std::time::Duration;

use diesel::sql_types::{BigInt, Interval, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::{bind, prepared};

#[derive(diesel::QueryableByName)]
struct Position {
    #[diesel(sql_type = BigInt)]
    position: i64,
}

fn interval(lease: Duration) -> diesel::data_types::PgInterval {
    diesel::data_types::PgInterval::from_microseconds(lease.as_micros() as i64)
}

/// Takes or renews the lease of `relay` for `holder`; the position to
/// relay from when it is ours, `None` while another replica holds it.
pub async fn acquire(
    conn: &mut AsyncPgConnection,
    relay: &str,
    holder: Uuid,
    lease: Duration,
) -> diesel::QueryResult<Option<i64>> {
    let taken: Vec<Position> = prepared(
        "INSERT INTO outbox_relays AS r (relay, holder, lease_until)
         VALUES (?, ?, now() + ?)
         ON CONFLICT (relay) DO UPDATE
             SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until, updated_at = now()
             WHERE r.holder = EXCLUDED.holder OR r.lease_until IS NULL OR r.lease_until < now()
         RETURNING r.position",
        (
            bind::<Text, _>(relay),
            bind::<SqlUuid, _>(holder),
            bind::<Interval, _>(interval(lease)),
        ),
    )
    .load(conn)
    .await?;
    Ok(taken.into_iter().next().map(|row| row.position))
}

/// Records that everything up to `position` was published, and renews the
/// lease. `false` when another replica has taken the lease (one that merely
/// ran out while NATS kept us waiting is still ours until someone takes it).
pub async fn advance(
    conn: &mut AsyncPgConnection,
    relay: &str,
    holder: Uuid,
    lease: Duration,
    position: i64,
) -> diesel::QueryResult<bool> {
    let updated = prepared(
        "UPDATE outbox_relays
         SET position = greatest(position, ?), lease_until = now() + ?, updated_at = now()
         WHERE relay = ? AND holder = ?",
        (
            bind::<BigInt, _>(position),
            bind::<Interval, _>(interval(lease)),
            bind::<Text, _>(relay),
            bind::<SqlUuid, _>(holder),
        ),
    )
    .execute(conn)
    .await?;
    Ok(updated == 1)
}

/// Gives the lease up (at shutdown), so another replica takes over at once.
pub async fn release(
    conn: &mut AsyncPgConnection,
    relay: &str,
    holder: Uuid,
) -> diesel::QueryResult<()> {
    diesel::sql_query(
        "UPDATE outbox_relays SET holder = NULL, lease_until = NULL, updated_at = now()
         WHERE relay = $1 AND holder = $2",
    )
    .bind::<Text, _>(relay)
    .bind::<SqlUuid, _>(holder)
    .execute(conn)
    .await
    .map(drop)
}

/// How many numbered events wait to be published, and how old the oldest is.
#[derive(Debug, Clone, Copy, PartialEq, Default, diesel::QueryableByName)]
pub struct Lag {
    #[diesel(sql_type = BigInt)]
    pub events: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub seconds: f64,
}

pub async fn lag(conn: &mut AsyncPgConnection, position: i64) -> diesel::QueryResult<Lag> {
    prepared(
        "SELECT greatest((SELECT coalesce(max(position), 0) FROM outbox) - ?, 0)::int8 AS events,
                coalesce((SELECT extract(epoch FROM now() - created_at) FROM outbox
                          WHERE position = ? + 1), 0)::float8 AS seconds",
        (bind::<BigInt, _>(position), bind::<BigInt, _>(position)),
    )
    .get_result(conn)
    .await
}
