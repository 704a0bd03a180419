//! The SQL of idempotency keys.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::idempotency_keys;
use crate::db::{bind, prepared};

/// The fingerprint and resource of an unexpired key.
pub(super) async fn find(
    mut conn: &AsyncPgConnection,
    operation: &str,
    caller: Uuid,
    key: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<(Vec<u8>, Uuid)>> {
    idempotency_keys::table
        .find((operation, caller, key))
        .filter(idempotency_keys::expires_at.gt(now))
        .select((idempotency_keys::fingerprint, idempotency_keys::resource_id))
        .first(&mut conn)
        .await
        .optional()
}

/// Takes the key for `resource`, or takes over an expired one; `false`
/// when an unexpired row holds it. A concurrent transaction inserting the
/// same key makes this wait for it, then answer `false` if it committed.
#[allow(clippy::too_many_arguments)]
pub(super) async fn claim(
    mut conn: &AsyncPgConnection,
    operation: &str,
    caller: Uuid,
    key: &str,
    fingerprint: &[u8],
    resource: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> QueryResult<bool> {
    let claimed = prepared(
        "INSERT INTO idempotency_keys
             (operation, caller_id, key, fingerprint, resource_id, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (operation, caller_id, key) DO UPDATE
            SET fingerprint = EXCLUDED.fingerprint, resource_id = EXCLUDED.resource_id,
                created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
          WHERE idempotency_keys.expires_at <= EXCLUDED.created_at",
        (
            bind::<Text, _>(operation),
            bind::<SqlUuid, _>(caller),
            bind::<Text, _>(key),
            bind::<Bytea, _>(fingerprint),
            bind::<SqlUuid, _>(resource),
            bind::<Timestamptz, _>(now),
            bind::<Timestamptz, _>(expires_at),
        ),
    )
    .execute(&mut conn)
    .await?;
    Ok(claimed == 1)
}

/// Deletes the keys that expired by `now`.
pub(super) async fn prune(mut conn: &AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::expires_at.le(now)))
        .execute(&mut conn)
        .await
}
