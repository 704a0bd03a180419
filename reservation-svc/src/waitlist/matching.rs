//! The waitlist's matching: offers made by the service when tables are
//! free (after a change frees them, and on the sweeper's round), and the
//! sweeper's part (offers lapsing, days passing).
//!
//! One day's matching runs at a time: a transaction-scoped advisory lock
//! on the day; then the day's WAITING entries, locked in line order; then
//! every active table, locked in id order, so what it reads free stays free
//! until it commits. Each entry in turn is offered the first start in its
//! window at which free tables seat it ([`fit`]).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::sql_types::Int4;
use diesel_async::AsyncPgConnection;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::db::{RefuseExt, ScopedFutureExt, read, transaction};
use uuid::Uuid;

use super::{BATCH, Shown, SweptLine, Waitlist, end_offer, state_of, write_entry_change};
use crate::db::holds::{self, Holder};
use crate::db::waitlist::{self as lines, EntryChanges, EntryRow};
use crate::db::{self, tables};
use crate::domain::values::{DurationMinutes, Note};
use crate::domain::{
    RestaurantPolicy, Seat, WaitCommand, WaitOutcome, WaitState, seating, wait_transition,
};

/// The advisory lock's first key: "the waitlist's matching"; the second is
/// the day.
const MATCHING_LOCK: i32 = 0x5741_4954; // "WAIT"

impl Waitlist {
    /// Offers `day`'s free slots to its line, logging rather than failing:
    /// for callers whose own change has committed already. What fails here
    /// is offered by the sweeper's next round.
    pub async fn offer_free_slots_after(&self, day: NaiveDate) {
        if let Err(err) = self.offer_free_slots(day).await {
            tracing::warn!(%day, error = %err, "offering freed tables to the waitlist failed; the sweeper tries again");
        }
    }

