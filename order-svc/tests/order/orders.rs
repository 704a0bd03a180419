//! CreateOrder: which seats an order gets, what it copies from the catalog,
//! when it is refused, idempotency keys and ordering for someone else.

use std::time::Duration;

use kursi_proto::order::v1::*;
use order_svc::sweeper::Sweeper;
use service_kit::outbox::Outbox;
use testkit::bearer;
use tonic::Code;
use tonic_types::StatusExt;

use crate::{Env, Options, by_quantity, by_seats, code, instant, violated_fields};

#[tokio::test]
async fn seats_for_a_quantity_sit_together_in_the_best_row_nearest_its_middle() {
    let env = Env::start().await;
    // Five rows: two thirds back is D; then E (behind) before C; eight seats.
    let showtime = env.showtime(5, 8).await;
    let mut seats = Vec::new();
    for quantity in [3, 3, 2, 4, 8] {
        let order = env
            .order(&env.customer, by_quantity(&showtime, quantity))
            .await
            .unwrap();
        assert_eq!(order.quantity, quantity);
        seats.push(order.seats);
    }
    assert_eq!(
        seats,
        [
            vec!["D3", "D4", "D5"],
            // The block left in D nearest the middle.
            vec!["D6", "D7", "D8"],
            vec!["D1", "D2"],
            // D is full: E, behind it, before C.
            vec!["E3", "E4", "E5", "E6"],
            // No row but C has eight side by side.
            vec!["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"],
        ]
    );
}

#[tokio::test]
async fn without_a_block_side_by_side_the_best_seats_are_picked_one_by_one() {
    let env = Env::start().await;
    let showtime = env.showtime(1, 5).await;
    env.order(&env.customer, by_seats(&showtime, &["A2", "A4"]))
        .await
        .unwrap();
    // No two free side by side: the middle (A3), then A1 before A5.
    let order = env
        .order(&env.customer, by_quantity(&showtime, 2))
        .await
        .unwrap();
    assert_eq!(order.seats, ["A1", "A3"]);
}

#[tokio::test]
async fn chosen_seats_are_labels_of_the_layout_in_any_case_answered_in_seat_order() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let order = env
        .order(&env.customer, by_seats(&showtime, &["c6", "B2", " C5 "]))
        .await
        .unwrap();
    assert_eq!(order.seats, ["B2", "C5", "C6"]);
    assert_eq!(order.quantity, 3);

    // A quantity and seats that agree.
    let mut both = by_seats(&showtime, &["E8", "A1"]);
    both.quantity = 2;
    let order = env.order(&env.customer, both).await.unwrap();
    assert_eq!(order.seats, ["A1", "E8"]);
    assert_eq!(
        env.count("SELECT count(*) FROM order_seats WHERE state = 'HELD'")
            .await,
        5
    );
}

#[tokio::test]
async fn an_order_copies_price_and_movie_and_holds_its_seats_for_the_hold_period() {
    let env = Env::start_with(Options { nats: false }, |config| {
        config.hold = Duration::from_secs(120);
    })
    .await;
    let showtime = env.showtime(5, 8).await;
    let order = env
        .order(&env.customer, by_quantity(&showtime, 3))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Pending as i32);
    assert_eq!(order.customer_id, env.customer.user_id);
    assert_eq!(order.showtime_id, showtime.showtime_id);
    assert_eq!(order.movie_id, showtime.movie_id);
    assert_eq!(order.movie_title, "Pengabdi Setan 2");
    assert_eq!(order.auditorium, showtime.auditorium);
    assert_eq!(order.showtime_start_time, showtime.start_time);
    assert_eq!(
        (
            order.unit_price,
            order.total_amount,
            order.currency.as_str()
        ),
        (50_000, 150_000, "IDR")
    );
    assert_eq!(
        instant(&order.expire_time) - instant(&order.create_time),
        chrono::Duration::seconds(120)
    );
    assert_eq!(order.create_time, order.update_time);
    assert_eq!(order.version, 1);
    assert_eq!(order.payment_reference, "");
    assert_eq!((order.pay_time, order.close_time), (None, None));
    assert!(order.tickets.is_empty());
    assert_eq!(
        env.get(&env.customer, &order.order_id).await.unwrap(),
        order
    );

    // The catalog changes its title and price: the order keeps what it
    // copied, and the next order copies the new ones.
    env.catalog_exec(&format!(
        "UPDATE movies SET title = 'Pengabdi Setan 3' WHERE id = '{}';
         UPDATE showtimes SET price = 65000 WHERE id = '{}'",
        showtime.movie_id, showtime.showtime_id
    ))
    .await;
    let kept = env.get(&env.customer, &order.order_id).await.unwrap();
    assert_eq!(
        (kept.movie_title.as_str(), kept.unit_price),
        ("Pengabdi Setan 2", 50_000)
    );
    let next = env
        .order(&env.customer, by_quantity(&showtime, 2))
        .await
        .unwrap();
    assert_eq!(
        (
            next.movie_title.as_str(),
            next.unit_price,
            next.total_amount
        ),
        ("Pengabdi Setan 3", 65_000, 130_000)
    );
}

