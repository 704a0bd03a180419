//! The Reservation aggregate: what each command does to a reservation,
//! decided here and nowhere else. The result is a [`Change`] — the new
//! status and deposit plus the steps that become history entries and outbox
//! events — which `reservations` writes in one transaction.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::policy::{CancelReason, RestaurantPolicy};
use super::refusal::Refusal;
use super::seating::{Seat, check_chosen};
use super::status::{Command, Status, transition};
use super::values::{DurationMinutes, Note, PartySize, PaymentReference};

/// Where a deposit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepositStatus {
    NotRequired,
    Unpaid,
    Paid,
    Refunded,
    Forfeited,
}

impl DepositStatus {
    pub const ALL: [DepositStatus; 5] = [
        DepositStatus::NotRequired,
        DepositStatus::Unpaid,
        DepositStatus::Paid,
        DepositStatus::Refunded,
        DepositStatus::Forfeited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DepositStatus::NotRequired => "NOT_REQUIRED",
            DepositStatus::Unpaid => "UNPAID",
            DepositStatus::Paid => "PAID",
            DepositStatus::Refunded => "REFUNDED",
            DepositStatus::Forfeited => "FORFEITED",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == stored)
    }

    /// The initial status for a required amount.
    pub fn for_amount(amount: i64) -> Self {
        if amount > 0 {
            DepositStatus::Unpaid
        } else {
            DepositStatus::NotRequired
        }
    }
}

/// The parts of a reservation the rules look at.
#[derive(Debug, Clone)]
pub struct Reservation {
    pub id: Uuid,
    pub status: Status,
    pub party_size: i32,
    pub start: DateTime<Utc>,
    pub duration_minutes: i32,
    /// The tables it holds, in id order.
    pub tables: Vec<Uuid>,
    pub deposit_amount: i64,
    pub deposit_status: DepositStatus,
    pub payment_reference: Option<String>,
    pub version: i64,
}

/// A table as AssignTable sees it.
pub type TableOffer = Seat;

impl Seat {
    /// AssignTable may repeat the table's capacity and area, as the earlier
    /// system sent them; what it repeats must be the table's.
    pub fn check_asked(&self, capacity: Option<i32>, area: Option<&str>) -> Result<(), Refusal> {
        if let Some(capacity) = capacity
            && capacity != self.capacity
        {
            return Err(Refusal::CapacityMismatch {
                label: self.label.clone(),
                capacity: self.capacity,
            });
        }
        if let Some(area) = area
            && !area.eq_ignore_ascii_case(&self.area)
        {
            return Err(Refusal::AreaMismatch {
                label: self.label.clone(),
                area: self.area.clone(),
            });
        }
        Ok(())
    }
}

/// One thing that happened: one history entry and one outbox event.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Confirmed,
    /// The tables now held, largest first, replacing `previous`.
    TableAssigned {
        tables: Vec<Seat>,
        previous: Vec<Uuid>,
    },
    CheckedIn,
    Completed,
    Cancelled {
        reason: CancelReason,
        description: String,
    },
    NoShow {
        forfeited: i64,
    },
    DepositPaid {
        amount: i64,
        reference: String,
    },
    DepositRefunded {
        amount: i64,
        reference: String,
    },
    /// Moved; the tables kept, or released when `released`.
    Rescheduled {
        from: Timing,
        to: Timing,
        tables: Vec<Uuid>,
        released: bool,
        is_peak_hour: bool,
        deposit_amount: i64,
        deposit_difference: i64,
    },
}

/// When a booking is and for how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub start: DateTime<Utc>,
    pub duration_minutes: i32,
    pub party_size: i32,
}

impl Timing {
    pub fn new(start: DateTime<Utc>, duration: DurationMinutes, party: PartySize) -> Self {
        Self {
            start,
            duration_minutes: duration.get(),
            party_size: party.get(),
        }
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.start + chrono::Duration::minutes(i64::from(self.duration_minutes))
    }
}

