//! Requests into domain values. Every field is checked and every problem
//! reported at once, each naming its field; nothing reaches the database
//! (or the catalog) until the whole request is valid.

use chrono::{DateTime, Utc};
use kursi_proto::order::v1 as pb;
use service_kit::accounts::NamedCustomer;
use service_kit::pages;
use service_kit::values::{
    IdempotencyKey, PaymentReference, Violations, parse_id, parse_optional_id, parse_text,
};
use service_kit::{FieldViolation, ServiceError};
use uuid::Uuid;

use crate::db::orders::Filter;
use crate::domain::{Command, OrderStatus, Seat, Wanted};
use crate::orders::OrderDraft;

/// A CreateOrderRequest with at most `max` tickets.
pub fn order(
    call: &tonic::Request<pb::CreateOrderRequest>,
    max: i32,
) -> Result<OrderDraft, ServiceError> {
    let r = call.get_ref();
    let mut v = Violations::default();
    let showtime_id = v.check(parse_id("showtime_id", &r.showtime_id));
    let customer = named_customer(&mut v, &r.customer_id, &r.customer_email);
    let wanted = wanted(&mut v, r.quantity, &r.seats, max);
    let key = v.check(IdempotencyKey::from_request(&r.idempotency_key, call));
    let draft = (|| {
        Some(OrderDraft {
            customer: customer?,
            showtime_id: showtime_id?,
            wanted: wanted?,
            idempotency_key: key?,
        })
    })();
    v.finish(draft)
}

/// The customer a request names, by account id or by email (not both);
/// `Some(None)` when it names nobody.
fn named_customer(v: &mut Violations, id: &str, email: &str) -> Option<Option<NamedCustomer>> {
    let id = v.check(parse_optional_id("customer_id", id));
    let email = v.check(customer_email(email));
    match (id?, email?) {
        (Some(_), Some(_)) => {
            v.push(
                "customer_email",
                "give customer_id or customer_email, not both",
            );
            None
        }
        (Some(id), None) => Some(Some(NamedCustomer::Id(id))),
        (None, Some(email)) => Some(Some(NamedCustomer::Email(email))),
        (None, None) => Some(None),
    }
}

/// An email to look an account up by: auth-svc checks it in full; here,
/// only that it could be one, so a typo is named before anyone is asked.
fn customer_email(raw: &str) -> Result<Option<String>, FieldViolation> {
    let email = parse_text("customer_email", raw, 254, false)?;
    if email.is_empty() {
        return Ok(None);
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace) =>
        {
            Ok(Some(email))
        }
        _ => Err(FieldViolation::new(
            "customer_email",
            "must be an email address, like siti@example.com",
        )),
    }
}

/// A quantity, chosen seats, or both when they agree.
fn wanted(v: &mut Violations, quantity: i32, labels: &[String], max: i32) -> Option<Wanted> {
    let too_many = format!("at most {max} tickets per order (MAX_TICKETS_PER_ORDER)");
    if labels.len() > max as usize {
        v.push("seats", too_many);
        return None;
    }
    let mut seats: Vec<Seat> = Vec::with_capacity(labels.len());
    let mut bad = false;
    for (i, label) in labels.iter().enumerate() {
        let field = format!("seats[{i}]");
        match Seat::parse(label) {
            None => {
                v.push(
                    &field,
                    "must be a seat label: a row letter and a seat number, like C5",
                );
                bad = true;
            }
            Some(seat) if seats.contains(&seat) => {
                v.push(&field, format!("{} is given twice", seat.label()));
                bad = true;
            }
            Some(seat) => seats.push(seat),
        }
    }
    match (quantity, seats.is_empty() && !bad) {
        (q, _) if q < 0 => {
            v.push("quantity", "must not be negative");
            None
        }
        (q, _) if q > max => {
            v.push("quantity", too_many);
            None
        }
        (0, true) => {
            v.push(
                "quantity",
                "give a quantity (1 or more) or the seats you want",
            );
            None
        }
        (q, true) => Some(Wanted::Quantity(q)),
        _ if bad => None,
        (q, false) if q != 0 && q as usize != seats.len() => {
            v.push(
                "quantity",
                format!("must be the number of seats given ({}), or 0", seats.len()),
            );
            None
        }
        _ => {
            seats.sort();
            Some(Wanted::Seats(seats))
        }
    }
}

/// ListOrders' filter, as asked (whose orders a caller may list is the
/// command's to decide).
pub fn filter(r: &pb::ListOrdersRequest) -> Result<Filter, ServiceError> {
    let mut v = Violations::default();
    let status = v.check(status_filter(r.status));
    let showtime = v.check(parse_optional_id("showtime_id", &r.showtime_id));
    let customer = v.check(parse_optional_id("customer_id", &r.customer_id));
    let ((status, showtime), customer) = v.finish(status.zip(showtime).zip(customer))?;
    Ok(Filter {
        customer_id: customer,
        status,
        showtime_id: showtime,
    })
}

fn status_filter(raw: i32) -> Result<Option<OrderStatus>, FieldViolation> {
    let bad = || {
        FieldViolation::new(
            "status",
            "must be one of PENDING, PAID, CANCELLED, EXPIRED, REFUNDED",
        )
    };
    match pb::OrderStatus::try_from(raw) {
        Ok(pb::OrderStatus::Unspecified) => Ok(None),
        Ok(status) => status
            .as_str_name()
            .strip_prefix("ORDER_STATUS_")
            .and_then(OrderStatus::parse)
            .map(Some)
            .ok_or_else(bad),
        Err(_) => Err(bad()),
    }
}

