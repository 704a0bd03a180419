//! The `waitlist_entries` and `waitlist_history` tables: the line, and who
//! changed what in it.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{waitlist_entries, waitlist_history};
use crate::domain::WaitState;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = waitlist_entries, check_for_backend(diesel::pg::Pg))]
pub struct EntryRow {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub party_size: i32,
    pub day: NaiveDate,
    pub earliest_start: DateTime<Utc>,
    pub latest_start: DateTime<Utc>,
    pub duration_minutes: i32,
    pub note: String,
    pub state: String,
    pub offer_start: Option<DateTime<Utc>>,
    pub offer_end: Option<DateTime<Utc>>,
    pub offer_expires_at: Option<DateTime<Utc>>,
    pub reservation_id: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EntryRow {
    pub fn wait_state(&self) -> Option<WaitState> {
        WaitState::parse(&self.state)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = waitlist_entries)]
pub struct NewEntry<'a> {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub contact_name: &'a str,
    pub contact_phone: &'a str,
    pub contact_email: &'a str,
    pub party_size: i32,
    pub day: NaiveDate,
    pub earliest_start: DateTime<Utc>,
    pub latest_start: DateTime<Utc>,
    pub duration_minutes: i32,
    pub note: &'a str,
    pub state: &'a str,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a change sets; `None` leaves a column alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = waitlist_entries)]
pub struct EntryChanges {
    pub state: Option<&'static str>,
    pub offer_start: Option<DateTime<Utc>>,
    pub offer_end: Option<DateTime<Utc>>,
    pub offer_expires_at: Option<DateTime<Utc>>,
    pub reservation_id: Option<Uuid>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = waitlist_history, check_for_backend(diesel::pg::Pg))]
pub struct EntryHistoryRow {
    pub id: i64,
    pub entry_id: Uuid,
    pub version: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_id: Option<Uuid>,
    pub note: String,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = waitlist_history)]
