//! Waitlist rows to contract messages and outbox events.

use chrono::{DateTime, Utc};
use kursi_proto::reservation::v1 as pb;
use pb::reservation_event::Event;
use service_kit::ServiceError;
use service_kit::outbox::NewEvent;
use uuid::Uuid;

use super::{assignment, timestamp};
use crate::db::holds::HoldRow;
use crate::db::waitlist::{EntryHistoryRow, EntryRow};
use crate::domain::WaitCommand;

fn state(stored: &str) -> i32 {
    pb::WaitlistState::from_str_name(&format!("WAITLIST_STATE_{stored}"))
        .unwrap_or(pb::WaitlistState::Unspecified) as i32
}

/// The entry, with its place in line (0 once out of it) and the tables of
/// its offer (`offers`: holds of any entries; others' are passed over).
pub fn entry(row: &EntryRow, place: i64, offers: &[HoldRow]) -> pb::WaitlistEntry {
    let offer = match (row.offer_start, row.offer_end, row.offer_expires_at) {
        (Some(start), Some(end), Some(expires)) => Some(pb::WaitlistOffer {
            start_time: Some(timestamp(start)),
            end_time: Some(timestamp(end)),
            tables: offers
                .iter()
                .filter(|hold| hold.waitlist_entry_id == Some(row.id))
                .map(assignment)
                .collect(),
            expire_time: Some(timestamp(expires)),
        }),
        _ => None,
    };
    pb::WaitlistEntry {
        waitlist_entry_id: row.id.to_string(),
        state: state(&row.state),
        customer_details: Some(pb::CustomerDetails {
            id: row.customer_id.to_string(),
            name: row.contact_name.clone(),
            phone: row.contact_phone.clone(),
            email: row.contact_email.clone(),
        }),
        party_size: row.party_size,
        date: row.day.format("%Y-%m-%d").to_string(),
        earliest_start_time: Some(timestamp(row.earliest_start)),
        latest_start_time: Some(timestamp(row.latest_start)),
        duration_minutes: row.duration_minutes,
        note: row.note.clone(),
        position: i32::try_from(place).unwrap_or(i32::MAX),
        offer,
        reservation_id: row
            .reservation_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        version: row.version,
    }
}

pub fn history_entry(row: &EntryHistoryRow) -> pb::WaitlistHistoryEntry {
    pb::WaitlistHistoryEntry {
        action: pb::WaitlistAction::from_str_name(&format!("WAITLIST_ACTION_{}", row.action))
            .unwrap_or(pb::WaitlistAction::Unspecified) as i32,
        from_state: row.from_state.as_deref().map_or(0, state),
        to_state: state(&row.to_state),
        actor_id: row.actor_id.map(|id| id.to_string()).unwrap_or_default(),
        note: row.note.clone(),
        change_time: Some(timestamp(row.changed_at)),
        version: row.version,
    }
}

/// The event of a change to an entry: `None` is its joining; `accepted`
/// the reservation an accepted offer became.
pub fn event(
    command: Option<WaitCommand>,
    entry: pb::WaitlistEntry,
    accepted: Option<pb::Reservation>,
) -> Event {
    let entry = Some(entry);
    match command {
        None => Event::WaitlistJoined(pb::WaitlistJoined { entry }),
        Some(WaitCommand::Offer) => Event::WaitlistOffered(pb::WaitlistOffered { entry }),
        Some(WaitCommand::Accept) => Event::WaitlistAccepted(pb::WaitlistAccepted {
            entry,
            reservation: accepted,
        }),
        Some(WaitCommand::Decline) => Event::WaitlistDeclined(pb::WaitlistDeclined { entry }),
        Some(WaitCommand::Lapse) => Event::WaitlistOfferLapsed(pb::WaitlistOfferLapsed { entry }),
        Some(WaitCommand::Leave) => Event::WaitlistLeft(pb::WaitlistLeft { entry }),
        Some(WaitCommand::Expire) => Event::WaitlistExpired(pb::WaitlistExpired { entry }),
    }
}

/// The outbox row of a waitlist event: the entry is its aggregate.
pub fn outbox_event(
    row: &EntryRow,
    actor: Option<Uuid>,
    at: DateTime<Utc>,
    event: Event,
) -> Result<NewEvent, ServiceError> {
    let reservation_id = match &event {
        Event::WaitlistAccepted(accepted) => accepted
            .reservation
            .as_ref()
            .map(|r| r.reservation_id.clone())
            .unwrap_or_default(),
        _ => String::new(),
    };
    let envelope = pb::ReservationEvent {
        position: 0,
        reservation_id,
        event_time: Some(timestamp(at)),
        actor_id: actor.map(|id| id.to_string()).unwrap_or_default(),
        status: 0,
        version: row.version,
        event: Some(event),
        waitlist_entry_id: row.id.to_string(),
    };
    NewEvent::new(row.id, &envelope, at)
        .ok_or_else(|| ServiceError::internal("an event envelope without an event"))
}