    /// Offers the days from today on with a line what is free, day by day
    /// (a table was added or came back into service).
    pub async fn offer_free_slots_everywhere(&self) {
        let today = self.policy.today(self.clock.now());
        let days = read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(lines::waiting_days(conn, today).await?) }
                .scope_boxed()
        })
        .await;
        match days {
            Ok(days) => {
                for day in days {
                    self.offer_free_slots_after(day).await;
                }
            }
            Err(err) => tracing::warn!(error = %err, "reading the waitlist's days failed"),
        }
    }

    /// Offers `day`'s WAITING entries, in line order, the first start in
    /// their window at which free tables seat them (a single table, else a
    /// combination of one area); how many were offered.
    pub async fn offer_free_slots(&self, day: NaiveDate) -> Result<usize, ServiceError> {
        let policy = &self.policy;
        let offered = transaction(&self.pool, |conn| {
            async move {
                let now = self.clock.now();
                if day < policy.today(now) {
                    return Ok(0);
                }
                use diesel_async::RunQueryDsl;
                diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
                    .bind::<Int4, _>(MATCHING_LOCK)
                    .bind::<Int4, _>(day.num_days_from_ce())
                    .execute(conn)
                    .await?;
                let waiting = lines::waiting_for_update(conn, day).await?;
                let (Some(from), Some(to)) = (
                    waiting.iter().map(|e| e.earliest_start).min(),
                    waiting.iter().map(|e| offer_end(e, e.latest_start)).max(),
                ) else {
                    return Ok(0);
                };
                let free: Vec<Seat> = tables::lock_active(conn)
                    .await?
                    .into_iter()
                    .map(|row| row.into_offer())
                    .collect();
                let mut taken: Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)> =
                    holds::overlapping(conn, None, from, to, None)
                        .await?
                        .into_iter()
                        .map(|hold| (hold.table_id, hold.start_time, hold.end_time))
                        .collect();
                let mut offered = 0;
                for entry in &waiting {
                    let Some((start, seats)) = fit(policy, entry, &free, &taken, now) else {
                        continue;
                    };
                    let end = offer_end(entry, start);
                    let why = Note::parse(
                        "note",
                        "a table is free in the window: offered by the service",
                    )
                    .unwrap_or_default();
                    make_offer(
                        conn,
                        entry,
                        WaitState::Offered,
                        &seats,
                        start,
                        end,
                        policy,
                        Actor::System,
                        now,
                        &why,
                    )
                    .await?;
                    taken.extend(seats.iter().map(|seat| (seat.id, start, end)));
                    offered += 1;
                }
                Ok::<_, ServiceError>(offered)
            }
            .scope_boxed()
        })
        .await?;
        if offered > 0 {
            self.outbox.committed();
        }
        Ok(offered)
    }

    /// Ends the offers that lapsed and the entries whose day has passed,
    /// batch by batch, then offers the slots lapsed offers freed.
    pub async fn sweep(&self) -> Result<SweptLine, ServiceError> {
        let mut total = SweptLine::default();
        loop {
            let (swept, days, seen) = self.sweep_batch().await?;
            total.lapsed += swept.lapsed;
            total.expired += swept.expired;
            if swept != SweptLine::default() {
                self.outbox.committed();
            }
            for day in days {
                self.offer_free_slots_after(day).await;
            }
            if seen < BATCH as usize {
                return Ok(total);
            }
        }
    }

    async fn sweep_batch(&self) -> Result<(SweptLine, Vec<NaiveDate>, usize), ServiceError> {
        let policy = &self.policy;
        transaction(&self.pool, |conn| {
            async move {
                let now = self.clock.now();
                let today = policy.today(now);
                let rows = lines::lock_overdue(conn, now, today, BATCH).await?;
                // Every offer's tables at once, in id order, as every
                // writer of holds takes them: one by one they could
                // deadlock with the matching.
                let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
                let mut held: Vec<Uuid> = holds::of_offers(conn, &ids)
                    .await?
                    .into_iter()
                    .filter(|hold| hold.holding)
                    .map(|hold| hold.table_id)
                    .collect();
                held.sort();
                held.dedup();
                tables::lock_shared(conn, &held).await?;
                let mut swept = SweptLine::default();
                let mut days = Vec::new();
                for row in &rows {
                    let current = state_of(row)?;
                    let command = if row.day < today {
                        swept.expired += 1;
                        WaitCommand::Expire
                    } else {
                        swept.lapsed += 1;
                        days.push(row.day);
                        WaitCommand::Lapse
                    };
                    let WaitOutcome::To(to) = wait_transition(current, command, None, now)? else {
                        continue;
                    };
                    if current == WaitState::Offered {
                        end_offer(conn, row.id).await?;
                    }
                    let note = match command {
                        WaitCommand::Expire => "the day passed",
                        _ => "the offer was not answered in time",
                    };
                    write_entry_change(
                        conn,
                        row,
                        command,
                        to,
                        EntryChanges::default(),
                        Actor::System,
                        now,
                        note,
                        None,
                    )
                    .await?;
                }
                days.sort();
                days.dedup();
                Ok::<_, ServiceError>((swept, days, rows.len()))
            }
            .scope_boxed()
        })
        .await
    }
}

/// When a party starting at `start` would be done.
fn offer_end(entry: &EntryRow, start: DateTime<Utc>) -> DateTime<Utc> {
    start + chrono::Duration::minutes(i64::from(entry.duration_minutes))
}

/// The first start in the entry's window (on the slot grid, or the
/// window's first moment) at which the free tables seat the party, and the
/// tables: a pure choice over what the matching read.
fn fit(
    policy: &RestaurantPolicy,
    entry: &EntryRow,
    tables: &[Seat],
    taken: &[(Uuid, DateTime<Utc>, DateTime<Utc>)],
    now: DateTime<Utc>,
) -> Option<(DateTime<Utc>, Vec<Seat>)> {
    let duration = DurationMinutes::parse(entry.duration_minutes).ok()?;
    let mut starts: Vec<DateTime<Utc>> = policy
        .slots(entry.day, duration, now)
        .into_iter()
        .filter(|start| entry.earliest_start <= *start && *start <= entry.latest_start)
        .collect();
    if policy.check_start(entry.earliest_start, now).is_ok() {
        starts.push(entry.earliest_start);
    }
    starts.sort();
    starts.dedup();
    starts.into_iter().find_map(|start| {
        let end = offer_end(entry, start);
        let free: Vec<Seat> = tables
            .iter()
            .filter(|table| {
                !taken
                    .iter()
                    .any(|(id, from, to)| *id == table.id && *from < end && *to > start)
            })
            .cloned()
            .collect();
        seating::best(&free, entry.party_size).map(|seats| (start, seats))
    })
}