/// Whether the tables a reservation holds can go with it to a new time.
#[derive(Debug, Clone, PartialEq)]
pub enum TablesAtNewTime {
    /// It holds none.
    NoTables,
    /// They seat the party and are free then.
    Fit,
    /// Too small, or held by someone else then: why.
    Blocked(Refusal),
}

/// What a command does to a reservation.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub from: Status,
    pub to: Status,
    pub deposit_status: DepositStatus,
    pub steps: Vec<Step>,
    /// The note for the history (a cancellation's description).
    pub note: String,
}

impl Change {
    /// The payment reference this change records, if it pays a deposit.
    pub fn payment_reference(&self) -> Option<&str> {
        self.steps.iter().find_map(|step| match step {
            Step::DepositPaid { reference, .. } => Some(reference.as_str()),
            _ => None,
        })
    }
}

/// A command's outcome: a change, or nothing to do (an idempotent repeat).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Changed(Change),
    Unchanged,
}

impl Reservation {
    fn change(&self, command: Command, steps: Vec<Step>, note: &Note) -> Result<Change, Refusal> {
        Ok(Change {
            from: self.status,
            to: transition(self.status, command)?,
            deposit_status: self.deposit_status,
            steps,
            note: note.as_str().to_owned(),
        })
    }

    /// PENDING → CONFIRMED, once a required deposit is paid.
    pub fn confirm(&self, note: &Note) -> Result<Change, Refusal> {
        let change = self.change(Command::Confirm, vec![Step::Confirmed], note)?;
        if self.deposit_status == DepositStatus::Unpaid {
            return Err(Refusal::DepositUnpaid {
                amount: self.deposit_amount,
            });
        }
        Ok(change)
    }

    /// Puts the reservation on `tables` (one, or several combined): each
    /// active, all of one area, seating the party together. The same tables
    /// again change nothing. Whether they are free is the database's to
    /// guarantee.
    pub fn assign_tables(&self, tables: Vec<Seat>, note: &Note) -> Result<Outcome, Refusal> {
        transition(self.status, Command::AssignTable)?;
        let mut ids: Vec<Uuid> = tables.iter().map(|t| t.id).collect();
        ids.sort();
        if ids == self.tables {
            return Ok(Outcome::Unchanged);
        }
        let tables = check_chosen(tables, self.party_size)?;
        let step = Step::TableAssigned {
            tables,
            previous: self.tables.clone(),
        };
        self.change(Command::AssignTable, vec![step], note)
            .map(Outcome::Changed)
    }

    /// Moves the booking to `to`, if `version` is still its own. The tables
    /// go with it when they fit; otherwise `keep_tables_or_fail` refuses the
    /// move with the reason, or the tables are released. The deposit is
    /// judged again: an unpaid or unrequired one takes the new amount, a
    /// paid one is kept and the difference recorded.
    pub fn reschedule(
        &self,
        version: i64,
        to: Timing,
        tables: TablesAtNewTime,
        keep_tables_or_fail: bool,
        policy: &RestaurantPolicy,
        note: &Note,
    ) -> Result<Change, Refusal> {
        transition(self.status, Command::Reschedule)?;
        if version != self.version {
            return Err(Refusal::StaleVersion {
                current: self.version,
                given: version,
            });
        }
        let released = match tables {
            TablesAtNewTime::NoTables | TablesAtNewTime::Fit => false,
            TablesAtNewTime::Blocked(why) if keep_tables_or_fail => return Err(why),
            TablesAtNewTime::Blocked(_) => true,
        };
        let is_peak_hour = policy.is_peak_hour(to.start);
        let due = policy.deposit_for_guests(to.party_size, is_peak_hour);
        let (deposit_status, deposit_amount, deposit_difference) = match self.deposit_status {
            DepositStatus::NotRequired | DepositStatus::Unpaid => {
                (DepositStatus::for_amount(due), due, 0)
            }
            paid => (paid, self.deposit_amount, due - self.deposit_amount),
        };
        let from = Timing {
            start: self.start,
            duration_minutes: self.duration_minutes,
            party_size: self.party_size,
        };
        let step = Step::Rescheduled {
            from,
            to,
            tables: self.tables.clone(),
            released,
            is_peak_hour,
            deposit_amount,
            deposit_difference,
        };
        let mut change = self.change(Command::Reschedule, vec![step], note)?;
        change.deposit_status = deposit_status;
        Ok(change)
    }

