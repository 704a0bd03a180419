//! The `orders` table.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use service_kit::ServiceError;
use uuid::Uuid;

use super::schema::orders;
use crate::domain::{OrderState, OrderStatus};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = orders, check_for_backend(diesel::pg::Pg))]
pub struct OrderRow {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub showtime_id: Uuid,
    pub movie_id: Uuid,
    pub movie_title: String,
    pub showtime_start: DateTime<Utc>,
    pub auditorium: String,
    pub seats: Vec<String>,
    pub quantity: i32,
    pub unit_price: i64,
    pub total_amount: i64,
    pub status: String,
    pub expire_at: DateTime<Utc>,
    pub payment_reference: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_reason: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrderRow {
    pub fn status(&self) -> Option<OrderStatus> {
        OrderStatus::parse(&self.status)
    }

    /// The rules' view of this order; an error only for a status the code
    /// does not know, which the check constraint prevents.
    pub fn state(&self) -> Result<OrderState<'_>, ServiceError> {
        let status = self.status().ok_or_else(|| {
            ServiceError::internal(format!("order {} has status {}", self.id, self.status))
        })?;
        Ok(OrderState {
            status,
            expire_at: self.expire_at,
            payment_reference: self.payment_reference.as_deref(),
            close_reason: self.close_reason.as_deref(),
        })
    }
}

