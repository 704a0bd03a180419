//! The deposit policy: required for large parties or peak hours, paid
//! idempotently on the payment reference, refunded before the cut-off and
//! kept after it.

use kursi_proto::reservation::v1::reservation_event::Event;
use kursi_proto::reservation::v1::*;
use testkit::bearer;
use tonic::Code;

use crate::{Env, assert_key_reused, booking, local, violated_fields};

fn pay(token: &str, id: &str, reference: &str, amount: i64) -> tonic::Request<PayDepositRequest> {
    bearer(
        token,
        PayDepositRequest {
            reservation_id: id.into(),
            payment_reference: reference.into(),
            amount,
        },
    )
}

fn payment(reservation: &Reservation) -> PaymentInfo {
    reservation.payment_info.clone().unwrap()
}

#[tokio::test]
async fn a_peak_hour_deposit_is_paid_once_and_refunded_before_the_cutoff() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    // 19:00 on the restaurant's clock is peak: 2 × IDR 50,000.
    let booked = env.book(&env.customer, booking(local(3, 19, 0), 2)).await;
    assert!(booked.booking_info.as_ref().unwrap().is_peak_hour);
    assert_eq!(payment(&booked).status, PaymentStatus::Unpaid as i32);
    assert_eq!(payment(&booked).amount, 100_000);
    let id = booked.reservation_id.clone();

    let confirm = || {
        bearer(
            staff,
            ConfirmReservationRequest {
                reservation_id: id.clone(),
                note: String::new(),
            },
        )
    };
    let err = client.confirm_reservation(confirm()).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("deposit"), "{}", err.message());

    let err = client
        .pay_deposit(pay(staff, &id, "TILL-1", 50_000))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["amount"]);

    let paid = client
        .pay_deposit(pay(staff, &id, "TILL-1", 100_000))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(payment(&paid).status, PaymentStatus::Paid as i32);
    assert_eq!(payment(&paid).payment_reference, "TILL-1");
    assert!(payment(&paid).pay_time.is_some());

    // The same payment again changes nothing; another payment is refused.
    let again = client
        .pay_deposit(pay(staff, &id, "TILL-1", 100_000))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(again.version, paid.version);
    let err = client
        .pay_deposit(pay(staff, &id, "TILL-2", 100_000))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);

    client.confirm_reservation(confirm()).await.unwrap();

    // Three days ahead is before the 24-hour cut-off: refunded.
    let cancelled = client
        .cancel_reservation(bearer(
            &env.customer.access_token,
            CancelReservationRequest {
                reservation_id: id.clone(),
                reason_code: CancellationReason::CustomerRequest as i32,
                description: "plans changed".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    let refund = payment(&cancelled);
    assert_eq!(refund.status, PaymentStatus::Refunded as i32);
    assert!(refund.refund_time.is_some());

    let actions: Vec<i32> = client
        .get_reservation_history(bearer(
            staff,
            GetReservationHistoryRequest {
                reservation_id: id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .entries
        .iter()
        .map(|e| e.action)
        .collect();
    use ReservationAction as A;
    assert_eq!(
        actions,
        [
            A::Created as i32,
            A::DepositPaid as i32,
            A::Confirmed as i32,
            A::Cancelled as i32,
            A::DepositRefunded as i32
        ]
    );

    let mut stream = client
        .watch_reservation_events(bearer(
            staff,
            WatchReservationEventsRequest {
                start_position: 0,
                reservation_id: id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut money = Vec::new();
    for _ in 0..5 {
        match stream
            .message()
            .await
            .unwrap()
            .unwrap()
            .event
            .unwrap()
            .event
            .unwrap()
        {
            Event::DepositPaid(p) => money.push(("paid", p.amount, p.payment_reference)),
            Event::DepositRefunded(r) => money.push(("refunded", r.amount, r.payment_reference)),
            _ => {}
        }
    }
    assert_eq!(
        money,
        [
            ("paid", 100_000, "TILL-1".to_owned()),
            ("refunded", 100_000, "TILL-1".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_large_party_cancelling_after_the_cutoff_forfeits_its_deposit() {
    // A cut-off of 30 days puts every booking in this test past it.
    let env = Env::start_with(|config| {
        config.policy.deposit.refund_cutoff = chrono::Duration::days(30);
    })
    .await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let booked = env.book(&env.customer, booking(local(2, 12, 0), 6)).await;
    assert!(!booked.booking_info.as_ref().unwrap().is_peak_hour);
    assert_eq!(payment(&booked).amount, 300_000);
    let id = booked.reservation_id;
    client
        .pay_deposit(pay(staff, &id, "PAY-6", 300_000))
        .await
        .unwrap();

    // One payment pays one deposit: its reference is its key, and another
    // reservation with it is another request (422, not ALREADY_EXISTS).
    let other = env.book(&env.customer, booking(local(2, 13, 0), 6)).await;
    let err = client
        .pay_deposit(pay(staff, &other.reservation_id, "PAY-6", 300_000))
        .await
        .unwrap_err();
    assert_key_reused(&err, "payment_reference", "PAY-6");

    let cancelled = client
        .cancel_reservation(bearer(
            &env.customer.access_token,
            CancelReservationRequest {
                reservation_id: id,
                reason_code: CancellationReason::CustomerRequest as i32,
                description: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(payment(&cancelled).status, PaymentStatus::Forfeited as i32);
    assert!(payment(&cancelled).refund_time.is_none());
    assert_eq!(
        env.count("SELECT count(*) FROM reservation_history WHERE action = 'DEPOSIT_REFUNDED'")
            .await,
        0
    );

    // A small party off-peak needs none, and paying one is refused.
    let small = env.book(&env.customer, booking(local(2, 12, 0), 2)).await;
    assert_eq!(payment(&small).status, PaymentStatus::NotRequired as i32);
    assert_eq!(payment(&small).amount, 0);
    let err = client
        .pay_deposit(pay(staff, &small.reservation_id, "PAY-7", 1))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn a_payment_reference_sent_again_must_be_the_same_payment() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let paid = env.book(&env.customer, booking(local(2, 12, 0), 6)).await;
    let unpaid = env.book(&env.customer, booking(local(2, 13, 0), 6)).await;
    let first = client
        .pay_deposit(pay(staff, &paid.reservation_id, "TILL-9", 300_000))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    let rows = "SELECT (SELECT count(*) FROM reservation_history) + (SELECT count(*) FROM outbox)";
    let before = env.count(rows).await;

    // The same payment again: the first answer, unchanged.
    let again = client
        .pay_deposit(pay(staff, &paid.reservation_id, "TILL-9", 300_000))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(again.version, first.version);
    assert_eq!(payment(&again), payment(&first));

    // The reference with another amount, or for another reservation: refused.
    let other_amount = client
        .pay_deposit(pay(staff, &paid.reservation_id, "TILL-9", 250_000))
        .await
        .unwrap_err();
    assert_key_reused(&other_amount, "payment_reference", "TILL-9");
    let other_reservation = client
        .pay_deposit(pay(staff, &unpaid.reservation_id, "TILL-9", 300_000))
        .await
        .unwrap_err();
    assert_key_reused(&other_reservation, "payment_reference", "TILL-9");

    assert_eq!(env.count(rows).await, before);
    let still_unpaid = client
        .get_reservation(bearer(
            staff,
            GetReservationRequest {
                reservation_id: unpaid.reservation_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(payment(&still_unpaid).status, PaymentStatus::Unpaid as i32);
    assert_eq!(still_unpaid.version, unpaid.version);
}

#[tokio::test]
async fn one_reference_paying_two_reservations_at_once_pays_one() {
    let env = Env::start().await;
    let staff = &env.staff.access_token;
    let a = env.book(&env.customer, booking(local(2, 12, 0), 6)).await;
    let b = env.book(&env.customer, booking(local(2, 13, 0), 6)).await;
    let mut payments = Vec::new();
    for id in [a.reservation_id, b.reservation_id] {
        let mut client = env.client().await;
        let call = pay(staff, &id, "RACE-1", 300_000);
        payments.push(tokio::spawn(async move { client.pay_deposit(call).await }));
    }
    let mut paid = 0;
    for payment in payments {
        match payment.await.unwrap() {
            Ok(_) => paid += 1,
            Err(refused) => assert_key_reused(&refused, "payment_reference", "RACE-1"),
        }
    }
    assert_eq!(paid, 1);
    assert_eq!(
        env.count("SELECT count(*) FROM reservations WHERE payment_reference = 'RACE-1'")
            .await,
        1
    );
}
