//! Waitlist requests into domain values: the window of a JoinWaitlist,
//! ListWaitlist's filter and page token, an offer by hand.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use kursi_proto::reservation::v1 as pb;
use service_kit::accounts::NamedCustomer;
use service_kit::pages;
use service_kit::values::{LocalTimes, Violations, parse_day, parse_optional_id};
use service_kit::{FieldViolation, ServiceError};
use uuid::Uuid;

use super::table_ids;
use crate::db::waitlist::{After, EntryFilter};
use crate::domain::values::{
    ContactInfo, DurationMinutes, Note, PartySize, parse_id, parse_named_customer,
    parse_required_timestamp,
};
use crate::domain::{RestaurantPolicy, WaitState};
use crate::waitlist::{Joining, Shown};

/// A JoinWaitlistRequest, judged at `now`: the customer it names (if any)
/// and the entry. The window lies on one day of the restaurant's clock, its
/// end in the future, within opening hours and the booking window.
pub fn joining(
    call: &tonic::Request<pb::JoinWaitlistRequest>,
    policy: &RestaurantPolicy,
    now: DateTime<Utc>,
) -> Result<(Option<NamedCustomer>, Joining), ServiceError> {
    let r = call.get_ref();
    let mut v = Violations::default();
    let customer = v.check(parse_named_customer(&r.customer_id, &r.customer_email));
    let contact = match &r.contact_info {
        Some(c) => v.check_all(ContactInfo::parse(&c.name, &c.phone, &c.email)),
        None => {
            v.push("contact_info", "is required: name, phone and email");
            None
        }
    };
    let party = v.check(PartySize::parse(r.party_size));
    let local = LocalTimes::of(call);
    let mut when = |field: &str, raw: Option<&prost_types::Timestamp>| {
        v.check(parse_required_timestamp(field, raw))
            .and_then(|at| v.check(local.resolve(field, at, policy.time_zone)))
    };
    let earliest = when("earliest_start_time", r.earliest_start_time.as_ref());
    let latest = when("latest_start_time", r.latest_start_time.as_ref());
    let window = match (earliest, latest) {
        (Some(earliest), Some(latest)) => {
            let open = |at: DateTime<Utc>| {
                policy
                    .opening_hours
                    .contains(at.with_timezone(&policy.time_zone).time())
            };
            if latest < earliest {
                v.push(
                    "latest_start_time",
                    "must not be before earliest_start_time: the window ends before it starts",
                );
                None
            } else if policy.today(earliest) != policy.today(latest) {
                v.push(
                    "latest_start_time",
                    "must be on the same day as earliest_start_time, on the restaurant's clock",
                );
                None
            } else if !open(earliest) {
                v.push(
                    "earliest_start_time",
                    format!(
                        "is outside opening hours ({} {})",
                        policy.opening_hours, policy.time_zone
                    ),
                );
                None
            } else {
                let checked = policy
                    .check_start(latest, now)
                    .map_err(|bad| FieldViolation::new("latest_start_time", bad.description));
                v.check(checked).map(|()| (earliest, latest))
            }
        }
        _ => None,
    };
    let duration = match r.duration_minutes {
        Some(minutes) => v.check(DurationMinutes::parse(minutes)),
        None => party.map(|party| policy.turn_times.for_party(party)),
    };
    let note = v.check(Note::parse("note", &r.note));
    let joining = (|| {
        let (earliest, latest) = window?;
        Some((
            customer?,
            Joining {
                contact: contact?,
                party: party?,
                day: policy.today(earliest),
                earliest,
                latest,
                duration: duration?,
                note: note?,
            },
        ))
    })();
    v.finish(joining)
}

/// A waitlist state filter: unset means any.
pub fn wait_state_filter(raw: i32) -> Result<Option<WaitState>, FieldViolation> {
    let bad = || {
        FieldViolation::new(
            "state",
            "must be one of WAITING, OFFERED, ACCEPTED, DECLINED, LAPSED, LEFT, EXPIRED",
        )
    };
    match pb::WaitlistState::try_from(raw) {
        Ok(pb::WaitlistState::Unspecified) => Ok(None),
        Ok(state) => state
            .as_str_name()
            .strip_prefix("WAITLIST_STATE_")
            .and_then(WaitState::parse)
            .map(Some)
            .ok_or_else(bad),
        Err(_) => Err(bad()),
    }
}

/// A ListWaitlist page token: the last entry's day, join time and id.
pub fn waitlist_token(token: &str) -> Result<Option<After>, ServiceError> {
    let Some(key) = pages::decode(token, 3)? else {
        return Ok(None);
    };
    let invalid = || ServiceError::invalid("page_token", "is not a token this API returned");
    let day = NaiveDate::parse_from_str(&key[0], "%Y-%m-%d").map_err(|_| invalid())?;
    let at = DateTime::parse_from_rfc3339(&key[1])
        .map_err(|_| invalid())?
        .with_timezone(&Utc);
    let id = Uuid::parse_str(&key[2]).map_err(|_| invalid())?;
    Ok(Some((day, at, id)))
}

pub fn waitlist_token_of(shown: &Shown) -> String {
    let row = &shown.row;
    pages::encode(&[
        &row.day.format("%Y-%m-%d").to_string(),
        &row.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        &row.id.to_string(),
    ])
}

/// A ListWaitlistRequest: the filter and where the page starts.
pub fn waitlist_list(
    r: &pb::ListWaitlistRequest,
) -> Result<(EntryFilter, Option<After>), ServiceError> {
    let mut v = Violations::default();
    let day = match r.date.trim() {
        "" => Some(None),
        raw => v.check(parse_day("date", raw)).map(Some),
    };
    let state = v.check(wait_state_filter(r.state));
    let customer_id = v.check(parse_optional_id("customer_id", &r.customer_id));
    let after = match waitlist_token(&r.page_token) {
        Ok(after) => Some(after),
        Err(ServiceError::InvalidArgument(violations)) => {
            for violation in violations {
                v.check::<()>(Err(violation));
            }
            None
        }
        Err(other) => return Err(other),
    };
    let filter = (|| {
        Some((
            EntryFilter {
                day: day?,
                state: state?,
                customer_id: customer_id?,
            },
            after?,
        ))
    })();
    v.finish(filter)
}

/// An OfferWaitlistSlotRequest, judged at `now`: the start and the tables.
pub fn slot_offer(
    call: &tonic::Request<pb::OfferWaitlistSlotRequest>,
    policy: &RestaurantPolicy,
    now: DateTime<Utc>,
) -> Result<(Uuid, DateTime<Utc>, Vec<Uuid>, Note), ServiceError> {
    let r = call.get_ref();
    let mut v = Violations::default();
    let id = v.check(parse_id("waitlist_entry_id", &r.waitlist_entry_id));
    let start = v
        .check(parse_required_timestamp(
            "start_time",
            r.start_time.as_ref(),
        ))
        .and_then(|start| {
            v.check(LocalTimes::of(call).resolve("start_time", start, policy.time_zone))
        })
        .and_then(|start| v.check(policy.check_start(start, now).map(|()| start)));
    let tables = table_ids(&mut v, "table_ids", &r.table_ids);
    let note = v.check(Note::parse("note", &r.note));
    let offer = (|| Some((id?, start?, tables?, note?)))();
    v.finish(offer)
}