    /// CONFIRMED → CHECKED_IN.
    pub fn check_in(&self, note: &Note) -> Result<Change, Refusal> {
        self.change(Command::CheckIn, vec![Step::CheckedIn], note)
    }

    /// CHECKED_IN → COMPLETED.
    pub fn complete(&self, note: &Note) -> Result<Change, Refusal> {
        self.change(Command::Complete, vec![Step::Completed], note)
    }

    /// PENDING or CONFIRMED → CANCELLED. A cancel repeated (the reservation
    /// is CANCELLED already) changes nothing, whatever reason it gives, as
    /// every cancel in Kursi; from COMPLETED, NO_SHOW or CHECKED_IN it is
    /// refused, naming the status.
    pub fn cancel(
        &self,
        reason: CancelReason,
        description: &Note,
        policy: &RestaurantPolicy,
        now: DateTime<Utc>,
    ) -> Result<Outcome, Refusal> {
        if self.status == Status::Cancelled {
            return Ok(Outcome::Unchanged);
        }
        self.cancellation(reason, description, policy, now)
            .map(Outcome::Changed)
    }

    /// The cancellation itself: a paid deposit is refunded or kept as the
    /// policy says.
    fn cancellation(
        &self,
        reason: CancelReason,
        description: &Note,
        policy: &RestaurantPolicy,
        now: DateTime<Utc>,
    ) -> Result<Change, Refusal> {
        let cancelled = Step::Cancelled {
            reason,
            description: description.as_str().to_owned(),
        };
        let mut change = self.change(Command::Cancel, vec![cancelled], description)?;
        if self.deposit_status == DepositStatus::Paid {
            if policy.refunds_on_cancel(reason, self.start, now) {
                change.deposit_status = DepositStatus::Refunded;
                change.steps.push(Step::DepositRefunded {
                    amount: self.deposit_amount,
                    reference: self.payment_reference.clone().unwrap_or_default(),
                });
            } else {
                change.deposit_status = DepositStatus::Forfeited;
            }
        }
        Ok(change)
    }

    /// CONFIRMED → NO_SHOW, once the start has passed. A paid deposit is kept.
    pub fn mark_no_show(&self, note: &Note, now: DateTime<Utc>) -> Result<Change, Refusal> {
        let forfeited = if self.deposit_status == DepositStatus::Paid {
            self.deposit_amount
        } else {
            0
        };
        let mut change =
            self.change(Command::MarkNoShow, vec![Step::NoShow { forfeited }], note)?;
        if now < self.start {
            return Err(Refusal::NotLateYet { start: self.start });
        }
        if forfeited > 0 {
            change.deposit_status = DepositStatus::Forfeited;
        }
        Ok(change)
    }

    /// What becomes of a reservation the sweeper found overdue: a PENDING
    /// one expires (cancelled, EXPIRED), a CONFIRMED one is a no-show.
    pub fn sweep(&self, policy: &RestaurantPolicy, now: DateTime<Utc>) -> Result<Change, Refusal> {
        if self.status == Status::Pending {
            let why = Note::parse("description", "not confirmed by its start time");
            return self.cancellation(CancelReason::Expired, &why.unwrap_or_default(), policy, now);
        }
        let why = Note::parse(
            "note",
            &format!(
                "not checked in within {} minutes of the start",
                policy.no_show_grace.num_minutes()
            ),
        );
        self.mark_no_show(&why.unwrap_or_default(), now)
    }

