//! The whole life cycle, its history and its events; and every transition
//! the state machine refuses.

use kursi_proto::reservation::v1::reservation_event::Event;
use kursi_proto::reservation::v1::*;
use testkit::bearer;
use tonic::Code;

use crate::{Env, booking, local};

fn status(reservation: &Reservation) -> ReservationStatus {
    ReservationStatus::try_from(reservation.status).unwrap()
}

#[tokio::test]
async fn a_reservation_runs_from_pending_to_completed_with_history_and_events() {
    let env = Env::start().await;
    let table = env.table("T1", 4, "Indoor").await;
    let mut client = env.client().await;
    let token = &env.staff.access_token;

    let created = env.book(&env.customer, booking(local(2, 12, 0), 3)).await;
    assert_eq!(status(&created), ReservationStatus::Pending);
    assert_eq!(created.version, 1);
    let details = created.customer_details.clone().unwrap();
    assert_eq!(details.id, env.customer.user_id);
    assert_eq!(details.phone, "+628123456789");
    let info = created.booking_info.unwrap();
    assert_eq!(info.duration_minutes, 90, "the default turn time");
    assert_eq!(
        info.end_time.unwrap().seconds - info.start_time.unwrap().seconds,
        90 * 60
    );
    assert!(!info.is_peak_hour, "12:00 in Jakarta is off-peak");
    let payment = created.payment_info.clone().unwrap();
    assert_eq!(payment.status, PaymentStatus::NotRequired as i32);
    assert_eq!(payment.currency, "IDR");
    let id = created.reservation_id.clone();

    let confirmed = client
        .confirm_reservation(bearer(
            token,
            ConfirmReservationRequest {
                reservation_id: id.clone(),
                note: "called back".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(status(&confirmed), ReservationStatus::Confirmed);

    let seated = client
        .assign_table(bearer(
            token,
            AssignTableRequest {
                reservation_id: id.clone(),
                table_id: table.table_id.clone(),
                capacity: 4,
                area: "indoor".into(),
                note: String::new(),
                table_ids: Vec::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(seated.table_area, "Indoor");
    assert_eq!(seated.table.as_ref().unwrap().label, "T1");

    let checked_in = client
        .check_in_reservation(bearer(
            token,
            CheckInReservationRequest {
                reservation_id: id.clone(),
                note: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(status(&checked_in), ReservationStatus::CheckedIn);

    let completed = client
        .complete_reservation(bearer(
            token,
            CompleteReservationRequest {
                reservation_id: id.clone(),
                note: "lovely evening".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(status(&completed), ReservationStatus::Completed);
    assert_eq!(completed.version, 5);

    let history = client
        .get_reservation_history(bearer(
            &env.customer.access_token,
            GetReservationHistoryRequest {
                reservation_id: id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    let steps: Vec<_> = history
        .iter()
        .map(|e| (e.action, e.from_status, e.to_status, e.version))
        .collect();
    use ReservationAction as A;
    use ReservationStatus as S;
    assert_eq!(
        steps,
        [
            (
                A::Created as i32,
                S::Unspecified as i32,
                S::Pending as i32,
                1
            ),
            (
                A::Confirmed as i32,
                S::Pending as i32,
                S::Confirmed as i32,
                2
            ),
            (
                A::TableAssigned as i32,
                S::Confirmed as i32,
                S::Confirmed as i32,
                3
            ),
            (
                A::CheckedIn as i32,
                S::Confirmed as i32,
                S::CheckedIn as i32,
                4
            ),
            (
                A::Completed as i32,
                S::CheckedIn as i32,
                S::Completed as i32,
                5
            ),
        ]
    );
    assert_eq!(history[0].actor_id, env.customer.user_id);
    assert_eq!(history[1].actor_id, env.staff.user_id);
    assert_eq!(history[1].note, "called back");
    assert_eq!(history[4].note, "lovely evening");

    // The outbox holds the same story, in order, and the stream delivers it.
    let mut stream = client
        .watch_reservation_events(bearer(
            token,
            WatchReservationEventsRequest {
                start_position: 0,
                reservation_id: id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut kinds = Vec::new();
    let mut positions = Vec::new();
    for _ in 0..5 {
        let event = stream.message().await.unwrap().unwrap().event.unwrap();
        assert_eq!(event.reservation_id, id);
        positions.push(event.position);
        kinds.push(match event.event.unwrap() {
            Event::Created(c) => {
                assert_eq!(c.reservation.unwrap().reservation_id, id);
                "created"
            }
            Event::Confirmed(c) => {
                assert_eq!(c.note, "called back");
                "confirmed"
            }
            Event::TableAssigned(t) => {
                assert_eq!(t.table.unwrap().table_id, table.table_id);
                assert_eq!(t.previous_table_id, "");
                "table_assigned"
            }
            Event::CheckedIn(_) => "checked_in",
            Event::Completed(_) => "completed",
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(
        kinds,
        [
            "created",
            "confirmed",
            "table_assigned",
            "checked_in",
            "completed"
        ]
    );
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
}

#[tokio::test]
async fn transitions_the_state_machine_forbids_name_the_current_state() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let token = &env.staff.access_token;
    let id = env
        .book(&env.customer, booking(local(2, 12, 0), 2))
        .await
        .reservation_id;

    // Checking in a PENDING reservation.
    let err = client
        .check_in_reservation(bearer(
            token,
            CheckInReservationRequest {
                reservation_id: id.clone(),
                note: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("PENDING"), "{}", err.message());

    // Completing it, or marking it a no-show.
    let err = client
        .complete_reservation(bearer(
            token,
            CompleteReservationRequest {
                reservation_id: id.clone(),
                note: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = client
        .mark_no_show(bearer(
            token,
            MarkNoShowRequest {
                reservation_id: id.clone(),
                note: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("PENDING"));

    // Cancelling twice (the repeat answers the reservation unchanged, as
    // every cancel in Kursi); confirming a cancelled one.
    let cancel = || {
        bearer(
            token,
            CancelReservationRequest {
                reservation_id: id.clone(),
                reason_code: CancellationReason::RestaurantRequest as i32,
                description: "kitchen closed".into(),
            },
        )
    };
    let cancelled = client
        .cancel_reservation(cancel())
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    let cancellation = cancelled.cancellation.clone().unwrap();
    assert_eq!(
        cancellation.reason_code,
        CancellationReason::RestaurantRequest as i32
    );
    assert_eq!(cancellation.description, "kitchen closed");
    let again = client
        .cancel_reservation(cancel())
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(again, cancelled);
    // Whatever reason the repeat gives, the first one is kept.
    let other_reason = client
        .cancel_reservation(bearer(
            token,
            CancelReservationRequest {
                reservation_id: id.clone(),
                reason_code: CancellationReason::Other as i32,
                description: "another reason".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(other_reason, cancelled);
    let err = client
        .confirm_reservation(bearer(
            token,
            ConfirmReservationRequest {
                reservation_id: id.clone(),
                note: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("CANCELLED"));

    // Nothing refused or repeated left a trace: created and cancelled only.
    let history = client
        .get_reservation_history(bearer(
            token,
            GetReservationHistoryRequest {
                reservation_id: id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].note, "kitchen closed");
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, 2);
}

#[tokio::test]
async fn a_completed_reservation_cannot_be_confirmed_again() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let token = &env.staff.access_token;
    let id = env
        .book(&env.customer, booking(local(2, 12, 0), 2))
        .await
        .reservation_id;
    let note = String::new;
    client
        .confirm_reservation(bearer(
            token,
            ConfirmReservationRequest {
                reservation_id: id.clone(),
                note: note(),
            },
        ))
        .await
        .unwrap();
    client
        .check_in_reservation(bearer(
            token,
            CheckInReservationRequest {
                reservation_id: id.clone(),
                note: note(),
            },
        ))
        .await
        .unwrap();
    client
        .complete_reservation(bearer(
            token,
            CompleteReservationRequest {
                reservation_id: id.clone(),
                note: note(),
            },
        ))
        .await
        .unwrap();
    let err = client
        .confirm_reservation(bearer(
            token,
            ConfirmReservationRequest {
                reservation_id: id.clone(),
                note: note(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(
        err.message(),
        "cannot confirm a reservation that is COMPLETED"
    );
    let err = client
        .cancel_reservation(bearer(
            token,
            CancelReservationRequest {
                reservation_id: id,
                reason_code: CancellationReason::Other as i32,
                description: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert!(err.message().contains("COMPLETED"));
}

#[tokio::test]
async fn a_repeated_cancel_answers_unchanged_and_a_cancel_after_the_end_names_the_state() {
    let (clock, hand) = service_kit::clock::Clock::adjustable();
    let env = Env::start_with(|config| config.common.clock = clock).await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let cancel = |token: &str, id: &str, reason: CancellationReason| {
        bearer(
            token,
            CancelReservationRequest {
                reservation_id: id.into(),
                reason_code: reason as i32,
                description: format!("{reason:?}"),
            },
        )
    };

    // A customer cancelling her own twice: the second is the first's answer.
    let mine = env.book(&env.customer, booking(local(2, 12, 0), 2)).await;
    let me = &env.customer.access_token;
    let first = client
        .cancel_reservation(cancel(
            me,
            &mine.reservation_id,
            CancellationReason::CustomerRequest,
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    let events = env.count("SELECT count(*) FROM outbox").await;
    let history = env.count("SELECT count(*) FROM reservation_history").await;
    let second = client
        .cancel_reservation(cancel(me, &mine.reservation_id, CancellationReason::Other))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(second, first);
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, events);
    assert_eq!(
        env.count("SELECT count(*) FROM reservation_history").await,
        history
    );

    // CHECKED_IN and NO_SHOW cannot be cancelled, and the refusal says why.
    let seated = env.book(&env.customer, booking(local(2, 13, 0), 2)).await;
    let late = env.book(&env.customer, booking(local(2, 14, 0), 2)).await;
    for id in [&seated.reservation_id, &late.reservation_id] {
        client
            .confirm_reservation(bearer(
                staff,
                ConfirmReservationRequest {
                    reservation_id: id.clone(),
                    note: String::new(),
                },
            ))
            .await
            .unwrap();
    }
    client
        .check_in_reservation(bearer(
            staff,
            CheckInReservationRequest {
                reservation_id: seated.reservation_id.clone(),
                note: String::new(),
            },
        ))
        .await
        .unwrap();
    hand.advance(chrono::Duration::days(3));
    client
        .mark_no_show(bearer(
            staff,
            MarkNoShowRequest {
                reservation_id: late.reservation_id.clone(),
                note: String::new(),
            },
        ))
        .await
        .unwrap();
    for (id, state) in [
        (&seated.reservation_id, "CHECKED_IN"),
        (&late.reservation_id, "NO_SHOW"),
    ] {
        let err = client
            .cancel_reservation(cancel(staff, id, CancellationReason::RestaurantRequest))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{state}");
        assert_eq!(
            err.message(),
            format!("cannot cancel a reservation that is {state}")
        );
    }
}
