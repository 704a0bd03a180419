//! The data checks that read the services' databases: what must hold
//! whatever failed on the way. Each query returns the rows that break its
//! rule (none when it holds).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use tokio_postgres::{Client, NoTls};

use crate::faults::report::Finding;

/// Reservations whose history is not one entry or more per version from 1
/// (CREATED) to the row's version.
const RESERVATION_HISTORY: &str = "
SELECT r.id::text FROM reservations r
LEFT JOIN (SELECT reservation_id, count(DISTINCT version) AS versions, max(version) AS top,
                  bool_or(action = 'CREATED' AND version = 1) AS created
           FROM reservation_history GROUP BY reservation_id) h ON h.reservation_id = r.id
WHERE h.reservation_id IS NULL OR NOT h.created OR h.top <> r.version OR h.versions <> r.version";

/// Reservations without one outbox event per history entry.
const RESERVATION_EVENTS: &str = "
SELECT r.id::text FROM reservations r
LEFT JOIN (SELECT reservation_id, count(*) AS n FROM reservation_history GROUP BY 1) h
       ON h.reservation_id = r.id
LEFT JOIN (SELECT aggregate_id, count(*) AS n FROM outbox GROUP BY 1) e ON e.aggregate_id = r.id
WHERE coalesce(h.n, 0) <> coalesce(e.n, 0)";

/// Two live reservations on one table at overlapping times.
const TABLES_HELD_TWICE: &str = "
SELECT a.id::text || ' and ' || b.id::text FROM reservations a
JOIN reservations b ON a.table_id = b.table_id AND a.id < b.id
WHERE a.status IN ('PENDING', 'CONFIRMED', 'CHECKED_IN')
  AND b.status IN ('PENDING', 'CONFIRMED', 'CHECKED_IN')
  AND tstzrange(a.start_time, a.end_time, '[)') && tstzrange(b.start_time, b.end_time, '[)')";

/// Orders without one outbox event per version (created, then one a change).
const ORDER_EVENTS: &str = "
SELECT o.id::text FROM orders o
LEFT JOIN (SELECT aggregate_id, count(*) AS n FROM outbox GROUP BY 1) e ON e.aggregate_id = o.id
WHERE coalesce(e.n, 0) <> o.version";

/// A seat held or sold by two live orders.
const SEATS_HELD_TWICE: &str = "
SELECT showtime_id::text || ' ' || label FROM order_seats
WHERE state IN ('HELD', 'SOLD') GROUP BY showtime_id, label HAVING count(*) > 1";

/// Orders whose seats do not say what the order is: held while PENDING,
/// sold while PAID, released otherwise, one a ticket ordered.
const SEATS_OF_ORDERS: &str = "
SELECT o.id::text FROM orders o
LEFT JOIN (SELECT order_id, count(*) AS n,
                  bool_and(state = 'HELD') AS held, bool_and(state = 'SOLD') AS sold,
                  bool_and(state = 'RELEASED') AS released
           FROM order_seats GROUP BY order_id) s ON s.order_id = o.id
WHERE coalesce(s.n, 0) <> o.quantity
   OR NOT CASE o.status WHEN 'PENDING' THEN s.held WHEN 'PAID' THEN s.sold ELSE s.released END";

/// A PAID order without a ticket for each seat, or an unpaid one with any.
const TICKETS: &str = "
SELECT o.id::text FROM orders o
LEFT JOIN (SELECT order_id, count(*) AS n, bool_and(label IS NOT NULL) AS labelled
           FROM tickets GROUP BY order_id) t ON t.order_id = o.id
WHERE CASE WHEN o.status IN ('PAID', 'REFUNDED') THEN coalesce(t.n, 0) <> o.quantity
           ELSE coalesce(t.n, 0) <> 0 END
UNION
SELECT t.code FROM tickets t JOIN orders o ON o.id = t.order_id WHERE NOT t.label = ANY (o.seats)";