    /// Records the deposit as paid. The reference is the payment's
    /// idempotency key, and never expires: repeating the payment (the same
    /// reference and amount) changes nothing, whatever happened since; the
    /// reference with another amount, or one that paid another reservation
    /// (`holder`), is refused. The amount paid was the deposit, which never
    /// changes, so "the same amount" is the deposit's.
    pub fn pay_deposit(
        &self,
        reference: &PaymentReference,
        amount: i64,
        holder: Option<Uuid>,
    ) -> Result<Outcome, Refusal> {
        let reused = || Refusal::PaymentReferenceReused {
            reference: reference.as_str().to_owned(),
        };
        if holder.is_some_and(|holder| holder != self.id) {
            return Err(reused());
        }
        if self.payment_reference.as_deref() == Some(reference.as_str()) {
            return if amount == self.deposit_amount {
                Ok(Outcome::Unchanged)
            } else {
                Err(reused())
            };
        }
        transition(self.status, Command::PayDeposit)?;
        match self.deposit_status {
            DepositStatus::NotRequired => {
                return Err(Refusal::NoDepositDue);
            }
            DepositStatus::Unpaid => {}
            DepositStatus::Paid | DepositStatus::Refunded | DepositStatus::Forfeited => {
                return Err(Refusal::DepositAlreadyPaid);
            }
        }
        if amount != self.deposit_amount {
            return Err(Refusal::WrongDepositAmount {
                due: self.deposit_amount,
            });
        }
        let step = Step::DepositPaid {
            amount,
            reference: reference.as_str().to_owned(),
        };
        let mut change = self.change(Command::PayDeposit, vec![step], &Note::default())?;
        change.deposit_status = DepositStatus::Paid;
        Ok(Outcome::Changed(change))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn reservation(status: Status, deposit: i64) -> Reservation {
        Reservation {
            id: Uuid::nil(),
            status,
            party_size: 4,
            start: at("2030-01-02T12:00:00Z"),
            duration_minutes: 90,
            tables: Vec::new(),
            deposit_amount: deposit,
            deposit_status: DepositStatus::for_amount(deposit),
            payment_reference: None,
            version: 3,
        }
    }

    fn paid(mut r: Reservation) -> Reservation {
        r.deposit_status = DepositStatus::Paid;
        r.payment_reference = Some("PAY-1".into());
        r
    }

    fn table(capacity: i32, active: bool) -> TableOffer {
        TableOffer {
            id: Uuid::from_u128(7),
            label: "T7".into(),
            capacity,
            area: "Indoor".into(),
            active,
        }
    }

    fn reference(s: &str) -> PaymentReference {
        PaymentReference::parse(s).unwrap()
    }

    #[test]
    fn confirming_waits_for_a_required_deposit() {
        let unpaid = reservation(Status::Pending, 200_000);
        let err = unpaid.confirm(&Note::default()).unwrap_err();
        assert!(err.to_string().contains("deposit"), "{err}");
        let change = paid(unpaid).confirm(&Note::default()).unwrap();
        assert_eq!(change.to, Status::Confirmed);
        assert_eq!(change.steps, [Step::Confirmed]);
    }

    #[test]
    fn a_completed_reservation_cannot_be_confirmed_again() {
        let err = reservation(Status::Completed, 0)
            .confirm(&Note::default())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot confirm a reservation that is COMPLETED"
        );
    }

    #[test]
    fn tables_must_be_active_and_seat_the_party() {
        let r = reservation(Status::Confirmed, 0);
        assert!(matches!(
            r.assign_tables(vec![table(2, true)], &Note::default()),
            Err(why @ Refusal::TableTooSmall { .. }) if why.to_string().contains("seats 2")
        ));
        assert!(matches!(
            r.assign_tables(vec![table(4, false)], &Note::default()),
            Err(why @ Refusal::TableOutOfService { .. }) if why.to_string().contains("out of service")
        ));
        let Outcome::Changed(change) = r
            .assign_tables(vec![table(4, true)], &Note::default())
            .unwrap()
        else {
            panic!("expected a change");
        };
        assert_eq!(change.to, Status::Confirmed);
        let mut seated = r.clone();
        seated.tables = vec![Uuid::from_u128(7)];
        assert_eq!(
            seated.assign_tables(vec![table(4, true)], &Note::default()),
            Ok(Outcome::Unchanged)
        );
        assert!(
            reservation(Status::CheckedIn, 0)
                .assign_tables(vec![table(4, true)], &Note::default())
                .is_err()
        );
    }

