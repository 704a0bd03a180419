//! The `movie_imports` table: the record of imports that committed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::movie_imports;

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
