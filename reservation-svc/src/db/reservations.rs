//! The `reservations` table.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::reservations;
use crate::domain::{Change, DepositStatus, Reservation, Status, Step};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = reservations, check_for_backend(diesel::pg::Pg))]
pub struct ReservationRow {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub party_size: i32,
    pub start_time: DateTime<Utc>,
    pub duration_minutes: i32,
    pub end_time: DateTime<Utc>,
    pub is_peak_hour: bool,
    pub status: String,
    pub note: String,
    pub table_id: Option<Uuid>,
    pub table_label: Option<String>,
    pub table_capacity: Option<i32>,
    pub table_area: Option<String>,
    pub table_assigned_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub cancel_description: Option<String>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub deposit_amount: i64,
    pub deposit_status: String,
    pub payment_reference: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub refunded_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deposit_difference: i64,
}

impl ReservationRow {
    /// The aggregate's view of this row and the tables it holds (ids);
    /// `None` only if the row holds a status the code does not know, which
    /// the check constraints prevent.
    pub fn to_domain(&self, mut tables: Vec<Uuid>) -> Option<Reservation> {
        tables.sort();
        Some(Reservation {
            id: self.id,
            status: Status::parse(&self.status)?,
            party_size: self.party_size,
            start: self.start_time,
            duration_minutes: self.duration_minutes,
            tables,
            deposit_amount: self.deposit_amount,
            deposit_status: DepositStatus::parse(&self.deposit_status)?,
            payment_reference: self.payment_reference.clone(),
            version: self.version,
        })
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = reservations)]
pub struct NewReservation<'a> {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub contact_name: &'a str,
    pub contact_phone: &'a str,
    pub contact_email: &'a str,
    pub party_size: i32,
    pub start_time: DateTime<Utc>,
    pub duration_minutes: i32,
    pub end_time: DateTime<Utc>,
    pub is_peak_hour: bool,
    pub status: &'a str,
    pub note: &'a str,
    pub deposit_amount: i64,
    pub deposit_status: &'a str,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The columns a [`Change`] sets; `None` leaves a column alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = reservations)]
pub struct RowChanges {
    pub status: Option<&'static str>,
    pub table_id: Option<Uuid>,
    pub table_label: Option<String>,
    pub table_capacity: Option<i32>,
    pub table_area: Option<String>,
    pub table_assigned_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<&'static str>,
    pub cancel_description: Option<String>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub deposit_status: Option<&'static str>,
    pub payment_reference: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub refunded_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub start_time: Option<DateTime<Utc>>,
    pub duration_minutes: Option<i32>,
    pub end_time: Option<DateTime<Utc>>,
    pub party_size: Option<i32>,
    pub is_peak_hour: Option<bool>,
    pub deposit_amount: Option<i64>,
    pub deposit_difference: Option<i64>,
}

impl RowChanges {
    pub fn from_change(change: &Change, now: DateTime<Utc>) -> Self {
        let mut row = RowChanges {
            status: Some(change.to.as_str()),
            deposit_status: Some(change.deposit_status.as_str()),
            updated_at: Some(now),
            ..Default::default()
        };
        for step in &change.steps {
            match step {
                // The first table (the largest) stands for them all in the
                // earlier system's single-table columns.
                Step::TableAssigned { tables, .. } => {
                    if let Some(first) = tables.iter().next() {
                        row.table_id = Some(first.id);
                        row.table_label = Some(first.label.clone());
                        row.table_capacity = Some(first.capacity);
                        row.table_area = Some(first.area.clone());
                        row.table_assigned_at = Some(now);
                    }
                }
                Step::Rescheduled {
                    to,
                    is_peak_hour,
                    deposit_amount,
                    deposit_difference,
                    ..
                } => {
                    row.start_time = Some(to.start);
                    row.duration_minutes = Some(to.duration_minutes);
                    row.end_time = Some(to.end());
                    row.party_size = Some(to.party_size);
                    row.is_peak_hour = Some(*is_peak_hour);
                    row.deposit_amount = Some(*deposit_amount);
                    row.deposit_difference = Some(*deposit_difference);
                }
                Step::Cancelled {
                    reason,
                    description,
                } => {
                    row.cancel_reason = Some(reason.as_str());
                    row.cancel_description = Some(description.clone());
                    row.cancelled_at = Some(now);
                }
                Step::DepositPaid { reference, .. } => {
                    row.payment_reference = Some(reference.clone());
                    row.paid_at = Some(now);
                }
                Step::DepositRefunded { .. } => row.refunded_at = Some(now),
                Step::Confirmed | Step::CheckedIn | Step::Completed | Step::NoShow { .. } => {}
            }
        }
        row
    }
}