    #[test]
    fn two_small_tables_seat_a_party_neither_seats_alone() {
        let r = reservation(Status::Pending, 0);
        let mut two = table(2, true);
        two.id = Uuid::from_u128(8);
        let mut three = table(3, true);
        three.id = Uuid::from_u128(9);
        let change = changed(r.assign_tables(vec![two.clone(), three], &Note::default()));
        let Step::TableAssigned { tables, previous } = &change.steps[0] else {
            panic!("{change:?}");
        };
        assert_eq!(tables.len(), 2);
        assert_eq!(tables[0].capacity, 3, "largest first");
        assert!(previous.is_empty());
        assert!(matches!(
            r.assign_tables(vec![two.clone(), table(1, true)], &Note::default()),
            Err(Refusal::TablesTooSmall {
                capacity: 3,
                party: 4,
                ..
            })
        ));
    }

    fn timing(start: &str, party: i32) -> Timing {
        Timing {
            start: at(start),
            duration_minutes: 90,
            party_size: party,
        }
    }

    #[test]
    fn a_move_needs_the_current_version_and_keeps_or_releases_tables() {
        let policy = RestaurantPolicy::default();
        let r = reservation(Status::Confirmed, 0);
        let to = timing("2030-01-03T05:00:00Z", 4);
        let stale = r.reschedule(2, to, TablesAtNewTime::Fit, true, &policy, &Note::default());
        assert_eq!(
            stale,
            Err(Refusal::StaleVersion {
                current: 3,
                given: 2
            })
        );
        let taken = Refusal::TableTaken { label: "T7".into() };
        let blocked = TablesAtNewTime::Blocked(taken.clone());
        assert_eq!(
            r.reschedule(3, to, blocked.clone(), true, &policy, &Note::default()),
            Err(taken)
        );
        let moved = r
            .reschedule(3, to, blocked, false, &policy, &Note::default())
            .unwrap();
        assert!(matches!(
            moved.steps[0],
            Step::Rescheduled { released: true, .. }
        ));
        let kept = r
            .reschedule(3, to, TablesAtNewTime::Fit, true, &policy, &Note::default())
            .unwrap();
        assert!(matches!(
            kept.steps[0],
            Step::Rescheduled {
                released: false,
                ..
            }
        ));
        assert!(
            reservation(Status::CheckedIn, 0)
                .reschedule(3, to, TablesAtNewTime::Fit, true, &policy, &Note::default())
                .is_err()
        );
    }

    #[test]
    fn a_move_recomputes_an_unpaid_deposit_and_shows_the_difference_of_a_paid_one() {
        let policy = RestaurantPolicy::default();
        // 12:00 Jakarta (05:00 UTC) is off-peak; 19:00 (12:00 UTC) is peak.
        let peak_eight = timing("2030-01-03T12:00:00Z", 8);
        let unpaid = reservation(Status::Pending, 0)
            .reschedule(
                3,
                peak_eight,
                TablesAtNewTime::NoTables,
                true,
                &policy,
                &Note::default(),
            )
            .unwrap();
        assert_eq!(unpaid.deposit_status, DepositStatus::Unpaid);
        assert!(matches!(
            unpaid.steps[0],
            Step::Rescheduled {
                deposit_amount: 400_000,
                deposit_difference: 0,
                is_peak_hour: true,
                ..
            }
        ));
        let paid = paid(reservation(Status::Confirmed, 300_000))
            .reschedule(
                3,
                peak_eight,
                TablesAtNewTime::NoTables,
                true,
                &policy,
                &Note::default(),
            )
            .unwrap();
        assert_eq!(paid.deposit_status, DepositStatus::Paid);
        assert!(matches!(
            paid.steps[0],
            Step::Rescheduled {
                deposit_amount: 300_000,
                deposit_difference: 100_000,
                ..
            }
        ));
        let small = reservation(Status::Pending, 300_000)
            .reschedule(
                3,
                timing("2030-01-03T05:00:00Z", 2),
                TablesAtNewTime::NoTables,
                true,
                &policy,
                &Note::default(),
            )
            .unwrap();
        assert_eq!(small.deposit_status, DepositStatus::NotRequired);
    }