#[tokio::test]
async fn too_few_free_seats_says_how_many_are_left_and_then_sold_out() {
    let env = Env::start().await;
    let showtime = env.showtime(1, 5).await;
    env.paid(&showtime, 3, "PAY-1").await;
    let before = env.written().await;

    let refused = env
        .order(&env.customer, by_quantity(&showtime, 3))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(refused.message(), "only 2 seats are left; 3 were asked for");
    assert_eq!(env.written().await, before, "nothing is written");

    env.paid(&showtime, 2, "PAY-2").await;
    let refused = env
        .order(&env.customer, by_quantity(&showtime, 1))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(refused.message(), "the showtime is sold out");
}

/// The time an order's hold lapses on the cinema's clock (Asia/Jakarta by
/// default), to the minute, rounded up.
fn released_at(order: &Order) -> String {
    let lapses = instant(&order.expire_time).with_timezone(&chrono_tz::Asia::Jakarta)
        + chrono::Duration::microseconds(59_999_999);
    format!("{} (Asia/Jakarta)", lapses.format("%H:%M"))
}

/// Seats held by unpaid orders are not sold: a refusal for too few free
/// seats says how many are held and when the first hold lapses, and only
/// "sold out" once every seat is paid for.
#[tokio::test]
async fn too_few_free_seats_while_unpaid_orders_hold_some_says_how_many_and_when_the_first_lapses()
{
    let env = Env::start().await;
    let showtime = env.showtime(1, 5).await;
    env.paid(&showtime, 1, "PAY-1").await;
    let first = env
        .order(&env.customer, by_quantity(&showtime, 2))
        .await
        .unwrap();
    let other = env.another_customer().await;
    let before = env.written().await;

    let refused = env
        .order(&other, by_quantity(&showtime, 3))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        refused.message(),
        format!(
            "only 2 seats are left; 3 were asked for; 2 are held by unpaid orders, \
             the first is released at {}",
            released_at(&first)
        )
    );
    assert_eq!(env.written().await, before, "nothing is written");

    let second = env.order(&other, by_quantity(&showtime, 2)).await.unwrap();
    let refused = env
        .order(&other, by_quantity(&showtime, 1))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        refused.message(),
        format!(
            "no free seat; 4 are held by unpaid orders, the first is released at {}",
            released_at(&first)
        )
    );

    env.pay(&env.customer, &first.order_id, "PAY-2")
        .await
        .unwrap();
    let refused = env
        .order(&other, by_quantity(&showtime, 1))
        .await
        .unwrap_err();
    assert_eq!(
        refused.message(),
        format!(
            "no free seat; 2 are held by unpaid orders, the first is released at {}",
            released_at(&second)
        )
    );
    env.pay(&other, &second.order_id, "PAY-3").await.unwrap();
    let refused = env
        .order(&other, by_quantity(&showtime, 1))
        .await
        .unwrap_err();
    assert_eq!(refused.message(), "the showtime is sold out");
}

#[tokio::test]
async fn a_chosen_seat_held_or_sold_is_refused_naming_it() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    env.order(&env.customer, by_seats(&showtime, &["C5"]))
        .await
        .unwrap();
    let sold = env
        .order(&env.customer, by_seats(&showtime, &["C6"]))
        .await
        .unwrap();
    env.pay(&env.customer, &sold.order_id, "PAY-C6")
        .await
        .unwrap();
    let before = env.written().await;

    let other = env.another_customer().await;
    let refused = env
        .order(&other, by_seats(&showtime, &["C4", "C5", "C6"]))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let message = refused.message();
    assert!(
        message.contains("C5") && message.contains("C6") && !message.contains("C4"),
        "{message}"
    );
    assert_eq!(env.written().await, before, "nothing is written");
}