impl NewReservation<'_> {
    /// The row this insert makes, as the database will return it (the
    /// columns it does not set take their defaults: no table, no
    /// cancellation, no payment), for rendering its event beforehand.
    pub fn as_row(&self) -> ReservationRow {
        ReservationRow {
            id: self.id,
            customer_id: self.customer_id,
            contact_name: self.contact_name.to_owned(),
            contact_phone: self.contact_phone.to_owned(),
            contact_email: self.contact_email.to_owned(),
            party_size: self.party_size,
            start_time: self.start_time,
            duration_minutes: self.duration_minutes,
            end_time: self.end_time,
            is_peak_hour: self.is_peak_hour,
            status: self.status.to_owned(),
            note: self.note.to_owned(),
            table_id: None,
            table_label: None,
            table_capacity: None,
            table_area: None,
            table_assigned_at: None,
            cancel_reason: None,
            cancel_description: None,
            cancelled_at: None,
            deposit_amount: self.deposit_amount,
            deposit_status: self.deposit_status.to_owned(),
            payment_reference: None,
            paid_at: None,
            refunded_at: None,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            deposit_difference: 0,
        }
    }
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ReservationRow>> {
    reservations::table
        .find(id)
        .select(ReservationRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The reservation, row-locked until the transaction ends, so commands on
/// one reservation take turns.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<ReservationRow>> {
    reservations::table
        .find(id)
        .select(ReservationRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The reservation whose deposit `reference` paid, if any.
pub async fn paid_with(conn: &mut AsyncPgConnection, reference: &str) -> QueryResult<Option<Uuid>> {
    reservations::table
        .filter(reservations::payment_reference.eq(reference))
        .select(reservations::id)
        .first(conn)
        .await
        .optional()
}

/// Writes a change and bumps the version.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: RowChanges,
) -> QueryResult<ReservationRow> {
    diesel::update(reservations::table.find(id))
        .set((changes, reservations::version.eq(reservations::version + 1)))
        .returning(ReservationRow::as_returning())
        .get_result(conn)
        .await
}

/// What ListReservations and GetStats narrow down by.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub customer_id: Option<Uuid>,
    pub status: Option<Status>,
    pub start_from: Option<DateTime<Utc>>,
    pub start_to: Option<DateTime<Utc>>,
}

fn filtered(filter: &Filter) -> reservations::BoxedQuery<'static, diesel::pg::Pg> {
    let mut query = reservations::table.into_boxed();
    if let Some(customer) = filter.customer_id {
        query = query.filter(reservations::customer_id.eq(customer));
    }
    if let Some(status) = filter.status {
        query = query.filter(reservations::status.eq(status.as_str()));
    }
    if let Some(from) = filter.start_from {
        query = query.filter(reservations::start_time.ge(from));
    }
    if let Some(to) = filter.start_to {
        query = query.filter(reservations::start_time.lt(to));
    }
    query
}

/// One page in (start_time, id) order.
pub async fn page(
    conn: &mut AsyncPgConnection,
    filter: &Filter,
    skip: i64,
    limit: i64,
) -> QueryResult<Vec<ReservationRow>> {
    filtered(filter)
        .select(ReservationRow::as_select())
        .order((reservations::start_time.asc(), reservations::id.asc()))
        .offset(skip)
        .limit(limit)
        .load(conn)
        .await
}

pub async fn count(conn: &mut AsyncPgConnection, filter: &Filter) -> QueryResult<i64> {
    filtered(filter).count().get_result(conn).await
}

