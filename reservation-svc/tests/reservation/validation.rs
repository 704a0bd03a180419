//! Input the earlier system stored and then choked on is refused up front,
//! naming the field, and nothing is stored.

use chrono::{Duration, Utc};
use kursi_proto::reservation::v1::*;
use testkit::bearer;
use tonic::Code;

use crate::{Env, booking, contact, local, ts, violated_fields};

#[tokio::test]
async fn bad_bookings_are_refused_naming_the_field_and_nothing_is_stored() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let token = &env.customer.access_token;
    let good = || booking(local(2, 12, 0), 2);
    let year_9999 = chrono::DateTime::parse_from_rfc3339("9999-12-31T12:00:00+07:00")
        .unwrap()
        .with_timezone(&Utc);

    let mut cases: Vec<(CreateReservationRequest, Vec<&str>)> = Vec::new();
    let mut past = good();
    past.start_time = Some(ts(Utc::now() - Duration::hours(1)));
    cases.push((past, vec!["start_time"]));
    let mut far = good();
    far.start_time = Some(ts(year_9999));
    cases.push((far, vec!["start_time"]));
    let mut beyond_window = good();
    beyond_window.start_time = Some(ts(local(61, 12, 0)));
    cases.push((beyond_window, vec!["start_time"]));
    let mut at_night = good();
    at_night.start_time = Some(ts(local(2, 3, 0)));
    cases.push((at_night, vec!["start_time"]));
    let mut no_start = good();
    no_start.start_time = None;
    cases.push((no_start, vec!["start_time"]));
    let mut bad_nanos = good();
    bad_nanos.start_time = Some(prost_types::Timestamp {
        seconds: local(2, 12, 0).timestamp(),
        nanos: -5,
    });
    cases.push((bad_nanos, vec!["start_time"]));
    for minutes in [-90, 0, 14, 481, i32::MAX] {
        let mut bad = good();
        bad.duration_minutes = Some(minutes);
        cases.push((bad, vec!["duration_minutes"]));
    }
    for size in [0, -2, 21] {
        let mut bad = good();
        bad.party_size = Some(size);
        cases.push((bad, vec!["party_size"]));
    }
    let mut no_contact = good();
    no_contact.contact_info = None;
    cases.push((no_contact, vec!["contact_info"]));
    let mut empty_name = good();
    empty_name.contact_info = Some(ContactInfo {
        name: "   ".into(),
        ..contact()
    });
    cases.push((empty_name, vec!["contact_info.name"]));
    let mut bad_email = good();
    bad_email.contact_info = Some(ContactInfo {
        email: "siti.example.com".into(),
        ..contact()
    });
    cases.push((bad_email, vec!["contact_info.email"]));
    let mut bad_phone = good();
    bad_phone.contact_info = Some(ContactInfo {
        phone: "call me".into(),
        ..contact()
    });
    cases.push((bad_phone, vec!["contact_info.phone"]));
    let mut long_note = good();
    long_note.note = "x".repeat(501);
    cases.push((long_note, vec!["note"]));
    let mut bad_key = good();
    bad_key.idempotency_key = "k".repeat(101);
    cases.push((bad_key, vec!["idempotency_key"]));
    let mut bad_customer = good();
    bad_customer.customer_id = "someone".into();
    cases.push((bad_customer, vec!["customer_id"]));
    // By id or by email, not both; and an email must be one.
    let mut both = good();
    both.customer_id = env.customer.user_id.clone();
    both.customer_email = env.customer.email.clone();
    cases.push((both, vec!["customer_email"]));
    let mut bad_email = good();
    bad_email.customer_email = "siti at example".into();
    cases.push((bad_email, vec!["customer_email"]));
    let everything = CreateReservationRequest {
        customer_id: String::new(),
        contact_info: Some(ContactInfo {
            name: String::new(),
            phone: "1".into(),
            email: "x".into(),
        }),
        party_size: Some(99),
        start_time: Some(ts(year_9999)),
        duration_minutes: Some(-1),
        note: String::new(),
        idempotency_key: String::new(),
        customer_email: String::new(),
    };
    cases.push((
        everything,
        vec![
            "contact_info.name",
            "contact_info.phone",
            "contact_info.email",
            "party_size",
            "start_time",
            "duration_minutes",
        ],
    ));

    for (request, fields) in cases {
        let shown = format!("{request:?}");
        let err = client
            .create_reservation(bearer(token, request))
            .await
            .expect_err(&shown);
        assert_eq!(violated_fields(&err), fields, "{shown}");
    }
    assert_eq!(env.count("SELECT count(*) FROM reservations").await, 0);
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, 0);
}