#[tokio::test]
async fn a_seat_outside_the_layout_is_invalid_naming_every_such_seat() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    for (seats, named) in [
        (vec!["Z1"], vec!["Z1"]),
        (vec!["A9"], vec!["A9"]),
        (vec!["A1", "Z1", "E8", "A9"], vec!["Z1", "A9"]),
    ] {
        let refused = env
            .order(&env.customer, by_seats(&showtime, &seats))
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&refused), ["seats"], "{seats:?}");
        for label in named {
            assert!(refused.message().contains(label), "{refused:?}");
        }
        assert!(!refused.message().contains("E8"), "{refused:?}");
    }
    assert_eq!(env.written().await, [0, 0, 0, 0]);
}

#[tokio::test]
async fn an_order_holds_at_most_ten_tickets() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 12).await;
    let refused = env
        .order(&env.customer, by_quantity(&showtime, 11))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&refused), ["quantity"]);
    let eleven: Vec<String> = (1..=11).map(|n| format!("A{n}")).collect();
    let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
    let refused = env
        .order(&env.customer, by_seats(&showtime, &eleven))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&refused), ["seats"]);
    assert!(refused.message().contains("at most 10"), "{refused:?}");
    assert_eq!(env.written().await, [0, 0, 0, 0]);

    let ten = env
        .order(&env.customer, by_quantity(&showtime, 10))
        .await
        .unwrap();
    assert_eq!(ten.seats.len(), 10);
    let ten = env
        .order(&env.customer, by_seats(&showtime, &eleven[..10]))
        .await
        .unwrap();
    assert_eq!(ten.quantity, 10);
}

#[tokio::test]
async fn a_cancelled_or_started_showtime_takes_no_orders() {
    let env = Env::start().await;
    let cancelled = env.showtime(2, 5).await;
    env.cancel_showtime(&cancelled, "the projector broke").await;
    let refused = env
        .order(&env.customer, by_quantity(&cancelled, 1))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("cancelled"), "{refused:?}");

    let started = env.showtime(2, 5).await;
    env.order(&env.customer, by_quantity(&started, 1))
        .await
        .unwrap();
    let before = env.written().await;
    env.catalog_exec(&format!(
        "UPDATE showtimes SET start_time = now() - interval '1 minute' WHERE id = '{}'",
        started.showtime_id
    ))
    .await;
    let refused = env
        .order(&env.customer, by_seats(&started, &["A1"]))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("started"), "{refused:?}");
    assert_eq!(env.written().await, before, "nothing is written");
}

#[tokio::test]
async fn an_unknown_showtime_is_not_found() {
    let env = Env::start().await;
    let missing = CreateOrderRequest {
        showtime_id: uuid::Uuid::new_v4().to_string(),
        quantity: 1,
        ..Default::default()
    };
    let refused = env.order(&env.customer, missing).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    assert_eq!(env.written().await, [0, 0, 0, 0]);
}

#[tokio::test]
async fn a_retry_with_the_same_key_returns_the_first_order_per_customer() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let mut keyed = by_quantity(&showtime, 2);
    keyed.idempotency_key = "checkout-1".into();
    let first = env.order(&env.customer, keyed.clone()).await.unwrap();
    let again = env.order(&env.customer, keyed.clone()).await.unwrap();
    assert_eq!(again, first);

    // The same key in the `idempotency-key` metadata (the edge's header).
    let mut request = bearer(&env.customer.access_token, by_quantity(&showtime, 2));
    request
        .metadata_mut()
        .insert("idempotency-key", "checkout-1".parse().unwrap());
    let by_metadata = env
        .client()
        .await
        .create_order(request)
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(by_metadata, first);
    // A key only in the metadata is remembered too.
    let mut request = bearer(&env.customer.access_token, by_quantity(&showtime, 1));
    request
        .metadata_mut()
        .insert("idempotency-key", "checkout-2".parse().unwrap());
    let second = env
        .client()
        .await
        .create_order(request)
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    let mut retried = by_quantity(&showtime, 1);
    retried.idempotency_key = "checkout-2".into();
    assert_eq!(env.order(&env.customer, retried).await.unwrap(), second);
    assert_eq!(env.count("SELECT count(*) FROM orders").await, 2);

    // Another customer's key of the same name is theirs.
    let other = env.another_customer().await;
    let theirs = env.order(&other, keyed).await.unwrap();
    assert_ne!(theirs.order_id, first.order_id);
    assert_eq!(theirs.customer_id, other.user_id);
    assert_eq!(env.count("SELECT count(*) FROM orders").await, 3);
}

