//! The Reservation aggregate: what each command does to a reservation,
//! decided here and nowhere else. The result is a [`Change`] — the new
//! status and deposit plus the steps that become history entries and outbox
//! events — which `reservations` writes in one transaction.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::policy::{CancelReason, RestaurantPolicy};
use super::refusal::Refusal;
use super::status::{Command, Status, transition};
use super::values::{Note, PaymentReference};

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
    pub table_id: Option<Uuid>,
    pub deposit_amount: i64,
    pub deposit_status: DepositStatus,
    pub payment_reference: Option<String>,
}

/// A table as AssignTable sees it.
#[derive(Debug, Clone)]
pub struct TableOffer {
    pub id: Uuid,
    pub label: String,
    pub capacity: i32,
    pub area: String,
    pub active: bool,
}

impl TableOffer {
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
    TableAssigned {
        table_id: Uuid,
        label: String,
        capacity: i32,
        area: String,
        previous: Option<Uuid>,
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

    /// Puts the reservation on `table`. The same table again changes nothing.
    /// Whether the table is free is the database's to guarantee.
    pub fn assign_table(&self, table: &TableOffer, note: &Note) -> Result<Outcome, Refusal> {
        transition(self.status, Command::AssignTable)?;
        if self.table_id == Some(table.id) {
            return Ok(Outcome::Unchanged);
        }
        if !table.active {
            return Err(Refusal::TableOutOfService {
                label: table.label.clone(),
            });
        }
        if table.capacity < self.party_size {
            return Err(Refusal::TableTooSmall {
                label: table.label.clone(),
                capacity: table.capacity,
                party: self.party_size,
            });
        }
        let step = Step::TableAssigned {
            table_id: table.id,
            label: table.label.clone(),
            capacity: table.capacity,
            area: table.area.clone(),
            previous: self.table_id,
        };
        self.change(Command::AssignTable, vec![step], note)
            .map(Outcome::Changed)
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
            table_id: None,
            deposit_amount: deposit,
            deposit_status: DepositStatus::for_amount(deposit),
            payment_reference: None,
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
            r.assign_table(&table(2, true), &Note::default()),
            Err(why @ Refusal::TableTooSmall { .. }) if why.to_string().contains("seats 2")
        ));
        assert!(matches!(
            r.assign_table(&table(4, false), &Note::default()),
            Err(why @ Refusal::TableOutOfService { .. }) if why.to_string().contains("out of service")
        ));
        let Outcome::Changed(change) = r.assign_table(&table(4, true), &Note::default()).unwrap()
        else {
            panic!("expected a change");
        };
        assert_eq!(change.to, Status::Confirmed);
        let mut seated = r.clone();
        seated.table_id = Some(Uuid::from_u128(7));
        assert_eq!(
            seated.assign_table(&table(4, true), &Note::default()),
            Ok(Outcome::Unchanged)
        );
        assert!(
            reservation(Status::CheckedIn, 0)
                .assign_table(&table(4, true), &Note::default())
                .is_err()
        );
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
