//! Requests into domain values and commands. Every field is checked and
//! every problem reported at once, each naming its field; nothing reaches
//! the database until the whole request is valid.

use chrono::{DateTime, NaiveDate, Utc};
use kursi_proto::reservation::v1 as pb;
use service_kit::pages;
pub use service_kit::values::id;
use service_kit::values::{LocalTimes, Violations, parse_day, parse_optional_id};
use service_kit::{FieldViolation, ServiceError};
use uuid::Uuid;

use crate::bookings::Booking;
use crate::db::reservations::Filter;
use crate::db::tables::TableRow;
use crate::domain::seating::MAX_COMBINED;
use crate::domain::values::{
    Area, Capacity, ContactInfo, DurationMinutes, IdempotencyKey, Note, PartySize,
    PaymentReference, TableLabel, parse_id, parse_named_customer, parse_required_timestamp,
    parse_timestamp,
};
use crate::domain::{CancelReason, RestaurantPolicy, Status};
use crate::floor::TableUpdate;
use crate::reservations::{Action, Move};

mod waitlist;

pub use waitlist::{joining, slot_offer, waitlist_list, waitlist_token_of};

pub fn note(field: &str, raw: &str) -> Result<Note, ServiceError> {
    Note::parse(field, raw).map_err(|v| ServiceError::InvalidArgument(vec![v]))
}

/// A CreateReservationRequest, judged at `now`. Whom it is for (the
/// customer it names by id or email, if any) is the command's to decide;
/// the idempotency key is the field's, else the `idempotency-key`
/// metadata's.
pub fn booking(
    call: &tonic::Request<pb::CreateReservationRequest>,
    policy: &RestaurantPolicy,
    now: DateTime<Utc>,
) -> Result<Booking, ServiceError> {
    let request = call.get_ref();
    let mut v = Violations::default();
    let customer = v.check(parse_named_customer(
        &request.customer_id,
        &request.customer_email,
    ));
    let contact = match &request.contact_info {
        Some(c) => v.check_all(ContactInfo::parse(&c.name, &c.phone, &c.email)),
        None => {
            v.push("contact_info", "is required: name, phone and email");
            None
        }
    };
    let party = v.check(PartySize::parse(request.party_size));
    let start = v
        .check(parse_required_timestamp(
            "start_time",
            request.start_time.as_ref(),
        ))
        .and_then(|start| {
            v.check(LocalTimes::of(call).resolve("start_time", start, policy.time_zone))
        })
        .and_then(|start| v.check(policy.check_start(start, now).map(|()| start)));
    let duration = match request.duration_minutes {
        Some(minutes) => v.check(DurationMinutes::parse(minutes)),
        None => party.map(|party| policy.turn_times.for_party(party)),
    };
    let note = v.check(Note::parse("note", &request.note));
    let idempotency_key = v.check(IdempotencyKey::from_request(&request.idempotency_key, call));
    let booking = (|| {
        Some(Booking {
            customer: customer?,
            contact: contact?,
            party: party?,
            start: start?,
            duration: duration?,
            note: note?,
            idempotency_key: idempotency_key?,
        })
    })();
    v.finish(booking)
}

/// A ListTables page token: the last table's label and id.
pub fn table_token(token: &str) -> Result<Option<(TableLabel, Uuid)>, ServiceError> {
    let Some(key) = pages::decode(token, 2)? else {
        return Ok(None);
    };
    let invalid = || ServiceError::invalid("page_token", "is not a token this API returned");
    // Only a label a table can have: a NUL would reach PostgreSQL, which
    // cannot hold one, and fail the query as INTERNAL.
    let label = TableLabel::parse(&key[0]).map_err(|_| invalid())?;
    let id = Uuid::parse_str(&key[1]).map_err(|_| invalid())?;
    Ok(Some((label, id)))
}

pub fn table_token_of(row: &TableRow) -> String {
    pages::encode(&[&row.label, &row.id.to_string()])
}

