//! Rows and domain steps to contract messages: what callers see and what the
//! outbox stores.

use chrono::{DateTime, NaiveDate, Utc};
use kursi_proto::reservation::v1 as pb;
use pb::reservation_event::Event;
use service_kit::ServiceError;
use service_kit::outbox::NewEvent;
use uuid::Uuid;

use crate::db::history::HistoryRow;
use crate::db::holds::HoldRow;
use crate::db::reservations::{ReservationRow, Stats};
use crate::db::tables::TableRow;
use crate::domain::{Change, RestaurantPolicy, Status, Step};
use crate::floor::Slot;

pub mod waitlist;

pub const CURRENCY: &str = "IDR";

pub use service_kit::values::timestamp;

/// A stored status name (`CHECKED_IN`) as the contract's enum value.
pub fn status(stored: &str) -> i32 {
    pb::ReservationStatus::from_str_name(&format!("RESERVATION_STATUS_{stored}"))
        .unwrap_or(pb::ReservationStatus::Unspecified) as i32
}

fn payment_status(stored: &str) -> i32 {
    pb::PaymentStatus::from_str_name(&format!("PAYMENT_STATUS_{stored}"))
        .unwrap_or(pb::PaymentStatus::Unspecified) as i32
}

fn cancellation_reason(stored: &str) -> i32 {
    pb::CancellationReason::from_str_name(&format!("CANCELLATION_REASON_{stored}"))
        .unwrap_or(pb::CancellationReason::Unspecified) as i32
}

pub fn table(row: &TableRow) -> pb::Table {
    pb::Table {
        table_id: row.id.to_string(),
        label: row.label.clone(),
        capacity: row.capacity,
        area: row.area.clone(),
        active: row.active,
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
    }
}

/// The floor's figures.
pub fn stats(stats: &Stats) -> pb::GetStatsResponse {
    pb::GetStatsResponse {
        total_reservations: stats.total_reservations,
        pending_count: stats.pending_count,
        confirmed_count: stats.confirmed_count,
        checked_in_count: stats.checked_in_count,
        completed_count: stats.completed_count,
        cancelled_count: stats.cancelled_count,
        total_revenue: stats.total_revenue,
        generated_at: Some(timestamp(stats.generated_at)),
        no_show_count: stats.no_show_count,
        covers: stats.covers,
        currency: CURRENCY.into(),
    }
}

