//! Two replicas of reservation-svc, two servers on one database: what one
//! replica does, the other must see and respect.

use std::time::Duration;

use kursi_proto::reservation::v1::reservation_event::Event;
use kursi_proto::reservation::v1::reservation_service_client::ReservationServiceClient;
use kursi_proto::reservation::v1::*;
use testkit::{Spawned, bearer, channel, spawn};

use crate::{Client, Env, assert_key_reused, booking, local};

/// A second server with `env`'s settings, on its database.
async fn second_replica(env: &Env) -> Spawned {
    let run = env.config.clone();
    spawn(move |l, s| reservation_svc::app::run(run, l, s)).await
}

async fn client_of(replica: &Spawned) -> Client {
    ReservationServiceClient::new(channel(replica.addr).await)
}

#[tokio::test]
async fn racing_requests_with_one_key_across_two_replicas_make_one_reservation() {
    let env = Env::start().await;
    let other = second_replica(&env).await;
    const CALLS: usize = 16;
    let mut tasks = Vec::new();
    for i in 0..CALLS {
        // Two bookings under one key, each sent to both replicas.
        let party = 2 + (i % 2) as i32;
        let mut request = booking(local(2, 12, 0), party);
        request.idempotency_key = "across-replicas".into();
        let mut client = if (i / 2) % 2 == 0 {
            env.client().await
        } else {
            client_of(&other).await
        };
        let call = bearer(&env.customer.access_token, request);
        tasks.push(tokio::spawn(async move {
            (party, client.create_reservation(call).await)
        }));
    }
    let mut answered = Vec::new();
    let mut refused = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (party, Ok(reply)) => {
                let r = reply.into_inner().reservation.unwrap();
                assert_eq!(r.party_size, party);
                answered.push((party, r.reservation_id));
            }
            // Anything else (INTERNAL, ABORTED, a unique violation) fails here.
            (party, Err(status)) => {
                assert_key_reused(&status, "idempotency_key", "across-replicas");
                refused.push(party);
            }
        }
    }
    // The winner's booking is answered with one reservation every time, on
    // either replica; the other booking is refused every time.
    let (winner, id) = answered[0].clone();
    assert!(
        answered.iter().all(|a| *a == (winner, id.clone())),
        "{answered:?}"
    );
    assert!(refused.iter().all(|party| *party != winner), "{refused:?}");
    assert_eq!((answered.len(), refused.len()), (CALLS / 2, CALLS / 2));
    assert_eq!(env.count("SELECT count(*) FROM reservations").await, 1);
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, 1);
    assert_eq!(env.count("SELECT count(*) FROM idempotency_keys").await, 1);
}

#[tokio::test]
async fn a_follower_on_one_replica_gets_the_events_made_through_another() {
    let env = Env::start_with(|config| {
        config.event_poll_interval = Duration::from_millis(50);
    })
    .await;
    let other = second_replica(&env).await;
    let staff = &env.staff.access_token;
    let mut on_b = client_of(&other).await;
    let mut live = on_b
        .watch_reservation_events(bearer(
            staff,
            WatchReservationEventsRequest {
                start_position: 0,
                reservation_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();

    // Booked and confirmed through replica A only.
    let booked = env.book(&env.customer, booking(local(2, 12, 0), 2)).await;
    env.client()
        .await
        .confirm_reservation(bearer(
            staff,
            ConfirmReservationRequest {
                reservation_id: booked.reservation_id.clone(),
                note: "ok".into(),
            },
        ))
        .await
        .unwrap();

    // A bound, not a target: B learns of A's events by polling the outbox.
    let mut seen = Vec::new();
    for _ in 0..2 {
        let event = tokio::time::timeout(Duration::from_secs(30), live.message())
            .await
            .expect("replica B streams replica A's event")
            .unwrap()
            .unwrap()
            .event
            .unwrap();
        assert_eq!(event.reservation_id, booked.reservation_id);
        let kind = match event.event.unwrap() {
            Event::Created(created) => {
                assert_eq!(created.reservation.as_ref(), Some(&booked));
                "created"
            }
            Event::Confirmed(_) => "confirmed",
            other => panic!("unexpected {other:?}"),
        };
        seen.push((event.position, kind));
    }
    assert_eq!(seen, [(1, "created"), (2, "confirmed")]);
}
