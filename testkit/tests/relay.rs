//! The outbox's relay to NATS JetStream against a real nats-server: every
//! event once, in position order, however the relay is stopped, restarted
//! or doubled, and whether NATS is there or not.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use kursi_proto::reservation::v1::{ReservationCreated, ReservationEvent, reservation_event};
use prost::Message;
use service_kit::db::Migrations;
use service_kit::outbox::relay::{Publisher, Relay, RelayConfig, RelayState, stream_name};
use service_kit::outbox::{self, NewEvent, Outbox};
use testkit::{TestDb, TestNats};
use tokio::sync::watch;
use uuid::Uuid;

static OUTBOX_ONLY: Migrations = Migrations::new(&[("outbox", &outbox::MIGRATIONS)]);

struct Setup {
    db: TestDb,
    outbox: Outbox,
    nats: TestNats,
}

async fn setup() -> Setup {
    let db = TestDb::new("outbox", &OUTBOX_ONLY).await;
    let outbox = Outbox::new(service_kit::db::pool(db.url(), 4));
    let nats = TestNats::start().await;
    Setup { db, outbox, nats }
}

fn config(nats: &TestNats) -> RelayConfig {
    RelayConfig {
        batch: 25,
        lease: Duration::from_secs(1),
        ..RelayConfig::new(nats.url())
    }
}

/// Appends `count` events labelled `from`, `from + 1`, … and numbers them.
async fn write_events(outbox: &Outbox, from: usize, count: usize) {
    let conn = outbox.pool().get().await.unwrap();
    let rows = (from..from + count)
        .map(|n| {
            let envelope = ReservationEvent {
                reservation_id: n.to_string(),
                event: Some(reservation_event::Event::Created(
                    ReservationCreated::default(),
                )),
                ..Default::default()
            };
            NewEvent::new(Uuid::new_v4(), &envelope, chrono::Utc::now()).unwrap()
        })
        .collect();
    outbox::append(&conn, rows).await.unwrap();
    outbox.sequencer().run_once().await.unwrap();
}

/// The stream's messages as (position, label), checking each on the way.
async fn relayed(nats: &TestNats, count: u64) -> Vec<(i64, String)> {
    let stored = nats
        .messages(&stream_name::<ReservationEvent>(), count)
        .await;
    stored
        .iter()
        .map(|m| {
            let event = ReservationEvent::decode(m.payload.as_ref()).expect("an envelope");
            assert_eq!(m.subject, "kursi.reservation.v1.created");
            assert_eq!(
                m.message_id.as_deref(),
                Some(format!("reservation-{}", event.position).as_str())
            );
            assert_eq!(
                m.event_type.as_deref(),
                Some("kursi.reservation.v1.ReservationEvent")
            );
            (event.position, event.reservation_id)
        })
        .collect()
}

fn in_order(count: usize) -> Vec<(i64, String)> {
    (1..=count)
        .map(|n| (n as i64, (n - 1).to_string()))
        .collect()
}

async fn wait_for(state: &mut watch::Receiver<RelayState>, wanted: RelayState) {
    tokio::time::timeout(Duration::from_secs(30), state.wait_for(|s| *s == wanted))
        .await
        .expect("the relay gets there")
        .unwrap();
}

#[tokio::test]
async fn every_event_is_published_once_in_position_order() {
    let s = setup().await;
    write_events(&s.outbox, 0, 60).await;
    let relay = Relay::<ReservationEvent>::new(
        s.outbox.clone(),
        config(&s.nats),
        Duration::from_millis(20),
    );
    let mut state = relay.state();
    let (stop, stopping) = watch::channel(false);
    tokio::spawn(relay.run(stopping));
    wait_for(&mut state, RelayState::Relaying { position: 60 }).await;
    // Events numbered later flow too.
    write_events(&s.outbox, 60, 7).await;
    s.outbox.committed();
    assert_eq!(relayed(&s.nats, 67).await, in_order(67));
    let recorded =
        s.db.client()
            .await
            .query_one(
                "SELECT position FROM outbox_relays WHERE relay = 'nats'",
                &[],
            )
            .await
            .unwrap()
            .get::<_, i64>(0);
    assert_eq!(recorded, 67);
    let _ = stop.send(true);
}

