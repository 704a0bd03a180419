//! The waitlist at work: joining, offers (automatic and by hand), answers,
//! leaving, and the sweeper's part (offers lapsing, days passing). Each
//! command runs in one transaction that writes the entry, its history and
//! its event together.
//!
//! Offers hold their tables in `table_holds` like any booking, so an
//! offered slot cannot be booked or offered twice. Automatic offers are made
//! by [`Waitlist::offer_free_slots`], run after a change that frees tables
//! has committed (and by the sweeper, so a slot freed by a process that died
//! before offering it is offered on its next round). One day's matching
//! runs at a time (a transaction-scoped advisory lock on the day), takes
//! the day's WAITING entries in line order, then locks every active table,
//! so what it sees free stays free until it commits. Lock order everywhere:
//! a reservation or an entry, then tables; the matching takes entries
//! before tables too.

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use kursi_proto::reservation::v1 as pb;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::{Pool, RefuseExt, ScopedFutureExt, read, transaction};
use service_kit::outbox::{self, Outbox};
use uuid::Uuid;

use crate::db::holds::{self, HoldRow, Holder};
use crate::db::reservations::{self, NewReservation};
use crate::db::waitlist::{
    self as lines, After, EntryChanges, EntryFilter, EntryHistoryRow, EntryRow, NewEntry,
    NewEntryHistory,
};
use crate::db::{self, history, tables};
use crate::domain::values::{ContactInfo, DurationMinutes, Note, PartySize};
use crate::domain::{
    DepositStatus, Refusal, RestaurantPolicy, Seat, Status, WaitCommand, WaitOutcome, WaitState,
    seating, wait_transition,
};
use crate::render;
use crate::reservations::{Seated, lock_tables};

mod matching;

use matching::make_offer;

/// How many entries one sweeper transaction handles.
pub(crate) const BATCH: i64 = 100;

/// A validated JoinWaitlist.
#[derive(Debug, Clone)]
pub struct Joining {
    pub contact: ContactInfo,
    pub party: PartySize,
    pub day: NaiveDate,
    pub earliest: DateTime<Utc>,
    pub latest: DateTime<Utc>,
    pub duration: DurationMinutes,
    pub note: Note,
}

/// An entry as shown: the row, its place in line (0 out of it), and the
/// tables of its offer.
#[derive(Debug, Clone)]
pub struct Shown {
    pub row: EntryRow,
    pub place: i64,
    pub offer: Vec<HoldRow>,
}

impl Shown {
    pub fn render(&self) -> pb::WaitlistEntry {
        render::waitlist::entry(&self.row, self.place, &self.offer)
    }
}

/// What sweeping the line did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweptLine {
    pub lapsed: usize,
    pub expired: usize,
}

#[derive(Clone)]
pub struct Waitlist {
    pool: Pool,
    policy: RestaurantPolicy,
    outbox: Outbox,
    clock: Clock,
}

fn visible(row: Option<EntryRow>, actor: Actor, id: Uuid) -> Result<EntryRow, Refusal> {
    row.filter(|row| actor.may_see(row.customer_id))
        .ok_or(Refusal::NoWaitlistEntry(id))
}

pub(crate) fn state_of(row: &EntryRow) -> Result<WaitState, ServiceError> {
    row.wait_state().ok_or_else(|| {
        ServiceError::internal(format!(
            "waitlist entry {} has an unknown state {}",
            row.id, row.state
        ))
    })
}

/// Reads an entry as shown.
async fn shown(conn: &mut AsyncPgConnection, row: EntryRow) -> Result<Shown, ServiceError> {
    let place = lines::places(conn, &[row.id])
        .await?
        .first()
        .map_or(0, |(_, place)| *place);
    let offer = holds::of_offers(conn, &[row.id]).await?;
    Ok(Shown { row, place, offer })
}

