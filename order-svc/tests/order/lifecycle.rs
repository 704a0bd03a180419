//! An order's life: paying (tickets, idempotent on the reference, refused
//! once expired), cancelling, reading one, and who sees what.

use std::collections::HashSet;

use kursi_proto::order::v1::*;
use tonic::Code;
use tonic_types::StatusExt;

use order_svc::cancellations::Cancellations;
use order_svc::sweeper::Sweeper;
use service_kit::outbox::Outbox;

use crate::{Env, by_quantity, by_seats, code, seats_in, violated_fields};

const BASE32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

#[tokio::test]
async fn paying_issues_one_unguessable_ticket_per_seat_and_sells_the_seats() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let order = env
        .order(&env.customer, by_quantity(&showtime, 4))
        .await
        .unwrap();
    let paid = env
        .pay(&env.customer, &order.order_id, "PAY-1")
        .await
        .unwrap();
    assert_eq!(paid.status, OrderStatus::Paid as i32);
    assert_eq!(paid.payment_reference, "PAY-1");
    assert_eq!(paid.pay_time, paid.update_time);
    assert!(paid.pay_time.is_some());
    assert_eq!(paid.version, 2);
    assert_eq!(paid.seats, order.seats);

    let seats: Vec<&str> = paid.tickets.iter().map(|t| t.seat.as_str()).collect();
    assert_eq!(seats, order.seats);
    let codes: HashSet<&str> = paid.tickets.iter().map(|t| t.code.as_str()).collect();
    assert_eq!(codes.len(), 4, "distinct codes");
    for ticket in &paid.tickets {
        // 26 base32 characters: 130 bits, of which 128 are random.
        assert_eq!(ticket.code.len(), 26, "{ticket:?}");
        assert!(
            ticket.code.chars().all(|c| BASE32.contains(c)),
            "{ticket:?}"
        );
        assert_eq!(ticket.redeem_time, None);
    }
    assert_eq!(env.get(&env.customer, &order.order_id).await.unwrap(), paid);

    let map = env
        .seat_map(&env.customer, &showtime.showtime_id)
        .await
        .unwrap();
    assert_eq!(seats_in(&map, SeatState::Sold), order.seats);
    assert_eq!((map.held_count, map.sold_count), (0, 4));
}

#[tokio::test]
async fn paying_again_with_the_same_reference_answers_the_paid_order_unchanged() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let order = env
        .order(&env.customer, by_quantity(&showtime, 2))
        .await
        .unwrap();
    let paid = env
        .pay(&env.customer, &order.order_id, "PAY-1")
        .await
        .unwrap();
    let again = env
        .pay(&env.customer, &order.order_id, "PAY-1")
        .await
        .unwrap();
    assert_eq!(again, paid, "same version, same tickets");
    assert_eq!(env.count("SELECT count(*) FROM tickets").await, 2);
    assert_eq!(
        env.count("SELECT count(*) FROM outbox WHERE event_type = 'paid'")
            .await,
        1
    );

    // Another reference for a paid order.
    let refused = env
        .pay(&env.customer, &order.order_id, "PAY-2")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("PAID"), "{refused:?}");

    // The reference that paid it, for another order.
    let second = env
        .order(&env.customer, by_quantity(&showtime, 1))
        .await
        .unwrap();
    let refused = env
        .pay(&env.customer, &second.order_id, "PAY-1")
        .await
        .unwrap_err();
    // The reference is the payment's idempotency key, reused.
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let info = refused.get_details_error_info().expect("an ErrorInfo");
    assert_eq!(info.reason, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(
        info.metadata.get("payment_reference").map(String::as_str),
        Some("PAY-1")
    );
    assert!(refused.message().contains("PAY-1"), "{refused:?}");
    assert_eq!(
        env.get(&env.customer, &second.order_id).await.unwrap(),
        second,
        "still PENDING, unchanged"
    );
    assert_eq!(env.count("SELECT count(*) FROM tickets").await, 2);
}