/// A ListOrders page token: the last order's creation time and id.
pub fn token(raw: &str) -> Result<Option<(DateTime<Utc>, Uuid)>, ServiceError> {
    let Some(key) = pages::decode(raw, 2)? else {
        return Ok(None);
    };
    let invalid = || ServiceError::invalid("page_token", "is not a token this API returned");
    let micros: i64 = key[0].parse().map_err(|_| invalid())?;
    let at = DateTime::from_timestamp_micros(micros)
        .filter(|at| (1..=9999).contains(&chrono::Datelike::year(at)))
        .ok_or_else(invalid)?;
    let id = Uuid::parse_str(&key[1]).map_err(|_| invalid())?;
    Ok(Some((at, id)))
}

pub fn token_of(row: &crate::db::orders::OrderRow) -> String {
    pages::encode(&[
        &row.created_at.timestamp_micros().to_string(),
        &row.id.to_string(),
    ])
}

/// A PayOrderRequest: the order and the command paying it.
pub fn payment(r: &pb::PayOrderRequest) -> Result<(Uuid, Command), ServiceError> {
    let mut v = Violations::default();
    let order_id = v.check(parse_id("order_id", &r.order_id));
    let reference = v.check(PaymentReference::parse(&r.payment_reference));
    let (order_id, reference) = v.finish(order_id.zip(reference))?;
    let command = Command::Pay {
        reference: reference.as_str().to_owned(),
    };
    Ok((order_id, command))
}

/// A CancelOrderRequest: the order and the command cancelling it, with
/// its reason (optional, at most 500 characters).
pub fn cancellation(r: &pb::CancelOrderRequest) -> Result<(Uuid, Command), ServiceError> {
    let mut v = Violations::default();
    let order_id = v.check(parse_id("order_id", &r.order_id));
    let reason = v.check(parse_text("reason", &r.reason, 500, true));
    let (order_id, reason) = v.finish(order_id.zip(reason))?;
    let command = Command::Cancel {
        reason: Some(reason).filter(|reason| !reason.is_empty()),
    };
    Ok((order_id, command))
}

/// A ticket's code as printed (any case).
pub fn code(raw: &str) -> Result<String, ServiceError> {
    let code = raw.trim().to_ascii_uppercase();
    if crate::domain::ticket::looks_like_code(&code) {
        Ok(code)
    } else {
        Err(ServiceError::invalid(
            "code",
            "must be the 26 letters and digits printed on the ticket",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(quantity: i32, labels: &[&str]) -> (Option<Wanted>, Vec<String>) {
        let mut v = Violations::default();
        let labels: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
        let wanted = wanted(&mut v, quantity, &labels, 10);
        (wanted, v.fields().map(str::to_owned).collect())
    }

    #[test]
    fn a_quantity_or_seats_or_both_when_they_agree() {
        assert_eq!(parse(2, &[]).0, Some(Wanted::Quantity(2)));
        let c5c6 = Wanted::Seats(vec![Seat { row: 3, number: 5 }, Seat { row: 3, number: 6 }]);
        assert_eq!(parse(0, &["C6", "c5"]).0, Some(c5c6.clone()));
        assert_eq!(parse(2, &["C5", "C6"]).0, Some(c5c6));
        assert_eq!(parse(3, &["C5", "C6"]).1, ["quantity"]);
        assert_eq!(parse(0, &[]).1, ["quantity"]);
        assert_eq!(parse(11, &[]).1, ["quantity"]);
        assert_eq!(parse(-1, &[]).1, ["quantity"]);
        assert_eq!(parse(0, &["C5", "C5"]).1, ["seats[1]"]);
        assert_eq!(parse(0, &["C5", "Z99x"]).1, ["seats[1]"]);
        let eleven: Vec<String> = (1..=11).map(|n| format!("A{n}")).collect();
        let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
        assert_eq!(parse(0, &eleven).1, ["seats"]);
    }

    #[test]
    fn a_customer_is_named_by_id_or_by_email_not_both() {
        let named = |id: &str, email: &str| {
            let mut v = Violations::default();
            let named = named_customer(&mut v, id, email);
            (named, v.fields().map(str::to_owned).collect::<Vec<_>>())
        };
        let id = Uuid::now_v7();
        assert_eq!(named("", ""), (Some(None), vec![]));
        assert_eq!(
            named(&id.to_string(), "").0,
            Some(Some(NamedCustomer::Id(id)))
        );
        assert_eq!(
            named("", " Siti@Example.com ").0,
            Some(Some(NamedCustomer::Email("Siti@Example.com".into())))
        );
        assert_eq!(
            named(&id.to_string(), "siti@example.com").1,
            ["customer_email"]
        );
        assert_eq!(named("someone", "siti@example.com").1, ["customer_id"]);
        for bad in [
            "siti",
            "@example.com",
            "siti@",
            "si ti@example.com",
            "a@b@c",
            "siti@example.com\u{7}",
        ] {
            assert_eq!(named("", bad).1, ["customer_email"], "{bad:?}");
        }
        assert_eq!(
            named("", &format!("{}@example.com", "s".repeat(250))).1,
            ["customer_email"]
        );
    }

    #[test]
    fn codes_are_read_in_any_case() {
        let code = crate::domain::ticket::new_code().unwrap();
        assert_eq!(super::code(&code.to_lowercase()).unwrap(), code);
        assert!(super::code("nope").is_err());
    }
}