#[tokio::test]
async fn a_relay_that_died_before_recording_its_progress_publishes_again_and_nothing_doubles() {
    let s = setup().await;
    write_events(&s.outbox, 0, 40).await;
    // A relay published the first 30 and died before recording them.
    let mut publisher = Publisher::connect(&config(&s.nats), "reservation")
        .await
        .unwrap();
    let mut conn = s.outbox.pool().get().await.unwrap();
    for row in outbox::after(&mut conn, 0, None, 30).await.unwrap() {
        assert!(!publisher.publish::<ReservationEvent>(&row).await.unwrap());
    }
    // The next relay starts from the recorded position, 0.
    let relay = Relay::<ReservationEvent>::new(
        s.outbox.clone(),
        config(&s.nats),
        Duration::from_millis(20),
    );
    let mut state = relay.state();
    let (stop, stopping) = watch::channel(false);
    tokio::spawn(relay.run(stopping));
    wait_for(&mut state, RelayState::Relaying { position: 40 }).await;
    let stream = relayed(&s.nats, 40).await;
    assert_eq!(
        stream,
        in_order(40),
        "each once, in order: the 30 again were dropped"
    );
    let _ = stop.send(true);
}

#[tokio::test]
async fn a_relay_killed_mid_batch_hands_over_without_losing_or_doubling_an_event() {
    let s = setup().await;
    write_events(&s.outbox, 0, 300).await;
    let first = Relay::<ReservationEvent>::new(
        s.outbox.clone(),
        config(&s.nats),
        Duration::from_millis(20),
    );
    let mut state = first.state();
    let (_stop_first, stopping) = watch::channel(false);
    let task = tokio::spawn(first.run(stopping));
    // Killed (no graceful release) once it has got somewhere.
    tokio::time::timeout(
        Duration::from_secs(30),
        state.wait_for(|s| matches!(s, RelayState::Relaying { position } if *position >= 25)),
    )
    .await
    .unwrap()
    .unwrap();
    task.abort();
    let _ = task.await;

    // Another replica takes over once the lease has run out.
    let second = Relay::<ReservationEvent>::new(
        s.outbox.clone(),
        config(&s.nats),
        Duration::from_millis(20),
    );
    let mut state = second.state();
    let (stop, stopping) = watch::channel(false);
    tokio::spawn(second.run(stopping));
    wait_for(&mut state, RelayState::Relaying { position: 300 }).await;
    assert_eq!(relayed(&s.nats, 300).await, in_order(300));
    let _ = stop.send(true);
}

#[tokio::test]
async fn of_two_replicas_one_relays_and_the_other_takes_over_when_it_stops() {
    let s = setup().await;
    write_events(&s.outbox, 0, 10).await;
    let start = |outbox: &Outbox| {
        let relay = Relay::<ReservationEvent>::new(
            outbox.clone(),
            config(&s.nats),
            Duration::from_millis(20),
        );
        let state = relay.state();
        let (stop, stopping) = watch::channel(false);
        tokio::spawn(relay.run(stopping));
        (state, stop)
    };
    let (mut a, stop_a) = start(&s.outbox);
    wait_for(&mut a, RelayState::Relaying { position: 10 }).await;
    let (mut b, stop_b) = start(&s.outbox);
    wait_for(&mut b, RelayState::Standby).await;

    // A stops (and hands the lease back); B relays what comes next.
    let _ = stop_a.send(true);
    write_events(&s.outbox, 10, 5).await;
    s.outbox.committed();
    wait_for(&mut b, RelayState::Relaying { position: 15 }).await;
    assert_eq!(relayed(&s.nats, 15).await, in_order(15));
    let _ = stop_b.send(true);
}

#[tokio::test]
async fn events_wait_while_nats_is_down_and_flow_in_order_when_it_is_back() {
    let mut s = setup().await;
    s.nats.stop().await;
    let relay = Relay::<ReservationEvent>::new(
        s.outbox.clone(),
        config(&s.nats),
        Duration::from_millis(20),
    );
    let mut state = relay.state();
    let mut lag = relay.lag();
    let (stop, stopping) = watch::channel(false);
    tokio::spawn(relay.run(stopping));
    write_events(&s.outbox, 0, 20).await;
    s.outbox.committed();
    wait_for(&mut state, RelayState::Failing { position: 0 }).await;
    // It says how far behind it is.
    let waiting = tokio::time::timeout(Duration::from_secs(30), lag.wait_for(|l| l.events == 20))
        .await
        .expect("the lag is measured")
        .unwrap()
        .events;
    assert_eq!(waiting, 20);

    s.nats.resume().await;
    wait_for(&mut state, RelayState::Relaying { position: 20 }).await;
    assert_eq!(relayed(&s.nats, 20).await, in_order(20));
    tokio::time::timeout(Duration::from_secs(30), lag.wait_for(|l| l.events == 0))
        .await
        .expect("caught up")
        .unwrap();
    let _ = stop.send(true);
}
