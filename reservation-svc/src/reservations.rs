//! The reservation rules at work: each command runs in one transaction that
//! locks the reservation, lets the aggregate decide, and writes the row, its
//! history entries and its outbox events together.
//!
//! Whose reservation the actor may see or list is decided here and nowhere
//! else ([`Actor::may_see`], [`Actor::listing_for`]), whom a booking is for
//! in `bookings`, and who may run which command by [`access::may_run`].
//! Handlers in `api` parse requests and call these; these call `db`.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::{Pool, RefuseExt, ScopedFutureExt, read, transaction};
use service_kit::outbox::{self, Outbox};
use uuid::Uuid;

use crate::db::history::{self, HistoryRow, NewEntry};
use crate::db::reservations::{self, Filter, ReservationRow, RowChanges, Stats};
use crate::db::{self, tables};
use crate::domain::values::{Note, PaymentReference};
use crate::domain::{
    CancelReason, Change, Command, Outcome, Refusal, Reservation, RestaurantPolicy, access,
};
use crate::render;

/// A validated command on an existing reservation.
#[derive(Debug, Clone)]
pub enum Action {
    Confirm(Note),
    AssignTable {
        table_id: Uuid,
        /// The earlier system's `capacity` and `area`, checked against the table.
        capacity: Option<i32>,
        area: Option<String>,
        note: Note,
    },
    CheckIn(Note),
    Complete(Note),
    Cancel(CancelReason, Note),
    MarkNoShow(Note),
    PayDeposit(PaymentReference, i64),
}

impl Action {
    /// The state machine's name for it.
    fn command(&self) -> Command {
        match self {
            Action::Confirm(_) => Command::Confirm,
            Action::AssignTable { .. } => Command::AssignTable,
            Action::CheckIn(_) => Command::CheckIn,
            Action::Complete(_) => Command::Complete,
            Action::Cancel(..) => Command::Cancel,
            Action::MarkNoShow(_) => Command::MarkNoShow,
            Action::PayDeposit(..) => Command::PayDeposit,
        }
    }

    fn cancel_reason(&self) -> Option<CancelReason> {
        match self {
            Action::Cancel(reason, _) => Some(*reason),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct Reservations {
    pool: Pool,
    policy: RestaurantPolicy,
    outbox: Outbox,
    clock: Clock,
}

/// The reservation, if the actor may see it: customers see only their own,
/// and another's is answered as not found.
fn visible(row: Option<ReservationRow>, actor: Actor, id: Uuid) -> Result<ReservationRow, Refusal> {
    row.filter(|row| actor.may_see(row.customer_id))
        .ok_or(Refusal::NoReservation(id))
}

impl Reservations {
    pub fn new(outbox: Outbox, policy: RestaurantPolicy, clock: Clock) -> Self {
        Self {
            pool: outbox.pool().clone(),
            policy,
            outbox,
            clock,
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn policy(&self) -> &RestaurantPolicy {
        &self.policy
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Now, on the service's clock: what requests are judged against.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub async fn get(&self, actor: Actor, id: Uuid) -> Result<ReservationRow, ServiceError> {
        let row = read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(reservations::find(conn, id).await?) }.scope_boxed()
        })
        .await?;
        Ok(visible(row, actor, id)?)
    }

    /// One page of the reservations `filter` names, of those the actor may
    /// list (customers only their own), and how many there are.
    pub async fn list(
        &self,
        actor: Actor,
        filter: Filter,
        skip: i64,
        limit: i64,
    ) -> Result<(Vec<ReservationRow>, i64), ServiceError> {
        let filter = Filter {
            customer_id: actor.listing_for(filter.customer_id, "reservations")?,
            ..filter
        };
        let filter = &filter;
        read(&self.pool, |conn| {
            async move {
                let rows = reservations::page(conn, filter, skip, limit).await?;
                let total = reservations::count(conn, filter).await?;
                Ok::<_, ServiceError>((rows, total))
            }
            .scope_boxed()
        })
        .await
    }

    pub async fn history(&self, actor: Actor, id: Uuid) -> Result<Vec<HistoryRow>, ServiceError> {
        self.get(actor, id).await?;
        read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(history::of(conn, id).await?) }.scope_boxed()
        })
        .await
    }

    pub async fn stats(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Stats, ServiceError> {
        let now = self.clock.now();
        read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(reservations::stats(conn, from, to, now).await?) }
                .scope_boxed()
        })
        .await
    }

    /// Runs one command on one reservation.
    pub async fn run(
        &self,
        actor: Actor,
        id: Uuid,
        action: Action,
    ) -> Result<ReservationRow, ServiceError> {
        access::may_run(&actor, action.command(), action.cancel_reason())?;
        let policy = &self.policy;
        let action = &action;
        let (row, changed) = transaction(&self.pool, |conn| {
            async move {
                let row = reservations::find_for_update(conn, id).await?;
                let row = visible(row, actor, id)?;
                let current = aggregate(&row)?;
                let now = self.clock.now();
                let outcome = decide(conn, &current, action.clone(), policy, now).await?;
                match outcome {
                    Outcome::Unchanged => Ok::<_, ServiceError>((row, false)),
                    Outcome::Changed(change) => {
                        let after = write_change(conn, &row, &change, actor, now).await?;
                        Ok((after, true))
                    }
                }
            }
            .scope_boxed()
        })
        .await?;
        if changed {
            self.outbox.committed();
        }
        Ok(row)
    }
}

