//! The shared outbox under concurrent writers: every committed event reaches
//! a follower exactly once, in position order, without gaps, however the
//! writers' commits interleave, and changes to one aggregate keep the order
//! they happened in.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashSet;
use std::time::Duration;

use kursi_proto::reservation::v1::{ReservationCreated, ReservationEvent, reservation_event};
use prost::Message;
use service_kit::db::Migrations;
use service_kit::outbox::{self, Outbox};
use testkit::TestDb;
use tokio::sync::watch;
use tokio_postgres::Client;
use tokio_stream::StreamExt;
use uuid::Uuid;

static OUTBOX_ONLY: Migrations = Migrations::new(&[("outbox", &outbox::MIGRATIONS)]);

/// An envelope whose `reservation_id` carries a label the test can read back.
fn payload(label: &str) -> Vec<u8> {
    ReservationEvent {
        reservation_id: label.to_owned(),
        event: Some(reservation_event::Event::Created(
            ReservationCreated::default(),
        )),
        ..Default::default()
    }
    .encode_to_vec()
}

async fn insert(client: &Client, aggregate: Uuid, label: &str) {
    client
        .execute(
            "INSERT INTO outbox (aggregate_id, event_type, payload) VALUES ($1::text::uuid, 'created', $2)",
            &[&aggregate.to_string(), &payload(label)],
        )
        .await
        .unwrap();
}

/// Every numbered event after `position`: (position, label).
async fn read_after(outbox: &Outbox, position: i64) -> Vec<(i64, String)> {
    let mut conn = outbox.pool().get().await.unwrap();
    outbox::after(&mut conn, position, None, 10_000)
        .await
        .unwrap()
        .iter()
        .map(|row| {
            let event: ReservationEvent = row.envelope().unwrap();
            assert_eq!(event.position, row.position);
            (row.position, event.reservation_id)
        })
        .collect()
}

#[tokio::test]
async fn an_event_that_commits_late_is_numbered_when_it_commits_never_skipped() {
    let db = TestDb::new("outbox", &OUTBOX_ONLY).await;
    let outbox = Outbox::new(service_kit::db::pool(db.url(), 2));
    let sequencer = outbox.sequencer();
    let (early, late) = (db.client().await, db.client().await);

    // `early` inserts first (the smaller id) but commits last.
    early.batch_execute("BEGIN").await.unwrap();
    insert(&early, Uuid::new_v4(), "early").await;
    late.batch_execute("BEGIN").await.unwrap();
    insert(&late, Uuid::new_v4(), "late").await;
    late.batch_execute("COMMIT").await.unwrap();

    // Only what has committed is numbered; nothing waits for `early`.
    assert_eq!(sequencer.run_once().await.unwrap(), 1);
    let first = read_after(&outbox, 0).await;
    assert_eq!(first, [(1, "late".to_owned())]);

    early.batch_execute("COMMIT").await.unwrap();
    assert_eq!(sequencer.run_once().await.unwrap(), 1);
    // A follower resuming after what it saw gets the late commit next.
    assert_eq!(read_after(&outbox, 1).await, [(2, "early".to_owned())]);
    assert_eq!(sequencer.run_once().await.unwrap(), 0);
}

