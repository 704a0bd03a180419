//! The sweeper, run twice at once, handles each overdue reservation once,
//! and goes by the service's clock.

use std::collections::HashMap;

use kursi_proto::reservation::v1::*;
use reservation_svc::sweeper::{Sweeper, Swept};
use service_kit::outbox::Outbox;
use testkit::bearer;

use crate::{Env, booking, local};

#[tokio::test]
async fn two_sweepers_at_once_mark_each_overdue_reservation_exactly_once() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let table = env.table("T1", 4, "Indoor").await;
    let mut confirmed = Vec::new();
    let mut pending = Vec::new();
    for i in 0..30 {
        let r = env.book(&env.staff, booking(local(2, 12, i), 2)).await;
        if i % 2 == 0 {
            client
                .confirm_reservation(bearer(
                    staff,
                    ConfirmReservationRequest {
                        reservation_id: r.reservation_id.clone(),
                        note: String::new(),
                    },
                ))
                .await
                .unwrap();
            confirmed.push(r.reservation_id);
        } else {
            pending.push(r.reservation_id);
        }
    }
    // One overdue reservation holds a table; the sweep frees it.
    client
        .assign_table(bearer(
            staff,
            AssignTableRequest {
                reservation_id: confirmed[0].clone(),
                table_id: table.table_id.clone(),
                capacity: 0,
                area: String::new(),
                note: String::new(),
                table_ids: Vec::new(),
            },
        ))
        .await
        .unwrap();
    // Untouched: confirmed, starting in the future.
    let future = env.book(&env.staff, booking(local(3, 12, 0), 2)).await;
    client
        .confirm_reservation(bearer(
            staff,
            ConfirmReservationRequest {
                reservation_id: future.reservation_id.clone(),
                note: String::new(),
            },
        ))
        .await
        .unwrap();
    // Make the 30 overdue: started an hour ago, past the 15-minute grace.
    env.db
        .client()
        .await
        .execute(
            "UPDATE reservations SET start_time = now() - interval '1 hour', \
             end_time = now() - interval '1 hour' + make_interval(mins => duration_minutes) \
             WHERE id::text <> $1",
            &[&future.reservation_id],
        )
        .await
        .unwrap();

    let policy = env.config.policy.clone();
    let clock = env.config.common.clock.clone();
    let one = Sweeper::new(Outbox::new(env.pool()), policy.clone(), clock.clone());
    let two = Sweeper::new(Outbox::new(env.pool()), policy, clock);
    let (a, b) = tokio::join!(one.sweep(), two.sweep());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        Swept {
            no_shows: a.no_shows + b.no_shows,
            expired: a.expired + b.expired
        },
        Swept {
            no_shows: 15,
            expired: 15
        },
        "{a:?} {b:?}"
    );
    // Again: nothing is left to do.
    assert_eq!(one.sweep().await.unwrap(), Swept::default());

    let rows = env
        .db
        .client()
        .await
        .query(
            "SELECT r.id::text, r.status, r.cancel_reason, \
               (SELECT count(*) FROM reservation_history h WHERE h.reservation_id = r.id \
                  AND h.action IN ('NO_SHOW', 'CANCELLED')), \
               (SELECT count(*) FROM outbox e WHERE e.aggregate_id = r.id \
                  AND e.event_type IN ('no_show', 'cancelled')) \
             FROM reservations r",
            &[],
        )
        .await
        .unwrap();
    let by_id: HashMap<String, (String, Option<String>, i64, i64)> = rows
        .iter()
        .map(|row| (row.get(0), (row.get(1), row.get(2), row.get(3), row.get(4))))
        .collect();
    for id in &confirmed {
        assert_eq!(by_id[id], ("NO_SHOW".into(), None, 1, 1), "{id}");
    }
    for id in &pending {
        assert_eq!(
            by_id[id],
            ("CANCELLED".into(), Some("EXPIRED".into()), 1, 1),
            "{id}"
        );
    }
    assert_eq!(by_id[&future.reservation_id].0, "CONFIRMED");

    // What the sweeper did reads like any change, without an actor.
    let history = client
        .get_reservation_history(bearer(
            staff,
            GetReservationHistoryRequest {
                reservation_id: confirmed[0].clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    let last = history.last().unwrap();
    assert_eq!(last.action, ReservationAction::NoShow as i32);
    assert_eq!(last.actor_id, "");
}

#[tokio::test]
async fn the_sweeper_goes_by_the_services_clock() {
    let (clock, hand) = service_kit::clock::Clock::adjustable();
    let env = Env::start_with(|config| config.common.clock = clock).await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let confirmed = env.book(&env.staff, booking(local(2, 12, 0), 2)).await;
    client
        .confirm_reservation(bearer(
            staff,
            ConfirmReservationRequest {
                reservation_id: confirmed.reservation_id.clone(),
                note: String::new(),
            },
        ))
        .await
        .unwrap();
    let pending = env.book(&env.staff, booking(local(2, 13, 0), 2)).await;
    let sweeper = Sweeper::new(
        Outbox::new(env.pool()),
        env.config.policy.clone(),
        env.config.common.clock.clone(),
    );
    assert_eq!(sweeper.sweep().await.unwrap(), Swept::default());

    hand.advance(chrono::Duration::days(3));
    assert_eq!(
        sweeper.sweep().await.unwrap(),
        Swept {
            no_shows: 1,
            expired: 1
        }
    );
    let status = |id: &str| {
        let mut client = client.clone();
        let id = id.to_owned();
        async move {
            client
                .get_reservation(bearer(staff, GetReservationRequest { reservation_id: id }))
                .await
                .unwrap()
                .into_inner()
                .reservation
                .unwrap()
                .status
        }
    };
    assert_eq!(
        status(&confirmed.reservation_id).await,
        ReservationStatus::NoShow as i32
    );
    assert_eq!(
        status(&pending.reservation_id).await,
        ReservationStatus::Cancelled as i32
    );
}