/// Writes a change to an entry: the row (version + 1), one history entry
/// and one event, in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn write_entry_change(
    conn: &mut AsyncPgConnection,
    before: &EntryRow,
    command: WaitCommand,
    to: WaitState,
    changes: EntryChanges,
    actor: Actor,
    now: DateTime<Utc>,
    note: &str,
    accepted: Option<pb::Reservation>,
) -> Result<Shown, ServiceError> {
    let changes = EntryChanges {
        state: Some(to.as_str()),
        updated_at: Some(now),
        ..changes
    };
    let after = lines::apply(conn, before.id, changes).await?;
    lines::record(
        conn,
        NewEntryHistory {
            entry_id: after.id,
            version: after.version,
            action: command.action(),
            from_state: Some(before.state.as_str()),
            to_state: to.as_str(),
            actor_id: actor.user_id(),
            note,
            changed_at: now,
        },
    )
    .await?;
    let shown = shown(conn, after).await?;
    let event = render::waitlist::event(Some(command), shown.render(), accepted);
    let event = render::waitlist::outbox_event(&shown.row, actor.user_id(), now, event)?;
    outbox::append(conn, vec![event]).await?;
    Ok(shown)
}

impl Waitlist {
    pub fn new(outbox: Outbox, policy: RestaurantPolicy, clock: Clock) -> Self {
        Self {
            pool: outbox.pool().clone(),
            policy,
            outbox,
            clock,
        }
    }

    /// Puts `customer`'s party in line, then offers the day's free slots
    /// (this entry's among them, if one is free in its window).
    pub async fn join(
        &self,
        actor: Actor,
        customer: Uuid,
        joining: Joining,
    ) -> Result<Shown, ServiceError> {
        let now = self.clock.now();
        let joining = &joining;
        let row = transaction(&self.pool, |conn| {
            async move {
                let row = lines::insert(
                    conn,
                    NewEntry {
                        id: Uuid::now_v7(),
                        customer_id: customer,
                        contact_name: joining.contact.name(),
                        contact_phone: joining.contact.phone(),
                        contact_email: joining.contact.email(),
                        party_size: joining.party.get(),
                        day: joining.day,
                        earliest_start: joining.earliest,
                        latest_start: joining.latest,
                        duration_minutes: joining.duration.get(),
                        note: joining.note.as_str(),
                        state: WaitState::Waiting.as_str(),
                        version: 1,
                        created_at: now,
                        updated_at: now,
                    },
                )
                .await?;
                lines::record(
                    conn,
                    NewEntryHistory {
                        entry_id: row.id,
                        version: row.version,
                        action: "JOINED",
                        from_state: None,
                        to_state: WaitState::Waiting.as_str(),
                        actor_id: actor.user_id(),
                        note: joining.note.as_str(),
                        changed_at: now,
                    },
                )
                .await?;
                let shown = shown(conn, row).await?;
                let event = render::waitlist::event(None, shown.render(), None);
                let event =
                    render::waitlist::outbox_event(&shown.row, actor.user_id(), now, event)?;
                outbox::append(conn, vec![event]).await?;
                Ok::<_, ServiceError>(shown.row)
            }
            .scope_boxed()
        })
        .await?;
        self.outbox.committed();
        self.offer_free_slots_after(joining.day).await;
        let (shown, _) = self.get(actor, row.id).await?;
        Ok(shown)
    }

    /// One entry and its history.
    pub async fn get(
        &self,
        actor: Actor,
        id: Uuid,
    ) -> Result<(Shown, Vec<EntryHistoryRow>), ServiceError> {
        read(&self.pool, |conn| {
            async move {
                let row = visible(lines::find(conn, id).await?, actor, id)?;
                let history = lines::history(conn, id).await?;
                Ok::<_, ServiceError>((shown(conn, row).await?, history))
            }
            .scope_boxed()
        })
        .await
    }

    /// One page of the line (customers see only their own), and whether
    /// more follow.
    pub async fn list(
        &self,
        actor: Actor,
        filter: EntryFilter,
        after: Option<After>,
        size: i64,
    ) -> Result<(Vec<Shown>, bool), ServiceError> {
        let filter = EntryFilter {
            customer_id: actor.listing_for(filter.customer_id, "waitlist entries")?,
            ..filter
        };
        let filter = &filter;
        let (mut rows, places, offers) = read(&self.pool, |conn| {
            async move {
                let rows = lines::page(conn, filter, after, size + 1).await?;
                let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
                let places = lines::places(conn, &ids).await?;
                let offers = holds::of_offers(conn, &ids).await?;
                Ok::<_, ServiceError>((rows, places, offers))
            }
            .scope_boxed()
        })
        .await?;
        let more = rows.len() as i64 > size;
        rows.truncate(size as usize);
        let shown = rows
            .into_iter()
            .map(|row| Shown {
                place: places
                    .iter()
                    .find(|(id, _)| *id == row.id)
                    .map_or(0, |(_, place)| *place),
                offer: offers
                    .iter()
                    .filter(|hold| hold.waitlist_entry_id == Some(row.id))
                    .cloned()
                    .collect(),
                row,
            })
            .collect();
        Ok((shown, more))
    }