/// A client on one of the services' databases.
pub async fn connect(server_url: &str, database: &str) -> anyhow::Result<Client> {
    let url = format!("{}/{database}", server_url.trim_end_matches('/'));
    let (client, connection) = tokio_postgres::connect(&url, NoTls)
        .await
        .with_context(|| format!("connecting to {database}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// The rows a rule query returns, as a finding.
async fn rule(db: &Client, check: &str, held: String, sql: &str) -> Finding {
    match db.query(sql, &[]).await {
        Ok(rows) if rows.is_empty() => Finding::new(check, true, held),
        Ok(rows) => {
            let sample: Vec<String> = rows.iter().take(3).map(|r| r.get::<_, String>(0)).collect();
            let detail = format!("{} break it, e.g. {}", rows.len(), sample.join("; "));
            Finding::new(check, false, detail)
        }
        Err(err) => Finding::new(check, false, format!("the query failed: {err}")),
    }
}

async fn count(db: &Client, sql: &str) -> anyhow::Result<i64> {
    Ok(db.query_one(sql, &[]).await?.get(0))
}

pub async fn reservations(db: &Client) -> anyhow::Result<Vec<Finding>> {
    let n = count(db, "SELECT count(*) FROM reservations").await?;
    Ok(vec![
        rule(
            db,
            "reservation history",
            format!("{n} reservations, each with its history from CREATED to its version"),
            RESERVATION_HISTORY,
        )
        .await,
        rule(
            db,
            "reservation events",
            format!("{n} reservations, each with one outbox event per history entry"),
            RESERVATION_EVENTS,
        )
        .await,
        rule(
            db,
            "tables",
            "no table held twice at overlapping times".into(),
            TABLES_HELD_TWICE,
        )
        .await,
    ])
}

pub async fn orders(db: &Client) -> anyhow::Result<Vec<Finding>> {
    let n = count(db, "SELECT count(*) FROM orders").await?;
    let paid = count(db, "SELECT count(*) FROM orders WHERE status = 'PAID'").await?;
    Ok(vec![
        rule(
            db,
            "order events",
            format!("{n} orders, each with one outbox event per version"),
            ORDER_EVENTS,
        )
        .await,
        rule(
            db,
            "seats",
            "no seat held or sold twice".into(),
            SEATS_HELD_TWICE,
        )
        .await,
        rule(
            db,
            "seats of orders",
            format!(
                "{n} orders, each holding, owning or having released its seats as its status says"
            ),
            SEATS_OF_ORDERS,
        )
        .await,
        rule(
            db,
            "tickets",
            format!(
                "{paid} PAID orders, each with a ticket per seat; no ticket on an unpaid order"
            ),
            TICKETS,
        )
        .await,
    ])
}

/// The outbox of a database: every event numbered, 1…N without a gap, and
/// the relay's progress, as (events, numbered, highest position, relayed).
pub async fn outbox(db: &Client) -> anyhow::Result<(i64, i64, i64, i64)> {
    let row = db
        .query_one(
            "SELECT count(*), count(position), coalesce(max(position), 0)::bigint,
                    (SELECT coalesce(max(position), 0)::bigint FROM outbox_relays)
             FROM outbox",
            &[],
        )
        .await?;
    Ok((row.get(0), row.get(1), row.get(2), row.get(3)))
}

/// Every numbered event's position and type, in position order.
pub async fn events(db: &Client) -> anyhow::Result<Vec<(i64, String)>> {
    let rows = db
        .query(
            "SELECT position, event_type FROM outbox WHERE position IS NOT NULL ORDER BY position",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// What the database says each of `keys` made, from every place a key is
/// kept: the resource's own column (`table.idempotency_key`) and the shared
/// `idempotency_keys` table, whichever exist. A key with two ids in one
/// place maps to two results.
pub async fn keyed(
    db: &Client,
    table: &str,
    keys: &[String],
) -> anyhow::Result<BTreeMap<String, BTreeSet<String>>> {
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let has_column = db
        .query_opt(
            "SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = 'idempotency_key'",
            &[&table],
        )
        .await?
        .is_some();
    let mut queries = Vec::new();
    if has_column {
        queries.push(format!(
            "SELECT idempotency_key, id::text FROM {table} WHERE idempotency_key = ANY ($1)"
        ));
    }
    let has_keys = db
        .query_one("SELECT to_regclass('idempotency_keys') IS NOT NULL", &[])
        .await?
        .get::<_, bool>(0);
    if has_keys {
        queries.push(
            "SELECT key, resource_id::text FROM idempotency_keys WHERE key = ANY ($1)".into(),
        );
    }
    for sql in queries {
        for row in db.query(&sql, &[&keys]).await? {
            found.entry(row.get(0)).or_default().insert(row.get(1));
        }
    }
    Ok(found)
}

/// How many of `ids` exist in `table`, and how many rows each customer of
/// `customers` has there.
pub async fn made(
    db: &Client,
    table: &str,
    ids: &[String],
    customers: &[String],
) -> anyhow::Result<(usize, BTreeMap<String, i64>)> {
    let existing = db
        .query(
            &format!("SELECT id FROM {table} WHERE id::text = ANY ($1)"),
            &[&ids],
        )
        .await?
        .len();
    let rows = db
        .query(
            &format!(
                "SELECT customer_id::text, count(*) FROM {table}
                 WHERE customer_id::text = ANY ($1) GROUP BY 1"
            ),
            &[&customers],
        )
        .await?;
    Ok((
        existing,
        rows.iter().map(|r| (r.get(0), r.get(1))).collect(),
    ))
}
