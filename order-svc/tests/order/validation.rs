//! Bad input is refused up front, INVALID_ARGUMENT naming the field, never
//! INTERNAL, and nothing is stored.

use kursi_proto::order::v1::*;
use prost::Message;
use testkit::bearer;
use tonic::Code;

use crate::{Env, by_quantity, by_seats, violated_fields};

#[tokio::test]
async fn bad_orders_are_refused_naming_the_field_and_nothing_is_stored() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let good = || by_quantity(&showtime, 2);
    let mut cases: Vec<(CreateOrderRequest, Vec<&str>)> = Vec::new();
    for id in ["", "  ", "not-a-uuid", "123"] {
        let mut bad = good();
        bad.showtime_id = id.into();
        cases.push((bad, vec!["showtime_id"]));
    }
    for quantity in [-1, 11, 0, i32::MAX, i32::MIN] {
        let mut bad = good();
        bad.quantity = quantity;
        cases.push((bad, vec!["quantity"]));
    }
    let mut disagreeing = by_seats(&showtime, &["C5", "C6"]);
    disagreeing.quantity = 3;
    cases.push((disagreeing, vec!["quantity"]));
    for label in [
        "", "C0", "C05", "5C", "CC5", "c 5", "C-1", "C123", "Ä1", "C5\u{0}",
    ] {
        cases.push((by_seats(&showtime, &["A1", label]), vec!["seats[1]"]));
    }
    cases.push((by_seats(&showtime, &["C5", "c5"]), vec!["seats[1]"]));
    let eleven: Vec<String> = (1..=11).map(|n| format!("B{n}")).collect();
    let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
    cases.push((by_seats(&showtime, &eleven), vec!["seats"]));
    for key in [
        "has spaces".to_owned(),
        "k".repeat(101),
        "tab\there".into(),
        "ключ".into(),
    ] {
        let mut bad = good();
        bad.idempotency_key = key;
        cases.push((bad, vec!["idempotency_key"]));
    }
    let mut bad_customer = good();
    bad_customer.customer_id = "someone".into();
    cases.push((bad_customer, vec!["customer_id"]));
    for email in [
        "siti".to_owned(),
        "@example.com".into(),
        "siti @example.com".into(),
        "siti@example.com\u{0}".into(),
        format!("{}@example.com", "s".repeat(250)),
    ] {
        let mut bad = good();
        bad.customer_email = email;
        cases.push((bad, vec!["customer_email"]));
    }
    let mut both = good();
    both.customer_id = env.customer.user_id.clone();
    both.customer_email = env.customer.email.clone();
    cases.push((both, vec!["customer_email"]));
    let everything = CreateOrderRequest {
        showtime_id: "x".into(),
        quantity: -5,
        seats: vec![],
        idempotency_key: " a b ".into(),
        customer_id: "y".into(),
        customer_email: String::new(),
    };
    cases.push((
        everything,
        vec!["showtime_id", "customer_id", "quantity", "idempotency_key"],
    ));

    let mut client = env.client().await;
    for (request, fields) in cases {
        let shown = format!("{request:?}");
        let err = client
            .create_order(bearer(&env.customer.access_token, request))
            .await
            .expect_err(&shown);
        assert_eq!(violated_fields(&err), fields, "{shown}");
    }
    // The key in the metadata is checked the same way.
    let mut request = bearer(&env.customer.access_token, good());
    request
        .metadata_mut()
        .insert("idempotency-key", "with spaces".parse().unwrap());
    let err = client.create_order(request).await.unwrap_err();
    assert_eq!(violated_fields(&err), ["idempotency_key"]);
    // Staff give a customer id that is not one.
    let mut bad_customer = good();
    bad_customer.customer_id = "someone".into();
    let err = client
        .create_order(bearer(&env.staff.access_token, bad_customer))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["customer_id"]);

    assert_eq!(env.written().await, [0, 0, 0, 0]);
    assert_eq!(env.count("SELECT count(*) FROM showtimes").await, 0);
}