    /// Runs a command that answers or ends an entry (leave, decline), and
    /// offers what it freed to the line after commit.
    pub async fn end(
        &self,
        actor: Actor,
        id: Uuid,
        command: WaitCommand,
        note: Note,
    ) -> Result<Shown, ServiceError> {
        let note = &note;
        let (shown, freed) = transaction(&self.pool, |conn| {
            async move {
                let row = visible(lines::find_for_update(conn, id).await?, actor, id)?;
                let now = self.clock.now();
                let current = state_of(&row)?;
                let to = match wait_transition(current, command, row.offer_expires_at, now)? {
                    WaitOutcome::Unchanged => return Ok((shown(conn, row).await?, false)),
                    WaitOutcome::To(to) => to,
                };
                let freed = current == WaitState::Offered;
                if freed {
                    end_offer(conn, id).await?;
                }
                let shown = write_entry_change(
                    conn,
                    &row,
                    command,
                    to,
                    EntryChanges::default(),
                    actor,
                    now,
                    note.as_str(),
                    None,
                )
                .await?;
                Ok::<_, ServiceError>((shown, freed))
            }
            .scope_boxed()
        })
        .await?;
        self.outbox.committed();
        if freed {
            self.offer_free_slots_after(shown.row.day).await;
        }
        Ok(shown)
    }

    /// Staff offer a WAITING entry `start` on `table_ids`.
    pub async fn offer(
        &self,
        actor: Actor,
        id: Uuid,
        start: DateTime<Utc>,
        table_ids: Vec<Uuid>,
        note: Note,
    ) -> Result<Shown, ServiceError> {
        let (note, table_ids) = (&note, &table_ids);
        let policy = &self.policy;
        let shown = transaction(&self.pool, |conn| {
            async move {
                let row = visible(lines::find_for_update(conn, id).await?, actor, id)?;
                let now = self.clock.now();
                // Tables that do not exist are bad input, whatever the state.
                let seats = lock_tables(conn, table_ids, Some("table_ids")).await?;
                let to = match wait_transition(state_of(&row)?, WaitCommand::Offer, None, now)? {
                    WaitOutcome::To(to) => to,
                    WaitOutcome::Unchanged => return shown(conn, row).await,
                };
                let seats = seating::check_chosen(seats, row.party_size)?;
                let end = start + chrono::Duration::minutes(i64::from(row.duration_minutes));
                let taken = holds::overlapping(conn, Some(table_ids), start, end, None).await?;
                if let Some(hold) = taken.first() {
                    return Err(Refusal::TableTaken {
                        label: hold.label.clone(),
                    }
                    .into());
                }
                make_offer(conn, &row, to, &seats, start, end, policy, actor, now, note).await
            }
            .scope_boxed()
        })
        .await?;
        self.outbox.committed();
        Ok(shown)
    }

