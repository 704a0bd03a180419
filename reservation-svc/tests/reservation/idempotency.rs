//! A retried create with the same idempotency key returns the first
//! reservation, whether the key came in the field or the metadata; the same
//! key with another booking is refused and writes nothing; keys expire.

use kursi_proto::access::v1::Role;
use kursi_proto::reservation::v1::ContactInfo;
use reservation_svc::sweeper::Sweeper;
use service_kit::outbox::Outbox;
use testkit::bearer;

use crate::{Env, assert_key_reused, booking, local};

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

#[tokio::test]
async fn a_key_sent_again_with_another_booking_is_refused_and_writes_nothing() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let mut two = booking(local(2, 12, 0), 2);
    two.idempotency_key = "walk-1".into();
    let first = env.book(&env.customer, two.clone()).await;

    let rows = "SELECT (SELECT count(*) FROM reservations) + (SELECT count(*) FROM \
                reservation_history) + (SELECT count(*) FROM outbox)";
    let before = env.count(rows).await;
    let mut five = two.clone();
    five.party_size = Some(5);
    let mut later = two.clone();
    later.start_time = Some(crate::ts(local(2, 13, 0)));
    let mut noted = two.clone();
    noted.note = "by the window".into();
    for other in [five, later, noted] {
        let refused = client
            .create_reservation(bearer(&env.customer.access_token, other))
            .await
            .unwrap_err();
        assert_key_reused(&refused, "idempotency_key", "walk-1");
    }
    assert_eq!(env.count(rows).await, before);

    // The first request again is still answered with the first reservation.
    let again = env.book(&env.customer, two).await;
    assert_eq!(again.reservation_id, first.reservation_id);
}

#[tokio::test]
async fn a_default_left_out_and_given_are_the_same_booking() {
    let env = Env::start().await;
    let mut implicit = booking(local(2, 12, 0), 2);
    implicit.party_size = None;
    implicit.idempotency_key = "defaults".into();
    let mut explicit = implicit.clone();
    explicit.party_size = Some(2);
    explicit.duration_minutes = Some(90);
    // Contact details as parsed: spaces around the name, the phone's dashes.
    explicit.contact_info = Some(ContactInfo {
        name: "  Siti Rahma ".into(),
        phone: "+628123456789".into(),
        email: "siti@example.com".into(),
    });
    let first = env.book(&env.customer, implicit).await;
    let second = env.book(&env.customer, explicit).await;
    assert_eq!(first.reservation_id, second.reservation_id);
    assert_eq!(env.count("SELECT count(*) FROM reservations").await, 1);
}

#[tokio::test]
async fn racing_requests_with_one_key_make_one_reservation_and_the_others_are_refused() {
    let env = Env::start().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let mut request = booking(local(2, 12, 0), 2 + i % 2);
        request.idempotency_key = "burst-mixed".into();
        let mut client = env.client().await;
        let call = bearer(&env.customer.access_token, request);
        tasks.push(tokio::spawn(async move {
            (2 + i % 2, client.create_reservation(call).await)
        }));
    }
    let mut answered = Vec::new();
    let mut refused = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (party, Ok(reply)) => {
                let r = reply.into_inner().reservation.unwrap();
                assert_eq!(r.party_size, party);
                answered.push((party, r.reservation_id));
            }
            (party, Err(status)) => {
                assert_key_reused(&status, "idempotency_key", "burst-mixed");
                refused.push(party);
            }
        }
    }
    // The winner's request is answered every time; the other one, never.
    let (winner, id) = answered[0].clone();
    assert!(
        answered.iter().all(|a| *a == (winner, id.clone())),
        "{answered:?}"
    );
    assert!(refused.iter().all(|party| *party != winner), "{refused:?}");
    assert_eq!((answered.len(), refused.len()), (4, 4));
    assert_eq!(env.count("SELECT count(*) FROM reservations").await, 1);
    assert_eq!(env.count("SELECT count(*) FROM outbox").await, 1);
}

#[tokio::test]
async fn keys_expire_after_their_ttl_and_the_sweeper_deletes_them() {
    let (clock, hand) = service_kit::clock::Clock::adjustable();
    let env = Env::start_with(|config| {
        config.common.clock = clock;
        config.idempotency_key_ttl = chrono::Duration::hours(2);
    })
    .await;
    let mut client = env.client().await;
    let mut two = booking(local(3, 12, 0), 2);
    two.idempotency_key = "short-lived".into();
    let first = env.book(&env.customer, two.clone()).await;
    let mut five = two.clone();
    five.party_size = Some(5);
    let refused = client
        .create_reservation(bearer(&env.customer.access_token, five.clone()))
        .await
        .unwrap_err();
    assert_key_reused(&refused, "idempotency_key", "short-lived");

    let sweeper = Sweeper::new(
        Outbox::new(env.pool()),
        env.config.policy.clone(),
        env.config.common.clock.clone(),
    );
    assert_eq!(sweeper.prune_keys().await.unwrap(), 0);
    let keys = "SELECT count(*) FROM idempotency_keys";
    assert_eq!(env.count(keys).await, 1);

    // Two hours on, the key names nothing: it books anew, and names that.
    hand.advance(chrono::Duration::hours(2));
    let second = env.book(&env.customer, five.clone()).await;
    assert_ne!(second.reservation_id, first.reservation_id);
    assert_eq!(second.party_size, 5);
    let again = env.book(&env.customer, five).await;
    assert_eq!(again.reservation_id, second.reservation_id);

    hand.advance(chrono::Duration::hours(2));
    assert_eq!(env.count(keys).await, 1);
    assert_eq!(sweeper.prune_keys().await.unwrap(), 1);
    assert_eq!(env.count(keys).await, 0);
}

#[tokio::test]
async fn the_running_sweeper_deletes_expired_keys() {
    let (clock, hand) = service_kit::clock::Clock::adjustable();
    let env = Env::start_with(|config| {
        config.common.clock = clock;
        config.idempotency_key_ttl = chrono::Duration::hours(1);
        config.sweeper_interval = std::time::Duration::from_millis(100);
    })
    .await;
    let mut request = booking(local(3, 12, 0), 2);
    request.idempotency_key = "swept".into();
    env.book(&env.customer, request).await;
    let keys = "SELECT count(*) FROM idempotency_keys";
    assert_eq!(env.count(keys).await, 1);
    hand.advance(chrono::Duration::hours(1));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while env.count(keys).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sweeper left an expired key"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