pub struct NewEntryHistory<'a> {
    pub entry_id: Uuid,
    pub version: i64,
    pub action: &'a str,
    pub from_state: Option<&'a str>,
    pub to_state: &'a str,
    pub actor_id: Option<Uuid>,
    pub note: &'a str,
    pub changed_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, entry: NewEntry<'_>) -> QueryResult<EntryRow> {
    diesel::insert_into(waitlist_entries::table)
        .values(entry)
        .returning(EntryRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<EntryRow>> {
    waitlist_entries::table
        .find(id)
        .select(EntryRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The entry, row-locked until the transaction ends.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<EntryRow>> {
    waitlist_entries::table
        .find(id)
        .select(EntryRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Writes a change and bumps the version.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: EntryChanges,
) -> QueryResult<EntryRow> {
    diesel::update(waitlist_entries::table.find(id))
        .set((
            changes,
            waitlist_entries::version.eq(waitlist_entries::version + 1),
        ))
        .returning(EntryRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn record(conn: &mut AsyncPgConnection, entry: NewEntryHistory<'_>) -> QueryResult<()> {
    diesel::insert_into(waitlist_history::table)
        .values(entry)
        .execute(conn)
        .await
        .map(drop)
}

/// Every change of one entry, oldest first.
pub async fn history(
    conn: &mut AsyncPgConnection,
    entry: Uuid,
) -> QueryResult<Vec<EntryHistoryRow>> {
    waitlist_history::table
        .filter(waitlist_history::entry_id.eq(entry))
        .order(waitlist_history::id.asc())
        .select(EntryHistoryRow::as_select())
        .load(conn)
        .await
}

/// A day's WAITING entries in line order, locked: the matching takes
/// them in turn.
pub async fn waiting_for_update(
    conn: &mut AsyncPgConnection,
    day: NaiveDate,
) -> QueryResult<Vec<EntryRow>> {
    waitlist_entries::table
        .filter(waitlist_entries::day.eq(day))
        .filter(waitlist_entries::state.eq(WaitState::Waiting.as_str()))
        .order((
            waitlist_entries::created_at.asc(),
            waitlist_entries::id.asc(),
        ))
        .select(EntryRow::as_select())
        .for_update()
        .load(conn)
        .await
}

/// The days from `from` on with entries WAITING.
pub async fn waiting_days(
    conn: &mut AsyncPgConnection,
    from: NaiveDate,
) -> QueryResult<Vec<NaiveDate>> {
    waitlist_entries::table
        .filter(waitlist_entries::day.ge(from))
        .filter(waitlist_entries::state.eq(WaitState::Waiting.as_str()))
        .select(waitlist_entries::day)
        .distinct()
        .order(waitlist_entries::day.asc())
        .load(conn)
        .await
}

/// Up to `limit` entries the sweeper ends: offers lapsed by `now`, and
/// entries still in line whose day is before `today`. Locked, skipping
/// rows another transaction holds.
pub async fn lock_overdue(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    today: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<EntryRow>> {
    let open: Vec<&str> = WaitState::OPEN.iter().map(|s| s.as_str()).collect();
    waitlist_entries::table
        .filter(
            waitlist_entries::state
                .eq(WaitState::Offered.as_str())
                .and(waitlist_entries::offer_expires_at.le(now))
                .or(waitlist_entries::state
                    .eq_any(open)
                    .and(waitlist_entries::day.lt(today))),
        )
        .order((waitlist_entries::day.asc(), waitlist_entries::id.asc()))
        .limit(limit)
        .select(EntryRow::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

/// What ListWaitlist narrows down by.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub day: Option<NaiveDate>,
    pub state: Option<WaitState>,
    pub customer_id: Option<Uuid>,
}

/// Where a page starts: after the `(day, created_at, id)` of the last entry
/// of the previous one.
pub type After = (NaiveDate, DateTime<Utc>, Uuid);

/// One page in line order: by day, then order of joining.
pub async fn page(
    conn: &mut AsyncPgConnection,
    filter: &EntryFilter,
    after: Option<After>,
    limit: i64,
) -> QueryResult<Vec<EntryRow>> {
    use waitlist_entries as w;
    let mut query = w::table.into_boxed();
    if let Some(day) = filter.day {
        query = query.filter(w::day.eq(day));
    }
    if let Some(state) = filter.state {
        query = query.filter(w::state.eq(state.as_str()));
    }
    if let Some(customer) = filter.customer_id {
        query = query.filter(w::customer_id.eq(customer));
    }
    if let Some((day, at, id)) = after {
        query = query.filter(
            w::day.gt(day).or(w::day.eq(day).and(
                w::created_at
                    .gt(at)
                    .or(w::created_at.eq(at).and(w::id.gt(id))),
            )),
        );
    }
    query
        .order((w::day.asc(), w::created_at.asc(), w::id.asc()))
        .limit(limit)
        .select(EntryRow::as_select())
        .load(conn)
        .await
}

#[derive(Debug, QueryableByName)]
struct Place {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = BigInt)]
    position: i64,
}

/// The places in line of those of `entries` still in it: 1 for the first
/// of its day, counting WAITING and OFFERED entries that joined before.
pub async fn places(
    conn: &mut AsyncPgConnection,
    entries: &[Uuid],
) -> QueryResult<Vec<(Uuid, i64)>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Place> = diesel::sql_query(
        "SELECT id, position FROM ( \
           SELECT o.id, row_number() OVER (PARTITION BY o.day ORDER BY o.created_at, o.id) AS position \
           FROM waitlist_entries o \
           WHERE o.state IN ('WAITING', 'OFFERED') \
             AND o.day IN (SELECT day FROM waitlist_entries WHERE id = ANY($1)) \
         ) line WHERE id = ANY($1)",
    )
    .bind::<Array<SqlUuid>, _>(entries)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|p| (p.id, p.position)).collect())
}