/// The floor's figures, in one statement.
#[derive(Debug, Clone, QueryableByName)]
pub struct Stats {
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub total_reservations: i64,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub pending_count: i64,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub confirmed_count: i64,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub checked_in_count: i64,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub completed_count: i64,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub cancelled_count: i64,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub no_show_count: i64,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub covers: i64,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    pub total_revenue: i64,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub generated_at: DateTime<Utc>,
}

/// Counts by status, covers (guests of reservations neither cancelled nor
/// no-show) and revenue: deposits paid (including those later refunded or
/// forfeited) minus deposits refunded.
pub async fn stats(
    conn: &mut AsyncPgConnection,
    start_from: Option<DateTime<Utc>>,
    start_to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> QueryResult<Stats> {
    diesel::sql_query(
        "SELECT \
           count(*) AS total_reservations, \
           count(*) FILTER (WHERE status = 'PENDING') AS pending_count, \
           count(*) FILTER (WHERE status = 'CONFIRMED') AS confirmed_count, \
           count(*) FILTER (WHERE status = 'CHECKED_IN') AS checked_in_count, \
           count(*) FILTER (WHERE status = 'COMPLETED') AS completed_count, \
           count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled_count, \
           count(*) FILTER (WHERE status = 'NO_SHOW') AS no_show_count, \
           coalesce(sum(party_size) FILTER (WHERE status NOT IN ('CANCELLED', 'NO_SHOW')), 0)::int8 \
             AS covers, \
           (coalesce(sum(deposit_amount) \
                 FILTER (WHERE deposit_status IN ('PAID', 'REFUNDED', 'FORFEITED')), 0) \
            - coalesce(sum(deposit_amount) FILTER (WHERE deposit_status = 'REFUNDED'), 0))::int8 \
             AS total_revenue, \
           $3 AS generated_at \
         FROM reservations \
         WHERE ($1::timestamptz IS NULL OR start_time >= $1) \
           AND ($2::timestamptz IS NULL OR start_time < $2)",
    )
    .bind::<Nullable<Timestamptz>, _>(start_from)
    .bind::<Nullable<Timestamptz>, _>(start_to)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
}

/// Inserts a reservation made otherwise than by CreateReservation (an
/// accepted waitlist offer).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewReservation<'_>,
) -> QueryResult<ReservationRow> {
    diesel::insert_into(reservations::table)
        .values(new)
        .returning(ReservationRow::as_returning())
        .get_result(conn)
        .await
}

/// Records `first` as the table old callers see, as it is made (no new
/// version).
pub async fn seat_first(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    first: &crate::domain::Seat,
    now: DateTime<Utc>,
) -> QueryResult<ReservationRow> {
    diesel::update(reservations::table.find(id))
        .set((
            reservations::table_id.eq(first.id),
            reservations::table_label.eq(&first.label),
            reservations::table_capacity.eq(first.capacity),
            reservations::table_area.eq(&first.area),
            reservations::table_assigned_at.eq(now),
        ))
        .returning(ReservationRow::as_returning())
        .get_result(conn)
        .await
}

/// The reservation no longer has a table (released by a reschedule).
pub async fn clear_table(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(reservations::table.find(id))
        .set((
            reservations::table_id.eq(None::<Uuid>),
            reservations::table_label.eq(None::<String>),
            reservations::table_capacity.eq(None::<i32>),
            reservations::table_area.eq(None::<String>),
            reservations::table_assigned_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Up to `limit` reservations the sweeper must act on: PENDING at or past
/// their start, CONFIRMED `grace` past it. Locked, skipping rows another
/// transaction (a replica's sweeper, a caller's command) holds, so each is
/// handled by exactly one transaction.
pub async fn lock_overdue(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    grace: chrono::Duration,
    limit: i64,
) -> QueryResult<Vec<ReservationRow>> {
    reservations::table
        .filter(
            reservations::status
                .eq(Status::Pending.as_str())
                .and(reservations::start_time.le(now))
                .or(reservations::status
                    .eq(Status::Confirmed.as_str())
                    .and(reservations::start_time.le(now - grace))),
        )
        .order((reservations::start_time.asc(), reservations::id.asc()))
        .limit(limit)
        .select(ReservationRow::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}