/// A status filter: unset means any.
pub fn status_filter(raw: i32) -> Result<Option<Status>, FieldViolation> {
    let bad = || {
        FieldViolation::new(
            "status",
            "must be one of PENDING, CONFIRMED, CHECKED_IN, COMPLETED, CANCELLED, NO_SHOW",
        )
    };
    match pb::ReservationStatus::try_from(raw) {
        Ok(pb::ReservationStatus::Unspecified) => Ok(None),
        Ok(status) => status
            .as_str_name()
            .strip_prefix("RESERVATION_STATUS_")
            .and_then(Status::parse)
            .map(Some)
            .ok_or_else(bad),
        Err(_) => Err(bad()),
    }
}

/// Start times `[from, to)`, either end open.
pub type TimeRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// An optional `[from, to)` range of start times.
pub fn time_range(
    v: &mut Violations,
    from: Option<&prost_types::Timestamp>,
    to: Option<&prost_types::Timestamp>,
) -> Option<TimeRange> {
    let from = v.check(parse_timestamp("start_time_from", from));
    let to = v.check(parse_timestamp("start_time_to", to));
    if let (Some(Some(from)), Some(Some(to))) = (from, to)
        && to <= from
    {
        v.push("start_time_to", "must be after start_time_from");
        return None;
    }
    Some((from?, to?))
}

/// The reason a caller may give; EXPIRED is the sweeper's alone.
pub fn cancel_reason(raw: i32) -> Result<CancelReason, FieldViolation> {
    match pb::CancellationReason::try_from(raw) {
        Ok(pb::CancellationReason::CustomerRequest) => Ok(CancelReason::CustomerRequest),
        Ok(pb::CancellationReason::RestaurantRequest) => Ok(CancelReason::RestaurantRequest),
        Ok(pb::CancellationReason::Other) => Ok(CancelReason::Other),
        Ok(pb::CancellationReason::Expired) => Err(FieldViolation::new(
            "reason_code",
            "EXPIRED is set only when a reservation expires unconfirmed",
        )),
        Ok(pb::CancellationReason::Unspecified) => Err(FieldViolation::new(
            "reason_code",
            "is required: CUSTOMER_REQUEST, RESTAURANT_REQUEST or OTHER",
        )),
        Err(_) => Err(FieldViolation::new(
            "reason_code",
            format!("{raw} is not a reason: CUSTOMER_REQUEST, RESTAURANT_REQUEST or OTHER"),
        )),
    }
}

/// A day on the restaurant's clock, from today to the end of the booking
/// window.
pub fn date(
    raw: &str,
    policy: &RestaurantPolicy,
    now: DateTime<Utc>,
) -> Result<NaiveDate, FieldViolation> {
    let date = parse_day("date", raw)?;
    let today = policy.today(now);
    let last = policy.today(now + policy.booking_window);
    if date < today {
        return Err(FieldViolation::new("date", "must be today or later"));
    }
    if date > last {
        return Err(FieldViolation::new(
            "date",
            format!(
                "must be within the booking window of {} days",
                policy.booking_window.num_days()
            ),
        ));
    }
    Ok(date)
}

/// ListReservations' `skip` and `limit`: skip ≥ 0; limit 1..=100, 0 → 10.
pub fn skip_limit(v: &mut Violations, skip: i32, limit: i32) -> Option<(i64, i64)> {
    let skip = if skip < 0 {
        v.push("skip", "must be 0 or more");
        None
    } else {
        Some(i64::from(skip))
    };
    let limit = match limit {
        0 => Some(10),
        1..=100 => Some(i64::from(limit)),
        _ => {
            v.push(
                "limit",
                "must be between 1 and 100 (0 means the default, 10)",
            );
            None
        }
    };
    Some((skip?, limit?))
}

/// A CreateTableRequest.
pub fn new_table(r: &pb::CreateTableRequest) -> Result<(TableLabel, Capacity, Area), ServiceError> {
    let mut v = Violations::default();
    let label = v.check(TableLabel::parse(&r.label));
    let capacity = v.check(Capacity::parse(r.capacity));
    let area = v.check(Area::parse(&r.area));
    v.finish(label.zip(capacity).zip(area).map(|((l, c), a)| (l, c, a)))
}