fn keyed(key: &str, mut request: CreateOrderRequest) -> CreateOrderRequest {
    request.idempotency_key = key.into();
    request
}

fn says_the_key_was_reused(refused: &tonic::Status, field: &str, key: &str) {
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains(key), "{refused:?}");
    let info = refused.get_details_error_info().expect("an ErrorInfo");
    assert_eq!(info.reason, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(info.metadata.get(field).map(String::as_str), Some(key));
}

/// The key `walk-1` first ordered 2 tickets, which were paid; sent again
/// for 5, for another showtime or for chosen seats, it is refused and
/// nothing is written. Sent again with the same request, it answers the
/// order as it is now.
#[tokio::test]
async fn a_key_sent_again_with_another_request_is_refused_and_writes_nothing() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let another_showtime = env.showtime(5, 8).await;
    let first = env
        .order(&env.customer, keyed("walk-1", by_quantity(&showtime, 2)))
        .await
        .unwrap();
    let paid = env
        .pay(&env.customer, &first.order_id, "PAY-1")
        .await
        .unwrap();
    let before = env.written().await;

    for another in [
        by_quantity(&showtime, 5),
        by_quantity(&another_showtime, 2),
        by_seats(&showtime, &["A1", "A2"]),
    ] {
        let refused = env
            .order(&env.customer, keyed("walk-1", another.clone()))
            .await
            .unwrap_err();
        says_the_key_was_reused(&refused, "idempotency_key", "walk-1");
    }
    // The key in the metadata (the edge's header) is the same key.
    let mut request = bearer(&env.customer.access_token, by_quantity(&showtime, 5));
    request
        .metadata_mut()
        .insert("idempotency-key", "walk-1".parse().unwrap());
    let refused = env.client().await.create_order(request).await.unwrap_err();
    says_the_key_was_reused(&refused, "idempotency_key", "walk-1");
    assert_eq!(env.written().await, before, "nothing is written");
    assert_eq!(env.count("SELECT count(*) FROM idempotency_keys").await, 1);

    // The same request: the first order as it is now, paid, with tickets.
    let again = env
        .order(&env.customer, keyed("walk-1", by_quantity(&showtime, 2)))
        .await
        .unwrap();
    assert_eq!(again, paid);
    assert_eq!(env.written().await, before);
}

/// Chosen seats are one request whatever their order or case, and with or
/// without the quantity that agrees with them.
#[tokio::test]
async fn chosen_seats_are_the_same_request_in_any_order_or_case() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let first = env
        .order(
            &env.customer,
            keyed("seats-1", by_seats(&showtime, &["C6", "c5"])),
        )
        .await
        .unwrap();
    let mut same = keyed("seats-1", by_seats(&showtime, &["C5", "C6"]));
    same.quantity = 2;
    assert_eq!(env.order(&env.customer, same).await.unwrap(), first);
    let refused = env
        .order(
            &env.customer,
            keyed("seats-1", by_seats(&showtime, &["C5", "C7"])),
        )
        .await
        .unwrap_err();
    says_the_key_was_reused(&refused, "idempotency_key", "seats-1");
    assert_eq!(env.count("SELECT count(*) FROM orders").await, 1);
}

/// A key is the account's that sends it: staff selling at the box office
/// keep one set of keys whoever they sell to, and a customer's key of the
/// same name is hers.
#[tokio::test]
async fn a_key_is_the_senders_whoever_the_order_is_for() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let other = env.another_customer().await;
    let for_whom = |customer: &testkit::SignedIn| {
        let mut request = keyed("box-1", by_quantity(&showtime, 2));
        request.customer_id = customer.user_id.clone();
        request
    };
    let sold = env
        .order(&env.staff, for_whom(&env.customer))
        .await
        .unwrap();
    assert_eq!(sold.customer_id, env.customer.user_id);
    assert_eq!(
        env.order(&env.staff, for_whom(&env.customer))
            .await
            .unwrap(),
        sold
    );
    // Another customer is another request.
    let refused = env.order(&env.staff, for_whom(&other)).await.unwrap_err();
    says_the_key_was_reused(&refused, "idempotency_key", "box-1");
    // The customer's own "box-1" is not the staff member's.
    let hers = env
        .order(&env.customer, keyed("box-1", by_quantity(&showtime, 2)))
        .await
        .unwrap();
    assert_ne!(hers.order_id, sold.order_id);
    assert_eq!(env.count("SELECT count(*) FROM orders").await, 2);
}

