//! After the load: what must hold whatever failed on the way, checked by
//! SQL in the services' databases, against JetStream, and through the edge.
//! First the relays are given time to publish what waited in the outbox.

pub mod api;
pub mod sql;
pub mod stream;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::time::Instant;
use tokio_postgres::Client;

use super::ledger::{Created, Family, Ledger};
use super::prepare::Prepared;
use super::report::Finding;
use crate::client::RestClient;

/// Where the stack under test keeps its data.
#[derive(Debug, Clone)]
pub struct Stores {
    /// The PostgreSQL server, without a database.
    pub database_url: String,
    pub nats_url: String,
    /// How long the relays get to publish what waits in the outbox.
    pub drain: Duration,
}

/// The services with events, by their database and their name in subjects.
const EVENTFUL: [(&str, &str); 3] = [
    ("kursi_reservation", "reservation"),
    ("kursi_catalog", "catalog"),
    ("kursi_order", "order"),
];

pub async fn run(
    stores: &Stores,
    http: &RestClient,
    prepared: &Prepared,
    ledger: &Ledger,
) -> anyhow::Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let mut dbs = BTreeMap::new();
    for (database, service) in EVENTFUL {
        dbs.insert(service, sql::connect(&stores.database_url, database).await?);
    }
    for (_, service) in EVENTFUL {
        findings.push(drained(&dbs[service], service, stores.drain).await);
    }
    findings.extend(sql::reservations(&dbs["reservation"]).await?);
    findings.extend(sql::orders(&dbs["order"]).await?);
    for (family, service, table) in [
        (Family::Reservations, "reservation", "reservations"),
        (Family::Orders, "order", "orders"),
    ] {
        findings.extend(keys(&dbs[service], table, family, prepared, &ledger.created).await?);
    }
    for (_, service) in EVENTFUL {
        let events = sql::events(&dbs[service]).await?;
        findings.push(stream::exactly_once(&stores.nats_url, service, &events).await);
    }
    findings.extend(api::run(http, prepared, &ledger.created).await);
    Ok(findings)
}

/// Waits until every event is numbered and relayed, at most `drain`.
async fn drained(db: &Client, service: &str, drain: Duration) -> Finding {
    let check = format!("{service} outbox relayed");
    let give_up_at = Instant::now() + drain;
    loop {
        let (events, numbered, top, relayed) = match sql::outbox(db).await {
            Ok(state) => state,
            Err(err) => return Finding::new(check, false, format!("{err:#}")),
        };
        if events == numbered && top == events && relayed >= top {
            return Finding::new(
                check,
                true,
                format!("{events} events numbered 1 to {top}, all relayed"),
            );
        }
        if Instant::now() > give_up_at {
            let detail = format!(
                "after {} s: {events} events, {numbered} numbered, highest position {top}, relayed to {relayed}",
                drain.as_secs()
            );
            return Finding::new(check, false, detail);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// No idempotency key maps to two results, by SQL: each key sent is found
/// with at most one id, the one its create was answered with; every id a
/// create was answered with exists; and no customer has more rows than
/// keys sent (a retry that made a second row).
async fn keys(
    db: &Client,
    table: &str,
    family: Family,
    prepared: &Prepared,
    created: &[Created],
) -> anyhow::Result<Vec<Finding>> {
    let ours: Vec<&Created> = created.iter().filter(|c| c.family == family).collect();
    let keys: Vec<String> = ours.iter().map(|c| c.key.clone()).collect();
    let found = sql::keyed(db, table, &keys).await?;
    let mut broken = Vec::new();
    for c in &ours {
        let ids = found.get(&c.key).cloned().unwrap_or_default();
        let answered: BTreeSet<String> = c.ids.iter().cloned().collect();
        if ids.len() > 1 || (!answered.is_empty() && !ids.is_empty() && ids != answered) {
            broken.push(format!(
                "key {} answered {answered:?}, stored for {ids:?}",
                c.key
            ));
        }
    }
    let ids: Vec<String> = ours.iter().flat_map(|c| c.ids.iter().cloned()).collect();
    let customers: Vec<String> = prepared
        .customers
        .iter()
        .map(|c| c.user_id.clone())
        .collect();
    let (existing, rows) = sql::made(db, table, &ids, &customers).await?;
    let mut sent: BTreeMap<&str, i64> = BTreeMap::new();
    for c in &ours {
        if let Some(customer) = prepared.customers.get(c.customer) {
            *sent.entry(customer.user_id.as_str()).or_default() += 1;
        }
    }
    for (customer, n) in &rows {
        let keys = sent.get(customer.as_str()).copied().unwrap_or_default();
        if *n > keys {
            broken.push(format!(
                "customer {customer} has {n} {table} from {keys} keys"
            ));
        }
    }
    let lost = ids.len() - existing.min(ids.len());
    let made = Finding::new(
        format!("{table} acknowledged"),
        lost == 0,
        format!(
            "{} of {} {table} whose create was answered exist",
            existing,
            ids.len()
        ),
    );
    let check = format!("{table} keys");
    let keyed = if broken.is_empty() {
        let detail = format!(
            "{} keys, none mapped to two results; no customer has more {table} than keys",
            keys.len()
        );
        Finding::new(check, true, detail)
    } else {
        let sample: Vec<&str> = broken.iter().take(3).map(String::as_str).collect();
        Finding::new(
            check,
            false,
            format!("{} break it, e.g. {}", broken.len(), sample.join("; ")),
        )
    };
    Ok(vec![made, keyed])
}