pub(crate) fn aggregate(row: &ReservationRow) -> Result<Reservation, ServiceError> {
    row.to_domain().ok_or_else(|| {
        ServiceError::internal(format!(
            "reservation {} has an unknown status {} or deposit status {}",
            row.id, row.status, row.deposit_status
        ))
    })
}

/// Asks the aggregate; AssignTable first locks the table it wants, and
/// every other command takes a shared lock on the table it holds, so that
/// no two transactions wait on each other inside the exclusion constraint.
async fn decide(
    conn: &mut AsyncPgConnection,
    current: &Reservation,
    action: Action,
    policy: &RestaurantPolicy,
    now: DateTime<Utc>,
) -> Result<Outcome, ServiceError> {
    if let Action::AssignTable {
        table_id,
        capacity,
        area,
        note,
    } = &action
    {
        let table = tables::lock_for_assignment(conn, *table_id)
            .await?
            .ok_or(Refusal::NoTable(*table_id))?;
        let offer = table.into_offer();
        offer.check_asked(*capacity, area.as_deref())?;
        return Ok(current.assign_table(&offer, note)?);
    }
    if let Some(held) = current.table_id {
        tables::lock_shared(conn, &[held]).await?;
    }
    Ok(match action {
        Action::Confirm(note) => Outcome::Changed(current.confirm(&note)?),
        Action::CheckIn(note) => Outcome::Changed(current.check_in(&note)?),
        Action::Complete(note) => Outcome::Changed(current.complete(&note)?),
        Action::Cancel(reason, description) => current.cancel(reason, &description, policy, now)?,
        Action::MarkNoShow(note) => Outcome::Changed(current.mark_no_show(&note, now)?),
        Action::PayDeposit(reference, amount) => {
            let holder = reservations::paid_with(conn, reference.as_str()).await?;
            current.pay_deposit(&reference, amount, holder)?
        }
        Action::AssignTable { .. } => Outcome::Unchanged,
    })
}

/// Writes a decided change: the row (version + 1), one history entry and
/// one outbox event per step, in the caller's transaction.
pub(crate) async fn write_change(
    conn: &mut AsyncPgConnection,
    before: &ReservationRow,
    change: &Change,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<ReservationRow, ServiceError> {
    let after = reservations::apply(conn, before.id, RowChanges::from_change(change, now))
        .await
        .refuse(db::refusal_writing(change))?;
    let notes: Vec<String> = change
        .steps
        .iter()
        .map(|step| render::history_note(step, change))
        .collect();
    let entries: Vec<NewEntry<'_>> = change
        .steps
        .iter()
        .zip(&notes)
        .map(|(step, note)| NewEntry {
            reservation_id: after.id,
            version: after.version,
            action: render::action(step),
            from_status: Some(change.from.as_str()),
            to_status: change.to.as_str(),
            actor_id: actor.user_id(),
            note,
            changed_at: now,
        })
        .collect();
    history::insert(conn, &entries).await?;
    let events = change
        .steps
        .iter()
        .zip(&notes)
        .map(|(step, note)| {
            let event = render::event(step, &after, note);
            render::outbox_event(&after, actor.user_id(), now, event)
        })
        .collect::<Result<_, _>>()?;
    outbox::append(conn, events).await?;
    Ok(after)
}