#[tokio::test]
async fn paying_after_the_hold_ran_out_is_refused_before_any_sweep_and_changes_nothing() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let order = env
        .order(&env.customer, by_quantity(&showtime, 2))
        .await
        .unwrap();
    env.exec("UPDATE orders SET expire_at = now() - interval '1 second'")
        .await;
    let stored = env.get(&env.customer, &order.order_id).await.unwrap();
    let before = env.written().await;

    let refused = env
        .pay(&env.customer, &order.order_id, "PAY-LATE")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("expired"), "{refused:?}");
    assert_eq!(
        env.get(&env.customer, &order.order_id).await.unwrap(),
        stored
    );
    assert_eq!(env.written().await, before, "no ticket, no event");
}

#[tokio::test]
async fn cancelling_releases_the_seats_once_and_a_paid_order_cannot_be_cancelled() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let order = env
        .order(&env.customer, by_seats(&showtime, &["A1", "A2"]))
        .await
        .unwrap();
    let cancelled = env.cancel(&env.customer, &order.order_id).await.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled as i32);
    assert_eq!(cancelled.version, 2);
    assert_eq!(cancelled.close_time, cancelled.update_time);
    assert!(cancelled.close_time.is_some());
    assert_eq!(cancelled.close_reason, "");
    let map = env
        .seat_map(&env.customer, &showtime.showtime_id)
        .await
        .unwrap();
    assert_eq!((map.free_count, map.held_count), (40, 0));

    // Twice: answered as it is.
    let again = env.cancel(&env.customer, &order.order_id).await.unwrap();
    assert_eq!(again, cancelled);
    assert_eq!(
        env.count("SELECT count(*) FROM outbox WHERE event_type = 'cancelled'")
            .await,
        1
    );
    // Another customer takes the seats at once.
    let other = env.another_customer().await;
    let taken = env
        .order(&other, by_seats(&showtime, &["A1", "A2"]))
        .await
        .unwrap();
    assert_eq!(taken.seats, ["A1", "A2"]);
    // Cancelled is final.
    let refused = env.pay(&env.customer, &order.order_id, "PAY-0").await;
    assert_eq!(code(&refused), Code::FailedPrecondition);

    // A paid order is final.
    let paid = env.pay(&other, &taken.order_id, "PAY-1").await.unwrap();
    let refused = env.cancel(&other, &paid.order_id).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("PAID"), "{refused:?}");
    assert_eq!(env.get(&other, &paid.order_id).await.unwrap(), paid);
}

/// A cancel takes a reason and keeps it (the order's close_reason, its
/// OrderCancelled event); a repeat returns the order unchanged whatever
/// reason it gives; an EXPIRED or REFUNDED order cannot be cancelled, and
/// the refusal names its state.
#[tokio::test]
async fn a_cancel_keeps_its_reason_and_a_repeat_returns_the_order_unchanged() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let order = env
        .order(&env.customer, by_quantity(&showtime, 2))
        .await
        .unwrap();
    let cancelled = env
        .cancel_because(&env.customer, &order.order_id, "  changed mind ")
        .await
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled as i32);
    assert_eq!(cancelled.close_reason, "changed mind");
    assert_eq!(cancelled.version, 2);

    for reason in ["", "no, really"] {
        let again = env
            .cancel_because(&env.customer, &order.order_id, reason)
            .await
            .unwrap();
        assert_eq!(again, cancelled, "{reason:?}");
    }
    let events = env.events(0, 2).await;
    let Some(order_event::Event::Cancelled(event)) = &events[1].event else {
        panic!("{events:?}")
    };
    assert_eq!(event.reason, "changed mind");
    assert_eq!(event.seats, order.seats);
    assert_eq!(
        env.count("SELECT count(*) FROM outbox WHERE event_type = 'cancelled'")
            .await,
        1
    );

    // Expired: its state is named.
    let expired = env
        .order(&env.customer, by_quantity(&showtime, 1))
        .await
        .unwrap();
    env.exec("UPDATE orders SET expire_at = now() - interval '1 second' WHERE status = 'PENDING'")
        .await;
    Sweeper::new(Outbox::new(env.pool()), env.config.common.clock.clone())
        .sweep()
        .await
        .unwrap();
    let refused = env
        .cancel_because(&env.customer, &expired.order_id, "too late")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("EXPIRED"), "{refused:?}");
    // Refunded: its state is named.
    let paid = env.paid(&showtime, 1, "PAY-1").await;
    let called_off = env.cancel_showtime(&showtime, "no film").await;
    Cancellations::new(Outbox::new(env.pool()), env.config.common.clock.clone())
        .showtime_cancelled(&called_off)
        .await
        .unwrap();
    let refused = env
        .cancel_because(&env.customer, &paid.order_id, "changed mind")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("REFUNDED"), "{refused:?}");
    let refunded = env.get(&env.customer, &paid.order_id).await.unwrap();
    assert_eq!(refunded.status, OrderStatus::Refunded as i32);
    assert!(refunded.close_reason.contains("no film"), "{refunded:?}");
}

