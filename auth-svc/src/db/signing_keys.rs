//! The `signing_keys` table: which public keys are published in the JWKS.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::signing_keys;

/// Makes `kid` the current key and retires every other one, at once, `now`.
pub async fn make_current(
    conn: &mut AsyncPgConnection,
    kid: &str,
    public_x: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let (kid, public_x) = (kid.to_owned(), public_x.to_owned());
    conn.transaction(async |conn| {
        diesel::insert_into(signing_keys::table)
            .values((
                signing_keys::kid.eq(&kid),
                signing_keys::public_x.eq(&public_x),
                signing_keys::first_used.eq(now),
            ))
            .on_conflict(signing_keys::kid)
            .do_update()
            .set((
                signing_keys::public_x.eq(excluded(signing_keys::public_x)),
                signing_keys::retired_at.eq(None::<DateTime<Utc>>),
            ))
            .execute(conn)
            .await?;
        diesel::update(
            signing_keys::table
                .filter(signing_keys::kid.ne(&kid))
                .filter(signing_keys::retired_at.is_null()),
        )
        .set(signing_keys::retired_at.eq(now))
        .execute(conn)
        .await?;
        Ok(())
    })
    .await
}

/// `(kid, x)` of the current key and of keys retired after `cutoff`,
/// newest first.
pub async fn published(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
) -> QueryResult<Vec<(String, String)>> {
    signing_keys::table
        .filter(
            signing_keys::retired_at
                .is_null()
                .or(signing_keys::retired_at.gt(cutoff)),
        )
        .order(signing_keys::first_used.desc())
        .select((signing_keys::kid, signing_keys::public_x))
        .load(conn)
        .await
}
