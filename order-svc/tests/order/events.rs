//! Order events: WatchOrderEvents from a position, live, resumable; and the
//! same events on NATS JetStream.

use kursi_proto::order::v1::order_event::Event;
use kursi_proto::order::v1::*;
use order_svc::cancellations::Cancellations;
use order_svc::sweeper::Sweeper;
use prost::Message;
use service_kit::outbox::Outbox;
use testkit::bearer;
use tonic::Code;

use crate::{Env, by_quantity, code, kind};

/// Every kind of event, in this order: created, paid, ticket_redeemed
/// (order A); created, cancelled (B); created, expired (C); refunded (A).
/// `cancel` closes the showtime as the catalog's event would.
async fn a_bit_of_everything(env: &Env, by_event: bool) -> [Order; 3] {
    let showtime = env.showtime(3, 4).await;
    let a = env.paid(&showtime, 2, "PAY-A").await;
    env.to_the_showing(&showtime);
    env.redeem(&env.staff, &a.tickets[0].code).await.unwrap();
    let b = env
        .order(&env.customer, by_quantity(&showtime, 1))
        .await
        .unwrap();
    env.cancel(&env.customer, &b.order_id).await.unwrap();
    let c = env
        .order(&env.customer, by_quantity(&showtime, 1))
        .await
        .unwrap();
    env.exec(&format!(
        "UPDATE orders SET expire_at = now() - interval '1 second' WHERE id = '{}'",
        c.order_id
    ))
    .await;
    assert_eq!(
        Sweeper::new(Outbox::new(env.pool()), env.config.common.clock.clone())
            .sweep()
            .await
            .unwrap(),
        1
    );
    let called_off = env.cancel_showtime(&showtime, "no film").await;
    if !by_event {
        Cancellations::new(Outbox::new(env.pool()), env.config.common.clock.clone())
            .showtime_cancelled(&called_off)
            .await
            .unwrap();
    }
    [a, b, c]
}

const KINDS: [&str; 8] = [
    "created",
    "paid",
    "ticket_redeemed",
    "created",
    "cancelled",
    "created",
    "expired",
    "refunded",
];

#[tokio::test]
async fn followers_get_every_kind_of_event_in_order_and_resume_from_a_position() {
    let env = Env::start().await;
    let [a, b, c] = a_bit_of_everything(&env, false).await;
    let events = env.events(0, 8).await;
    let kinds: Vec<&str> = events.iter().map(kind).collect();
    assert_eq!(kinds, KINDS);
    let positions: Vec<i64> = events.iter().map(|e| e.position).collect();
    assert_eq!(positions, [1, 2, 3, 4, 5, 6, 7, 8]);
    let whose: Vec<(&str, i64, i32)> = events
        .iter()
        .map(|e| (e.order_id.as_str(), e.version, e.status))
        .collect();
    use OrderStatus::*;
    let (a_id, b_id, c_id) = (
        a.order_id.as_str(),
        b.order_id.as_str(),
        c.order_id.as_str(),
    );
    assert_eq!(
        whose,
        [
            (a_id, 1, Pending as i32),
            (a_id, 2, Paid as i32),
            // Its ticket's redeem_time is a change of the order.
            (a_id, 3, Paid as i32),
            (b_id, 1, Pending as i32),
            (b_id, 2, Cancelled as i32),
            (c_id, 1, Pending as i32),
            (c_id, 2, Expired as i32),
            (a_id, 4, Refunded as i32),
        ]
    );
    let actors: Vec<&str> = events.iter().map(|e| e.actor_id.as_str()).collect();
    let (me, usher) = (env.customer.user_id.as_str(), env.staff.user_id.as_str());
    assert_eq!(actors, [me, me, usher, me, me, me, "", ""]);
    for event in &events {
        assert_eq!(event.customer_id, env.customer.user_id);
        assert_eq!(event.showtime_id, a.showtime_id);
        assert!(event.event_time.is_some());
    }
    // The paid event carries the order as paid, its tickets' seats but not
    // their codes: every follower reads events, and a code admits.
    let Some(Event::Paid(paid)) = &events[1].event else {
        unreachable!()
    };
    let mut without_codes = a.clone();
    assert!(without_codes.tickets.iter().all(|t| !t.code.is_empty()));
    for ticket in &mut without_codes.tickets {
        ticket.code.clear();
    }
    assert_eq!(paid.order.as_ref(), Some(&without_codes));
    let Some(Event::Created(created)) = &events[3].event else {
        unreachable!()
    };
    assert_eq!(created.order.as_ref(), Some(&b));

    // From position 3: the rest, the same.
    assert_eq!(env.events(3, 5).await, events[3..]);

    // Open at the end: a new event arrives as it commits.
    let mut client = env.client().await;
    let mut live = client
        .watch_order_events(bearer(
            &env.admin.access_token,
            WatchOrderEventsRequest { start_position: 8 },
        ))
        .await
        .unwrap()
        .into_inner();
    let showtime = env.showtime(2, 2).await;
    let d = env
        .order(&env.customer, by_quantity(&showtime, 1))
        .await
        .unwrap();
    let next = live.message().await.unwrap().unwrap().event.unwrap();
    assert_eq!(
        (next.position, next.order_id.as_str()),
        (9, d.order_id.as_str())
    );
}

#[tokio::test]
async fn only_staff_and_admin_follow_order_events() {
    let env = Env::start().await;
    let refused = env
        .client()
        .await
        .watch_order_events(bearer(
            &env.customer.access_token,
            WatchOrderEventsRequest::default(),
        ))
        .await;
    assert_eq!(code(&refused), Code::PermissionDenied);
}

#[tokio::test]
async fn the_same_events_reach_nats_on_kursi_order_subjects_in_position_order() {
    let env = Env::with_nats().await;
    let [a, ..] = a_bit_of_everything(&env, true).await;
    // The refund comes through the catalog's event.
    crate::eventually("the paid order is refunded", || async {
        let order = env.get(&env.staff, &a.order_id).await.unwrap();
        (order.status == OrderStatus::Refunded as i32).then_some(())
    })
    .await;
    let watched = env.events(0, 8).await;
    let stored = env.nats.as_ref().unwrap().messages("KURSI_ORDER", 8).await;
    let subjects: Vec<String> = stored.iter().map(|m| m.subject.clone()).collect();
    let expected: Vec<String> = KINDS
        .iter()
        .map(|k| format!("kursi.order.v1.{k}"))
        .collect();
    assert_eq!(subjects, expected);
    for (n, message) in stored.iter().enumerate() {
        let position = n as i64 + 1;
        assert_eq!(
            message.message_id.as_deref(),
            Some(format!("order-{position}").as_str())
        );
        assert_eq!(
            message.event_type.as_deref(),
            Some("kursi.order.v1.OrderEvent")
        );
        let event = OrderEvent::decode(message.payload.as_ref()).expect("the envelope");
        assert_eq!(event, watched[n], "the event as WatchOrderEvents sends it");
        assert_eq!(event.position, position);
    }
}
