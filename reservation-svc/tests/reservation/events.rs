//! WatchReservationEvents: the outbox from a position, then live.

use kursi_proto::reservation::v1::reservation_event::Event;
use kursi_proto::reservation::v1::*;
use testkit::bearer;

use crate::{Env, booking, local};

fn watch(token: &str, start_position: i64) -> tonic::Request<WatchReservationEventsRequest> {
    bearer(
        token,
        WatchReservationEventsRequest {
            start_position,
            reservation_id: String::new(),
        },
    )
}

#[tokio::test]
async fn followers_get_new_events_as_they_commit_and_resume_from_a_position() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;

    // Opened on an empty outbox: it waits for events.
    let mut live = client
        .watch_reservation_events(watch(staff, 0))
        .await
        .unwrap()
        .into_inner();

    let first = env.book(&env.customer, booking(local(2, 12, 0), 2)).await;
    let second = env.book(&env.customer, booking(local(2, 14, 0), 2)).await;
    client
        .confirm_reservation(bearer(
            staff,
            ConfirmReservationRequest {
                reservation_id: second.reservation_id.clone(),
                note: "ok".into(),
            },
        ))
        .await
        .unwrap();

    let mut seen = Vec::new();
    for _ in 0..3 {
        let event = live.message().await.unwrap().unwrap().event.unwrap();
        let kind = match event.event.as_ref().unwrap() {
            Event::Created(created) => {
                // Rendered before the insert, it must be the row as stored.
                let booked = if event.reservation_id == first.reservation_id {
                    &first
                } else {
                    &second
                };
                assert_eq!(created.reservation.as_ref(), Some(booked));
                "created"
            }
            Event::Confirmed(_) => "confirmed",
            other => panic!("unexpected {other:?}"),
        };
        seen.push((
            event.position,
            event.reservation_id,
            kind,
            event.version,
            event.actor_id,
        ));
    }
    assert_eq!(seen[0].1, first.reservation_id);
    assert_eq!(seen[1].1, second.reservation_id);
    assert_eq!(seen[2].1, second.reservation_id);
    assert_eq!(
        seen.iter().map(|s| (s.2, s.3)).collect::<Vec<_>>(),
        [("created", 1), ("created", 1), ("confirmed", 2)]
    );
    assert_eq!(seen[0].4, env.customer.user_id);
    assert_eq!(seen[2].4, env.staff.user_id);

    // Resuming after the first event gives the rest, in the same order.
    let mut resumed = client
        .watch_reservation_events(watch(staff, seen[0].0))
        .await
        .unwrap()
        .into_inner();
    for expected in &seen[1..] {
        let event = resumed.message().await.unwrap().unwrap().event.unwrap();
        assert_eq!(event.position, expected.0);
    }
}

#[tokio::test]
async fn a_stream_ends_when_the_service_shuts_down() {
    let mut env = Env::start().await;
    let mut client = env.client().await;
    let mut live = client
        .watch_reservation_events(watch(&env.staff.access_token, 0))
        .await
        .unwrap()
        .into_inner();
    // Stopping waits for requests in flight; an open stream must not hold it.
    env.server.stop_ref().await;
    assert!(matches!(live.message().await, Ok(None) | Err(_)));
}