/// A reason of more than 500 characters, or with control characters, is
/// INVALID_ARGUMENT on `reason`, and the order is left as it is.
#[tokio::test]
async fn a_bad_cancel_reason_is_refused_naming_the_field() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let order = env
        .order(&env.customer, by_quantity(&showtime, 1))
        .await
        .unwrap();
    for reason in ["r".repeat(501), "bell\u{7}".into()] {
        let refused = env
            .cancel_because(&env.customer, &order.order_id, &reason)
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&refused), ["reason"], "{reason:?}");
    }
    let refused = env
        .cancel_because(&env.customer, "nope", &"r".repeat(501))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&refused), ["order_id", "reason"]);
    assert_eq!(
        env.get(&env.customer, &order.order_id).await.unwrap(),
        order
    );
    // 500 characters, and lines, are fine.
    let long = format!("{}\nthe end", "é".repeat(492));
    assert_eq!(long.chars().count(), 500);
    let cancelled = env
        .cancel_because(&env.customer, &order.order_id, &long)
        .await
        .unwrap();
    assert_eq!(cancelled.close_reason, long);
}

#[tokio::test]
async fn another_customers_order_does_not_exist_for_a_customer_but_staff_see_it() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let order = env
        .order(&env.customer, by_quantity(&showtime, 2))
        .await
        .unwrap();
    let other = env.another_customer().await;
    for refused in [
        env.get(&other, &order.order_id).await,
        env.pay(&other, &order.order_id, "PAY-X").await,
        env.cancel(&other, &order.order_id).await,
    ] {
        assert_eq!(code(&refused), Code::NotFound, "{refused:?}");
    }
    assert_eq!(
        env.get(&env.customer, &order.order_id).await.unwrap(),
        order
    );
    // An id that is nobody's reads the same.
    let nobodys = env.get(&other, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(code(&nobodys), Code::NotFound);

    // Staff and admin see and change anyone's.
    assert_eq!(env.get(&env.admin, &order.order_id).await.unwrap(), order);
    let cancelled = env.cancel(&env.staff, &order.order_id).await.unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled as i32);
}

fn ids(r: &ListOrdersResponse) -> Vec<&String> {
    r.orders.iter().map(|o| &o.order_id).collect()
}

