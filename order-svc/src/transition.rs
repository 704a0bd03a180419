//! One change of one order, written the same way whoever asks (a customer
//! paying or cancelling, the sweeper, the catalog's cancellation): the rules
//! decide, then the row, its seats, its tickets and its event change in the
//! caller's transaction.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use service_kit::ServiceError;
use service_kit::outbox::{self, NewEvent};
use uuid::Uuid;

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
    actor: Option<Uuid>,
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
    let after = orders::apply(
        conn,
        row.id,
        OrderChanges {
            status: to.as_str(),
            payment_reference: reference,
            paid_at: reference.map(|_| now),
            closed_at: closes.then_some(now),
            close_reason: reason.as_deref(),
            updated_at: now,
        },
    )
    .await
    .map_err(|err| match db::unique_violated(&err) {
        Some(db::PAYMENT_UNIQUE) => ServiceError::AlreadyExists(
            "this payment reference has paid another order already".into(),
        ),
        _ => ServiceError::from(err),
    })?;
    seats::set_state(conn, after.id, to.seat_state()).await?;
    let issued = if to == OrderStatus::Paid {
        let issued = after
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
            .collect::<Result<Vec<_>, ServiceError>>()?;
        tickets::insert(conn, &issued).await?;
        issued
    } else {
        tickets::of_orders(conn, &[after.id]).await?
    };
    if let Some(event) = render::change_event(&after, &issued, to) {
        append(conn, &after, actor, now, event).await?;
    }
    Ok(Some((after, issued)))
}

/// Appends one event about `order`.
pub async fn append(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
    event: kursi_proto::order::v1::order_event::Event,
) -> Result<(), ServiceError> {
    let envelope = render::envelope(order, actor, now, event);
    let row = NewEvent::new(order.id, &envelope, now)
        .ok_or_else(|| ServiceError::internal("an order event without an event"))?;
    outbox::append(conn, vec![row]).await?;
    Ok(())
}
