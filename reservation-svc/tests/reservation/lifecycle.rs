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

    // Cancelling twice; confirming a cancelled one.
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
    let cancellation = cancelled.cancellation.unwrap();
    assert_eq!(
        cancellation.reason_code,
        CancellationReason::RestaurantRequest as i32
    );
    assert_eq!(cancellation.description, "kitchen closed");
    let err = client.cancel_reservation(cancel()).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("CANCELLED"), "{}", err.message());
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

    // Nothing refused left a trace: created and cancelled only.
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