#[tokio::test]
async fn bad_list_queries_are_refused_naming_the_field() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let token = &env.staff.access_token;
    let list = |request: ListReservationsRequest| bearer(token, request);
    let cases = [
        (
            ListReservationsRequest {
                status: 99,
                ..Default::default()
            },
            vec!["status"],
        ),
        (
            ListReservationsRequest {
                skip: -1,
                ..Default::default()
            },
            vec!["skip"],
        ),
        (
            ListReservationsRequest {
                limit: 101,
                ..Default::default()
            },
            vec!["limit"],
        ),
        (
            ListReservationsRequest {
                limit: -3,
                ..Default::default()
            },
            vec!["limit"],
        ),
        (
            ListReservationsRequest {
                start_time_from: Some(ts(local(3, 12, 0))),
                start_time_to: Some(ts(local(2, 12, 0))),
                ..Default::default()
            },
            vec!["start_time_to"],
        ),
        (
            ListReservationsRequest {
                customer_id: "nobody".into(),
                ..Default::default()
            },
            vec!["customer_id"],
        ),
    ];
    for (request, fields) in cases {
        let err = client.list_reservations(list(request)).await.unwrap_err();
        assert_eq!(violated_fields(&err), fields);
    }
    // limit 100 is fine; 0 means 10.
    client
        .list_reservations(list(ListReservationsRequest {
            limit: 100,
            ..Default::default()
        }))
        .await
        .unwrap();
}

#[tokio::test]
async fn other_bad_requests_are_invalid_arguments_never_internal() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let id = env
        .book(&env.customer, booking(local(2, 12, 0), 2))
        .await
        .reservation_id;

    let err = client
        .get_reservation(bearer(
            staff,
            GetReservationRequest {
                reservation_id: "../etc/passwd".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["reservation_id"]);

    let err = client
        .get_reservation(bearer(
            staff,
            GetReservationRequest {
                reservation_id: uuid::Uuid::new_v4().to_string(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    for (reason, field) in [
        (CancellationReason::Unspecified as i32, "reason_code"),
        (CancellationReason::Expired as i32, "reason_code"),
        (42, "reason_code"),
    ] {
        let err = client
            .cancel_reservation(bearer(
                staff,
                CancelReservationRequest {
                    reservation_id: id.clone(),
                    reason_code: reason,
                    description: String::new(),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&err), [field]);
    }
    let err = client
        .cancel_reservation(bearer(
            staff,
            CancelReservationRequest {
                reservation_id: id.clone(),
                reason_code: CancellationReason::Other as i32,
                description: "y".repeat(501),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["description"]);

    let err = client
        .pay_deposit(bearer(
            staff,
            PayDepositRequest {
                reservation_id: id.clone(),
                payment_reference: String::new(),
                amount: -1,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["payment_reference", "amount"]);

    let Err(err) = client
        .watch_reservation_events(bearer(
            staff,
            WatchReservationEventsRequest {
                start_position: -1,
                reservation_id: String::new(),
            },
        ))
        .await
    else {
        panic!("a negative position was accepted");
    };
    assert_eq!(violated_fields(&err), ["start_position"]);

    for (date, party) in [("tomorrow", 2), ("2000-01-01", 2), ("9999-01-01", 2)] {
        let err = client
            .search_availability(bearer(
                staff,
                SearchAvailabilityRequest {
                    party_size: Some(party),
                    date: date.into(),
                    duration_minutes: None,
                    area: String::new(),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&err), ["date"], "{date}");
    }

    // PostgreSQL cannot store NUL: refused up front, never INTERNAL.
    let err = client
        .confirm_reservation(bearer(
            staff,
            ConfirmReservationRequest {
                reservation_id: id.clone(),
                note: "nul\u{0}".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["note"]);
    let err = client
        .list_tables(bearer(
            staff,
            ListTablesRequest {
                area: "in\u{0}door".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["area"]);
    let err = client
        .search_availability(bearer(
            staff,
            SearchAvailabilityRequest {
                party_size: None,
                date: local(2, 12, 0)
                    .with_timezone(&chrono_tz::Asia::Jakarta)
                    .format("%Y-%m-%d")
                    .to_string(),
                duration_minutes: Some(5),
                area: "\u{0}".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["duration_minutes", "area"]);

    // Still PENDING, with only its creation recorded.
    assert_eq!(
        env.count("SELECT count(*) FROM reservation_history").await,
        1
    );
}

#[tokio::test]
async fn bytes_that_are_not_a_valid_request_are_invalid_naming_the_field() {
    let env = Env::start().await;
    let channel = testkit::channel(env.server.addr).await;
    // CreateReservationRequest{contact_info (2): {name (1): 0xFF}}.
    let not_utf8 = [0x12, 0x03, 0x0a, 0x01, 0xff];
    let err = testkit::raw::unary(
        channel.clone(),
        "/kursi.reservation.v1.ReservationService/CreateReservation",
        &not_utf8,
        Some(&env.customer.access_token),
    )
    .await
    .expect_err("not UTF-8");
    assert_eq!(violated_fields(&err), ["contact_info.name"]);

    // A length that runs past the end of the message.
    let cut_short = [0x12, 0x09, 0x0a, 0x01];
    let err = testkit::raw::unary(
        channel,
        "/kursi.reservation.v1.ReservationService/CreateReservation",
        &cut_short,
        Some(&env.customer.access_token),
    )
    .await
    .expect_err("cut short");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let mut client = env.client().await;
    let listed = client
        .list_reservations(bearer(
            &env.staff.access_token,
            ListReservationsRequest::default(),
        ))
        .await
        .expect("list")
        .into_inner();
    assert!(listed.reservations.is_empty(), "nothing is stored");
}
