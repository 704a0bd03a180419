//! The `reservation_history` table: who changed what, when.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::reservation_history;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reservation_history, check_for_backend(diesel::pg::Pg))]
pub struct HistoryRow {
    pub id: i64,
    pub reservation_id: Uuid,
    pub version: i64,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: Option<Uuid>,
    pub note: String,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = reservation_history)]
pub struct NewEntry<'a> {
    pub reservation_id: Uuid,
    pub version: i64,
    pub action: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: &'a str,
    pub actor_id: Option<Uuid>,
    pub note: &'a str,
    pub changed_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, entries: &[NewEntry<'_>]) -> QueryResult<()> {
    diesel::insert_into(reservation_history::table)
        .values(entries)
        .execute(conn)
        .await
        .map(drop)
}

/// Every entry of one reservation, oldest first.
pub async fn of(
    conn: &mut AsyncPgConnection,
    reservation_id: Uuid,
) -> QueryResult<Vec<HistoryRow>> {
    reservation_history::table
        .filter(reservation_history::reservation_id.eq(reservation_id))
        .order(reservation_history::id.asc())
        .select(HistoryRow::as_select())
        .load(conn)
        .await
}