/// An UpdateTableRequest: the table and what to change.
pub fn table_update(r: &pb::UpdateTableRequest) -> Result<(Uuid, TableUpdate), ServiceError> {
    let mut v = Violations::default();
    let id = v.check(parse_id("table_id", &r.table_id));
    let update = TableUpdate {
        label: r
            .label
            .as_deref()
            .and_then(|l| v.check(TableLabel::parse(l))),
        capacity: r.capacity.and_then(|c| v.check(Capacity::parse(c))),
        area: r.area.as_deref().and_then(|a| v.check(Area::parse(a))),
        active: r.active,
    };
    v.finish(id).map(|id| (id, update))
}

/// An optional area filter; empty means every area.
pub fn area_filter(raw: &str) -> Result<Option<Area>, FieldViolation> {
    match raw.trim() {
        "" => Ok(None),
        area => Area::parse(area).map(Some),
    }
}

/// A SearchAvailabilityRequest, judged at `now`.
#[derive(Debug)]
pub struct AvailabilityQuery {
    pub date: NaiveDate,
    pub party: PartySize,
    pub duration: DurationMinutes,
    pub area: Option<Area>,
}

pub fn availability(
    r: &pb::SearchAvailabilityRequest,
    policy: &RestaurantPolicy,
    now: DateTime<Utc>,
) -> Result<AvailabilityQuery, ServiceError> {
    let mut v = Violations::default();
    let party = v.check(PartySize::parse(r.party_size));
    let date = v.check(date(&r.date, policy, now));
    let duration = match r.duration_minutes {
        Some(minutes) => v.check(DurationMinutes::parse(minutes)),
        None => party.map(|party| policy.turn_times.for_party(party)),
    };
    let area = v.check(area_filter(&r.area));
    let query = (|| {
        Some(AvailabilityQuery {
            date: date?,
            party: party?,
            duration: duration?,
            area: area?,
        })
    })();
    v.finish(query)
}

/// A ListReservationsRequest: the filter (the customer it names, if any)
/// and the `skip` and `limit`.
pub fn reservation_list(
    r: &pb::ListReservationsRequest,
) -> Result<(Filter, i64, i64), ServiceError> {
    let mut v = Violations::default();
    let paging = skip_limit(&mut v, r.skip, r.limit);
    let status = v.check(status_filter(r.status));
    let range = time_range(&mut v, r.start_time_from.as_ref(), r.start_time_to.as_ref());
    let customer_id = v.check(parse_optional_id("customer_id", &r.customer_id));
    let ((skip, limit), status, (from, to), customer_id) = v.finish(
        paging
            .zip(status)
            .zip(range)
            .zip(customer_id)
            .map(|(((p, s), r), c)| (p, s, r, c)),
    )?;
    let filter = Filter {
        customer_id,
        status,
        start_from: from,
        start_to: to,
    };
    Ok((filter, skip, limit))
}

/// Table ids a caller chose (`table_ids`): 1 to [`MAX_COMBINED`] of them,
/// each a table id, each once.
pub(super) fn table_ids(v: &mut Violations, field: &str, raw: &[String]) -> Option<Vec<Uuid>> {
    if raw.is_empty() {
        v.push(field, "is required: one table id or more");
        return None;
    }
    if raw.len() > MAX_COMBINED {
        v.push(
            field,
            format!("at most {MAX_COMBINED} tables combine for one party"),
        );
        return None;
    }
    let mut ids = Vec::new();
    let mut ok = true;
    for (i, raw) in raw.iter().enumerate() {
        match parse_id(&format!("{field}[{i}]"), raw) {
            Ok(id) if ids.contains(&id) => {
                v.push(field, format!("table {id} is given twice"));
                ok = false;
            }
            Ok(id) => ids.push(id),
            Err(violation) => {
                v.check::<()>(Err(violation));
                ok = false;
            }
        }
    }
    ok.then_some(ids)
}