    /// Accepts a standing offer: a reservation on the offered start and
    /// tables, CONFIRMED, or PENDING while a deposit is due.
    pub async fn accept(&self, actor: Actor, id: Uuid) -> Result<(Shown, Seated), ServiceError> {
        let policy = &self.policy;
        let done = transaction(&self.pool, |conn| {
            async move {
                let row = visible(lines::find_for_update(conn, id).await?, actor, id)?;
                let now = self.clock.now();
                let to = match wait_transition(
                    state_of(&row)?,
                    WaitCommand::Accept,
                    row.offer_expires_at,
                    now,
                )? {
                    WaitOutcome::To(to) => to,
                    WaitOutcome::Unchanged => {
                        return Err(ServiceError::internal("accepting twice is refused"));
                    }
                };
                let offered: Vec<HoldRow> = holds::of_offers(conn, &[id])
                    .await?
                    .into_iter()
                    .filter(|hold| hold.holding)
                    .collect();
                let ids: Vec<Uuid> = offered.iter().map(|hold| hold.table_id).collect();
                tables::lock_many_for_assignment(conn, &ids).await?;
                let (Some(start), Some(end)) = (row.offer_start, row.offer_end) else {
                    return Err(ServiceError::internal(format!(
                        "entry {id} is OFFERED without an offer"
                    )));
                };
                end_offer(conn, id).await?;
                let seated =
                    book_offer(conn, &row, &offered, start, end, policy, actor, now).await?;
                let changes = EntryChanges {
                    reservation_id: Some(seated.row.id),
                    ..Default::default()
                };
                let shown = write_entry_change(
                    conn,
                    &row,
                    WaitCommand::Accept,
                    to,
                    changes,
                    actor,
                    now,
                    "",
                    Some(seated.render()),
                )
                .await?;
                Ok::<_, ServiceError>((shown, seated))
            }
            .scope_boxed()
        })
        .await?;
        self.outbox.committed();
        Ok(done)
    }
}

/// The offer's tables stop being held by it.
pub(crate) async fn end_offer(
    conn: &mut AsyncPgConnection,
    entry: Uuid,
) -> Result<(), ServiceError> {
    let held: Vec<Uuid> = holds::of_offers(conn, &[entry])
        .await?
        .into_iter()
        .filter(|hold| hold.holding)
        .map(|hold| hold.table_id)
        .collect();
    tables::lock_shared(conn, &held).await?;
    holds::end(conn, Holder::Offer(entry)).await?;
    Ok(())
}

/// The reservation an accepted offer becomes, holding the offered tables.
#[allow(clippy::too_many_arguments)]
async fn book_offer(
    conn: &mut AsyncPgConnection,
    entry: &EntryRow,
    offered: &[HoldRow],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    policy: &RestaurantPolicy,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Seated, ServiceError> {
    let is_peak_hour = policy.is_peak_hour(start);
    let deposit = policy.deposit_for_guests(entry.party_size, is_peak_hour);
    let deposit_status = DepositStatus::for_amount(deposit);
    // Confirmed at once, as the restaurant offered it; a deposit due must
    // be paid first, as for any booking.
    let status = if deposit_status == DepositStatus::Unpaid {
        Status::Pending
    } else {
        Status::Confirmed
    };
    let id = Uuid::now_v7();
    let note = format!("from waitlist entry {}", entry.id);
    let new = NewReservation {
        id,
        customer_id: entry.customer_id,
        contact_name: &entry.contact_name,
        contact_phone: &entry.contact_phone,
        contact_email: &entry.contact_email,
        party_size: entry.party_size,
        start_time: start,
        duration_minutes: i32::try_from((end - start).num_minutes())
            .unwrap_or(entry.duration_minutes),
        end_time: end,
        is_peak_hour,
        status: status.as_str(),
        note: &entry.note,
        deposit_amount: deposit,
        deposit_status: deposit_status.as_str(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    reservations::insert(conn, &new).await?;
    let mut seats: Vec<Seat> = offered.iter().map(HoldRow::seat).collect();
    seats.sort_by_key(|seat| std::cmp::Reverse(seat.capacity));
    holds::hold(conn, Holder::Reservation(id), &seats, start, end, now)
        .await
        .refuse(db::refusal)?;
    let row = match seats.first() {
        Some(first) => reservations::seat_first(conn, id, first, now).await?,
        None => reservations::find(conn, id)
            .await?
            .ok_or_else(|| ServiceError::internal("the reservation just inserted is gone"))?,
    };
    let tables = holds::of_reservations(conn, &[id]).await?;
    history::insert(
        conn,
        &[history::NewEntry {
            reservation_id: id,
            version: row.version,
            action: "CREATED",
            from_status: None,
            to_status: status.as_str(),
            actor_id: actor.user_id(),
            note: &note,
            changed_at: now,
        }],
    )
    .await?;
    let created = pb::reservation_event::Event::Created(pb::ReservationCreated {
        reservation: Some(render::reservation(&row, &tables)),
    });
    outbox::append(
        conn,
        vec![render::outbox_event(&row, actor.user_id(), now, created)?],
    )
    .await?;
    Ok(Seated { row, tables })
}
