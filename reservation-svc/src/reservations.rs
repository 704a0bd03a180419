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
use crate::db::holds::{self, HoldRow, Holder};
use crate::db::reservations::{self, Filter, ReservationRow, RowChanges, Stats};
use crate::db::{self, tables};
use crate::domain::reservation::{TablesAtNewTime, Timing};
use crate::domain::values::{DurationMinutes, Note, PartySize, PaymentReference};
use crate::domain::{
    CancelReason, Change, Command, HOLDING, Outcome, Refusal, Reservation, RestaurantPolicy, Seat,
    Step, access,
};
use crate::render;
use crate::waitlist::Waitlist;

/// A reservation and the tables it has (its rows of `table_holds`).
#[derive(Debug, Clone)]
pub struct Seated {
    pub row: ReservationRow,
    pub tables: Vec<HoldRow>,
}

impl Seated {
    pub fn render(&self) -> kursi_proto::reservation::v1::Reservation {
        render::reservation(&self.row, &self.tables)
    }
}

/// Where a reschedule moves a booking; `None` keeps the current value.
#[derive(Debug, Clone)]
pub struct Move {
    pub version: i64,
    pub start: Option<DateTime<Utc>>,
    pub duration: Option<DurationMinutes>,
    pub party: Option<PartySize>,
    pub keep_tables_or_fail: bool,
    pub note: Note,
}

