//! One change of one order, written the same way whoever asks (a customer
//! paying or cancelling, the sweeper, the catalog's cancellation): the rules
//! decide, then the row, its seats, its tickets and its event change in the
//! caller's transaction.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use futures_util::future::try_join4;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::outbox::{self, NewEvent};

use crate::db::orders::{self, OrderChanges, OrderRow};
use crate::db::tickets::{self, TicketRow};
use crate::db::{self, seats};
use crate::domain::ticket::new_code;
use crate::domain::{Command, Decision, OrderStatus, decide};
use crate::render;

/// The order after a change, and its tickets.
pub type Changed = (OrderRow, Vec<TicketRow>);

/// Applies `command` to the locked order `row`; `None` when it changes
/// nothing, and `Err` (FAILED_PRECONDITION) when the rules refuse it.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    row: &OrderRow,
    command: &Command,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Option<Changed>, ServiceError> {
    let state = row.state().ok_or_else(|| {
        ServiceError::internal(format!("order {} has status {}", row.id, row.status))
    })?;
    let (to, reason) =
        match decide(&state, command, now).map_err(ServiceError::FailedPrecondition)? {
            Decision::Unchanged => return Ok(None),
            Decision::Change { to, reason } => (to, reason),
        };
    let reference = match command {
        Command::Pay { reference } => Some(reference.as_str()),
        _ => None,
    };
    let closes = matches!(
        to,
        OrderStatus::Cancelled | OrderStatus::Expired | OrderStatus::Refunded
    );
    let changes = OrderChanges {
        status: to.as_str(),
        payment_reference: reference,
        paid_at: reference.map(|_| now),
        closed_at: closes.then_some(now),
        close_reason: reason.as_deref(),
        updated_at: now,
    };
    // The row as the update leaves it, so that its event can be rendered
    // and sent with the update itself.
    let after = OrderRow {
        status: to.as_str().into(),
        payment_reference: reference
            .map(str::to_owned)
            .or(row.payment_reference.clone()),
        paid_at: reference.map(|_| now).or(row.paid_at),
        closed_at: closes.then_some(now).or(row.closed_at),
        close_reason: reason.clone().or(row.close_reason.clone()),
        updated_at: now,
        version: row.version + 1,
        ..row.clone()
    };
    let issued = if to == OrderStatus::Paid {
        after
            .seats
            .iter()
            .map(|label| {
                Ok(TicketRow {
                    code: new_code()
                        .map_err(|err| ServiceError::internal(format!("no randomness: {err}")))?,
                    order_id: after.id,
                    label: label.clone(),
                    redeemed_at: None,
                    redeemed_by: None,
                })
            })
            .collect::<Result<Vec<_>, ServiceError>>()?
    } else {
        Vec::new()
    };
    // The order, its seats, its tickets and its event in one round trip
    // (pipelined): PostgreSQL runs them in order, and the first failure
    // fails the rest.
    let shared: &AsyncPgConnection = conn;
    let event = render::change_event(&after, &issued, to);
    let update = async {
        orders::apply(shared, row.id, changes).await.map_err(|err| {
            match db::unique_violated(&err) {
                Some(db::PAYMENT_UNIQUE) => ServiceError::AlreadyExists(
                    "this payment reference has paid another order already".into(),
                ),
                _ => ServiceError::from(err),
            }
        })
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
            Some(event) => append(shared, &after, actor, now, event).await,
            None => Ok(()),
        }
    };
    let (stored, (), issued, ()) = try_join4(update, seats, tickets, append).await?;
    debug_assert_eq!(stored.version, after.version);
    let after = stored;
    Ok(Some((after, issued)))
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
