//! RescheduleReservation: the caller's version, tables kept when free (the
//! constraint decides), keep_tables_or_fail, the deposit judged again, and
//! the history and event of the move.

use kursi_proto::reservation::v1::reservation_event::Event;
use kursi_proto::reservation::v1::*;
use testkit::bearer;
use tonic::Code;

use crate::combined::combine;
use crate::{Env, booking, local, ts, violated_fields};

fn move_to(
    token: &str,
    r: &Reservation,
    start: chrono::DateTime<chrono::Utc>,
    keep_tables_or_fail: bool,
) -> tonic::Request<RescheduleReservationRequest> {
    bearer(
        token,
        RescheduleReservationRequest {
            reservation_id: r.reservation_id.clone(),
            version: r.version,
            start_time: Some(ts(start)),
            duration_minutes: None,
            party_size: None,
            keep_tables_or_fail,
            note: String::new(),
        },
    )
}

async fn seated(env: &Env, start: chrono::DateTime<chrono::Utc>, table: &Table) -> Reservation {
    let r = env.book(&env.staff, booking(start, 2)).await;
    env.client()
        .await
        .assign_table(combine(
            &env.staff.access_token,
            &r.reservation_id,
            &[&table.table_id],
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap()
}

async fn history_len(env: &Env, r: &Reservation) -> i64 {
    env.count(&format!(
        "SELECT count(*) FROM reservation_history WHERE reservation_id = '{}'",
        r.reservation_id
    ))
    .await
}

#[tokio::test]
async fn a_stale_version_is_aborted_and_changes_nothing() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let r = env.book(&env.customer, booking(local(3, 12, 0), 2)).await;
    let mut stale = move_to(&env.customer.access_token, &r, local(3, 14, 0), true);
    stale.get_mut().version = r.version + 1;
    let err = client.reschedule_reservation(stale).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "{err:?}");
    let before = history_len(&env, &r).await;
    // The customer moves her own booking with the version she read.
    let moved = client
        .reschedule_reservation(move_to(
            &env.customer.access_token,
            &r,
            local(3, 14, 0),
            true,
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(moved.version, r.version + 1);
    assert_eq!(
        moved.booking_info.unwrap().start_time,
        Some(ts(local(3, 14, 0)))
    );
    assert_eq!(history_len(&env, &r).await, before + 1);
    // The same request again is stale now.
    let again = client
        .reschedule_reservation(move_to(
            &env.customer.access_token,
            &r,
            local(3, 16, 0),
            true,
        ))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::Aborted);
    // Another customer's booking is not found; bad input names its field.
    let other = env
        .auth
        .sign_up(kursi_proto::access::v1::Role::Customer)
        .await;
    let err = client
        .reschedule_reservation(move_to(&other.access_token, &moved, local(3, 16, 0), true))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let mut bad = move_to(&env.customer.access_token, &moved, local(-1, 12, 0), true);
    bad.get_mut().party_size = Some(500);
    bad.get_mut().version = 0;
    let err = client.reschedule_reservation(bad).await.unwrap_err();
    assert_eq!(
        violated_fields(&err),
        ["version", "start_time", "party_size"]
    );
    assert_eq!(history_len(&env, &r).await, before + 1);
}

#[tokio::test]
async fn a_move_onto_a_taken_table_fails_naming_it_or_releases_the_tables() {
    let env = Env::start().await;
    let t1 = env.table("T1", 4, "Indoor").await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let ours = seated(&env, local(3, 12, 0), &t1).await;
    let theirs = seated(&env, local(3, 18, 0), &t1).await;
    let before = history_len(&env, &ours).await;

    let err = client
        .reschedule_reservation(move_to(staff, &ours, local(3, 18, 30), true))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("T1"), "{}", err.message());
    let unchanged = client
        .get_reservation(bearer(
            staff,
            GetReservationRequest {
                reservation_id: ours.reservation_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(unchanged.version, ours.version);
    assert_eq!(unchanged.booking_info, ours.booking_info);
    assert_eq!(history_len(&env, &ours).await, before);

    // Without keep_tables_or_fail: moved, the table released.
    let moved = client
        .reschedule_reservation(move_to(staff, &ours, local(3, 18, 30), false))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert!(moved.tables.is_empty() && moved.table.is_none() && moved.table_area.is_empty());
    assert_eq!(
        env.count(&format!(
            "SELECT count(*) FROM table_holds WHERE reservation_id = '{}'",
            ours.reservation_id
        ))
        .await,
        0
    );
    // The other booking still holds T1.
    assert_eq!(theirs.tables.len(), 1);
    let (action, note): (String, String) = {
        let row = env
            .db
            .client()
            .await
            .query_one(
                "SELECT action, note FROM reservation_history WHERE reservation_id = $1::text::uuid \
                 ORDER BY id DESC LIMIT 1",
                &[&ours.reservation_id],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(action, "RESCHEDULED");
    assert!(note.contains("tables released"), "{note}");
    let payload: Vec<u8> = env
        .db
        .client()
        .await
        .query_one(
            "SELECT payload FROM outbox WHERE event_type = 'rescheduled'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let event = <ReservationEvent as prost::Message>::decode(payload.as_slice()).unwrap();
    let Some(Event::Rescheduled(rescheduled)) = event.event else {
        panic!("{event:?}");
    };
    assert_eq!(
        rescheduled.previous_table_ids,
        std::slice::from_ref(&t1.table_id)
    );
    assert_eq!(rescheduled.previous_start_time, Some(ts(local(3, 12, 0))));
    assert!(rescheduled.tables_released);
    assert_eq!(event.version, moved.version);
}

#[tokio::test]
async fn a_move_keeps_its_tables_when_they_are_free_and_frees_the_old_time() {
    let env = Env::start().await;
    let t1 = env.table("T1", 4, "Indoor").await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let ours = seated(&env, local(3, 12, 0), &t1).await;
    let moved = client
        .reschedule_reservation(move_to(staff, &ours, local(3, 15, 0), true))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(moved.tables[0].table_id, t1.table_id);
    // The old time is free for someone else; the new one is held.
    seated(&env, local(3, 12, 0), &t1).await;
    let late = env.book(&env.staff, booking(local(3, 15, 30), 2)).await;
    let err = client
        .assign_table(combine(staff, &late.reservation_id, &[&t1.table_id]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);

    // A larger party the table does not seat: refused, naming it.
    let mut bigger = move_to(staff, &moved, local(3, 15, 0), true);
    bigger.get_mut().start_time = None;
    bigger.get_mut().party_size = Some(6);
    let err = client.reschedule_reservation(bigger).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("T1 seats 4"), "{}", err.message());
}

#[tokio::test]
async fn a_move_recomputes_the_deposit_and_keeps_a_paid_one_showing_the_difference() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    // Six guests at noon: 6 × 50 000 due, paid.
    let r = env.book(&env.staff, booking(local(3, 12, 0), 6)).await;
    let paid = client
        .pay_deposit(bearer(
            staff,
            PayDepositRequest {
                reservation_id: r.reservation_id.clone(),
                payment_reference: "TILL-9".into(),
                amount: 300_000,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    let mut eight = move_to(staff, &paid, local(3, 12, 0), true);
    eight.get_mut().start_time = None;
    eight.get_mut().party_size = Some(8);
    let moved = client
        .reschedule_reservation(eight)
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    let payment = moved.payment_info.unwrap();
    assert_eq!(payment.status, PaymentStatus::Paid as i32);
    assert_eq!(payment.amount, 300_000);
    assert_eq!(payment.difference, 100_000);
    assert_eq!(moved.party_size, 8);

    // Two guests off-peak owe nothing: an unpaid deposit is dropped.
    let small = env.book(&env.staff, booking(local(3, 12, 0), 7)).await;
    let mut two = move_to(staff, &small, local(3, 12, 0), true);
    two.get_mut().start_time = None;
    two.get_mut().party_size = Some(2);
    let moved = client
        .reschedule_reservation(two)
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    let payment = moved.payment_info.unwrap();
    assert_eq!(payment.status, PaymentStatus::NotRequired as i32);
    assert_eq!(payment.amount, 0);
}