    #[test]
    fn what_assign_table_repeats_must_be_the_tables() {
        let t7 = table(4, true);
        assert_eq!(t7.check_asked(None, None), Ok(()));
        assert_eq!(t7.check_asked(Some(4), Some("indoor")), Ok(()));
        let refused = t7.check_asked(Some(2), None).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "table T7 seats 4; leave capacity out or give that"
        );
        assert!(matches!(
            t7.check_asked(None, Some("VIP")),
            Err(Refusal::AreaMismatch { area, .. }) if area == "Indoor"
        ));
    }

    fn changed(outcome: Result<Outcome, Refusal>) -> Change {
        match outcome {
            Ok(Outcome::Changed(change)) => change,
            other => panic!("expected a change, got {other:?}"),
        }
    }

    #[test]
    fn cancelling_refunds_before_the_cutoff_and_keeps_after() {
        let policy = RestaurantPolicy::default();
        let r = paid(reservation(Status::Confirmed, 200_000));
        let why = Note::parse("description", "plans changed").unwrap();
        let early = changed(r.cancel(
            CancelReason::CustomerRequest,
            &why,
            &policy,
            at("2030-01-01T00:00:00Z"),
        ));
        assert_eq!(early.deposit_status, DepositStatus::Refunded);
        assert_eq!(
            early.steps[1],
            Step::DepositRefunded {
                amount: 200_000,
                reference: "PAY-1".into()
            }
        );
        let late = changed(r.cancel(
            CancelReason::CustomerRequest,
            &why,
            &policy,
            at("2030-01-02T11:00:00Z"),
        ));
        assert_eq!(late.deposit_status, DepositStatus::Forfeited);
        assert_eq!(late.steps.len(), 1);
        assert_eq!(late.note, "plans changed");

        let unpaid = changed(reservation(Status::Pending, 200_000).cancel(
            CancelReason::CustomerRequest,
            &why,
            &policy,
            at("2030-01-01T00:00:00Z"),
        ));
        assert_eq!(unpaid.deposit_status, DepositStatus::Unpaid);
    }

    #[test]
    fn cancelling_again_changes_nothing_and_cancelling_what_has_ended_is_refused() {
        let policy = RestaurantPolicy::default();
        let now = at("2030-01-01T00:00:00Z");
        let why = Note::parse("description", "another reason").unwrap();
        for reason in [
            CancelReason::CustomerRequest,
            CancelReason::RestaurantRequest,
        ] {
            assert_eq!(
                paid(reservation(Status::Cancelled, 200_000)).cancel(reason, &why, &policy, now),
                Ok(Outcome::Unchanged)
            );
        }
        for ended in [Status::CheckedIn, Status::Completed, Status::NoShow] {
            let err = reservation(ended, 0)
                .cancel(CancelReason::Other, &Note::default(), &policy, now)
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("cannot cancel a reservation that is {ended}")
            );
        }
    }

    #[test]
    fn no_shows_come_after_the_start_and_keep_the_deposit() {
        let r = paid(reservation(Status::Confirmed, 200_000));
        assert!(matches!(
            r.mark_no_show(&Note::default(), at("2030-01-02T11:59:00Z")),
            Err(Refusal::NotLateYet { .. })
        ));
        let change = r
            .mark_no_show(&Note::default(), at("2030-01-02T12:20:00Z"))
            .unwrap();
        assert_eq!(change.to, Status::NoShow);
        assert_eq!(change.deposit_status, DepositStatus::Forfeited);
        assert_eq!(change.steps, [Step::NoShow { forfeited: 200_000 }]);
        assert!(
            reservation(Status::Pending, 0)
                .mark_no_show(&Note::default(), at("2030-01-03T00:00:00Z"))
                .is_err()
        );
    }

    #[test]
    fn the_sweeper_expires_the_unconfirmed_and_marks_the_confirmed_no_show() {
        let policy = RestaurantPolicy::default();
        let late = at("2030-01-02T12:20:00Z");
        let expired = reservation(Status::Pending, 0)
            .sweep(&policy, late)
            .unwrap();
        assert_eq!(expired.to, Status::Cancelled);
        assert_eq!(expired.note, "not confirmed by its start time");
        assert!(matches!(
            expired.steps[0],
            Step::Cancelled {
                reason: CancelReason::Expired,
                ..
            }
        ));
        let no_show = paid(reservation(Status::Confirmed, 200_000))
            .sweep(&policy, late)
            .unwrap();
        assert_eq!(no_show.to, Status::NoShow);
        assert_eq!(
            no_show.note,
            "not checked in within 15 minutes of the start"
        );
        assert_eq!(no_show.deposit_status, DepositStatus::Forfeited);
        assert!(
            reservation(Status::Completed, 0)
                .sweep(&policy, late)
                .is_err()
        );
    }

    #[test]
    fn paying_is_idempotent_on_the_reference() {
        let r = reservation(Status::Pending, 200_000);
        assert!(matches!(
            r.pay_deposit(&reference("PAY-1"), 1, None),
            Err(Refusal::WrongDepositAmount { due: 200_000 })
        ));
        let Outcome::Changed(change) = r.pay_deposit(&reference("PAY-1"), 200_000, None).unwrap()
        else {
            panic!("expected a change");
        };
        assert_eq!(change.deposit_status, DepositStatus::Paid);
        assert_eq!(change.payment_reference(), Some("PAY-1"));
        let done = paid(r);
        assert_eq!(
            done.pay_deposit(&reference("PAY-1"), 200_000, Some(done.id)),
            Ok(Outcome::Unchanged)
        );
        assert!(matches!(
            done.pay_deposit(&reference("PAY-2"), 200_000, None),
            Err(Refusal::DepositAlreadyPaid)
        ));
        assert!(matches!(
            reservation(Status::Pending, 0).pay_deposit(&reference("PAY-3"), 0, None),
            Err(why @ Refusal::NoDepositDue) if why.to_string().contains("no deposit")
        ));
    }

    #[test]
    fn a_payment_reference_sent_again_is_for_the_same_reservation_and_amount() {
        let done = paid(reservation(Status::Pending, 200_000));
        // Another amount with the reference that paid it.
        assert_eq!(
            done.pay_deposit(&reference("PAY-1"), 150_000, Some(done.id)),
            Err(Refusal::PaymentReferenceReused {
                reference: "PAY-1".into()
            })
        );
        // A reference that paid another reservation, whatever this one's state.
        let elsewhere = Some(Uuid::from_u128(99));
        for other in [
            reservation(Status::Pending, 200_000),
            reservation(Status::Pending, 0),
            reservation(Status::Completed, 200_000),
        ] {
            assert_eq!(
                other.pay_deposit(&reference("PAY-1"), 200_000, elsewhere),
                Err(Refusal::PaymentReferenceReused {
                    reference: "PAY-1".into()
                })
            );
        }
        // Repeated after the reservation was cancelled and refunded: unchanged.
        let mut refunded = done.clone();
        refunded.status = Status::Cancelled;
        refunded.deposit_status = DepositStatus::Refunded;
        assert_eq!(
            refunded.pay_deposit(&reference("PAY-1"), 200_000, Some(done.id)),
            Ok(Outcome::Unchanged)
        );
    }
}
