//! GetStats counts what the rows say.

use kursi_proto::reservation::v1::*;
use testkit::bearer;

use crate::{Env, booking, local, ts};

#[tokio::test]
async fn stats_match_the_rows() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let id = |r: Reservation| r.reservation_id;

    // Day 2: one of each reachable status (no-show is made below).
    let pending = id(env.book(&env.customer, booking(local(2, 12, 0), 2)).await);
    let confirmed = id(env.book(&env.customer, booking(local(2, 12, 30), 3)).await);
    let checked_in = id(env.book(&env.customer, booking(local(2, 13, 0), 4)).await);
    let completed = id(env.book(&env.customer, booking(local(2, 13, 30), 5)).await);
    // Peak and paid, then cancelled before the cut-off: refunded, no revenue.
    let refunded = id(env.book(&env.customer, booking(local(2, 19, 0), 2)).await);
    // Peak and paid, then a no-show: the deposit is kept.
    let no_show = id(env.book(&env.customer, booking(local(2, 19, 30), 3)).await);
    // Day 5, outside the range asked for below.
    let later = id(env.book(&env.customer, booking(local(5, 12, 0), 7)).await);

    let note = String::new;
    for r in [&confirmed, &checked_in, &completed, &no_show] {
        if r == &no_show {
            client
                .pay_deposit(bearer(
                    staff,
                    PayDepositRequest {
                        reservation_id: r.clone(),
                        payment_reference: "PAY-NS".into(),
                        amount: 150_000,
                    },
                ))
                .await
                .unwrap();
        }
        client
            .confirm_reservation(bearer(
                staff,
                ConfirmReservationRequest {
                    reservation_id: r.clone(),
                    note: note(),
                },
            ))
            .await
            .unwrap();
    }
    for r in [&checked_in, &completed] {
        client
            .check_in_reservation(bearer(
                staff,
                CheckInReservationRequest {
                    reservation_id: r.clone(),
                    note: note(),
                },
            ))
            .await
            .unwrap();
    }
    client
        .complete_reservation(bearer(
            staff,
            CompleteReservationRequest {
                reservation_id: completed.clone(),
                note: note(),
            },
        ))
        .await
        .unwrap();
    client
        .pay_deposit(bearer(
            staff,
            PayDepositRequest {
                reservation_id: refunded.clone(),
                payment_reference: "PAY-RF".into(),
                amount: 100_000,
            },
        ))
        .await
        .unwrap();
    client
        .cancel_reservation(bearer(
            staff,
            CancelReservationRequest {
                reservation_id: refunded.clone(),
                reason_code: CancellationReason::CustomerRequest as i32,
                description: note(),
            },
        ))
        .await
        .unwrap();
    // The no-show's start must have passed: move it into the past by SQL,
    // then staff mark it.
    env.db
        .client()
        .await
        .execute(
            "UPDATE reservations SET start_time = start_time - interval '3 days', \
             end_time = end_time - interval '3 days' WHERE id::text = $1",
            &[&no_show],
        )
        .await
        .unwrap();
    client
        .mark_no_show(bearer(
            staff,
            MarkNoShowRequest {
                reservation_id: no_show.clone(),
                note: note(),
            },
        ))
        .await
        .unwrap();

    let all = client
        .get_stats(bearer(staff, GetStatsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.total_reservations, 7);
    assert_eq!(all.pending_count, 2, "{all:?}");
    assert_eq!(all.confirmed_count, 1);
    assert_eq!(all.checked_in_count, 1);
    assert_eq!(all.completed_count, 1);
    assert_eq!(all.cancelled_count, 1);
    assert_eq!(all.no_show_count, 1);
    // Guests of reservations neither cancelled nor no-show: 2 + 3 + 4 + 5 + 7.
    assert_eq!(all.covers, 21);
    // Paid 150,000 + 100,000, refunded 100,000.
    assert_eq!(all.total_revenue, 150_000);
    assert_eq!(all.currency, "IDR");
    assert!(all.generated_at.is_some());
    let _ = pending;

    // Day 2 only, and not before 13:00: checked in, completed, refunded.
    let ranged = client
        .get_stats(bearer(
            staff,
            GetStatsRequest {
                start_time_from: Some(ts(local(2, 13, 0))),
                start_time_to: Some(ts(local(3, 0, 0))),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ranged.total_reservations, 3, "{ranged:?}");
    assert_eq!(ranged.covers, 9);
    assert_eq!(ranged.total_revenue, 0);
    let _ = later;

    // The same figures straight from the table.
    assert_eq!(
        env.count("SELECT count(*) FROM reservations WHERE status = 'PENDING'")
            .await,
        all.pending_count
    );
}