/// Keys live IDEMPOTENCY_KEY_TTL_HOURS; the sweeper deletes expired ones,
/// and an expired key may name a new request.
#[tokio::test]
async fn keys_expire_after_their_time_and_the_sweeper_deletes_them() {
    let env = Env::start_with(Options { nats: false }, |config| {
        config.idempotency_ttl = chrono::Duration::hours(2);
    })
    .await;
    let sweeper = Sweeper::new(Outbox::new(env.pool()), env.config.common.clock.clone());
    let showtime = env.showtime(5, 8).await;
    let first = env
        .order(&env.customer, keyed("late-1", by_quantity(&showtime, 2)))
        .await
        .unwrap();
    assert_eq!(
        env.count(
            "SELECT count(*) FROM idempotency_keys
             WHERE operation = 'CreateOrder' AND key = 'late-1'
               AND expires_at - created_at = interval '2 hours'"
        )
        .await,
        1
    );
    assert_eq!(sweeper.prune_keys().await.unwrap(), 0, "not expired yet");

    env.hand
        .advance(chrono::Duration::hours(2) + chrono::Duration::seconds(1));
    assert_eq!(sweeper.prune_keys().await.unwrap(), 1);
    assert_eq!(env.count("SELECT count(*) FROM idempotency_keys").await, 0);
    let anew = env
        .order(&env.customer, keyed("late-1", by_quantity(&showtime, 3)))
        .await
        .unwrap();
    assert_ne!(anew.order_id, first.order_id);
    assert_eq!(anew.quantity, 3);
}

/// The sweeper's own loop deletes expired keys, not only `prune_keys`
/// called by hand.
#[tokio::test]
async fn the_running_sweeper_deletes_expired_keys() {
    let env = Env::start_with(Options { nats: false }, |config| {
        config.idempotency_ttl = chrono::Duration::hours(1);
        config.sweep_interval = Duration::from_millis(100);
    })
    .await;
    let showtime = env.showtime(5, 8).await;
    env.order(&env.customer, keyed("swept", by_quantity(&showtime, 1)))
        .await
        .unwrap();
    let keys = "SELECT count(*) FROM idempotency_keys";
    assert_eq!(env.count(keys).await, 1);
    env.hand.advance(chrono::Duration::hours(1));
    crate::eventually("the sweeper deletes the expired key", || async {
        (env.count(keys).await == 0).then_some(())
    })
    .await;
}

/// Twenty retries racing with one key, for the same two chosen seats: every
/// answer is the one order, never "C5 is held" from seeing the first
/// retry's seats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_racing_retries_with_one_key_make_exactly_one_order() {
    let env = Env::start_with(Options { nats: false }, |config| {
        config.catalog_timeout = Duration::from_secs(20);
    })
    .await;
    let showtime = env.showtime(5, 8).await;
    let mut request = by_seats(&showtime, &["C5", "C6"]);
    request.idempotency_key = "one-click".into();
    let mut clients = Vec::new();
    for _ in 0..20 {
        clients.push(env.client().await);
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            let barrier = barrier.clone();
            let request = request.clone();
            let token = env.customer.access_token.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                client
                    .create_order(bearer(&token, request))
                    .await
                    .map(|r| r.into_inner().order.unwrap())
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        let order = task.await.unwrap().expect("every retry gets the order");
        ids.push(order.order_id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(env.count("SELECT count(*) FROM orders").await, 1);
    assert_eq!(env.count("SELECT count(*) FROM order_seats").await, 2);
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, 1);
}

