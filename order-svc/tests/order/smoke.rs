//! The Nonton Yuk walk: a seat map, an order, payment, tickets, the door;
//! and a cancelled showtime refunding through the catalog's event.

use std::time::Duration;

use kursi_proto::catalog::v1 as catalog;
use kursi_proto::order::v1::*;
use testkit::bearer;
use tonic::Code;

use crate::{Env, by_quantity, by_seats, code};

#[tokio::test]
async fn order_pay_and_admit_two_tickets() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let mut client = env.client().await;

    let order = env
        .order(&env.customer, by_quantity(&showtime, 2))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Pending as i32);
    // Five rows: two thirds back is D; eight seats: the middle two.
    assert_eq!(order.seats, ["D4", "D5"]);
    assert_eq!(order.total_amount, 100_000);
    assert_eq!(order.movie_title, "Pengabdi Setan 2");

    let taken = env
        .order(&env.customer, by_seats(&showtime, &["D5", "A1"]))
        .await;
    assert_eq!(code(&taken), Code::FailedPrecondition);
    assert!(taken.unwrap_err().message().contains("D5"));

    let map = client
        .get_seat_map(bearer(
            &env.customer.access_token,
            GetSeatMapRequest {
                showtime_id: showtime.showtime_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((map.free_count, map.held_count, map.sold_count), (38, 2, 0));

    let paid = client
        .pay_order(bearer(
            &env.customer.access_token,
            PayOrderRequest {
                order_id: order.order_id.clone(),
                payment_reference: "PAY-1".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(paid.status, OrderStatus::Paid as i32);
    assert_eq!(paid.tickets.len(), 2);

    // At the door, once it opens.
    env.to_the_showing(&showtime);
    let code_of = paid.tickets[0].code.clone();
    let admitted = client
        .redeem_ticket(bearer(
            &env.staff.access_token,
            RedeemTicketRequest {
                code: code_of.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(admitted.ticket.unwrap().seat, "D4");
    let again = client
        .redeem_ticket(bearer(
            &env.staff.access_token,
            RedeemTicketRequest { code: code_of },
        ))
        .await;
    assert_eq!(code(&again), Code::FailedPrecondition);
}

#[tokio::test]
async fn a_cancelled_showtime_refunds_its_paid_orders_through_the_catalogs_event() {
    let env = Env::with_nats().await;
    let showtime = env.showtime(3, 4).await;
    let mut client = env.client().await;
    let paid = env
        .order(&env.customer, by_quantity(&showtime, 1))
        .await
        .unwrap();
    client
        .pay_order(bearer(
            &env.customer.access_token,
            PayOrderRequest {
                order_id: paid.order_id.clone(),
                payment_reference: "PAY-2".into(),
            },
        ))
        .await
        .unwrap();
    let pending = env
        .order(&env.customer, by_quantity(&showtime, 2))
        .await
        .unwrap();

    env.catalog_client()
        .await
        .cancel_showtime(bearer(
            &env.admin.access_token,
            catalog::CancelShowtimeRequest {
                showtime_id: showtime.showtime_id.clone(),
                reason: "the projector broke".into(),
            },
        ))
        .await
        .unwrap();

    let status_of = |id: String| {
        let mut client = client.clone();
        let token = env.customer.access_token.clone();
        async move {
            client
                .get_order(bearer(&token, GetOrderRequest { order_id: id }))
                .await
                .unwrap()
                .into_inner()
                .order
                .unwrap()
        }
    };
    let mut refunded = None;
    for _ in 0..400 {
        let order = status_of(paid.order_id.clone()).await;
        if order.status == OrderStatus::Refunded as i32 {
            refunded = Some(order);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refunded = refunded.expect("the paid order is refunded");
    assert!(
        refunded.close_reason.contains("the projector broke"),
        "{refunded:?}"
    );
    let cancelled = status_of(pending.order_id.clone()).await;
    assert_eq!(cancelled.status, OrderStatus::Cancelled as i32);
    let refused = env.order(&env.customer, by_quantity(&showtime, 1)).await;
    assert_eq!(code(&refused), Code::FailedPrecondition);
}
