//! AssignTable: the table must be active, seat the party and be free for
//! the whole time — the last guaranteed by the database under any race.

use kursi_proto::reservation::v1::*;
use testkit::bearer;
use tonic::Code;

use crate::{Env, booking, code, local, violated_fields};

fn assign(token: &str, reservation_id: &str, table_id: &str) -> tonic::Request<AssignTableRequest> {
    bearer(
        token,
        AssignTableRequest {
            reservation_id: reservation_id.into(),
            table_id: table_id.into(),
            capacity: 0,
            area: String::new(),
            note: String::new(),
            table_ids: Vec::new(),
        },
    )
}

#[tokio::test]
async fn thirty_two_concurrent_assignments_of_one_table_seat_exactly_one() {
    let env = Env::start().await;
    let table = env.table("T1", 4, "Indoor").await;
    let mut ids = Vec::new();
    for minute in 0..32 {
        // All within one another's time range: 12:00 to 12:31 for 90 minutes.
        let request = booking(local(3, 12, minute), 2);
        ids.push(env.book(&env.staff, request).await.reservation_id);
    }
    let mut tasks = Vec::new();
    for id in ids {
        let client = env.client().await;
        let token = env.staff.access_token.clone();
        let table_id = table.table_id.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = client;
            client.assign_table(assign(&token, &id, &table_id)).await
        }));
    }
    let mut codes = Vec::new();
    for task in tasks {
        codes.push(code(&task.await.unwrap()));
    }
    let ok = codes.iter().filter(|c| **c == Code::Ok).count();
    assert_eq!(ok, 1, "{codes:?}");
    assert!(
        codes
            .iter()
            .all(|c| matches!(c, Code::Ok | Code::FailedPrecondition | Code::Aborted)),
        "{codes:?}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM reservations WHERE table_id IS NOT NULL")
            .await,
        1
    );
    assert_eq!(
        env.count("SELECT count(*) FROM reservation_history WHERE action = 'TABLE_ASSIGNED'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_held_table_is_refused_for_overlaps_and_freed_by_cancelling() {
    let env = Env::start().await;
    let table = env.table("T1", 4, "Indoor").await;
    let mut client = env.client().await;
    let token = &env.staff.access_token;
    let first = env.book(&env.staff, booking(local(3, 12, 0), 2)).await;
    let overlapping = env.book(&env.staff, booking(local(3, 11, 0), 2)).await;
    // Starts exactly as the first one ends (12:00 + 90 minutes): no overlap.
    let after = env.book(&env.staff, booking(local(3, 13, 30), 2)).await;

    client
        .assign_table(assign(token, &first.reservation_id, &table.table_id))
        .await
        .unwrap();
    let err = client
        .assign_table(assign(token, &overlapping.reservation_id, &table.table_id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("already held"), "{}", err.message());
    client
        .assign_table(assign(token, &after.reservation_id, &table.table_id))
        .await
        .expect("back to back is fine");

    client
        .cancel_reservation(bearer(
            token,
            CancelReservationRequest {
                reservation_id: first.reservation_id.clone(),
                reason_code: CancellationReason::CustomerRequest as i32,
                description: String::new(),
            },
        ))
        .await
        .unwrap();
    client
        .assign_table(assign(token, &overlapping.reservation_id, &table.table_id))
        .await
        .expect("the cancelled reservation no longer holds the table");
}

#[tokio::test]
async fn tables_must_exist_be_active_and_seat_the_party() {
    let env = Env::start().await;
    let small = env.table("T2", 2, "Outdoor").await;
    let closed = env.table("T9", 8, "VIP").await;
    let mut client = env.client().await;
    let token = &env.staff.access_token;
    client
        .deactivate_table(bearer(
            token,
            DeactivateTableRequest {
                table_id: closed.table_id.clone(),
            },
        ))
        .await
        .unwrap();
    let party = env.book(&env.staff, booking(local(3, 12, 0), 4)).await;
    let id = &party.reservation_id;

    let err = client
        .assign_table(assign(token, id, &small.table_id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("seats 2"), "{}", err.message());

    let err = client
        .assign_table(assign(token, id, &closed.table_id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("out of service"));

    let err = client
        .assign_table(assign(token, id, &uuid::Uuid::new_v4().to_string()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    let err = client
        .assign_table(assign(token, id, "table-one"))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["table_id"]);

    // The seed's capacity and area must agree with the table when given.
    let big = env.table("T4", 6, "Indoor").await;
    let mut wrong = assign(token, id, &big.table_id);
    wrong.get_mut().capacity = 4;
    wrong.get_mut().area = "Outdoor".into();
    let err = client.assign_table(wrong).await.unwrap_err();
    assert_eq!(violated_fields(&err), ["capacity"]);
    let mut wrong_area = assign(token, id, &big.table_id);
    wrong_area.get_mut().area = "Outdoor".into();
    let err = client.assign_table(wrong_area).await.unwrap_err();
    assert_eq!(violated_fields(&err), ["area"]);

    // Reassigning replaces the table and says which one it held.
    let other = env.table("T5", 4, "Indoor").await;
    client
        .assign_table(assign(token, id, &big.table_id))
        .await
        .unwrap();
    let moved = client
        .assign_table(assign(token, id, &other.table_id))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(moved.table.unwrap().table_id, other.table_id);
    assert_eq!(
        env.count("SELECT count(*) FROM reservation_history WHERE action = 'TABLE_ASSIGNED'")
            .await,
        2
    );
}
