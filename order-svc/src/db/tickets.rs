//! The `tickets` table: one per seat of a paid order.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::tickets;
use crate::domain::admission::TicketState;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tickets, check_for_backend(diesel::pg::Pg))]
pub struct TicketRow {
    pub code: String,
    pub order_id: Uuid,
    pub label: String,
    pub redeemed_at: Option<DateTime<Utc>>,
    pub redeemed_by: Option<Uuid>,
}

impl TicketRow {
    /// The door's view of this ticket.
    pub fn state(&self) -> TicketState<'_> {
        TicketState {
            code: &self.code,
            seat: &self.label,
            redeemed_at: self.redeemed_at,
        }
    }
}

pub async fn insert(mut conn: &AsyncPgConnection, tickets: &[TicketRow]) -> QueryResult<()> {
    diesel::insert_into(tickets::table)
        .values(tickets)
        .execute(&mut conn)
        .await
        .map(drop)
}

/// The tickets of these orders.
pub async fn of_orders(
    mut conn: &AsyncPgConnection,
    orders: &[Uuid],
) -> QueryResult<Vec<TicketRow>> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    tickets::table
        .filter(tickets::order_id.eq_any(orders))
        .select(TicketRow::as_select())
        .load(&mut conn)
        .await
}

pub async fn find(mut conn: &AsyncPgConnection, code: &str) -> QueryResult<Option<TicketRow>> {
    tickets::table
        .find(code)
        .select(TicketRow::as_select())
        .first(&mut conn)
        .await
        .optional()
}

/// Admits the ticket if nobody has yet: `None` when it was redeemed
/// already (by a concurrent redeem, say). The condition is checked under
/// the row's lock, so of racing redeems exactly one wins.
pub async fn redeem(
    mut conn: &AsyncPgConnection,
    code: &str,
    by: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<Option<TicketRow>> {
    diesel::update(
        tickets::table
            .filter(tickets::code.eq(code))
            .filter(tickets::redeemed_at.is_null()),
    )
    .set((tickets::redeemed_at.eq(at), tickets::redeemed_by.eq(by)))
    .returning(TicketRow::as_returning())
    .get_result(&mut conn)
    .await
    .optional()
}