/// The bookable slots of `date` on the restaurant's clock.
pub fn availability(
    date: NaiveDate,
    policy: &RestaurantPolicy,
    slots: &[Slot],
) -> pb::SearchAvailabilityResponse {
    pb::SearchAvailabilityResponse {
        date: date.format("%Y-%m-%d").to_string(),
        time_zone: policy.time_zone.name().to_owned(),
        slots: slots
            .iter()
            .map(|slot| pb::AvailabilitySlot {
                start_time: Some(timestamp(slot.start)),
                end_time: Some(timestamp(slot.end)),
                is_peak_hour: slot.is_peak_hour,
                deposit_amount: slot.deposit,
                tables: slot.tables.iter().map(table).collect(),
                combinations: slot
                    .combinations
                    .iter()
                    .map(|combo| pb::TableCombination {
                        tables: combo.iter().map(table).collect(),
                        capacity: combo.iter().map(|t| t.capacity).sum(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// A table held, as the contract shows it.
pub fn assignment(hold: &HoldRow) -> pb::TableAssignment {
    pb::TableAssignment {
        table_id: hold.table_id.to_string(),
        label: hold.label.clone(),
        capacity: hold.capacity,
        area: hold.area.clone(),
        assign_time: Some(timestamp(hold.assigned_at)),
    }
}

/// The reservation and the tables it holds (`tables`: its rows of
/// `table_holds`; rows of other reservations are passed over, so a page's
/// holds can be passed whole).
pub fn reservation(row: &ReservationRow, tables: &[HoldRow]) -> pb::Reservation {
    let tables: Vec<pb::TableAssignment> = tables
        .iter()
        .filter(|hold| hold.reservation_id == Some(row.id))
        .map(assignment)
        .collect();
    let table = match (
        row.table_id,
        &row.table_label,
        row.table_capacity,
        &row.table_area,
        row.table_assigned_at,
    ) {
        (Some(id), Some(label), Some(capacity), Some(area), Some(at)) => {
            Some(pb::TableAssignment {
                table_id: id.to_string(),
                label: label.clone(),
                capacity,
                area: area.clone(),
                assign_time: Some(timestamp(at)),
            })
        }
        _ => None,
    };
    let cancellation = match (&row.cancel_reason, row.cancelled_at) {
        (Some(reason), Some(at)) => Some(pb::Cancellation {
            reason_code: cancellation_reason(reason),
            description: row.cancel_description.clone().unwrap_or_default(),
            cancel_time: Some(timestamp(at)),
        }),
        _ => None,
    };
    pb::Reservation {
        reservation_id: row.id.to_string(),
        status: status(&row.status),
        table_area: row.table_area.clone().unwrap_or_default(),
        customer_details: Some(pb::CustomerDetails {
            id: row.customer_id.to_string(),
            name: row.contact_name.clone(),
            phone: row.contact_phone.clone(),
            email: row.contact_email.clone(),
        }),
        booking_info: Some(pb::BookingInfo {
            start_time: Some(timestamp(row.start_time)),
            end_time: Some(timestamp(row.end_time)),
            duration_minutes: row.duration_minutes,
            is_peak_hour: row.is_peak_hour,
        }),
        payment_info: Some(pb::PaymentInfo {
            status: payment_status(&row.deposit_status),
            amount: row.deposit_amount,
            currency: CURRENCY.into(),
            payment_reference: row.payment_reference.clone().unwrap_or_default(),
            pay_time: row.paid_at.map(timestamp),
            refund_time: row.refunded_at.map(timestamp),
            difference: row.deposit_difference,
        }),
        party_size: row.party_size,
        table,
        cancellation,
        note: row.note.clone(),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        version: row.version,
        tables,
    }
}

pub fn history_entry(row: &HistoryRow) -> pb::ReservationHistoryEntry {
    pb::ReservationHistoryEntry {
        action: pb::ReservationAction::from_str_name(&format!("RESERVATION_ACTION_{}", row.action))
            .unwrap_or(pb::ReservationAction::Unspecified) as i32,
        from_status: row.from_status.as_deref().map_or(0, status),
        to_status: status(&row.to_status),
        actor_id: row.actor_id.map(|id| id.to_string()).unwrap_or_default(),
        note: row.note.clone(),
        change_time: Some(timestamp(row.changed_at)),
        version: row.version,
    }
}

/// The history action a step is recorded as.
pub fn action(step: &Step) -> &'static str {
    match step {
        Step::Confirmed => "CONFIRMED",
        Step::TableAssigned { .. } => "TABLE_ASSIGNED",
        Step::CheckedIn => "CHECKED_IN",
        Step::Completed => "COMPLETED",
        Step::Cancelled { .. } => "CANCELLED",
        Step::NoShow { .. } => "NO_SHOW",
        Step::DepositPaid { .. } => "DEPOSIT_PAID",
        Step::DepositRefunded { .. } => "DEPOSIT_REFUNDED",
        Step::Rescheduled { .. } => "RESCHEDULED",
    }
}

/// The outbox event of one step, on the reservation as it is after the
/// change, holding `tables`.
pub fn event(step: &Step, after: &ReservationRow, tables: &[HoldRow], note: &str) -> Event {
    let note = note.to_owned();
    let ids = |ids: &[Uuid]| ids.iter().map(Uuid::to_string).collect::<Vec<_>>();
    match step {
        Step::Confirmed => Event::Confirmed(pb::ReservationConfirmed { note }),
        Step::TableAssigned { previous, .. } => {
            let now = reservation(after, tables);
            Event::TableAssigned(pb::TableAssigned {
                table: now.table,
                previous_table_id: previous.first().map(Uuid::to_string).unwrap_or_default(),
                tables: now.tables,
                previous_table_ids: ids(previous),
            })
        }
        Step::Rescheduled {
            from,
            tables: previous,
            released,
            ..
        } => Event::Rescheduled(pb::ReservationRescheduled {
            previous_start_time: Some(timestamp(from.start)),
            previous_duration_minutes: from.duration_minutes,
            previous_party_size: from.party_size,
            previous_table_ids: ids(previous),
            reservation: Some(reservation(after, tables)),
            tables_released: *released,
            note,
        }),
        Step::CheckedIn => Event::CheckedIn(pb::ReservationCheckedIn { note }),
        Step::Completed => Event::Completed(pb::ReservationCompleted { note }),
        Step::Cancelled { .. } => Event::Cancelled(pb::ReservationCancelled {
            cancellation: reservation(after, tables).cancellation,
        }),
        Step::NoShow { forfeited } => Event::NoShow(pb::ReservationNoShow {
            forfeited_amount: *forfeited,
            note,
        }),
        Step::DepositPaid { amount, reference } => Event::DepositPaid(pb::DepositPaid {
            amount: *amount,
            currency: CURRENCY.into(),
            payment_reference: reference.clone(),
        }),
        Step::DepositRefunded { amount, reference } => {
            Event::DepositRefunded(pb::DepositRefunded {
                amount: *amount,
                currency: CURRENCY.into(),
                payment_reference: reference.clone(),
            })
        }
    }
}

/// The history note of one step: the command's note, or what happened to
/// the money.
pub fn history_note(step: &Step, change: &Change) -> String {
    match step {
        Step::DepositPaid { amount, reference } => {
            format!("deposit of IDR {amount} paid ({reference})")
        }
        Step::DepositRefunded { amount, reference } => {
            format!("deposit of IDR {amount} refunded ({reference})")
        }
        Step::Rescheduled {
            from,
            to,
            released,
            deposit_difference,
            ..
        } => {
            let mut note = format!(
                "moved from {} ({} min, {} guests) to {} ({} min, {} guests)",
                from.start
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                from.duration_minutes,
                from.party_size,
                to.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                to.duration_minutes,
                to.party_size,
            );
            if *released {
                note.push_str("; tables released");
            }
            if *deposit_difference != 0 {
                note.push_str(&format!("; deposit difference IDR {deposit_difference}"));
            }
            if !change.note.is_empty() {
                note.push_str("; ");
                note.push_str(&change.note);
            }
            note.chars().take(500).collect()
        }
        _ => change.note.clone(),
    }
}

/// The outbox row of `event` on the reservation as it is after the change.
pub fn outbox_event(
    after: &ReservationRow,
    actor: Option<Uuid>,
    at: DateTime<Utc>,
    event: Event,
) -> Result<NewEvent, ServiceError> {
    let envelope = envelope(after, actor, at, event);
    NewEvent::new(after.id, &envelope, at)
        .ok_or_else(|| ServiceError::internal("an event envelope without an event"))
}

/// An event's envelope, its position left 0 until it is read back.
pub fn envelope(
    after: &ReservationRow,
    actor: Option<Uuid>,
    at: DateTime<Utc>,
    event: Event,
) -> pb::ReservationEvent {
    pb::ReservationEvent {
        position: 0,
        reservation_id: after.id.to_string(),
        event_time: Some(timestamp(at)),
        actor_id: actor.map(|id| id.to_string()).unwrap_or_default(),
        status: Status::parse(&after.status).map_or(0, |s| status(s.as_str())),
        version: after.version,
        event: Some(event),
        waitlist_entry_id: String::new(),
    }
}