#[tokio::test]
async fn bad_ids_references_and_filters_are_refused_naming_the_field() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let order = env
        .order(&env.customer, by_quantity(&showtime, 1))
        .await
        .unwrap();
    let before = env.written().await;
    let me = &env.customer;

    for id in ["", "nope", "../etc/passwd"] {
        let err = env.get(me, id).await.unwrap_err();
        assert_eq!(violated_fields(&err), ["order_id"], "{id:?}");
        let err = env.cancel(me, id).await.unwrap_err();
        assert_eq!(violated_fields(&err), ["order_id"], "{id:?}");
        let err = env.pay(me, id, "PAY-1").await.unwrap_err();
        assert_eq!(violated_fields(&err), ["order_id"], "{id:?}");
        let err = env.seat_map(me, id).await.unwrap_err();
        assert_eq!(violated_fields(&err), ["showtime_id"], "{id:?}");
    }
    for reference in [
        "".to_owned(),
        "   ".into(),
        "r".repeat(101),
        "bad\u{7}bell".into(),
        "nul\u{0}".into(),
    ] {
        let err = env.pay(me, &order.order_id, &reference).await.unwrap_err();
        assert_eq!(
            violated_fields(&err),
            ["payment_reference"],
            "{reference:?}"
        );
    }
    let err = env.pay(me, "nope", "").await.unwrap_err();
    assert_eq!(violated_fields(&err), ["order_id", "payment_reference"]);
    // 100 characters, not bytes, is the limit.
    let rupiah = "Rp".repeat(49) + "é€";
    assert_eq!(rupiah.chars().count(), 100);
    env.pay(me, &order.order_id, &rupiah).await.unwrap();
    let after_paying = env.written().await;
    assert_eq!(after_paying[2], before[2] + 1, "one ticket");

    let list_cases = [
        (
            ListOrdersRequest {
                status: 99,
                ..Default::default()
            },
            vec!["status"],
        ),
        (
            ListOrdersRequest {
                showtime_id: "nope".into(),
                ..Default::default()
            },
            vec!["showtime_id"],
        ),
        (
            ListOrdersRequest {
                customer_id: "nope".into(),
                ..Default::default()
            },
            vec!["customer_id"],
        ),
        (
            ListOrdersRequest {
                page_size: -1,
                ..Default::default()
            },
            vec!["page_size"],
        ),
    ];
    for (request, fields) in list_cases {
        let err = env.list(&env.staff, request).await.unwrap_err();
        assert_eq!(violated_fields(&err), fields);
    }
    let Err(err) = env
        .client()
        .await
        .watch_order_events(bearer(
            &env.staff.access_token,
            WatchOrderEventsRequest { start_position: -1 },
        ))
        .await
    else {
        panic!("a negative position was accepted");
    };
    assert_eq!(violated_fields(&err), ["start_position"]);
    assert_eq!(env.written().await, after_paying);
}

#[tokio::test]
async fn bytes_that_are_not_a_valid_request_are_invalid_arguments_never_internal() {
    let env = Env::start().await;
    let channel = testkit::channel(env.server.addr).await;
    let token = Some(env.customer.access_token.as_str());
    // CreateOrderRequest{showtime_id (1): 0xFF}: not UTF-8.
    let not_utf8 = [0x0a, 0x01, 0xff];
    let err = testkit::raw::unary(
        channel.clone(),
        "/kursi.order.v1.OrderService/CreateOrder",
        &not_utf8,
        token,
    )
    .await
    .expect_err("not UTF-8");
    assert_eq!(violated_fields(&err), ["showtime_id"]);
    // seats (3): one label that is not UTF-8.
    let bad_label = [0x1a, 0x02, 0xc3, 0x28];
    let err = testkit::raw::unary(
        channel.clone(),
        "/kursi.order.v1.OrderService/CreateOrder",
        &bad_label,
        token,
    )
    .await
    .expect_err("not UTF-8");
    assert_eq!(violated_fields(&err), ["seats"]);
    // A length running past the end, for every method.
    let cut_short = [0x0a, 0x09, 0x41];
    for method in [
        "/kursi.order.v1.OrderService/CreateOrder",
        "/kursi.order.v1.OrderService/GetOrder",
        "/kursi.order.v1.OrderService/ListOrders",
        "/kursi.order.v1.OrderService/PayOrder",
        "/kursi.order.v1.OrderService/CancelOrder",
        "/kursi.order.v1.OrderService/GetSeatMap",
    ] {
        let err = testkit::raw::unary(channel.clone(), method, &cut_short, token)
            .await
            .expect_err(method);
        assert_eq!(err.code(), Code::InvalidArgument, "{method}: {err:?}");
    }
    let err = testkit::raw::unary(
        channel.clone(),
        "/kursi.order.v1.OrderService/RedeemTicket",
        &cut_short,
        Some(&env.staff.access_token),
    )
    .await
    .expect_err("cut short");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    // A valid message still works over the same channel.
    let fine = GetSeatMapRequest {
        showtime_id: uuid::Uuid::new_v4().to_string(),
    }
    .encode_to_vec();
    let err = testkit::raw::unary(
        channel,
        "/kursi.order.v1.OrderService/GetSeatMap",
        &fine,
        token,
    )
    .await
    .expect_err("no such showtime");
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(env.written().await, [0, 0, 0, 0]);
}
