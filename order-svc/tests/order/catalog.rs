//! catalog-svc down or slow: CreateOrder is UNAVAILABLE saying so, and
//! nothing is written; orders work again once the catalog is back.

use std::time::Duration;

use tokio::net::TcpListener;
use tonic::Code;

use crate::{Env, Options, by_quantity, by_seats};

fn says_the_catalog_is_unavailable(status: &tonic::Status) {
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        status.message().contains("the catalog is unavailable"),
        "{status:?}"
    );
}

#[tokio::test]
async fn with_the_catalog_down_orders_are_unavailable_and_nothing_is_written_until_it_is_back() {
    let mut env = Env::start().await;
    let known = env.showtime(5, 8).await;
    let never_ordered = env.showtime(5, 8).await;
    env.order(&env.customer, by_quantity(&known, 2))
        .await
        .unwrap();
    let before = env.written().await;

    env.stop_catalog().await;
    for request in [
        by_quantity(&known, 1),
        by_seats(&known, &["A1"]),
        by_quantity(&never_ordered, 1),
    ] {
        let refused = env.order(&env.customer, request).await.unwrap_err();
        says_the_catalog_is_unavailable(&refused);
    }
    assert_eq!(env.written().await, before, "nothing is written");
    // The seat map of a showtime order-svc knows needs no catalog; of one
    // it has never seen, it does.
    let map = env
        .seat_map(&env.customer, &known.showtime_id)
        .await
        .unwrap();
    assert_eq!(map.held_count, 2);
    let refused = env
        .seat_map(&env.customer, &never_ordered.showtime_id)
        .await
        .unwrap_err();
    says_the_catalog_is_unavailable(&refused);

    env.restart_catalog().await;
    let order = env
        .order(&env.customer, by_quantity(&known, 1))
        .await
        .unwrap();
    assert_eq!(order.quantity, 1);
    env.order(&env.customer, by_quantity(&never_ordered, 1))
        .await
        .unwrap();
    assert_eq!(env.count("SELECT count(*) FROM orders").await, 3);
}

/// A "catalog" that accepts connections and never says a word.
async fn silent_catalog() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, task)
}

#[tokio::test]
async fn a_catalog_slower_than_its_timeout_is_unavailable_and_nothing_is_written() {
    let (url, silent) = silent_catalog().await;
    let env = Env::start_with(Options { nats: false }, move |config| {
        config.catalog_url = url;
        config.catalog_timeout = Duration::from_millis(300);
    })
    .await;
    // Scheduled in the real catalog; order-svc asks the silent one.
    let showtime = env.showtime(5, 8).await;
    for request in [by_quantity(&showtime, 2), by_seats(&showtime, &["C5"])] {
        let refused = env.order(&env.customer, request).await.unwrap_err();
        says_the_catalog_is_unavailable(&refused);
    }
    let refused = env
        .seat_map(&env.customer, &showtime.showtime_id)
        .await
        .unwrap_err();
    says_the_catalog_is_unavailable(&refused);
    assert_eq!(env.written().await, [0, 0, 0, 0]);
    assert_eq!(env.count("SELECT count(*) FROM showtimes").await, 0);
    silent.abort();
}
