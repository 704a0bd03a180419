//! What the database guarantees, under load from many clients released at
//! once: no seat held or sold twice, no showtime beyond its capacity, one
//! winner of a race for a seat, a payment or a ticket, and no refusal but
//! FAILED_PRECONDITION.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use kursi_proto::order::v1::*;
use testkit::bearer;
use tokio::sync::Barrier;
use tonic::{Code, Status};

use crate::{Client, Env, Options, by_quantity, by_seats, seats_in};

/// An Env whose catalog wait is long enough for a burst of clients on a
/// small, busy machine: the tests are about the database, not the timeout.
async fn patient_env() -> Env {
    Env::start_with(Options { nats: false }, |config| {
        config.catalog_timeout = Duration::from_secs(20);
    })
    .await
}

/// Runs `call` once per client, all released together; the answers in
/// client order.
async fn race<T, F, Fut>(env: &Env, n: usize, call: F) -> Vec<Result<T, Status>>
where
    T: Send + 'static,
    F: Fn(usize, Client) -> Fut,
    Fut: std::future::Future<Output = Result<T, Status>> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        // A channel of its own: one connection per client.
        let client = env.client().await;
        let barrier = barrier.clone();
        let call = call(i, client);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            call.await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_clients_on_ten_seats_never_get_more_than_ten_or_one_twice() {
    let env = patient_env().await;
    let showtime = env.showtime(2, 5).await;
    let token = env.customer.access_token.clone();
    let answers = race(&env, 100, |i, mut client| {
        let request = by_quantity(&showtime, 1 + (i % 3) as i32);
        let token = token.clone();
        async move {
            client
                .create_order(bearer(&token, request))
                .await
                .map(|r| r.into_inner().order.unwrap())
        }
    })
    .await;

    let mut won = Vec::new();
    for answer in answers {
        match answer {
            Ok(order) => won.push(order),
            Err(status) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
        }
    }
    let labels: Vec<String> = won.iter().flat_map(|o| o.seats.clone()).collect();
    let distinct: HashSet<&String> = labels.iter().collect();
    assert!(labels.len() <= 10, "{labels:?}");
    assert_eq!(distinct.len(), labels.len(), "no seat twice: {labels:?}");
    assert!(!won.is_empty());

    let live = env
        .count("SELECT count(*) FROM order_seats WHERE state IN ('HELD', 'SOLD')")
        .await;
    let live_labels = env
        .count("SELECT count(DISTINCT label) FROM order_seats WHERE state IN ('HELD', 'SOLD')")
        .await;
    assert_eq!(
        (live, live_labels),
        (labels.len() as i64, labels.len() as i64)
    );
    assert_eq!(
        env.count("SELECT count(*) FROM orders").await,
        won.len() as i64
    );

    let map = env
        .seat_map(&env.customer, &showtime.showtime_id)
        .await
        .unwrap();
    let mut held = seats_in(&map, SeatState::Held);
    let mut ordered = labels.clone();
    held.sort();
    ordered.sort();
    assert_eq!(held, ordered, "the seat map agrees with the orders");
    assert_eq!(map.held_count as usize + map.free_count as usize, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_clients_choosing_the_same_seat_make_exactly_one_order() {
    let env = patient_env().await;
    let showtime = env.showtime(5, 8).await;
    let token = env.customer.access_token.clone();
    let answers = race(&env, 30, |_, mut client| {
        let request = by_seats(&showtime, &["C5"]);
        let token = token.clone();
        async move { client.create_order(bearer(&token, request)).await }
    })
    .await;
    let mut won = 0;
    for answer in answers {
        match answer {
            Ok(_) => won += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                assert!(status.message().contains("C5"), "{status:?}");
            }
        }
    }
    assert_eq!(won, 1);
    assert_eq!(env.count("SELECT count(*) FROM orders").await, 1);
    assert_eq!(env.count("SELECT count(*) FROM order_seats").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paying_and_cancelling_one_order_at_once_has_exactly_one_winner() {
    let env = patient_env().await;
    let showtime = env.showtime(5, 8).await;
    for round in 0..10 {
        let order = env
            .order(&env.customer, by_quantity(&showtime, 1))
            .await
            .unwrap();
        let (mut pay_client, mut cancel_client) = (env.client().await, env.client().await);
        let token = &env.customer.access_token;
        let pay = pay_client.pay_order(bearer(
            token,
            PayOrderRequest {
                order_id: order.order_id.clone(),
                payment_reference: format!("PAY-{round}"),
            },
        ));
        let cancel = cancel_client.cancel_order(bearer(
            token,
            CancelOrderRequest {
                order_id: order.order_id.clone(),
                reason: String::new(),
            },
        ));
        let (paid, cancelled) = tokio::join!(pay, cancel);
        let stored = env.get(&env.customer, &order.order_id).await.unwrap();
        let map = env
            .seat_map(&env.customer, &showtime.showtime_id)
            .await
            .unwrap();
        let seat_state = map
            .seats
            .iter()
            .find(|s| s.label == order.seats[0])
            .unwrap()
            .state;
        match (paid, cancelled) {
            (Ok(paid), Err(refused)) => {
                assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
                assert_eq!(stored, paid.into_inner().order.unwrap());
                assert_eq!(stored.tickets.len(), 1);
                assert_eq!(seat_state, SeatState::Sold as i32);
            }
            (Err(refused), Ok(cancelled)) => {
                assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
                assert_eq!(stored, cancelled.into_inner().order.unwrap());
                assert!(stored.tickets.is_empty());
                assert_eq!(seat_state, SeatState::Free as i32);
            }
            other => panic!("not exactly one winner: {other:?}"),
        }
        assert_eq!(stored.version, 2);
    }
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_redeems_of_one_code_at_once_admit_it_exactly_once() {
    let env = patient_env().await;
    let showtime = env.showtime(5, 8).await;
    let paid = env.paid(&showtime, 1, "PAY-1").await;
    env.to_the_showing(&showtime);
    let ticket = paid.tickets[0].code.clone();
    let token = env.staff.access_token.clone();
    let answers = race(&env, 20, |_, mut client| {
        let token = token.clone();
        let code = ticket.clone();
        async move {
            client
                .redeem_ticket(bearer(&token, RedeemTicketRequest { code }))
                .await
                .map(tonic::Response::into_inner)
        }
    })
    .await;
    let admitted: Vec<&RedeemTicketResponse> =
        answers.iter().filter_map(|a| a.as_ref().ok()).collect();
    assert_eq!(admitted.len(), 1);
    let at = crate::instant(&admitted[0].ticket.as_ref().unwrap().redeem_time);
    for refused in answers.iter().filter_map(|a| a.as_ref().err()) {
        assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
        assert!(refused.message().contains(&at.to_rfc3339()), "{refused:?}");
    }
    assert_eq!(
        env.count("SELECT count(*) FROM outbox WHERE event_type = 'ticket_redeemed'")
            .await,
        1
    );
}

/// The guarantee is the schema's, not only the service's care: rows written
/// behind the service's back meet the same refusals.
#[tokio::test]
async fn the_database_itself_refuses_a_seat_held_twice_or_outside_the_layout() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let first = env
        .order(&env.customer, by_seats(&showtime, &["C5"]))
        .await
        .unwrap();
    let db = env.db.client().await;
    let second = uuid::Uuid::new_v4();
    db.batch_execute(&format!(
        "INSERT INTO orders (id, customer_id, showtime_id, movie_id, movie_title,
             showtime_start, auditorium, seats, quantity, unit_price, total_amount,
             status, expire_at)
         SELECT '{second}', customer_id, showtime_id, movie_id, movie_title,
             showtime_start, auditorium, seats, quantity, unit_price, total_amount,
             status, expire_at
         FROM orders WHERE id = '{}'",
        first.order_id
    ))
    .await
    .unwrap();
    let seat = |row: i32, number: i32, label: &str, state: &str, rows: i32| {
        format!(
            "INSERT INTO order_seats (order_id, showtime_id, seat_row, seat_number, label,
                 state, seat_rows, seats_per_row)
             VALUES ('{second}', '{}', {row}, {number}, '{label}', '{state}', {rows}, 8)",
            showtime.showtime_id
        )
    };
    let refusal = |sql: String| {
        let db = &db;
        async move {
            let err = db.batch_execute(&sql).await.expect_err(&sql);
            let db_err = err.as_db_error().expect("refused by PostgreSQL");
            (
                db_err.code().code().to_owned(),
                db_err.constraint().unwrap_or_default().to_owned(),
            )
        }
    };
    // C5 is held: held or sold again, refused; released rows stay as record.
    for state in ["HELD", "SOLD"] {
        assert_eq!(
            refusal(seat(3, 5, "C5", state, 5)).await,
            ("23505".into(), "order_seats_live".into())
        );
    }
    db.batch_execute(&seat(3, 5, "C5", "RELEASED", 5))
        .await
        .unwrap();
    // Outside the layout: row F of five, seat 9 of eight.
    for (row, number, label) in [(6, 1, "F1"), (1, 9, "A9")] {
        assert_eq!(
            refusal(seat(row, number, label, "HELD", 5)).await,
            ("23514".into(), "order_seats_within_layout".into())
        );
    }
    // Another layout than the showtime's, or a label naming another seat.
    assert_eq!(
        refusal(seat(6, 1, "F1", "HELD", 10)).await,
        (
            "23503".into(),
            "order_seats_showtime_id_seat_rows_seats_per_row_fkey".into()
        )
    );
    assert_eq!(
        refusal(seat(1, 1, "B1", "HELD", 5)).await,
        ("23514".into(), "order_seats_label_names_the_seat".into())
    );
    assert_eq!(
        env.count("SELECT count(*) FROM order_seats WHERE state IN ('HELD', 'SOLD')")
            .await,
        1
    );
}