/// Holds `seats` for the entry and marks it OFFERED until the offer lapses.
#[allow(clippy::too_many_arguments)]
pub(super) async fn make_offer(
    conn: &mut AsyncPgConnection,
    entry: &EntryRow,
    to: WaitState,
    seats: &[Seat],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    policy: &RestaurantPolicy,
    actor: Actor,
    now: DateTime<Utc>,
    note: &Note,
) -> Result<Shown, ServiceError> {
    holds::hold(conn, Holder::Offer(entry.id), seats, start, end, now)
        .await
        .refuse(db::refusal)?;
    let changes = EntryChanges {
        offer_start: Some(start),
        offer_end: Some(end),
        offer_expires_at: Some(now + policy.waitlist_offer),
        ..Default::default()
    };
    write_entry_change(
        conn,
        entry,
        WaitCommand::Offer,
        to,
        changes,
        actor,
        now,
        note.as_str(),
        None,
    )
    .await
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// A party waiting on 2 January 2030 between `from` and `to` (UTC;
    /// Jakarta is seven hours ahead).
    fn waiting(party: i32, from: &str, to: &str) -> EntryRow {
        EntryRow {
            id: Uuid::now_v7(),
            customer_id: Uuid::now_v7(),
            contact_name: "Siti".into(),
            contact_phone: "08123456789".into(),
            contact_email: "siti@example.com".into(),
            party_size: party,
            day: NaiveDate::from_ymd_opt(2030, 1, 2).unwrap(),
            earliest_start: at(from),
            latest_start: at(to),
            duration_minutes: 90,
            note: String::new(),
            state: "WAITING".into(),
            offer_start: None,
            offer_end: None,
            offer_expires_at: None,
            reservation_id: None,
            version: 1,
            created_at: at("2030-01-01T00:00:00Z"),
            updated_at: at("2030-01-01T00:00:00Z"),
        }
    }

    fn seat(label: &str, capacity: i32) -> Seat {
        Seat {
            id: Uuid::now_v7(),
            label: label.into(),
            capacity,
            area: "Indoor".into(),
            active: true,
        }
    }

    #[test]
    fn the_first_start_in_the_window_with_free_tables_is_offered() {
        let policy = RestaurantPolicy::default();
        let now = at("2030-01-01T00:00:00Z");
        let (t4, t2) = (seat("T4", 4), seat("T2", 2));
        let tables = [t4.clone(), t2.clone()];
        // 11:30-12:30 Jakarta; T4 held 12:00-13:30, T2 too small for four.
        let four = waiting(4, "2030-01-02T04:30:00Z", "2030-01-02T05:30:00Z");
        let taken = [(
            t4.id,
            at("2030-01-02T05:00:00Z"),
            at("2030-01-02T06:30:00Z"),
        )];
        assert_eq!(fit(&policy, &four, &tables, &taken, now), None);
        // Two guests: T2 alone, at the window's first start.
        let two = waiting(2, "2030-01-02T04:30:00Z", "2030-01-02T05:30:00Z");
        let (start, seats) = fit(&policy, &two, &tables, &taken, now).unwrap();
        assert_eq!(
            (start, seats[0].label.as_str()),
            (at("2030-01-02T04:30:00Z"), "T2")
        );
        // Six guests, nothing taken: T4 and T2 together.
        let six = waiting(6, "2030-01-02T04:30:00Z", "2030-01-02T05:30:00Z");
        let (_, seats) = fit(&policy, &six, &tables, &[], now).unwrap();
        assert_eq!(seats.len(), 2);
        // A window off the slot grid still gets its first moment.
        let odd = waiting(2, "2030-01-02T04:40:00Z", "2030-01-02T04:50:00Z");
        let (start, _) = fit(&policy, &odd, &tables, &[], now).unwrap();
        assert_eq!(start, at("2030-01-02T04:40:00Z"));
        // Starts already past are not offered.
        let late = at("2030-01-02T05:40:00Z");
        assert_eq!(fit(&policy, &two, &tables, &[], late), None);
    }
}