/// An AssignTableRequest's command: one `table_id` (with the earlier
/// system's `capacity` and `area`), or several `table_ids`.
pub fn assignment(r: &pb::AssignTableRequest) -> Result<Action, ServiceError> {
    let mut v = Violations::default();
    let note = v.check(Note::parse("note", &r.note));
    if r.capacity < 0 {
        v.push(
            "capacity",
            "must be the table's capacity, or 0 to leave it out",
        );
    }
    let table_ids = match (r.table_id.trim().is_empty(), r.table_ids.is_empty()) {
        (false, false) => {
            v.push("table_ids", "give table_id or table_ids, not both");
            None
        }
        (_, true) => v
            .check(parse_id("table_id", &r.table_id))
            .map(|id| vec![id]),
        (true, false) => {
            if r.capacity != 0 {
                v.push(
                    "capacity",
                    "goes with a single table_id; leave it out with table_ids",
                );
            }
            if !r.area.trim().is_empty() {
                v.push(
                    "area",
                    "goes with a single table_id; leave it out with table_ids",
                );
            }
            table_ids(&mut v, "table_ids", &r.table_ids)
        }
    };
    let (table_ids, note) = v.finish(table_ids.zip(note))?;
    Ok(Action::AssignTable {
        table_ids,
        combined: !r.table_ids.is_empty(),
        capacity: (r.capacity != 0).then_some(r.capacity),
        area: Some(r.area.trim().to_owned()).filter(|a| !a.is_empty()),
        note,
    })
}

/// A RescheduleReservationRequest's move, judged at `now`.
pub fn reschedule(
    call: &tonic::Request<pb::RescheduleReservationRequest>,
    policy: &RestaurantPolicy,
    now: DateTime<Utc>,
) -> Result<Move, ServiceError> {
    let r = call.get_ref();
    let mut v = Violations::default();
    if r.version <= 0 {
        v.push(
            "version",
            "is required: the reservation's version as last read",
        );
    }
    let start = match v.check(parse_timestamp("start_time", r.start_time.as_ref())) {
        Some(Some(start)) => v
            .check(LocalTimes::of(call).resolve("start_time", start, policy.time_zone))
            .and_then(|start| v.check(policy.check_start(start, now).map(|()| start)))
            .map(Some),
        Some(None) => Some(None),
        None => None,
    };
    let duration = match r.duration_minutes {
        Some(minutes) => v.check(DurationMinutes::parse(minutes)).map(Some),
        None => Some(None),
    };
    let party = match r.party_size {
        Some(size) => v.check(PartySize::parse(Some(size))).map(Some),
        None => Some(None),
    };
    if r.start_time.is_none() && r.duration_minutes.is_none() && r.party_size.is_none() {
        v.push(
            "start_time",
            "give a new start_time, duration_minutes or party_size",
        );
    }
    let note = v.check(Note::parse("note", &r.note));
    let to = (|| {
        Some(Move {
            version: r.version,
            start: start?,
            duration: duration?,
            party: party?,
            keep_tables_or_fail: r.keep_tables_or_fail,
            note: note?,
        })
    })();
    v.finish(to)
}

/// A CancelReservationRequest's command.
pub fn cancellation(r: &pb::CancelReservationRequest) -> Result<Action, ServiceError> {
    let mut v = Violations::default();
    let reason = v.check(cancel_reason(r.reason_code));
    let description = v.check(Note::parse("description", &r.description));
    let (reason, description) = v.finish(reason.zip(description))?;
    Ok(Action::Cancel(reason, description))
}

/// A PayDepositRequest's command.
pub fn payment(r: &pb::PayDepositRequest) -> Result<Action, ServiceError> {
    let mut v = Violations::default();
    let reference = v.check(PaymentReference::parse(&r.payment_reference));
    if r.amount <= 0 {
        v.push("amount", "must be the deposit due, in whole rupiah");
    }
    let reference = v.finish(reference)?;
    Ok(Action::PayDeposit(reference, r.amount))
}

