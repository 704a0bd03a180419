//! One change of one order, written the same way whoever asks (a customer
//! paying or cancelling, the sweeper, the catalog's cancellation): the rules
//! decide, then the row, its seats, its tickets and its event change in the
//! caller's transaction.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use futures_util::future::try_join4;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::db::RefuseExt;
use service_kit::outbox::{self, NewEvent};

use crate::db::orders::{self, OrderRow};
use crate::db::tickets::{self, TicketRow};
use crate::db::{self, seats};
use crate::domain::ticket::new_code;
use crate::domain::{Command, Decision, OrderStatus, decide};
use crate::render;

/// The order after a change, and its tickets.
pub type Changed = (OrderRow, Vec<TicketRow>);

/// Applies `command` to the locked order `row`; `None` when it changes
/// nothing, and `Err` when the rules refuse it.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    row: &OrderRow,
    command: &Command,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Option<Changed>, ServiceError> {
    let (to, reason) = match decide(&row.state()?, command, now)? {
        Decision::Unchanged => return Ok(None),
        Decision::Change { to, reason } => (to, reason),
    };
    // The row as the update leaves it, so that its event can be rendered
    // and sent with the update itself.
    let after = row.changed(to, command.payment_reference(), reason, now);
    let issued = if to == OrderStatus::Paid {
        issue(&after)?
    } else {
        Vec::new()
    };
    write(conn, &after, issued, to, actor, now).await.map(Some)
}

/// Applies `command` to each of the locked orders `rows`; how many changed.
pub async fn apply_each(
    conn: &mut AsyncPgConnection,
    rows: &[OrderRow],
    command: &Command,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<usize, ServiceError> {
    let mut changed = 0;
    for row in rows {
        if apply(conn, row, command, actor, now).await?.is_some() {
            changed += 1;
        }
    }
    Ok(changed)
}

/// A ticket for each seat of a paid order.
fn issue(paid: &OrderRow) -> Result<Vec<TicketRow>, ServiceError> {
    paid.seats
        .iter()
        .map(|label| {
            Ok(TicketRow {
                code: new_code()
                    .map_err(|err| ServiceError::internal(format!("no randomness: {err}")))?,
                order_id: paid.id,
                label: label.clone(),
                redeemed_at: None,
                redeemed_by: None,
            })
        })
        .collect()
}

/// Writes the change to `after`: the order, its seats, the tickets it
/// `issued` and its event.
async fn write(
    conn: &AsyncPgConnection,
    after: &OrderRow,
    issued: Vec<TicketRow>,
    to: OrderStatus,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Changed, ServiceError> {
    // The order, its seats, its tickets and its event in one round trip
    // (pipelined): PostgreSQL runs them in order, and the first failure
    // fails the rest.
    let shared = conn;
    let event = render::change_event(after, &issued, to);
    let update = async {
        orders::apply(shared, after)
            .await
            .refuse(db::refusal::<ServiceError>(after))
    };
    let seats = async {
        seats::set_state(shared, after.id, to.seat_state())
            .await
            .map_err(ServiceError::from)
    };
    let tickets = async {
        if issued.is_empty() {
            Ok(tickets::of_orders(shared, &[after.id]).await?)
        } else {
            tickets::insert(shared, &issued).await?;
            Ok::<_, ServiceError>(issued.clone())
        }
    };
    let append = async {
        match event {
            Some(event) => append(shared, after, actor, now, event).await,
            None => Ok(()),
        }
    };
    let (stored, (), issued, ()) = try_join4(update, seats, tickets, append).await?;
    debug_assert_eq!(stored.version, after.version);
    Ok((stored, issued))
}

/// Appends one event about `order`.
pub async fn append(
    conn: &AsyncPgConnection,
    order: &OrderRow,
    actor: Actor,
    now: DateTime<Utc>,
    event: kursi_proto::order::v1::order_event::Event,
) -> Result<(), ServiceError> {
    let envelope = render::envelope(order, actor.user_id(), now, event);
    let row = NewEvent::new(order.id, &envelope, now)
        .ok_or_else(|| ServiceError::internal("an order event without an event"))?;
    outbox::append(conn, vec![row]).await?;
    Ok(())
}
