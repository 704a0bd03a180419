//! A retried create with the same idempotency key returns the first
//! reservation, whether the key came in the field or the metadata.

use kursi_proto::access::v1::Role;
use testkit::bearer;

use crate::{Env, booking, local};

#[tokio::test]
async fn a_retry_with_the_same_key_returns_the_first_reservation() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let mut request = booking(local(2, 12, 0), 2);
    request.idempotency_key = "order-42".into();
    let first = env.book(&env.customer, request.clone()).await;
    let retry = env.book(&env.customer, request.clone()).await;
    assert_eq!(first.reservation_id, retry.reservation_id);

    // The edge forwards the HTTP Idempotency-Key header as metadata.
    let mut by_header = booking(local(2, 12, 0), 2);
    by_header.idempotency_key = String::new();
    let send = |key: &str| {
        let mut call = bearer(&env.customer.access_token, by_header.clone());
        call.metadata_mut()
            .insert("idempotency-key", key.parse().unwrap());
        call
    };
    let a = client
        .create_reservation(send("hdr-1"))
        .await
        .unwrap()
        .into_inner();
    let b = client
        .create_reservation(send("hdr-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        a.reservation.unwrap().reservation_id,
        b.reservation.unwrap().reservation_id
    );

    // Keys are per customer: another customer's same key is their own booking.
    let other = env.auth.sign_up(Role::Customer).await;
    let theirs = env.book(&other, request).await;
    assert_ne!(theirs.reservation_id, first.reservation_id);

    assert_eq!(env.count("SELECT count(*) FROM reservations").await, 3);
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, 3);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_create_one_reservation() {
    let env = Env::start().await;
    let mut request = booking(local(2, 12, 0), 2);
    request.idempotency_key = "burst".into();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut client = env.client().await;
        let call = bearer(&env.customer.access_token, request.clone());
        tasks.push(tokio::spawn(async move {
            client.create_reservation(call).await
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap().expect("every retry answers OK");
        ids.push(reply.into_inner().reservation.unwrap().reservation_id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(env.count("SELECT count(*) FROM reservations").await, 1);
}
