//! The `movie_imports` table, the record of imports that committed, and the
//! advisory lock under which one import runs at a time.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Int8};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use service_kit::db::{bind, prepared};
use uuid::Uuid;

use super::schema::movie_imports;

/// The advisory lock of the import ("kursi.catalog.import").
const IMPORT_LOCK: i64 = 0x6b75_7273_6369_6d70;

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Takes the import's lock until the transaction ends, unless another
/// transaction, in any replica, holds it: then `false`, at once.
/// Transaction-scoped, so that a request cancelled mid-fetch (the client
/// went away) cannot leave the lock behind on a pooled connection: the
/// connection is discarded and the server ends its session.
pub async fn try_lock(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    let taken: Locked = prepared(
        "SELECT pg_try_advisory_xact_lock(?) AS locked",
        (bind::<Int8, _>(IMPORT_LOCK),),
    )
    .get_result(conn)
    .await?;
    Ok(taken.locked)
}

#[derive(Debug, Insertable)]
#[diesel(table_name = movie_imports)]
pub struct NewImport<'a> {
    pub trigger: &'a str,
    pub actor_id: Option<Uuid>,
    pub pages: i32,
    pub created_count: i32,
    pub updated_count: i32,
    pub unchanged_count: i32,
    pub skipped_count: i32,
    pub completed_at: DateTime<Utc>,
}

pub async fn record(conn: &mut AsyncPgConnection, import: NewImport<'_>) -> QueryResult<()> {
    diesel::insert_into(movie_imports::table)
        .values(import)
        .execute(conn)
        .await
        .map(drop)
}

/// When the last import committed, in any replica.
pub async fn last_completed(conn: &mut AsyncPgConnection) -> QueryResult<Option<DateTime<Utc>>> {
    movie_imports::table
        .select(diesel::dsl::max(movie_imports::completed_at))
        .get_result(conn)
        .await
}
