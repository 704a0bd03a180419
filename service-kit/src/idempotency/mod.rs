//! Requests that can be retried safely: a client sends an idempotency key
//! with a create, and every retry with that key gets the first answer.
//!
//! A key belongs to the caller who sent it (the IETF Idempotency-Key draft
//! scopes keys to a client) and to one operation. The fingerprint of the
//! request it first came with is kept beside the resource it created, so
//! the same key with another request is refused (FAILED_PRECONDITION,
//! which the edge answers as 422 like the draft says) rather than silently
//! answered with the first resource. Keys expire after
//! `IDEMPOTENCY_KEY_TTL_HOURS`, as Stripe's do; each service's sweeper
//! deletes them with [`prune`].
//!
//! In a create: [`first`] before any work (a retry is answered at once),
//! then [`claim`] as the first statement of the creating transaction. Two
//! racing requests with one key queue on the key's row: the loser's claim
//! waits for the winner's commit and comes back [`Claim::Taken`]; it rolls
//! back and asks [`first`] again.

mod fingerprint;
mod schema;
mod store;

pub use fingerprint::{Fingerprint, FingerprintBuilder};

use chrono::{DateTime, Duration, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use diesel_migrations::EmbeddedMigrations;
use uuid::Uuid;

use crate::ServiceError;
use crate::config::{self, ConfigError};
use crate::values::IdempotencyKey;

/// The idempotency keys' table, applied before a service's own migrations.
pub static MIGRATIONS: EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../migrations/idempotency");

/// `IDEMPOTENCY_KEY_TTL_HOURS` (24, 1–720): how long a key names its request.
pub fn ttl_from_env() -> Result<Duration, ConfigError> {
    let hours: i64 = config::ranged_or("IDEMPOTENCY_KEY_TTL_HOURS", DEFAULT_TTL_HOURS, 1..=720)?;
    Ok(Duration::hours(hours))
}

pub const DEFAULT_TTL_HOURS: i64 = 24;

/// A create that came with a key: whose, for which operation, and the
/// fingerprint of what it asks.
#[derive(Debug, Clone, Copy)]
pub struct Keyed<'a> {
    pub operation: &'static str,
    pub caller: Uuid,
    pub key: &'a IdempotencyKey,
    pub fingerprint: Fingerprint,
}

/// The resource the key's first request created, while the key lives;
/// `None` for a key not seen (or expired); a refusal when the key came
/// with another request.
pub async fn first(
    conn: &AsyncPgConnection,
    keyed: &Keyed<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, ServiceError> {
    let found = store::find(conn, keyed.operation, keyed.caller, keyed.key.as_str(), now).await?;
    match found {
        None => Ok(None),
        Some((stored, resource)) => {
            if Fingerprint::from_stored(&stored) == Some(keyed.fingerprint) {
                Ok(Some(resource))
            } else {
                Err(reused(keyed.key))
            }
        }
    }
}

/// Whether the creating transaction holds the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Claimed,
    /// A request with the key committed first: roll back and ask [`first`].
    Taken,
}

/// Records the key for `resource`, in the transaction that creates it; the
/// key lives `ttl` from `now`.
pub async fn claim(
    conn: &AsyncPgConnection,
    keyed: &Keyed<'_>,
    resource: Uuid,
    now: DateTime<Utc>,
    ttl: Duration,
) -> QueryResult<Claim> {
    let claimed = store::claim(
        conn,
        keyed.operation,
        keyed.caller,
        keyed.key.as_str(),
        keyed.fingerprint.as_bytes(),
        resource,
        now,
        now + ttl,
    )
    .await?;
    Ok(if claimed {
        Claim::Claimed
    } else {
        Claim::Taken
    })
}

/// Deletes the keys expired by `now`; how many.
pub async fn prune(conn: &AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    store::prune(conn, now).await
}

/// The refusal of a key that came with another request.
pub fn reused(key: &IdempotencyKey) -> ServiceError {
    ServiceError::IdempotencyKeyReused {
        field: "idempotency_key",
        key: key.as_str().to_owned(),
    }
}