impl OrderRow {
    /// This order as a change to `to` at `now` leaves it, a version later:
    /// paid with `reference`, closed for `reason`.
    pub fn changed(
        &self,
        to: OrderStatus,
        reference: Option<&str>,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> OrderRow {
        OrderRow {
            status: to.as_str().into(),
            payment_reference: reference
                .map(str::to_owned)
                .or(self.payment_reference.clone()),
            paid_at: reference.map(|_| now).or(self.paid_at),
            closed_at: to.is_closed().then_some(now).or(self.closed_at),
            close_reason: reason.or(self.close_reason.clone()),
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }
}

/// The columns a change sets (a `None` is left as it is).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = orders)]
struct OrderChanges<'a> {
    status: &'a str,
    payment_reference: Option<&'a str>,
    paid_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    close_reason: Option<&'a str>,
    updated_at: DateTime<Utc>,
}

pub async fn insert(mut conn: &AsyncPgConnection, order: &OrderRow) -> QueryResult<OrderRow> {
    diesel::insert_into(orders::table)
        .values(order)
        .returning(OrderRow::as_returning())
        .get_result(&mut conn)
        .await
}

pub async fn find(mut conn: &AsyncPgConnection, id: Uuid) -> QueryResult<Option<OrderRow>> {
    orders::table
        .find(id)
        .select(OrderRow::as_select())
        .first(&mut conn)
        .await
        .optional()
}

pub async fn find_for_update(
    mut conn: &AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<OrderRow>> {
    orders::table
        .find(id)
        .select(OrderRow::as_select())
        .for_update()
        .first(&mut conn)
        .await
        .optional()
}

/// Writes a change, the order as [`OrderRow::changed`] left it, and bumps
/// the version.
pub async fn apply(mut conn: &AsyncPgConnection, after: &OrderRow) -> QueryResult<OrderRow> {
    let changes = OrderChanges {
        status: &after.status,
        payment_reference: after.payment_reference.as_deref(),
        paid_at: after.paid_at,
        closed_at: after.closed_at,
        close_reason: after.close_reason.as_deref(),
        updated_at: after.updated_at,
    };
    diesel::update(orders::table.find(after.id))
        .set((changes, orders::version.eq(orders::version + 1)))
        .returning(OrderRow::as_returning())
        .get_result(&mut conn)
        .await
}

/// Records a change that is not the order's own columns (a ticket
/// admitted): the version goes up and `updated_at` moves.
pub async fn touch(
    mut conn: &AsyncPgConnection,
    id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<OrderRow> {
    diesel::update(orders::table.find(id))
        .set((
            orders::version.eq(orders::version + 1),
            orders::updated_at.eq(at),
        ))
        .returning(OrderRow::as_returning())
        .get_result(&mut conn)
        .await
}

/// PENDING, and its hold ran out by `now` (`status::decide` says the same).
#[diesel::dsl::auto_type]
fn overdue(now: DateTime<Utc>) -> _ {
    let pending: &'static str = OrderStatus::Pending.as_str();
    orders::status.eq(pending).and(orders::expire_at.le(now))
}

/// Up to `limit` PENDING orders whose hold ran out by `now`, locked; rows
/// another transaction holds are passed over (another sweeper, or a
/// customer paying), so any number of replicas may sweep.
pub async fn lock_expired(
    mut conn: &AsyncPgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<OrderRow>> {
    orders::table
        .filter(overdue(now))
        .order(orders::expire_at)
        .limit(limit)
        .select(OrderRow::as_select())
        .for_update()
        .skip_locked()
        .load(&mut conn)
        .await
}

/// A showtime's PENDING orders whose hold ran out by `now`, locked; those
/// another transaction holds are passed over.
pub async fn lock_overdue_of_showtime(
    mut conn: &AsyncPgConnection,
    showtime_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Vec<OrderRow>> {
    orders::table
        .filter(orders::showtime_id.eq(showtime_id))
        .filter(overdue(now))
        .select(OrderRow::as_select())
        .for_update()
        .skip_locked()
        .load(&mut conn)
        .await
}

/// When the first hold of a showtime's PENDING orders runs out; `None`
/// when none holds seats.
pub async fn first_release_of_showtime(
    mut conn: &AsyncPgConnection,
    showtime_id: Uuid,
) -> QueryResult<Option<DateTime<Utc>>> {
    let pending: &'static str = OrderStatus::Pending.as_str();
    orders::table
        .filter(orders::showtime_id.eq(showtime_id))
        .filter(orders::status.eq(pending))
        .select(diesel::dsl::min(orders::expire_at))
        .first(&mut conn)
        .await
}

/// A showtime's orders in these states, locked, oldest first.
pub async fn lock_of_showtime(
    mut conn: &AsyncPgConnection,
    showtime_id: Uuid,
    statuses: &[OrderStatus],
) -> QueryResult<Vec<OrderRow>> {
    let statuses: Vec<&str> = statuses.iter().map(|status| status.as_str()).collect();
    orders::table
        .filter(orders::showtime_id.eq(showtime_id))
        .filter(orders::status.eq_any(statuses))
        .order((orders::created_at, orders::id))
        .select(OrderRow::as_select())
        .for_update()
        .load(&mut conn)
        .await
}

/// What ListOrders asks for.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub customer_id: Option<Uuid>,
    pub status: Option<OrderStatus>,
    pub showtime_id: Option<Uuid>,
}

type Boxed<'a> = orders::BoxedQuery<'a, diesel::pg::Pg>;

fn filtered(filter: &Filter) -> Boxed<'static> {
    let mut query = orders::table.into_boxed();
    if let Some(customer) = filter.customer_id {
        query = query.filter(orders::customer_id.eq(customer));
    }
    if let Some(status) = filter.status {
        query = query.filter(orders::status.eq(status.as_str()));
    }
    if let Some(showtime) = filter.showtime_id {
        query = query.filter(orders::showtime_id.eq(showtime));
    }
    query
}

/// Orders newest first, after the position `before` (the last order of the
/// previous page).
pub async fn page(
    mut conn: &AsyncPgConnection,
    filter: &Filter,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<OrderRow>> {
    let mut query = filtered(filter)
        .select(OrderRow::as_select())
        .order((orders::created_at.desc(), orders::id.desc()))
        .limit(limit);
    if let Some((at, id)) = before {
        query = query.filter(
            orders::created_at
                .lt(at)
                .or(orders::created_at.eq(at).and(orders::id.lt(id))),
        );
    }
    query.load(&mut conn).await
}

pub async fn count(mut conn: &AsyncPgConnection, filter: &Filter) -> QueryResult<i64> {
    filtered(filter).count().get_result(&mut conn).await
}
