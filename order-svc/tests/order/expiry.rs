//! Expiry: the sweeper releases unpaid holds past their `expire_time`, once
//! each however many replicas sweep, and a new order for a showtime frees
//! that showtime's overdue holds first.

use kursi_proto::order::v1::order_event::Event;
use kursi_proto::order::v1::*;
use order_svc::sweeper::Sweeper;
use service_kit::outbox::Outbox;

use crate::{Env, by_quantity, by_seats, seats_in};

fn sweeper(env: &Env) -> Sweeper {
    Sweeper::new(Outbox::new(env.pool()), env.config.common.clock.clone())
}

#[tokio::test]
async fn the_sweeper_expires_overdue_holds_and_leaves_paid_and_current_ones() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let overdue = [
        env.order(&env.customer, by_seats(&showtime, &["A1", "A2"]))
            .await
            .unwrap(),
        env.order(&env.customer, by_seats(&showtime, &["B1"]))
            .await
            .unwrap(),
    ];
    let paid = env.paid(&showtime, 2, "PAY-1").await;
    let current = env
        .order(&env.customer, by_seats(&showtime, &["E8"]))
        .await
        .unwrap();
    env.exec(&format!(
        "UPDATE orders SET expire_at = now() - interval '1 second' WHERE id <> '{}'",
        current.order_id
    ))
    .await;

    assert_eq!(sweeper(&env).sweep().await.unwrap(), 2);
    for order in &overdue {
        let expired = env.get(&env.customer, &order.order_id).await.unwrap();
        assert_eq!(expired.status, OrderStatus::Expired as i32);
        assert_eq!(expired.version, 2);
        assert!(expired.close_time.is_some());
        assert_eq!(expired.seats, order.seats, "kept for the record");
    }
    let still_paid = env.get(&env.customer, &paid.order_id).await.unwrap();
    assert_eq!(
        (still_paid.status, still_paid.version, still_paid.tickets),
        (OrderStatus::Paid as i32, 2, paid.tickets.clone()),
        "a paid order is not a hold"
    );
    assert_eq!(
        env.get(&env.customer, &current.order_id).await.unwrap(),
        current
    );
    let map = env
        .seat_map(&env.customer, &showtime.showtime_id)
        .await
        .unwrap();
    assert_eq!(seats_in(&map, SeatState::Held), ["E8"]);
    assert_eq!(seats_in(&map, SeatState::Sold), paid.seats);

    // One OrderExpired each, with the seats released, by nobody.
    let events = env.events(0, 7).await;
    let expired: Vec<(String, Vec<String>, String)> = events
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::Expired(x)) => {
                Some((e.order_id.clone(), x.seats.clone(), e.actor_id.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        expired,
        [
            (
                overdue[0].order_id.clone(),
                overdue[0].seats.clone(),
                String::new()
            ),
            (
                overdue[1].order_id.clone(),
                overdue[1].seats.clone(),
                String::new()
            ),
        ]
    );
    // Nothing left to do.
    assert_eq!(sweeper(&env).sweep().await.unwrap(), 0);
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sweepers_at_once_expire_each_order_exactly_once() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    for _ in 0..30 {
        env.order(&env.customer, by_quantity(&showtime, 1))
            .await
            .unwrap();
    }
    env.exec("UPDATE orders SET expire_at = now() - interval '1 second'")
        .await;

    let (one, two) = (sweeper(&env), sweeper(&env));
    let (a, b) = tokio::join!(one.sweep(), two.sweep());
    assert_eq!(a.unwrap() + b.unwrap(), 30);
    assert_eq!(
        env.count("SELECT count(*) FROM orders WHERE status = 'EXPIRED'")
            .await,
        30
    );
    assert_eq!(
        env.count(
            "SELECT count(*) FROM (SELECT aggregate_id FROM outbox WHERE event_type = 'expired'
             GROUP BY aggregate_id HAVING count(*) = 1) once"
        )
        .await,
        30,
        "each order expired by one sweeper only"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM outbox WHERE event_type = 'expired'")
            .await,
        30
    );
    assert_eq!(
        env.count("SELECT count(*) FROM order_seats WHERE state <> 'RELEASED'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_new_order_frees_the_showtimes_overdue_holds_before_the_sweeper_runs() {
    let env = Env::start().await;
    let showtime = env.showtime(1, 4).await;
    let late = env
        .order(&env.customer, by_quantity(&showtime, 4))
        .await
        .unwrap();
    env.exec("UPDATE orders SET expire_at = now() - interval '1 second'")
        .await;

    let other = env.another_customer().await;
    let order = env.order(&other, by_quantity(&showtime, 4)).await.unwrap();
    assert_eq!(order.seats, late.seats, "the whole row, free at once");
    let expired = env.get(&env.customer, &late.order_id).await.unwrap();
    assert_eq!(expired.status, OrderStatus::Expired as i32);
    assert_eq!(
        env.count("SELECT count(*) FROM outbox WHERE event_type = 'expired'")
            .await,
        1
    );
    // The sweeper finds nothing left.
    assert_eq!(sweeper(&env).sweep().await.unwrap(), 0);
}
