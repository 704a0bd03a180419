//! Events for other backends on NATS JetStream: a real nats-server, the
//! relay inside reservation-svc, and what a follower of the stream sees.

use std::time::Duration;

use kursi_proto::reservation::v1::reservation_event::Event;
use kursi_proto::reservation::v1::*;
use prost::Message;
use service_kit::outbox::relay::{HEALTH_SERVICE, RelayConfig};
use testkit::{TestNats, bearer, channel};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::{Env, booking, local};

async fn env_relaying_to(nats: &TestNats) -> Env {
    let url = nats.url();
    Env::start_with(move |config| {
        config.event_poll_interval = Duration::from_millis(50);
        config.relay = Some(RelayConfig {
            lease: Duration::from_secs(3),
            ..RelayConfig::new(url)
        });
    })
    .await
}

/// The relay's health, as a probe asks for it.
async fn relay_health(env: &Env) -> i32 {
    HealthClient::new(channel(env.server.addr).await)
        .check(HealthCheckRequest {
            service: HEALTH_SERVICE.into(),
        })
        .await
        .map(|r| r.into_inner().status)
        .unwrap_or_default()
}

async fn wait_for_health(env: &Env, wanted: ServingStatus) {
    for _ in 0..600 {
        if relay_health(env).await == wanted as i32 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the relay's health never became {wanted:?}");
}

#[tokio::test]
async fn a_reservations_life_cycle_reaches_nats_once_each_in_order_as_its_envelope() {
    let nats = TestNats::start().await;
    let env = env_relaying_to(&nats).await;
    let table = env.table("T1", 4, "Indoor").await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let id = env
        .book(&env.customer, booking(local(2, 12, 0), 3))
        .await
        .reservation_id;
    client
        .confirm_reservation(bearer(
            staff,
            ConfirmReservationRequest {
                reservation_id: id.clone(),
                note: String::new(),
            },
        ))
        .await
        .unwrap();
    client
        .assign_table(bearer(
            staff,
            AssignTableRequest {
                reservation_id: id.clone(),
                table_id: table.table_id,
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    client
        .check_in_reservation(bearer(
            staff,
            CheckInReservationRequest {
                reservation_id: id.clone(),
                note: String::new(),
            },
        ))
        .await
        .unwrap();
    client
        .complete_reservation(bearer(
            staff,
            CompleteReservationRequest {
                reservation_id: id.clone(),
                note: String::new(),
            },
        ))
        .await
        .unwrap();

    let stored = nats.messages("KURSI_RESERVATION", 5).await;
    let subjects: Vec<&str> = stored.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "kursi.reservation.v1.created",
            "kursi.reservation.v1.confirmed",
            "kursi.reservation.v1.table_assigned",
            "kursi.reservation.v1.checked_in",
            "kursi.reservation.v1.completed",
        ]
    );
    for (n, message) in stored.iter().enumerate() {
        let event = ReservationEvent::decode(message.payload.as_ref()).expect("the envelope");
        assert_eq!(event.position, n as i64 + 1);
        assert_eq!(event.reservation_id, id);
        assert_eq!(event.version, n as i64 + 1);
        assert_eq!(
            message.message_id.as_deref(),
            Some(format!("reservation-{}", n + 1).as_str())
        );
        assert_eq!(
            message.event_type.as_deref(),
            Some("kursi.reservation.v1.ReservationEvent")
        );
        if n == 0 {
            assert!(matches!(event.event, Some(Event::Created(_))));
        }
    }
    assert_eq!(relay_health(&env).await, ServingStatus::Serving as i32);
}

#[tokio::test]
async fn reservations_made_while_nats_is_down_all_succeed_and_their_events_arrive_when_it_is_back()
{
    let mut nats = TestNats::start().await;
    let env = env_relaying_to(&nats).await;
    wait_for_health(&env, ServingStatus::Serving).await;
    nats.stop().await;

    let mut ids = Vec::new();
    for n in 0..20 {
        let start = local(3, 10 + (n % 12) as u32, 0);
        ids.push(
            env.book(&env.customer, booking(start, 2))
                .await
                .reservation_id,
        );
    }
    wait_for_health(&env, ServingStatus::NotServing).await;
    assert_eq!(
        env.count("SELECT count(*) FROM outbox WHERE position IS NOT NULL")
            .await,
        20,
        "every event waits in the outbox"
    );

    nats.resume().await;
    let stored = nats.messages("KURSI_RESERVATION", 20).await;
    let relayed: Vec<String> = stored
        .iter()
        .map(|m| {
            let event = ReservationEvent::decode(m.payload.as_ref()).unwrap();
            assert!(matches!(event.event, Some(Event::Created(_))));
            event.reservation_id
        })
        .collect();
    assert_eq!(
        relayed, ids,
        "all twenty, once each, in the order they were made"
    );
    wait_for_health(&env, ServingStatus::Serving).await;
}
