//! The `restaurant_tables` table: the floor plan.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::restaurant_tables;
use crate::domain::Seat;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = restaurant_tables, check_for_backend(diesel::pg::Pg))]
pub struct TableRow {
    pub id: Uuid,
    pub label: String,
    pub capacity: i32,
    pub area: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TableRow {
    /// The table as the seating rules see it.
    pub fn into_offer(self) -> Seat {
        Seat {
            id: self.id,
            label: self.label,
            capacity: self.capacity,
            area: self.area,
            active: self.active,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = restaurant_tables)]
pub struct NewTable<'a> {
    pub id: Uuid,
    pub label: &'a str,
    pub capacity: i32,
    pub area: &'a str,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Fields to change; `None` keeps the value.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = restaurant_tables)]
pub struct TableChanges<'a> {
    pub label: Option<&'a str>,
    pub capacity: Option<i32>,
    pub area: Option<&'a str>,
    pub active: Option<bool>,
}

pub async fn insert(conn: &mut AsyncPgConnection, table: NewTable<'_>) -> QueryResult<TableRow> {
    diesel::insert_into(restaurant_tables::table)
        .values(table)
        .returning(TableRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<TableRow>> {
    restaurant_tables::table
        .find(id)
        .select(TableRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The table, locked against concurrent assignments of it (and changes to
/// it) until the transaction ends. AssignTable takes this lock so that
/// racing assignments of one table queue here instead of deadlocking inside
/// the exclusion constraint's index.
pub async fn lock_for_assignment(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<TableRow>> {
    restaurant_tables::table
        .find(id)
        .select(TableRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The tables `ids` names that exist, locked as [`lock_for_assignment`]
/// locks one, in id order so that two writers locking overlapping sets
/// queue instead of deadlocking.
pub async fn lock_many_for_assignment(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<TableRow>> {
    restaurant_tables::table
        .filter(restaurant_tables::id.eq_any(ids))
        .order(restaurant_tables::id)
        .select(TableRow::as_select())
        .for_update()
        .load(conn)
        .await
}

/// Every active table, locked for assignment (in id order): what the
/// waitlist's matching takes before it offers any of them.
pub async fn lock_active(conn: &mut AsyncPgConnection) -> QueryResult<Vec<TableRow>> {
    restaurant_tables::table
        .filter(restaurant_tables::active.eq(true))
        .order(restaurant_tables::id)
        .select(TableRow::as_select())
        .for_update()
        .load(conn)
        .await
}

/// Every active table (in `area`, when given), smallest first.
pub async fn active(
    conn: &mut AsyncPgConnection,
    area: Option<&str>,
) -> QueryResult<Vec<TableRow>> {
    filtered(area, false)
        .select(TableRow::as_select())
        .order((
            restaurant_tables::capacity.asc(),
            lower(restaurant_tables::label).asc(),
        ))
        .load(conn)
        .await
}

/// A shared lock on a held table: other changes to reservations on it may
/// proceed together, but not alongside an assignment of it.
pub async fn lock_shared(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    restaurant_tables::table
        .filter(restaurant_tables::id.eq_any(ids))
        .order(restaurant_tables::id)
        .select(restaurant_tables::id)
        .for_share()
        .load::<Uuid>(conn)
        .await
        .map(drop)
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: TableChanges<'_>,
    now: DateTime<Utc>,
) -> QueryResult<Option<TableRow>> {
    diesel::update(restaurant_tables::table.find(id))
        .set((changes, restaurant_tables::updated_at.eq(now)))
        .returning(TableRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Tables in label order (case-insensitive), after the `(label, id)` of
/// the last table of the previous page.
pub async fn page(
    conn: &mut AsyncPgConnection,
    after: Option<(&str, Uuid)>,
    area: Option<&str>,
    include_inactive: bool,
    limit: i64,
) -> QueryResult<Vec<TableRow>> {
    let mut query = filtered(area, include_inactive)
        .select(TableRow::as_select())
        .order((
            lower(restaurant_tables::label).asc(),
            restaurant_tables::id.asc(),
        ))
        .limit(limit);
    if let Some((label, id)) = after {
        // Lowered by PostgreSQL, as the ORDER BY is, not by Rust.
        let label = || lower(label.to_owned().into_sql::<diesel::sql_types::Text>());
        query = query.filter(
            lower(restaurant_tables::label)
                .gt(label())
                .or(lower(restaurant_tables::label)
                    .eq(label())
                    .and(restaurant_tables::id.gt(id))),
        );
    }
    query.load(conn).await
}

pub async fn count(
    conn: &mut AsyncPgConnection,
    area: Option<&str>,
    include_inactive: bool,
) -> QueryResult<i64> {
    filtered(area, include_inactive)
        .count()
        .get_result(conn)
        .await
}

type Boxed<'a> = restaurant_tables::BoxedQuery<'a, diesel::pg::Pg>;

fn filtered(area: Option<&str>, include_inactive: bool) -> Boxed<'static> {
    let mut query = restaurant_tables::table.into_boxed();
    if let Some(area) = area {
        let area = area.to_owned().into_sql::<diesel::sql_types::Text>();
        query = query.filter(lower(restaurant_tables::area).eq(lower(area)));
    }
    if !include_inactive {
        query = query.filter(restaurant_tables::active.eq(true));
    }
    query
}

/// Active tables that seat `party`, smallest first.
pub async fn seating(
    conn: &mut AsyncPgConnection,
    party: i32,
    area: Option<&str>,
) -> QueryResult<Vec<TableRow>> {
    filtered(area, false)
        .filter(restaurant_tables::capacity.ge(party))
        .select(TableRow::as_select())
        .order((
            restaurant_tables::capacity.asc(),
            lower(restaurant_tables::label).asc(),
        ))
        .load(conn)
        .await
}