#[tokio::test]
async fn staff_order_for_a_customer_and_a_customer_only_for_themself() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let mut for_customer = by_quantity(&showtime, 2);
    for_customer.customer_id = env.customer.user_id.clone();
    for who in [&env.staff, &env.admin] {
        let order = env.order(who, for_customer.clone()).await.unwrap();
        assert_eq!(order.customer_id, env.customer.user_id);
        // The customer's own order now.
        env.get(&env.customer, &order.order_id).await.unwrap();
    }
    // Their own id is fine for a customer.
    let own = env.order(&env.customer, for_customer).await.unwrap();
    assert_eq!(own.customer_id, env.customer.user_id);
    let before = env.written().await;

    let other = env.another_customer().await;
    let mut for_another = by_quantity(&showtime, 1);
    for_another.customer_id = other.user_id.clone();
    let refused = env.order(&env.customer, for_another).await;
    assert_eq!(code(&refused), Code::PermissionDenied);
    // An email is for staff, even a customer's own.
    for email in [&other.email, &env.customer.email] {
        let mut by_email = by_quantity(&showtime, 1);
        by_email.customer_email = email.clone();
        let refused = env.order(&env.customer, by_email).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
        assert!(refused.message().contains("for themselves"), "{refused:?}");
    }
    assert_eq!(env.written().await, before, "nothing is written");
}

fn for_customer(request: CreateOrderRequest, id: &str, email: &str) -> CreateOrderRequest {
    CreateOrderRequest {
        customer_id: id.into(),
        customer_email: email.into(),
        ..request
    }
}

/// Staff at the box office name Siti by the email of her account (in any
/// case) or by its id: the orders are hers, her own list shows them, and
/// she pays one.
#[tokio::test]
async fn staff_order_for_a_signed_up_customer_by_email_or_id_and_she_sees_it() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let siti = env.another_customer().await;
    let by_email = for_customer(by_quantity(&showtime, 2), "", &siti.email.to_uppercase());
    let first = env.order(&env.staff, by_email).await.unwrap();
    assert_eq!(first.customer_id, siti.user_id);
    let by_id = for_customer(by_quantity(&showtime, 1), &siti.user_id, "");
    let second = env.order(&env.admin, by_id).await.unwrap();
    assert_eq!(second.customer_id, siti.user_id);

    let hers = env.list(&siti, ListOrdersRequest::default()).await.unwrap();
    let ids: Vec<&str> = hers.orders.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(ids, [second.order_id.as_str(), first.order_id.as_str()]);
    env.pay(&siti, &first.order_id, "PAY-SITI").await.unwrap();
    // Not the staff member's own.
    let staffs = env
        .list(
            &env.staff,
            ListOrdersRequest {
                customer_id: env.staff.user_id.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(staffs.orders.is_empty());
}

/// An account that does not exist is NOT_FOUND naming the field that named
/// it, and nothing is written (not even the showtime's copy: auth-svc is
/// asked before the catalog).
#[tokio::test]
async fn an_account_that_does_not_exist_is_not_found_naming_the_field_and_nothing_is_written() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let nobody = "00000000-0000-0000-0000-000000000001";
    for (field, request) in [
        (
            "customer_id",
            for_customer(by_quantity(&showtime, 2), nobody, ""),
        ),
        (
            "customer_email",
            for_customer(by_quantity(&showtime, 2), "", "nobody@example.com"),
        ),
    ] {
        for who in [&env.staff, &env.admin] {
            let refused = env.order(who, request.clone()).await.unwrap_err();
            assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
            assert!(refused.message().starts_with(field), "{refused:?}");
        }
    }
    assert_eq!(env.written().await, [0, 0, 0, 0]);
    assert_eq!(env.count("SELECT count(*) FROM showtimes").await, 0);
}

/// With auth-svc down, staff cannot order for a named customer (UNAVAILABLE,
/// nothing written); a customer's own order needs no lookup and goes on.
#[tokio::test]
async fn with_auth_svc_down_an_order_for_a_named_customer_is_unavailable_and_writes_nothing() {
    let mut env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    // order-svc has the signing keys before auth-svc goes away.
    env.list(&env.staff, ListOrdersRequest::default())
        .await
        .unwrap();
    env.auth.server.stop_ref().await;

    for (field, request) in [
        (
            "customer_id",
            for_customer(by_quantity(&showtime, 2), &env.customer.user_id, ""),
        ),
        (
            "customer_email",
            for_customer(by_quantity(&showtime, 2), "", &env.customer.email),
        ),
    ] {
        let refused = env.order(&env.staff, request).await.unwrap_err();
        assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
        assert!(refused.message().contains(field), "{refused:?}");
    }
    assert_eq!(env.written().await, [0, 0, 0, 0]);

    let own = env
        .order(&env.customer, by_quantity(&showtime, 1))
        .await
        .unwrap();
    assert_eq!(own.customer_id, env.customer.user_id);
}
