//! A showtime cancelled in the catalog reaches order-svc through the
//! catalog's ShowtimeCancelled event on NATS JetStream: its unpaid orders
//! are cancelled, its paid ones refunded, once, also when order-svc or NATS
//! was down when it happened.

use kursi_proto::catalog::v1 as catalog;
use kursi_proto::order::v1::order_event::Event;
use kursi_proto::order::v1::*;
use order_svc::cancellations::Cancellations;
use service_kit::outbox::Outbox;
use tonic::Code;

use crate::{Env, by_quantity, by_seats, code, eventually};

/// Waits until the order reaches `status`, and answers it.
async fn becomes(env: &Env, order_id: &str, status: OrderStatus) -> Order {
    eventually(&format!("order {order_id} becomes {status:?}"), || async {
        let order = env.get(&env.staff, order_id).await.unwrap();
        (order.status == status as i32).then_some(order)
    })
    .await
}

const REASON: &str = "the showtime was cancelled: the projector broke";

#[tokio::test]
async fn a_cancelled_showtime_cancels_unpaid_orders_and_refunds_paid_ones_once() {
    let env = Env::with_nats().await;
    let showtime = env.showtime(3, 4).await;
    let pending = env
        .order(&env.customer, by_seats(&showtime, &["A1", "A2"]))
        .await
        .unwrap();
    let paid = env.paid(&showtime, 2, "PAY-1").await;
    let withdrawn = env
        .order(&env.customer, by_quantity(&showtime, 1))
        .await
        .unwrap();
    let withdrawn = env
        .cancel(&env.customer, &withdrawn.order_id)
        .await
        .unwrap();
    let elsewhere = env.showtime(3, 4).await;
    let unrelated = env
        .order(&env.customer, by_quantity(&elsewhere, 1))
        .await
        .unwrap();

    let called_off = env.cancel_showtime(&showtime, "the projector broke").await;
    let refunded = becomes(&env, &paid.order_id, OrderStatus::Refunded).await;
    assert_eq!(refunded.close_reason, REASON);
    assert!(refunded.close_time.is_some());
    assert_eq!(refunded.tickets.len(), 2, "kept, no longer admitting");
    assert_eq!(refunded.payment_reference, "PAY-1");
    let cancelled = becomes(&env, &pending.order_id, OrderStatus::Cancelled).await;
    assert_eq!(cancelled.close_reason, REASON);
    assert_eq!(
        env.get(&env.customer, &withdrawn.order_id).await.unwrap(),
        withdrawn
    );
    assert_eq!(
        env.get(&env.customer, &unrelated.order_id).await.unwrap(),
        unrelated
    );
    let map = env
        .seat_map(&env.customer, &showtime.showtime_id)
        .await
        .unwrap();
    assert_eq!((map.free_count, map.held_count, map.sold_count), (12, 0, 0));
    assert!(
        map.cancelled,
        "the seat map says the showtime was cancelled"
    );

    // Their events, by nobody.
    let events = env.events(0, 8).await;
    let closing: Vec<&OrderEvent> = events[6..].iter().collect();
    let mut seen = Vec::new();
    for event in closing {
        assert_eq!(event.actor_id, "");
        match event.event.as_ref().unwrap() {
            Event::Cancelled(c) => {
                assert_eq!(event.order_id, pending.order_id);
                assert_eq!(
                    (c.seats.clone(), c.reason.as_str()),
                    (pending.seats.clone(), REASON)
                );
                seen.push("cancelled");
            }
            Event::Refunded(r) => {
                assert_eq!(event.order_id, paid.order_id);
                assert_eq!(r.amount, 100_000);
                assert_eq!(r.currency, "IDR");
                assert_eq!(r.payment_reference, "PAY-1");
                assert_eq!(r.reason, REASON);
                seen.push("refunded");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    seen.sort();
    assert_eq!(seen, ["cancelled", "refunded"]);

    // It takes no new orders, no payment, and its tickets do not admit.
    let refused = env.order(&env.customer, by_quantity(&showtime, 1)).await;
    assert_eq!(code(&refused), Code::FailedPrecondition);
    let refused = env.redeem(&env.staff, &paid.tickets[0].code).await;
    assert_eq!(code(&refused), Code::FailedPrecondition);

    // The same event handled again changes nothing.
    let before = env.written().await;
    let again = Cancellations::new(Outbox::new(env.pool()), env.config.common.clock.clone())
        .showtime_cancelled(&called_off)
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert_eq!(env.written().await, before);
    assert_eq!(env.get(&env.staff, &paid.order_id).await.unwrap(), refunded);
    assert_eq!(
        env.get(&env.staff, &pending.order_id).await.unwrap(),
        cancelled
    );
}

#[tokio::test]
async fn handling_one_cancellation_twice_closes_each_order_once() {
    let env = Env::start().await;
    let showtime = env.showtime(3, 4).await;
    let pending = env
        .order(&env.customer, by_quantity(&showtime, 2))
        .await
        .unwrap();
    let paid = env.paid(&showtime, 1, "PAY-1").await;
    let called_off = env.cancel_showtime(&showtime, "flooded").await;
    let handler = Cancellations::new(Outbox::new(env.pool()), env.config.common.clock.clone());
    assert_eq!(handler.showtime_cancelled(&called_off).await.unwrap(), 2);
    let after = env.written().await;
    let orders = [
        env.get(&env.staff, &pending.order_id).await.unwrap(),
        env.get(&env.staff, &paid.order_id).await.unwrap(),
    ];
    assert_eq!(orders[0].status, OrderStatus::Cancelled as i32);
    assert_eq!(orders[1].status, OrderStatus::Refunded as i32);

    assert_eq!(handler.showtime_cancelled(&called_off).await.unwrap(), 0);
    assert_eq!(env.written().await, after, "no new events");
    assert_eq!(
        env.get(&env.staff, &pending.order_id).await.unwrap(),
        orders[0]
    );
    assert_eq!(
        env.get(&env.staff, &paid.order_id).await.unwrap(),
        orders[1]
    );
}

async fn catalog_events(env: &Env) -> u64 {
    env.catalog_db
        .client()
        .await
        .query_one("SELECT count(*) FROM outbox", &[])
        .await
        .unwrap()
        .get::<_, i64>(0) as u64
}

fn cancelled_on_nats(stored: &[testkit::nats::Stored], showtime: &catalog::Showtime) -> bool {
    use prost::Message;
    stored.iter().any(|m| {
        m.subject == "kursi.catalog.v1.showtime_cancelled"
            && catalog::CatalogEvent::decode(m.payload.as_ref())
                .is_ok_and(|e| e.showtime_id == showtime.showtime_id)
    })
}

/// Waits until order-svc's durable consumer has acknowledged the catalog's
/// stream up to `sequence`.
async fn acknowledged_up_to(env: &Env, sequence: u64) {
    let js = env.nats.as_ref().unwrap().jetstream().await;
    eventually("the cancellation is acknowledged", || async {
        let stream = js.get_stream("KURSI_CATALOG").await.ok()?;
        let info = stream
            .consumer_info(order_svc::cancellations::CONSUMER)
            .await
            .ok()?;
        (info.ack_floor.stream_sequence >= sequence && info.num_ack_pending == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_restarted_order_svc_resumes_the_catalogs_events_where_it_stopped() {
    let mut env = Env::with_nats().await;
    let first = env.showtime(3, 4).await;
    let early = env
        .order(&env.customer, by_quantity(&first, 1))
        .await
        .unwrap();
    env.cancel_showtime(&first, "first").await;
    becomes(&env, &early.order_id, OrderStatus::Cancelled).await;
    let stored = env
        .nats
        .as_ref()
        .unwrap()
        .messages("KURSI_CATALOG", catalog_events(&env).await)
        .await;
    acknowledged_up_to(&env, stored.last().unwrap().sequence).await;

    let second = env.showtime(3, 4).await;
    let pending = env
        .order(&env.customer, by_quantity(&second, 1))
        .await
        .unwrap();
    let paid = env.paid(&second, 2, "PAY-1").await;
    env.stop_server().await;
    env.cancel_showtime(&second, "while order-svc was away")
        .await;
    let stored = env
        .nats
        .as_ref()
        .unwrap()
        .messages("KURSI_CATALOG", catalog_events(&env).await)
        .await;
    assert!(cancelled_on_nats(&stored, &second));
    // A PENDING order of the first showtime, planted behind the service's
    // back: were the first cancellation delivered again (a consumer that
    // starts over rather than resumes), it would be cancelled too.
    let planted = uuid::Uuid::new_v4();
    env.exec(&format!(
        "INSERT INTO orders (id, customer_id, showtime_id, movie_id, movie_title,
             showtime_start, auditorium, seats, quantity, unit_price, total_amount,
             status, expire_at)
         SELECT '{planted}', customer_id, showtime_id, movie_id, movie_title,
             showtime_start, auditorium, seats, quantity, unit_price, total_amount,
             'PENDING', now() + interval '1 hour'
         FROM orders WHERE id = '{}'",
        early.order_id
    ))
    .await;

    env.restart_server().await;
    becomes(&env, &pending.order_id, OrderStatus::Cancelled).await;
    becomes(&env, &paid.order_id, OrderStatus::Refunded).await;
    let untouched = env.get(&env.staff, &planted.to_string()).await.unwrap();
    assert_eq!(
        (untouched.status, untouched.version),
        (OrderStatus::Pending as i32, 1),
        "the first cancellation was not delivered again"
    );
}

#[tokio::test]
async fn a_cancellation_made_while_nats_is_down_closes_the_orders_once_it_is_back() {
    let mut env = Env::with_nats().await;
    let showtime = env.showtime(3, 4).await;
    let pending = env
        .order(&env.customer, by_quantity(&showtime, 1))
        .await
        .unwrap();
    let paid = env.paid(&showtime, 1, "PAY-1").await;
    env.nats.as_mut().unwrap().stop().await;
    // The catalog's write does not wait for NATS.
    env.cancel_showtime(&showtime, "storm").await;
    assert_eq!(
        env.get(&env.staff, &pending.order_id).await.unwrap().status,
        OrderStatus::Pending as i32
    );
    env.nats.as_mut().unwrap().resume().await;
    becomes(&env, &pending.order_id, OrderStatus::Cancelled).await;
    let refunded = becomes(&env, &paid.order_id, OrderStatus::Refunded).await;
    assert_eq!(refunded.close_reason, "the showtime was cancelled: storm");
}

/// Two order-svc replicas on one database pull the catalog's events from
/// one durable JetStream consumer: each cancellation is handled by one of
/// them (or, redelivered, by both), and every order is closed once.
#[tokio::test]
async fn two_replicas_following_the_catalog_close_each_order_of_a_cancelled_showtime_once() {
    let env = Env::with_nats().await;
    let run = env.config.clone();
    let _other = testkit::spawn(move |l, s| order_svc::app::run(run, l, s)).await;
    let mut unpaid = Vec::new();
    let mut paid = Vec::new();
    let mut showtimes = Vec::new();
    for round in 0..4 {
        let showtime = env.showtime(3, 4).await;
        unpaid.push(
            env.order(&env.customer, by_seats(&showtime, &["A1", "A2"]))
                .await
                .unwrap()
                .order_id,
        );
        paid.push(
            env.paid(&showtime, 2, &format!("PAY-R{round}"))
                .await
                .order_id,
        );
        showtimes.push(showtime);
    }
    for showtime in &showtimes {
        env.cancel_showtime(showtime, "the projector broke").await;
    }
    for id in &unpaid {
        becomes(&env, id, OrderStatus::Cancelled).await;
    }
    for id in &paid {
        becomes(&env, id, OrderStatus::Refunded).await;
    }
    // One closing event an order, whichever replica handled it.
    for id in unpaid.iter().chain(&paid) {
        let closed = env
            .count(&format!(
                "SELECT count(*) FROM outbox WHERE aggregate_id = '{id}' \
                 AND event_type IN ('cancelled', 'refunded')"
            ))
            .await;
        assert_eq!(closed, 1, "order {id} closed {closed} times");
    }
}