#[tokio::test]
async fn changes_to_one_aggregate_keep_their_order_when_the_later_writer_began_first() {
    let db = TestDb::new("outbox", &OUTBOX_ONLY).await;
    let outbox = Outbox::new(service_kit::db::pool(db.url(), 2));
    let setup = db.client().await;
    setup
        .batch_execute(
            "CREATE TABLE things (id int PRIMARY KEY, n int); INSERT INTO things VALUES (1, 0)",
        )
        .await
        .unwrap();
    let thing = Uuid::new_v4();
    let (a, b) = (db.client().await, db.client().await);

    // B writes first, so its transaction id is the older one...
    b.batch_execute("BEGIN").await.unwrap();
    insert(&b, Uuid::new_v4(), "b: something else").await;
    // ...then A takes the row, and B queues behind A's lock.
    a.batch_execute("BEGIN; UPDATE things SET n = 1 WHERE id = 1")
        .await
        .unwrap();
    let b = tokio::spawn(async move {
        b.batch_execute("UPDATE things SET n = 2 WHERE id = 1")
            .await
            .unwrap();
        insert(&b, thing, "second").await;
        b.batch_execute("COMMIT").await.unwrap();
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    insert(&a, thing, "first").await;
    a.batch_execute("COMMIT").await.unwrap();
    b.await.unwrap();

    outbox.sequencer().run_once().await.unwrap();
    let mut conn = outbox.pool().get().await.unwrap();
    let of_thing: Vec<String> = outbox::after(&mut conn, 0, Some(thing), 100)
        .await
        .unwrap()
        .iter()
        .map(|row| row.envelope::<ReservationEvent>().unwrap().reservation_id)
        .collect();
    // Ordered by transaction id, "second" would come first.
    assert_eq!(of_thing, ["first", "second"]);
}

#[tokio::test]
async fn concurrent_writers_interleaving_commits_are_followed_once_each_without_gaps() {
    const WRITERS: usize = 12;
    const TRANSACTIONS: usize = 40;
    let db = TestDb::new("outbox", &OUTBOX_ONLY).await;
    let outbox = Outbox::new(service_kit::db::pool(db.url(), 4));
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(
        outbox
            .sequencer()
            .run(Duration::from_millis(5), stop.clone()),
    );
    let mut live =
        outbox.follow::<ReservationEvent>(0, None, stop.clone(), Duration::from_millis(5));

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let client = db.client().await;
        let outbox = outbox.clone();
        writers.push(tokio::spawn(async move {
            let mut committed = Vec::new();
            for t in 0..TRANSACTIONS {
                client.batch_execute("BEGIN").await.unwrap();
                let events = 1 + (w + t) % 3;
                let labels: Vec<String> = (0..events).map(|e| format!("{w}/{t}/{e}")).collect();
                for label in &labels {
                    insert(&client, Uuid::new_v4(), label).await;
                }
                // Hold some transactions open across others' commits.
                if (w * 7 + t) % 5 == 0 {
                    tokio::time::sleep(Duration::from_millis(((w + t) % 4) as u64 * 3)).await;
                }
                if (w + t) % 9 == 0 {
                    client.batch_execute("ROLLBACK").await.unwrap();
                } else {
                    client.batch_execute("COMMIT").await.unwrap();
                    committed.extend(labels);
                    outbox.committed();
                }
            }
            committed
        }));
    }
    let mut expected = HashSet::new();
    for writer in writers {
        expected.extend(writer.await.unwrap());
    }

    let mut seen = Vec::new();
    while seen.len() < expected.len() {
        let event = tokio::time::timeout(Duration::from_secs(30), live.next())
            .await
            .expect("every committed event arrives")
            .unwrap()
            .unwrap();
        seen.push((event.position, event.reservation_id));
    }
    let positions: Vec<i64> = seen.iter().map(|(p, _)| *p).collect();
    let gapless: Vec<i64> = (1..=expected.len() as i64).collect();
    assert_eq!(
        positions, gapless,
        "positions are 1, 2, 3, … in stream order"
    );
    let labels: HashSet<String> = seen.iter().map(|(_, l)| l.clone()).collect();
    assert_eq!(labels.len(), seen.len(), "no event twice");
    assert_eq!(
        labels, expected,
        "every committed event, no rolled-back one"
    );

    // A follower resuming from the middle gets exactly the rest.
    let middle = seen.len() / 2;
    let rest = read_after(&outbox, seen[middle - 1].0).await;
    assert_eq!(rest, seen[middle..]);
    let _ = stop_tx.send(true);
}

/// Two replicas, each with its own pool and its own sequencer, and writers
/// on both: the sequencers take turns, so every committed event is numbered
/// exactly once, 1, 2, 3, … without gaps, and a follower on either replica
/// sees the same stream.
#[tokio::test]
async fn two_sequencers_at_once_number_every_event_once_without_gaps() {
    const WRITERS: usize = 12;
    const TRANSACTIONS: usize = 40;
    let db = TestDb::new("outbox", &OUTBOX_ONLY).await;
    let replicas = [
        Outbox::new(service_kit::db::pool(db.url(), 4)),
        Outbox::new(service_kit::db::pool(db.url(), 4)),
    ];
    let (stop_tx, stop) = watch::channel(false);
    for replica in &replicas {
        tokio::spawn(
            replica
                .sequencer()
                .run(Duration::from_millis(5), stop.clone()),
        );
    }
    let mut followers: Vec<_> = replicas
        .iter()
        .map(|replica| {
            replica.follow::<ReservationEvent>(0, None, stop.clone(), Duration::from_millis(5))
        })
        .collect();

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let client = db.client().await;
        // Half the writers commit through each replica, which rings its own
        // sequencer; both sequencers race for every batch.
        let outbox = replicas[w % 2].clone();
        writers.push(tokio::spawn(async move {
            let mut committed = Vec::new();
            for t in 0..TRANSACTIONS {
                client.batch_execute("BEGIN").await.unwrap();
                let events = 1 + (w + t) % 3;
                let labels: Vec<String> = (0..events).map(|e| format!("{w}/{t}/{e}")).collect();
                for label in &labels {
                    insert(&client, Uuid::new_v4(), label).await;
                }
                // Hold some transactions open across others' commits.
                if (w * 7 + t) % 5 == 0 {
                    tokio::time::sleep(Duration::from_millis(((w + t) % 4) as u64 * 3)).await;
                }
                if (w + t) % 9 == 0 {
                    client.batch_execute("ROLLBACK").await.unwrap();
                } else {
                    client.batch_execute("COMMIT").await.unwrap();
                    committed.extend(labels);
                    outbox.committed();
                }
            }
            committed
        }));
    }
    let mut expected = HashSet::new();
    for writer in writers {
        expected.extend(writer.await.unwrap());
    }

    let mut streams = Vec::new();
    for live in &mut followers {
        let mut seen = Vec::new();
        while seen.len() < expected.len() {
            let event = tokio::time::timeout(Duration::from_secs(30), live.next())
                .await
                .expect("every committed event arrives")
                .unwrap()
                .unwrap();
            seen.push((event.position, event.reservation_id));
        }
        let positions: Vec<i64> = seen.iter().map(|(p, _)| *p).collect();
        let gapless: Vec<i64> = (1..=expected.len() as i64).collect();
        assert_eq!(
            positions, gapless,
            "positions are 1, 2, 3, … in stream order"
        );
        let labels: HashSet<String> = seen.iter().map(|(_, l)| l.clone()).collect();
        assert_eq!(labels.len(), seen.len(), "no event twice");
        assert_eq!(
            labels, expected,
            "every committed event, no rolled-back one"
        );
        streams.push(seen);
    }
    assert_eq!(streams[0], streams[1], "both replicas follow one stream");

    // In the table itself: every row numbered, no position given twice.
    let counts = db
        .client()
        .await
        .query_one(
            "SELECT count(*), count(position), count(DISTINCT position), max(position) FROM outbox",
            &[],
        )
        .await
        .unwrap();
    let n = expected.len() as i64;
    assert_eq!(
        (
            counts.get::<_, i64>(0),
            counts.get::<_, i64>(1),
            counts.get::<_, i64>(2),
            counts.get::<_, Option<i64>>(3)
        ),
        (n, n, n, Some(n))
    );
    let _ = stop_tx.send(true);
}
