//! The data checks through the edge, as a client sees its data after the
//! faults: every create sent again with its key answers what it answered
//! the first time; every reservation shows its history from CREATED; every
//! PAID order shows a ticket per seat, and no other order any ticket.

use std::time::Duration;

use futures_util::StreamExt;
use http::{HeaderValue, Method};
use serde_json::Value;
use tokio::time::Instant;

use crate::client::RestClient;
use crate::faults::ledger::{Created, Family};
use crate::faults::prepare::Prepared;
use crate::faults::report::Finding;

/// Requests in flight while checking.
const AT_ONCE: usize = 8;
/// How long a check request is retried on a 5xx or no answer.
const PATIENCE: Duration = Duration::from_secs(30);

/// A GET or POST answered 2xx, retried while the answer is a 5xx or none.
async fn ask(
    http: &RestClient,
    method: Method,
    path: &str,
    body: Option<Value>,
    bearer: &HeaderValue,
    key: Option<&str>,
) -> Result<Value, String> {
    let give_up_at = Instant::now() + PATIENCE;
    loop {
        let answer = http
            .send_keyed(method.clone(), path, body.clone(), Some(bearer), key)
            .await;
        let why = match answer {
            Ok((status, body)) if status.is_success() => {
                return serde_json::from_slice(&body).map_err(|e| format!("{path}: {e}"));
            }
            Ok((status, body)) if status.is_client_error() => {
                return Err(format!(
                    "{path}: {status} {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            Ok((status, _)) => format!("{path}: {status}"),
            Err(label) => format!("{path}: {label}"),
        };
        if Instant::now() > give_up_at {
            return Err(why);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The findings of `run`: lists of what broke each rule.
#[derive(Debug, Default)]
struct Broken {
    replays: Vec<String>,
    histories: Vec<String>,
    tickets: Vec<String>,
}

pub async fn run(http: &RestClient, prepared: &Prepared, created: &[Created]) -> Vec<Finding> {
    let made: Vec<&Created> = created.iter().filter(|c| !c.ids.is_empty()).collect();
    let results: Vec<(Family, Vec<String>, Vec<String>)> = futures_util::stream::iter(made.iter())
        .map(|c| check_one(http, prepared, c))
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    let mut broken = Broken::default();
    for (family, replay, read) in results {
        broken.replays.extend(replay);
        match family {
            Family::Reservations => broken.histories.extend(read),
            Family::Orders => broken.tickets.extend(read),
        }
    }
    let reservations = made
        .iter()
        .filter(|c| c.family == Family::Reservations)
        .count();
    let orders = made.len() - reservations;
    vec![
        finding(
            "keys through the edge",
            format!(
                "{} creates sent again with their keys, each answered with the first result",
                made.len()
            ),
            broken.replays,
        ),
        finding(
            "history through the edge",
            format!("{reservations} reservations, each with its history from CREATED"),
            broken.histories,
        ),
        finding(
            "tickets through the edge",
            format!("{orders} orders: a ticket per seat when PAID, none otherwise"),
            broken.tickets,
        ),
    ]
}

fn finding(check: &str, held: String, broken: Vec<String>) -> Finding {
    if broken.is_empty() {
        Finding::new(check, true, held)
    } else {
        let sample: Vec<&str> = broken.iter().take(3).map(String::as_str).collect();
        Finding::new(
            check,
            false,
            format!("{} break it, e.g. {}", broken.len(), sample.join("; ")),
        )
    }
}

/// Replays one create and reads what it made: (its family, what broke the
/// replay, what broke the read).
async fn check_one(
    http: &RestClient,
    prepared: &Prepared,
    c: &Created,
) -> (Family, Vec<String>, Vec<String>) {
    let Some(customer) = prepared.customers.get(c.customer) else {
        return (
            c.family,
            vec![format!("{}: no such customer", c.key)],
            vec![],
        );
    };
    let (create, id_field, read) = match c.family {
        Family::Reservations => ("/api/reservations", "reservation_id", "/api/reservations"),
        Family::Orders => ("/api/orders", "order_id", "/api/orders"),
    };
    let mut replay = Vec::new();
    let first = &c.ids[0];
    match ask(
        http,
        Method::POST,
        create,
        Some(c.body.clone()),
        &customer.bearer,
        Some(&c.key),
    )
    .await
    {
        Ok(again) if again[id_field].as_str() == Some(first) => {}
        Ok(again) => replay.push(format!(
            "key {} made {first}, then {}",
            c.key, again[id_field]
        )),
        Err(why) => replay.push(why),
    }
    let read = match c.family {
        Family::Reservations => {
            let path = format!("{read}/{first}/history");
            match ask(http, Method::GET, &path, None, &customer.bearer, None).await {
                Ok(history) => history_breaks(first, &history),
                Err(why) => vec![why],
            }
        }
        Family::Orders => {
            let path = format!("{read}/{first}");
            match ask(http, Method::GET, &path, None, &customer.bearer, None).await {
                Ok(order) => tickets_break(first, &order),
                Err(why) => vec![why],
            }
        }
    };
    (c.family, replay, read)
}

/// A history must start with CREATED.
fn history_breaks(id: &str, history: &Value) -> Vec<String> {
    let entries = history["entries"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    match entries.first() {
        Some(first) if first["action"] == "CREATED" => vec![],
        Some(first) => vec![format!("{id}: history starts with {}", first["action"])],
        None => vec![format!("{id}: no history")],
    }
}

/// PAID: one ticket with a code per seat; any other status: no ticket.
fn tickets_break(id: &str, order: &Value) -> Vec<String> {
    let tickets = order["tickets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let seats = order["seats"].as_array().map_or(0, Vec::len);
    let coded = tickets
        .iter()
        .filter(|t| t["code"].as_str().is_some_and(|c| !c.is_empty()))
        .count();
    let paid = order["status"] == "PAID";
    if paid && (tickets.len() != seats || coded != seats || seats == 0) {
        vec![format!(
            "{id}: PAID with {} tickets for {seats} seats",
            tickets.len()
        )]
    } else if !paid && !tickets.is_empty() {
        vec![format!(
            "{id}: {} with {} tickets",
            order["status"],
            tickets.len()
        )]
    } else {
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paid_orders_need_their_tickets_and_others_none() {
        let paid =
            json!({"status": "PAID", "seats": ["A1"], "tickets": [{"seat": "A1", "code": "X"}]});
        assert!(tickets_break("o", &paid).is_empty());
        let bare = json!({"status": "PAID", "seats": ["A1"], "tickets": []});
        assert_eq!(
            tickets_break("o", &bare),
            ["o: PAID with 0 tickets for 1 seats"]
        );
        let cancelled = json!({"status": "CANCELLED", "seats": ["A1"], "tickets": []});
        assert!(tickets_break("o", &cancelled).is_empty());
    }

    #[test]
    fn histories_start_with_created() {
        let good = json!({"entries": [{"action": "CREATED"}, {"action": "CONFIRMED"}]});
        assert!(history_breaks("r", &good).is_empty());
        assert_eq!(
            history_breaks("r", &json!({"entries": []})),
            ["r: no history"]
        );
    }
}
