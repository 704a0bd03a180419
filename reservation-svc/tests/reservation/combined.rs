//! Tables combined for one party: AssignTable with `table_ids`, a hold per
//! table under the exclusion constraint, all or none under any race, and
//! SearchAvailability's combinations.

use kursi_proto::reservation::v1::*;
use testkit::bearer;
use tonic::Code;

use crate::{Env, booking, code, local, violated_fields};

pub fn combine(
    token: &str,
    reservation_id: &str,
    tables: &[&str],
) -> tonic::Request<AssignTableRequest> {
    bearer(
        token,
        AssignTableRequest {
            reservation_id: reservation_id.into(),
            table_id: String::new(),
            capacity: 0,
            area: String::new(),
            note: String::new(),
            table_ids: tables.iter().map(|t| (*t).to_owned()).collect(),
        },
    )
}

#[tokio::test]
async fn a_party_of_ten_sits_at_a_six_and_a_four_and_both_are_held() {
    let env = Env::start().await;
    let six = env.table("T6", 6, "Indoor").await;
    let four = env.table("T4", 4, "Indoor").await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let ten = env.book(&env.staff, booking(local(3, 12, 0), 10)).await;

    let seated = client
        .assign_table(combine(
            staff,
            &ten.reservation_id,
            &[&four.table_id, &six.table_id],
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    let labels: Vec<_> = seated.tables.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, ["T6", "T4"], "largest first");
    // The earlier system's single table and area: the first.
    assert_eq!(seated.table.as_ref().unwrap().table_id, six.table_id);
    assert_eq!(seated.table_area, "Indoor");
    let read = client
        .get_reservation(bearer(
            staff,
            GetReservationRequest {
                reservation_id: ten.reservation_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(read.tables.len(), 2);

    // Each table is held: neither can go to an overlapping booking.
    for table in [&six, &four] {
        let other = env.book(&env.staff, booking(local(3, 12, 30), 2)).await;
        let err = client
            .assign_table(combine(staff, &other.reservation_id, &[&table.table_id]))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
        assert!(err.message().contains(&table.label), "{}", err.message());
    }
    assert_eq!(
        env.count("SELECT count(*) FROM table_holds WHERE holding")
            .await,
        2
    );
    // Cancelling frees both.
    client
        .cancel_reservation(bearer(
            staff,
            CancelReservationRequest {
                reservation_id: ten.reservation_id.clone(),
                reason_code: CancellationReason::CustomerRequest as i32,
                description: String::new(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        env.count("SELECT count(*) FROM table_holds WHERE holding")
            .await,
        0
    );
    let event = env
        .count("SELECT count(*) FROM outbox WHERE event_type = 'table_assigned'")
        .await;
    assert_eq!(event, 1);
}

#[tokio::test]
async fn combined_tables_must_exist_once_each_share_an_area_and_seat_the_party() {
    let env = Env::start().await;
    let six = env.table("T6", 6, "Indoor").await;
    let four = env.table("T4", 4, "Indoor").await;
    let patio = env.table("P4", 4, "Outdoor").await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let ten = env.book(&env.staff, booking(local(3, 12, 0), 10)).await;
    let id = &ten.reservation_id;

    let twice = client
        .assign_table(combine(staff, id, &[&six.table_id, &six.table_id]))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&twice), ["table_ids"]);
    let unknown = client
        .assign_table(combine(
            staff,
            id,
            &[&six.table_id, &uuid::Uuid::now_v7().to_string()],
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&unknown), ["table_ids"], "{unknown:?}");
    let garbage = client
        .assign_table(combine(staff, id, &[&six.table_id, "table-four"]))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&garbage), ["table_ids[1]"]);
    let mut both = combine(staff, id, &[&six.table_id]);
    both.get_mut().table_id = four.table_id.clone();
    let err = client.assign_table(both).await.unwrap_err();
    assert_eq!(violated_fields(&err), ["table_ids"]);

    let apart = client
        .assign_table(combine(staff, id, &[&six.table_id, &patio.table_id]))
        .await
        .unwrap_err();
    assert_eq!(apart.code(), Code::FailedPrecondition);
    assert!(
        apart.message().contains("different areas"),
        "{}",
        apart.message()
    );
    let small = client
        .assign_table(combine(staff, id, &[&four.table_id, &patio.table_id]))
        .await
        .unwrap_err();
    assert_eq!(small.code(), Code::FailedPrecondition);
    let alone = client
        .assign_table(combine(staff, id, &[&six.table_id]))
        .await
        .unwrap_err();
    assert!(alone.message().contains("seats 6"), "{}", alone.message());
    // Nothing was written by any of these.
    assert_eq!(env.count("SELECT count(*) FROM table_holds").await, 0);
    assert_eq!(
        env.count("SELECT count(*) FROM reservation_history WHERE action = 'TABLE_ASSIGNED'")
            .await,
        0
    );
}

/// Rounds of three parties racing for overlapping pairs of four tables
/// ({T1,T2}, {T2,T3}, {T3,T4}) at once: no table is ever held twice, each
/// party gets all its tables or none, and nobody hears INTERNAL.
#[tokio::test]
async fn parties_racing_for_overlapping_sets_of_tables_never_share_a_table() {
    let env = Env::start().await;
    let mut tables = Vec::new();
    for label in ["T1", "T2", "T3", "T4"] {
        tables.push(env.table(label, 4, "Indoor").await.table_id);
    }
    let sets = [[0, 1], [1, 2], [2, 3]];
    let staff = env.staff.access_token.clone();
    let rounds = 12;
    for round in 0..rounds {
        let mut parties = Vec::new();
        for (i, _) in sets.iter().enumerate() {
            let start = local(2 + round, 12, 10 * i as u32);
            parties.push(env.book(&env.staff, booking(start, 7)).await.reservation_id);
        }
        let mut tasks = Vec::new();
        for (party, set) in parties.iter().zip(sets) {
            let mut client = env.client().await;
            let request_tables = [tables[set[0]].clone(), tables[set[1]].clone()];
            let (token, party) = (staff.clone(), party.clone());
            tasks.push(tokio::spawn(async move {
                let ids: Vec<&str> = request_tables.iter().map(String::as_str).collect();
                client.assign_table(combine(&token, &party, &ids)).await
            }));
        }
        let mut codes = Vec::new();
        for task in tasks {
            codes.push(code(&task.await.unwrap()));
        }
        assert!(
            codes
                .iter()
                .all(|c| matches!(c, Code::Ok | Code::FailedPrecondition | Code::Aborted)),
            "round {round}: {codes:?}"
        );
        // {T1,T2} and {T3,T4} do not overlap: at least one party is seated.
        assert!(codes.contains(&Code::Ok), "round {round}: {codes:?}");
        for (party, code) in parties.iter().zip(&codes) {
            let held = env
                .count(&format!(
                    "SELECT count(*) FROM table_holds WHERE reservation_id = '{party}' AND holding"
                ))
                .await;
            assert_eq!(held, if *code == Code::Ok { 2 } else { 0 }, "round {round}");
        }
    }
    // Never two standing holds on one table at overlapping times.
    assert_eq!(
        env.count(
            "SELECT count(*) FROM table_holds a JOIN table_holds b \
             ON a.table_id = b.table_id AND a.id < b.id AND a.holding AND b.holding \
             AND tstzrange(a.start_time, a.end_time) && tstzrange(b.start_time, b.end_time)"
        )
        .await,
        0
    );
    let seated = env
        .count("SELECT count(DISTINCT reservation_id) FROM table_holds WHERE holding")
        .await;
    assert!(seated >= rounds, "{seated}");
}

#[tokio::test]
async fn availability_offers_combinations_of_one_area_when_no_table_seats_the_party() {
    let env = Env::start().await;
    env.table("T6", 6, "Indoor").await;
    env.table("T4", 4, "Indoor").await;
    env.table("T2", 2, "Indoor").await;
    env.table("P8", 8, "Outdoor").await;
    env.table("P3", 3, "Outdoor").await;
    let mut client = env.client().await;
    let date = local(3, 12, 0)
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .format("%Y-%m-%d")
        .to_string();
    let search = |party: i32| {
        bearer(
            &env.customer.access_token,
            SearchAvailabilityRequest {
                party_size: Some(party),
                date: date.clone(),
                duration_minutes: None,
                area: String::new(),
            },
        )
    };
    let ten = client
        .search_availability(search(10))
        .await
        .unwrap()
        .into_inner();
    let slot = &ten.slots[0];
    assert!(slot.tables.is_empty());
    let combos: Vec<Vec<&str>> = slot
        .combinations
        .iter()
        .map(|c| c.tables.iter().map(|t| t.label.as_str()).collect())
        .collect();
    // Two tables each; Indoor's fit exactly, Outdoor's with one to spare.
    assert_eq!(combos, [vec!["T6", "T4"], vec!["P8", "P3"]]);
    assert_eq!(slot.combinations[0].capacity, 10);
    // A party one table seats gets tables, no combinations.
    let four = client
        .search_availability(search(4))
        .await
        .unwrap()
        .into_inner();
    assert!(four.slots[0].combinations.is_empty());
    assert!(!four.slots[0].tables.is_empty());
}