/// ListOrders: a customer's own, staff and admin everything, filters.
#[tokio::test]
async fn a_customer_lists_their_own_orders_and_staff_all_newest_first_filtered() {
    let env = Env::start().await;
    let first = env.showtime(5, 8).await;
    let second = env.showtime(5, 8).await;
    let other = env.another_customer().await;
    let mine = [
        env.order(&env.customer, by_quantity(&first, 1))
            .await
            .unwrap(),
        env.order(&env.customer, by_quantity(&second, 1))
            .await
            .unwrap(),
        env.order(&env.customer, by_quantity(&first, 2))
            .await
            .unwrap(),
    ];
    let theirs = [
        env.order(&other, by_quantity(&first, 1)).await.unwrap(),
        env.order(&other, by_quantity(&second, 1)).await.unwrap(),
    ];
    let paid = env
        .pay(&env.customer, &mine[2].order_id, "PAY-1")
        .await
        .unwrap();

    let listed = env
        .list(&env.customer, ListOrdersRequest::default())
        .await
        .unwrap();
    assert_eq!(
        ids(&listed),
        [&mine[2].order_id, &mine[1].order_id, &mine[0].order_id]
    );
    assert_eq!(listed.total_size, 3);
    assert_eq!(listed.next_page_token, "");
    assert_eq!(listed.orders[0], paid, "with its tickets");
    // Naming themself is the same.
    let own = ListOrdersRequest {
        customer_id: env.customer.user_id.clone(),
        ..Default::default()
    };
    assert_eq!(env.list(&env.customer, own).await.unwrap(), listed);

    for who in [&env.staff, &env.admin] {
        let all = env.list(who, ListOrdersRequest::default()).await.unwrap();
        assert_eq!(
            ids(&all),
            [
                &theirs[1].order_id,
                &theirs[0].order_id,
                &mine[2].order_id,
                &mine[1].order_id,
                &mine[0].order_id
            ]
        );
        assert_eq!(all.total_size, 5);
    }
    let staff = &env.staff;
    let by_status = ListOrdersRequest {
        status: OrderStatus::Pending as i32,
        ..Default::default()
    };
    let pending = env.list(staff, by_status).await.unwrap();
    assert_eq!(pending.total_size, 4);
    assert!(!ids(&pending).contains(&&paid.order_id));
    let by_showtime = ListOrdersRequest {
        showtime_id: second.showtime_id.clone(),
        ..Default::default()
    };
    let shown = env.list(staff, by_showtime).await.unwrap();
    assert_eq!(ids(&shown), [&theirs[1].order_id, &mine[1].order_id]);
    let by_customer = ListOrdersRequest {
        customer_id: other.user_id.clone(),
        showtime_id: first.showtime_id.clone(),
        ..Default::default()
    };
    let shown = env.list(staff, by_customer).await.unwrap();
    assert_eq!(ids(&shown), [&theirs[0].order_id]);
    assert_eq!(shown.total_size, 1);

    // A customer naming another.
    let snooping = ListOrdersRequest {
        customer_id: other.user_id.clone(),
        ..Default::default()
    };
    let refused = env.list(&env.customer, snooping).await;
    assert_eq!(code(&refused), Code::PermissionDenied);
}

#[tokio::test]
async fn list_orders_pages_every_order_once_with_aip_158_sizes_and_tokens() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    env.order(&env.customer, by_quantity(&showtime, 1))
        .await
        .unwrap();
    // 120 more, a second apart, behind the service's back.
    env.exec(
        "INSERT INTO orders (id, customer_id, showtime_id, movie_id, movie_title,
             showtime_start, auditorium, seats, quantity, unit_price, total_amount,
             status, expire_at, closed_at, created_at, updated_at)
         SELECT gen_random_uuid(), customer_id, showtime_id, movie_id, movie_title,
             showtime_start, auditorium, seats, quantity, unit_price, total_amount,
             'CANCELLED', expire_at, now(), created_at - n * interval '1 second', updated_at
         FROM orders, generate_series(1, 120) n",
    )
    .await;
    let staff = &env.staff;
    let size = |page_size| ListOrdersRequest {
        page_size,
        ..Default::default()
    };
    let default = env.list(staff, size(0)).await.unwrap();
    assert_eq!(default.orders.len(), 20);
    assert_eq!(default.total_size, 121);
    assert_ne!(default.next_page_token, "");
    let capped = env.list(staff, size(500)).await.unwrap();
    assert_eq!(capped.orders.len(), 100, "more than 100 reads as 100");
    let refused = env.list(staff, size(-1)).await.unwrap_err();
    assert_eq!(crate::violated_fields(&refused), ["page_size"]);

    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = env
            .list(
                staff,
                ListOrdersRequest {
                    page_size: 7,
                    page_token: token,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total_size, 121);
        seen.extend(
            page.orders
                .iter()
                .map(|o| (o.create_time, o.order_id.clone())),
        );
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 121);
    let distinct: HashSet<&String> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(distinct.len(), 121, "each once");
    let times: Vec<(i64, i32)> = seen
        .iter()
        .map(|(t, _)| t.map(|t| (t.seconds, t.nanos)).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    for bad in [
        "garbage!".to_owned(),
        b64("[\"x\",\"y\"]"),
        b64("[\"1\",\"2\",\"3\"]"),
        b64("[\"1796149167374585\",\"not-a-uuid\"]"),
        b64(&format!(
            "[\"99999999999999999999\",\"{}\"]",
            uuid::Uuid::new_v4()
        )),
    ] {
        let refused = env
            .list(
                staff,
                ListOrdersRequest {
                    page_token: bad.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(crate::violated_fields(&refused), ["page_token"], "{bad}");
    }
}
