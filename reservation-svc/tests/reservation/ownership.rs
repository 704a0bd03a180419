//! Customers see, list and cancel only their own reservations; staff run
//! the floor.

use kursi_proto::access::v1::Role;
use kursi_proto::reservation::v1::*;
use testkit::bearer;
use tonic::Code;

use crate::{Env, booking, code, local};

#[tokio::test]
async fn another_customers_reservation_does_not_exist_for_you() {
    let env = Env::start().await;
    let other = env.auth.sign_up(Role::Customer).await;
    let mut client = env.client().await;
    let mine = env
        .book(&env.customer, booking(local(2, 12, 0), 2))
        .await
        .reservation_id;
    let theirs = env.book(&other, booking(local(2, 13, 0), 2)).await;
    assert_eq!(theirs.customer_details.unwrap().id, other.user_id);
    let theirs = theirs.reservation_id;
    let me = &env.customer.access_token;

    let get = client
        .get_reservation(bearer(
            me,
            GetReservationRequest {
                reservation_id: theirs.clone(),
            },
        ))
        .await;
    assert_eq!(code(&get), Code::NotFound);
    let history = client
        .get_reservation_history(bearer(
            me,
            GetReservationHistoryRequest {
                reservation_id: theirs.clone(),
            },
        ))
        .await;
    assert_eq!(code(&history), Code::NotFound);
    let cancel = |id: &str| {
        bearer(
            me,
            CancelReservationRequest {
                reservation_id: id.into(),
                reason_code: CancellationReason::CustomerRequest as i32,
                description: "changed my mind".into(),
            },
        )
    };
    assert_eq!(
        code(&client.cancel_reservation(cancel(&theirs)).await),
        Code::NotFound
    );

    let listed = client
        .list_reservations(bearer(me, ListReservationsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total_size, 1);
    assert_eq!(listed.reservations[0].reservation_id, mine);
    let asked_for_theirs = client
        .list_reservations(bearer(
            me,
            ListReservationsRequest {
                customer_id: other.user_id.clone(),
                ..Default::default()
            },
        ))
        .await;
    assert_eq!(code(&asked_for_theirs), Code::PermissionDenied);

    let cancelled = client
        .cancel_reservation(cancel(&mine))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(cancelled.status, ReservationStatus::Cancelled as i32);

    // Theirs is untouched; staff see both.
    let all = client
        .list_reservations(bearer(
            &env.staff.access_token,
            ListReservationsRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.total_size, 2);
    let only_theirs = client
        .list_reservations(bearer(
            &env.staff.access_token,
            ListReservationsRequest {
                customer_id: other.user_id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(only_theirs.reservations.len(), 1);
    assert_eq!(
        only_theirs.reservations[0].status,
        ReservationStatus::Pending as i32
    );
}

#[tokio::test]
async fn customers_book_for_themselves_and_staff_for_anyone() {
    let env = Env::start().await;
    let other = env.auth.sign_up(Role::Customer).await;
    let mut client = env.client().await;

    let mut for_other = booking(local(2, 12, 0), 2);
    for_other.customer_id = other.user_id.clone();
    let refused = client
        .create_reservation(bearer(&env.customer.access_token, for_other.clone()))
        .await;
    assert_eq!(code(&refused), Code::PermissionDenied);

    let booked = env.book(&env.staff, for_other).await;
    assert_eq!(booked.customer_details.unwrap().id, other.user_id);
    let seen = client
        .get_reservation(bearer(
            &other.access_token,
            GetReservationRequest {
                reservation_id: booked.reservation_id.clone(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        seen.into_inner().reservation.unwrap().reservation_id,
        booked.reservation_id
    );
    assert_eq!(env.count("SELECT count(*) FROM reservations").await, 1);
}

#[tokio::test]
async fn the_floor_is_run_by_staff() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let id = env
        .book(&env.customer, booking(local(2, 12, 0), 2))
        .await
        .reservation_id;
    let me = &env.customer.access_token;
    let confirm = client
        .confirm_reservation(bearer(
            me,
            ConfirmReservationRequest {
                reservation_id: id.clone(),
                note: String::new(),
            },
        ))
        .await;
    assert_eq!(code(&confirm), Code::PermissionDenied);
    let deposit = client
        .pay_deposit(bearer(
            me,
            PayDepositRequest {
                reservation_id: id.clone(),
                payment_reference: "mine".into(),
                amount: 1,
            },
        ))
        .await;
    assert_eq!(code(&deposit), Code::PermissionDenied);
    let stats = client
        .get_stats(bearer(me, GetStatsRequest::default()))
        .await;
    assert_eq!(code(&stats), Code::PermissionDenied);
    let table = client
        .create_table(bearer(
            me,
            CreateTableRequest {
                label: "T1".into(),
                capacity: 2,
                area: "Indoor".into(),
            },
        ))
        .await;
    assert_eq!(code(&table), Code::PermissionDenied);
    // The reason decides the refund: only staff say the restaurant called it off.
    let err = client
        .cancel_reservation(bearer(
            me,
            CancelReservationRequest {
                reservation_id: id.clone(),
                reason_code: CancellationReason::RestaurantRequest as i32,
                description: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(crate::violated_fields(&err), ["reason_code"]);
    // Anyone signed in may look at the tables and the availability.
    client
        .list_tables(bearer(me, ListTablesRequest::default()))
        .await
        .unwrap();
}
