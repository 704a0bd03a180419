//! GetSeatMap: every seat with its state and the counts, for any signed-in
//! caller, and never who holds a seat.

use kursi_proto::order::v1::*;
use prost::Message;
use testkit::bearer;
use tonic::Code;

use crate::{Env, by_seats, code};

#[tokio::test]
async fn the_seat_map_lists_every_seat_row_by_row_with_its_state_and_the_counts() {
    let env = Env::start().await;
    let showtime = env.showtime(3, 4).await;
    env.order(&env.customer, by_seats(&showtime, &["A2", "b3"]))
        .await
        .unwrap();
    let sold = env
        .order(&env.customer, by_seats(&showtime, &["C4"]))
        .await
        .unwrap();
    env.pay(&env.customer, &sold.order_id, "PAY-1")
        .await
        .unwrap();
    let released = env
        .order(&env.customer, by_seats(&showtime, &["C1"]))
        .await
        .unwrap();
    env.cancel(&env.customer, &released.order_id).await.unwrap();

    let map = env
        .seat_map(&env.customer, &showtime.showtime_id)
        .await
        .unwrap();
    assert_eq!(map.showtime_id, showtime.showtime_id);
    assert_eq!((map.rows, map.seats_per_row), (3, 4));
    let mut expected = Vec::new();
    for row in ["A", "B", "C"] {
        for number in 1..=4 {
            let label = format!("{row}{number}");
            let state = match label.as_str() {
                "A2" | "B3" => SeatState::Held,
                "C4" => SeatState::Sold,
                _ => SeatState::Free,
            };
            expected.push(Seat {
                row: row.into(),
                number,
                label,
                state: state as i32,
            });
        }
    }
    assert_eq!(map.seats, expected);
    assert_eq!((map.free_count, map.held_count, map.sold_count), (9, 2, 1));
    assert!(!map.cancelled);
}

#[tokio::test]
async fn a_showtime_never_ordered_is_read_from_the_catalog_and_an_unknown_one_is_not_found() {
    let env = Env::start().await;
    let showtime = env.showtime(4, 6).await;
    let map = env
        .seat_map(&env.customer, &showtime.showtime_id)
        .await
        .unwrap();
    assert_eq!((map.rows, map.seats_per_row), (4, 6));
    assert_eq!(map.seats.len(), 24);
    assert_eq!(map.seats[23].label, "D6");
    assert_eq!((map.free_count, map.held_count, map.sold_count), (24, 0, 0));
    let unknown = env
        .seat_map(&env.customer, &uuid::Uuid::new_v4().to_string())
        .await;
    assert_eq!(code(&unknown), Code::NotFound, "{unknown:?}");
    assert_eq!(env.written().await, [0, 0, 0, 0]);
}

#[tokio::test]
async fn the_seat_map_never_says_who_holds_a_seat() {
    let env = Env::start().await;
    let showtime = env.showtime(2, 3).await;
    let held = env
        .order(&env.customer, by_seats(&showtime, &["A1"]))
        .await
        .unwrap();
    let sold = env
        .order(&env.customer, by_seats(&showtime, &["B2"]))
        .await
        .unwrap();
    let paid = env
        .pay(&env.customer, &sold.order_id, "PAY-1")
        .await
        .unwrap();
    let other = env.another_customer().await;
    for who in [&other, &env.customer, &env.staff] {
        let map = env.seat_map(who, &showtime.showtime_id).await.unwrap();
        assert_eq!((map.held_count, map.sold_count), (1, 1));
        let bytes = map.encode_to_vec();
        let uuid_bytes = |id: &str| uuid::Uuid::parse_str(id).unwrap().as_bytes().to_vec();
        let mut secrets = vec![
            env.customer.user_id.clone().into_bytes(),
            uuid_bytes(&env.customer.user_id),
            held.order_id.clone().into_bytes(),
            uuid_bytes(&held.order_id),
            sold.order_id.clone().into_bytes(),
            env.customer.email.clone().into_bytes(),
            b"PAY-1".to_vec(),
        ];
        secrets.extend(paid.tickets.iter().map(|t| t.code.clone().into_bytes()));
        for secret in secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_slice()),
                "the seat map carries {:?}",
                String::from_utf8_lossy(&secret)
            );
        }
    }
}

#[tokio::test]
async fn any_signed_in_caller_may_read_the_seat_map_and_nobody_else() {
    let env = Env::start().await;
    let showtime = env.showtime(2, 3).await;
    for who in [&env.customer, &env.staff, &env.admin] {
        env.seat_map(who, &showtime.showtime_id).await.unwrap();
    }
    let mut client = env.client().await;
    let request = || GetSeatMapRequest {
        showtime_id: showtime.showtime_id.clone(),
    };
    let anonymous = client.get_seat_map(request()).await;
    assert_eq!(code(&anonymous), Code::Unauthenticated);
    let forged = client.get_seat_map(bearer("not-a-token", request())).await;
    assert_eq!(code(&forged), Code::Unauthenticated);
}
