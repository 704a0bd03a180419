//! The floor plan, and the availability search over it.

use kursi_proto::reservation::v1::*;
use testkit::bearer;
use tonic::Code;

use crate::{Env, booking, local, violated_fields};

#[tokio::test]
async fn tables_are_created_listed_updated_and_deactivated() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let t10 = env.table("t10", 2, "Outdoor").await;
    let a1 = env.table("A1", 4, "Indoor").await;
    let vip = env.table("VIP-1", 8, "VIP").await;
    assert!(a1.active);

    let duplicate = client
        .create_table(bearer(
            staff,
            CreateTableRequest {
                label: "T10".into(),
                capacity: 2,
                area: "Indoor".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), Code::AlreadyExists);
    let bad = client
        .create_table(bearer(
            staff,
            CreateTableRequest {
                label: String::new(),
                capacity: 51,
                area: " ".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad), ["label", "capacity", "area"]);

    // Ordered by label ignoring case, two to a page.
    let page = |token: &str, page_token: String| {
        bearer(
            token,
            ListTablesRequest {
                page_size: 2,
                page_token,
                area: String::new(),
                include_inactive: false,
            },
        )
    };
    let first = client
        .list_tables(page(&env.customer.access_token, String::new()))
        .await
        .unwrap()
        .into_inner();
    let labels: Vec<_> = first.tables.iter().map(|t| t.label.clone()).collect();
    assert_eq!(labels, ["A1", "t10"]);
    assert_eq!(first.total_size, 3);
    let second = client
        .list_tables(page(staff, first.next_page_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.tables[0].label, "VIP-1");
    assert!(second.next_page_token.is_empty());

    let updated = client
        .update_table(bearer(
            staff,
            UpdateTableRequest {
                table_id: t10.table_id.clone(),
                label: Some("T10".into()),
                capacity: Some(3),
                area: None,
                active: None,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .table
        .unwrap();
    assert_eq!(
        (
            updated.label.as_str(),
            updated.capacity,
            updated.area.as_str()
        ),
        ("T10", 3, "Outdoor")
    );

    let deactivated = client
        .deactivate_table(bearer(
            staff,
            DeactivateTableRequest {
                table_id: vip.table_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .table
        .unwrap();
    assert!(!deactivated.active);
    let active = client
        .list_tables(bearer(staff, ListTablesRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(active.total_size, 2);
    let everything = client
        .list_tables(bearer(
            staff,
            ListTablesRequest {
                include_inactive: true,
                area: "vip".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(everything.tables.len(), 1);

    // AIP-158: too large a page is the largest page, a negative one an error.
    let capped = client
        .list_tables(bearer(
            staff,
            ListTablesRequest {
                page_size: i32::MAX,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(capped.tables.len(), active.tables.len());
    let err = client
        .list_tables(bearer(
            staff,
            ListTablesRequest {
                page_size: -1,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["page_size"]);
    let err = client
        .update_table(bearer(
            staff,
            UpdateTableRequest {
                table_id: uuid::Uuid::new_v4().to_string(),
                capacity: Some(2),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn availability_offers_the_free_tables_that_fit_on_the_slot_grid() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let two = env.table("T2", 2, "Indoor").await;
    let four = env.table("T4", 4, "Indoor").await;
    let _six = env.table("T6", 6, "Outdoor").await;
    let date = local(2, 12, 0)
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .format("%Y-%m-%d")
        .to_string();
    let search = |party: i32, area: &str| {
        bearer(
            staff,
            SearchAvailabilityRequest {
                party_size: Some(party),
                date: date.clone(),
                duration_minutes: None,
                area: area.into(),
            },
        )
    };

    let open = client
        .search_availability(search(2, ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(open.time_zone, "Asia/Jakarta");
    // 10:00 to 21:30 every 30 minutes, so a 90-minute meal ends by 23:00.
    assert_eq!(open.slots.len(), 24);
    assert_eq!(
        open.slots[0].start_time.unwrap().seconds,
        local(2, 10, 0).timestamp()
    );
    let labels: Vec<_> = open.slots[0]
        .tables
        .iter()
        .map(|t| t.label.clone())
        .collect();
    assert_eq!(labels, ["T2", "T4", "T6"], "smallest first");
    let peak = open
        .slots
        .iter()
        .find(|s| s.start_time.unwrap().seconds == local(2, 19, 0).timestamp())
        .unwrap();
    assert!(peak.is_peak_hour);
    assert_eq!(peak.deposit_amount, 100_000);

    // T4 held 12:00–13:30 leaves 10:30 free but not 11:00 through 13:00.
    let held = env.book(&env.staff, booking(local(2, 12, 0), 4)).await;
    client
        .assign_table(bearer(
            staff,
            AssignTableRequest {
                reservation_id: held.reservation_id,
                table_id: four.table_id.clone(),
                capacity: 0,
                area: String::new(),
                note: String::new(),
                table_ids: Vec::new(),
            },
        ))
        .await
        .unwrap();
    let indoor_for_three = client
        .search_availability(search(3, "indoor"))
        .await
        .unwrap()
        .into_inner();
    let starts: Vec<i64> = indoor_for_three
        .slots
        .iter()
        .map(|s| s.start_time.unwrap().seconds)
        .collect();
    assert!(starts.contains(&local(2, 10, 30).timestamp()));
    for blocked in [(11, 0), (12, 0), (13, 0)] {
        assert!(
            !starts.contains(&local(2, blocked.0, blocked.1).timestamp()),
            "{blocked:?}"
        );
    }
    assert!(starts.contains(&local(2, 13, 30).timestamp()));
    assert!(
        indoor_for_three
            .slots
            .iter()
            .all(|s| s.tables.iter().all(|t| t.table_id == four.table_id))
    );
    let _ = two;
}