/// A WatchReservationEventsRequest: where to start, and which reservation
/// (all when none).
pub fn watch(r: &pb::WatchReservationEventsRequest) -> Result<(i64, Option<Uuid>), ServiceError> {
    let mut v = Violations::default();
    if r.start_position < 0 {
        v.push("start_position", "must be 0 or more");
    }
    let reservation_id = v.check(parse_optional_id("reservation_id", &r.reservation_id));
    v.finish(reservation_id).map(|id| (r.start_position, id))
}

/// A GetStatsRequest's range of start times.
pub fn stats_range(r: &pb::GetStatsRequest) -> Result<TimeRange, ServiceError> {
    let mut v = Violations::default();
    let range = time_range(&mut v, r.start_time_from.as_ref(), r.start_time_to.as_ref());
    v.finish(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_tokens_round_trip_and_garbage_is_refused() {
        let id = Uuid::now_v7();
        let token = pages::encode(&["VIP-1", &id.to_string()]);
        let (label, after) = table_token(&token).unwrap().unwrap();
        assert_eq!((label.as_str(), after), ("VIP-1", id));
        assert!(table_token("").unwrap().is_none());
        for garbage in [
            "%%%".to_owned(),
            id.to_string(),
            pages::encode(&["VIP-1", "not-a-uuid"]),
            pages::encode(&["nul\u{0}", &id.to_string()]),
        ] {
            let refused = table_token(&garbage).unwrap_err();
            assert!(
                matches!(refused, ServiceError::InvalidArgument(ref v) if v[0].field == "page_token"),
                "{garbage}: {refused:?}"
            );
        }
    }

    #[test]
    fn unknown_statuses_are_refused() {
        assert_eq!(status_filter(0), Ok(None));
        assert_eq!(status_filter(6), Ok(Some(Status::NoShow)));
        assert_eq!(status_filter(99).unwrap_err().field, "status");
        assert_eq!(status_filter(-1).unwrap_err().field, "status");
    }

    #[test]
    fn skip_and_limit_have_bounds() {
        let mut v = Violations::default();
        assert_eq!(skip_limit(&mut v, 0, 0), Some((0, 10)));
        assert_eq!(skip_limit(&mut v, 5, 100), Some((5, 100)));
        assert_eq!(skip_limit(&mut v, -1, 101), None);
        let fields: Vec<_> = v.fields().collect();
        assert_eq!(fields, ["skip", "limit"]);
    }

    #[test]
    fn callers_cannot_expire_a_reservation() {
        assert!(cancel_reason(pb::CancellationReason::Expired as i32).is_err());
        assert!(cancel_reason(0).is_err());
        assert_eq!(cancel_reason(1), Ok(CancelReason::CustomerRequest));
    }

    #[test]
    fn an_unknown_reason_number_is_named_not_called_missing() {
        let unknown = cancel_reason(123).unwrap_err();
        assert_eq!(unknown.field, "reason_code");
        assert!(
            unknown.description.starts_with("123 is not a reason"),
            "{unknown:?}"
        );
        assert!(
            cancel_reason(0)
                .unwrap_err()
                .description
                .starts_with("is required")
        );
    }

    #[test]
    fn days_are_exactly_yyyy_mm_dd() {
        let policy = RestaurantPolicy::default();
        // Noon UTC is the same day on any restaurant clock the policy allows.
        let now = "2030-03-04T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let tomorrow = NaiveDate::from_ymd_opt(2030, 3, 5).unwrap();
        assert_eq!(date("2030-03-05", &policy, now), Ok(tomorrow));
        assert_eq!(date(" 2030-03-05\n", &policy, now), Ok(tomorrow));
        for odd in [
            "+2030-03-05",
            "2030-3-5",
            "2030-03-5",
            "02030-03-05",
            "2030-03-05T00:00",
        ] {
            let refused = date(odd, &policy, now).unwrap_err();
            assert_eq!(refused.field, "date", "{odd}");
        }
    }
}