/// A validated command on an existing reservation.
#[derive(Debug, Clone)]
pub enum Action {
    Confirm(Note),
    AssignTable {
        /// One table, or several combined; each once.
        table_ids: Vec<Uuid>,
        /// Whether they came as `table_ids`: an unknown one is then bad
        /// input naming that field; as the single `table_id`, NOT_FOUND as
        /// it always was.
        combined: bool,
        /// The earlier system's `capacity` and `area`, checked against the
        /// table when only one is given.
        capacity: Option<i32>,
        area: Option<String>,
        note: Note,
    },
    Reschedule(Move),
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
            Action::Reschedule(_) => Command::Reschedule,
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
    waitlist: Waitlist,
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
            waitlist: Waitlist::new(outbox.clone(), policy.clone(), clock.clone()),
            policy,
            outbox,
            clock,
        }
    }

    pub fn waitlist(&self) -> &Waitlist {
        &self.waitlist
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

    pub async fn get(&self, actor: Actor, id: Uuid) -> Result<Seated, ServiceError> {
        let (row, tables) = read(&self.pool, |conn| {
            async move {
                let row = reservations::find(conn, id).await?;
                let tables = holds::of_reservations(conn, &[id]).await?;
                Ok::<_, ServiceError>((row, tables))
            }
            .scope_boxed()
        })
        .await?;
        let row = visible(row, actor, id)?;
        Ok(Seated { row, tables })
    }

    /// One page of the reservations `filter` names, of those the actor may
    /// list (customers only their own), and how many there are.
    pub async fn list(
        &self,
        actor: Actor,
        filter: Filter,
        skip: i64,
        limit: i64,
    ) -> Result<(Vec<ReservationRow>, Vec<HoldRow>, i64), ServiceError> {
        let filter = Filter {
            customer_id: actor.listing_for(filter.customer_id, "reservations")?,
            ..filter
        };
        let filter = &filter;
        read(&self.pool, |conn| {
            async move {
                let rows = reservations::page(conn, filter, skip, limit).await?;
                let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
                let tables = holds::of_reservations(conn, &ids).await?;
                let total = reservations::count(conn, filter).await?;
                Ok::<_, ServiceError>((rows, tables, total))
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

    /// Runs one command on one reservation. When it frees tables (the
    /// reservation ended, moved or gave tables up), the waitlist of that
    /// day is offered what is free, after the command commits.
    pub async fn run(
        &self,
        actor: Actor,
        id: Uuid,
        action: Action,
    ) -> Result<Seated, ServiceError> {
        access::may_run(&actor, action.command(), action.cancel_reason())?;
        let policy = &self.policy;
        let action = &action;
        let (seated, written) = transaction(&self.pool, |conn| {
            async move {
                let row = reservations::find_for_update(conn, id).await?;
                let row = visible(row, actor, id)?;
                let held = holds::of_reservations(conn, &[id]).await?;
                let current = aggregate(&row, &held)?;
                let now = self.clock.now();
                let outcome = decide(conn, &current, &row, action.clone(), policy, now).await?;
                match outcome {
                    Outcome::Unchanged => {
                        Ok::<_, ServiceError>((Seated { row, tables: held }, None))
                    }
                    Outcome::Changed(change) => {
                        let written = write_change(conn, &row, &change, actor, now).await?;
                        Ok((written.seated.clone(), Some(written)))
                    }
                }
            }
            .scope_boxed()
        })
        .await?;
        if let Some(written) = written {
            self.outbox.committed();
            if let Some(start) = written.freed {
                self.waitlist
                    .offer_free_slots_after(self.policy.today(start))
                    .await;
            }
        }
        Ok(seated)
    }
}

pub(crate) fn aggregate(
    row: &ReservationRow,
    held: &[HoldRow],
) -> Result<Reservation, ServiceError> {
    let tables = held
        .iter()
        .filter(|hold| hold.reservation_id == Some(row.id))
        .map(|hold| hold.table_id)
        .collect();
    row.to_domain(tables).ok_or_else(|| {
        ServiceError::internal(format!(
            "reservation {} has an unknown status {} or deposit status {}",
            row.id, row.status, row.deposit_status
        ))
    })
}

/// Asks the aggregate. AssignTable and a reschedule first lock the tables
/// they want (in id order); every other command takes a shared lock on the
/// tables it holds, so that no two transactions wait on each other inside
/// the exclusion constraint.
async fn decide(
    conn: &mut AsyncPgConnection,
    current: &Reservation,
    row: &ReservationRow,
    action: Action,
    policy: &RestaurantPolicy,
    now: DateTime<Utc>,
) -> Result<Outcome, ServiceError> {
    match action {
        Action::AssignTable {
            table_ids,
            combined,
            capacity,
            area,
            note,
        } => {
            let seats = lock_tables(conn, &table_ids, combined.then_some("table_ids")).await?;
            if let [one] = seats.as_slice() {
                one.check_asked(capacity, area.as_deref())?;
            }
            transition_allows(current, Command::AssignTable)?;
            let taken = holds::overlapping(
                conn,
                Some(&table_ids),
                row.start_time,
                row.end_time,
                Some(row.id),
            )
            .await?;
            if let Some(hold) = taken.first() {
                return Err(Refusal::TableTaken {
                    label: hold.label.clone(),
                }
                .into());
            }
            return Ok(current.assign_tables(seats, &note)?);
        }
        Action::Reschedule(to) => {
            let timing = Timing {
                start: to.start.unwrap_or(row.start_time),
                duration_minutes: to
                    .duration
                    .map_or(row.duration_minutes, DurationMinutes::get),
                party_size: to.party.map_or(row.party_size, PartySize::get),
            };
            transition_allows(current, Command::Reschedule)?;
            let fit = tables_at(conn, current, timing).await?;
            let change = current.reschedule(
                to.version,
                timing,
                fit,
                to.keep_tables_or_fail,
                policy,
                &to.note,
            )?;
            return Ok(Outcome::Changed(change));
        }
        _ => {}
    }
    tables::lock_shared(conn, &current.tables).await?;
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
        Action::AssignTable { .. } | Action::Reschedule(_) => Outcome::Unchanged,
    })
}

/// The state machine's refusal before any table is looked at, so that a
/// finished reservation is refused for its state, not for a table.
fn transition_allows(current: &Reservation, command: Command) -> Result<(), Refusal> {
    crate::domain::transition(current.status, command)?;
    Ok(())
}

/// The tables `ids` names, locked for assignment. An id no table has is
/// NOT_FOUND, or bad input in `field` when the ids were a request's list.
pub(crate) async fn lock_tables(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
    field: Option<&str>,
) -> Result<Vec<Seat>, ServiceError> {
    let rows = tables::lock_many_for_assignment(conn, ids).await?;
    if let Some(missing) = ids.iter().find(|id| !rows.iter().any(|row| row.id == **id)) {
        let refusal = Refusal::NoTable(*missing);
        return Err(match field {
            Some(field) => ServiceError::invalid(field, refusal.to_string()),
            None => refusal.into(),
        });
    }
    // In the order asked for; the seating rules sort them largest first.
    Ok(ids
        .iter()
        .filter_map(|id| rows.iter().find(|row| row.id == *id))
        .map(|row| row.clone().into_offer())
        .collect())
}

/// Whether the tables `current` holds can move with it to `to`: they seat
/// the new party together and nobody else holds them then. The tables are
/// locked first, so the answer stands until commit.
async fn tables_at(
    conn: &mut AsyncPgConnection,
    current: &Reservation,
    to: Timing,
) -> Result<TablesAtNewTime, ServiceError> {
    if current.tables.is_empty() {
        return Ok(TablesAtNewTime::NoTables);
    }
    let seats = lock_tables(conn, &current.tables, None).await?;
    let capacity: i32 = seats.iter().map(|seat| seat.capacity).sum();
    if capacity < to.party_size {
        let labels = crate::domain::seating::labels(&seats);
        return Ok(TablesAtNewTime::Blocked(match seats.as_slice() {
            [one] => Refusal::TableTooSmall {
                label: one.label.clone(),
                capacity,
                party: to.party_size,
            },
            _ => Refusal::TablesTooSmall {
                labels,
                capacity,
                party: to.party_size,
            },
        }));
    }
    let taken = holds::overlapping(
        conn,
        Some(&current.tables),
        to.start,
        to.end(),
        Some(current.id),
    )
    .await?;
    Ok(match taken.first() {
        Some(hold) => TablesAtNewTime::Blocked(Refusal::TableTaken {
            label: hold.label.clone(),
        }),
        None => TablesAtNewTime::Fit,
    })
}

/// What `write_change` wrote: the reservation as it is now, and when it
/// freed tables, the start of the time it freed them (its day is the
/// waitlist's to look at).
#[derive(Debug, Clone)]
pub(crate) struct Written {
    pub seated: Seated,
    pub freed: Option<DateTime<Utc>>,
}

/// Writes a decided change: the row (version + 1), the tables it takes,
/// keeps, moves or lets go, one history entry and one outbox event per
/// step, in the caller's transaction.
pub(crate) async fn write_change(
    conn: &mut AsyncPgConnection,
    before: &ReservationRow,
    change: &Change,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Written, ServiceError> {
    let id = before.id;
    let had_tables = before.table_id.is_some();
    let mut freed = false;
    for step in &change.steps {
        match step {
            Step::TableAssigned { tables, previous } => {
                holds::release(conn, id).await?;
                holds::hold(
                    conn,
                    Holder::Reservation(id),
                    tables,
                    before.start_time,
                    before.end_time,
                    now,
                )
                .await
                .refuse(db::refusal)?;
                freed |= !previous.is_empty();
            }
            Step::Rescheduled { to, released, .. } => {
                if *released {
                    holds::release(conn, id).await?;
                    reservations::clear_table(conn, id).await?;
                } else {
                    holds::move_to(conn, id, to.start, to.end())
                        .await
                        .refuse(db::refusal)?;
                }
                freed |= had_tables;
            }
            _ => {}
        }
    }
    if HOLDING.contains(&change.from) && !HOLDING.contains(&change.to) {
        holds::end(conn, Holder::Reservation(id)).await?;
        freed |= had_tables;
    }
    let after = reservations::apply(conn, id, RowChanges::from_change(change, now))
        .await
        .refuse(db::refusal_writing(change))?;
    let tables = holds::of_reservations(conn, &[id]).await?;
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
            let event = render::event(step, &after, &tables, note);
            render::outbox_event(&after, actor.user_id(), now, event)
        })
        .collect::<Result<_, _>>()?;
    outbox::append(conn, events).await?;
    Ok(Written {
        seated: Seated { row: after, tables },
        freed: freed.then_some(before.start_time),
    })
}
