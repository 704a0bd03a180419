//! Idempotency keys on a real PostgreSQL: a key answers its first request,
//! refuses another, queues racing creates behind the first, and expires.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use chrono::{Duration, Utc};
use diesel_async::AsyncConnection;
use service_kit::ServiceError;
use service_kit::db::{Migrations, Pool};
use service_kit::idempotency::{self, Claim, Fingerprint, Keyed};
use service_kit::values::IdempotencyKey;
use testkit::TestDb;
use uuid::Uuid;

static KEYS_ONLY: Migrations = Migrations::new(&[("idempotency", &idempotency::MIGRATIONS)]);

fn key(raw: &str) -> IdempotencyKey {
    IdempotencyKey::parse(raw).unwrap().unwrap()
}

fn order_of(quantity: i32) -> Fingerprint {
    Fingerprint::of("CreateOrder")
        .field("quantity", quantity)
        .finish()
}

async fn pool() -> (TestDb, Pool) {
    let db = TestDb::new("idempotency", &KEYS_ONLY).await;
    let pool = service_kit::db::pool(db.url(), 4);
    (db, pool)
}

#[tokio::test]
async fn a_key_answers_its_first_request_and_refuses_another() {
    let (_db, pool) = pool().await;
    let conn = pool.get().await.unwrap();
    let caller = Uuid::now_v7();
    let walk = key("walk-1");
    let two = Keyed {
        operation: "CreateOrder",
        caller,
        key: &walk,
        fingerprint: order_of(2),
    };
    let now = Utc::now();
    assert_eq!(idempotency::first(&conn, &two, now).await.unwrap(), None);
    let order = Uuid::now_v7();
    let claim = idempotency::claim(&conn, &two, order, now, Duration::hours(24));
    assert_eq!(claim.await.unwrap(), Claim::Claimed);
    assert_eq!(
        idempotency::first(&conn, &two, now).await.unwrap(),
        Some(order)
    );

    let five = Keyed {
        fingerprint: order_of(5),
        ..two
    };
    let refused = idempotency::first(&conn, &five, now).await.unwrap_err();
    assert!(
        matches!(refused, ServiceError::IdempotencyKeyReused { ref key, .. } if key == "walk-1"),
        "{refused:?}"
    );
    // Another caller's key of the same name, or another operation's, is
    // another key.
    let someone_else = Keyed {
        caller: Uuid::now_v7(),
        ..five
    };
    assert_eq!(
        idempotency::first(&conn, &someone_else, now).await.unwrap(),
        None
    );
    let booking = Keyed {
        operation: "CreateReservation",
        ..five
    };
    assert_eq!(
        idempotency::first(&conn, &booking, now).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn racing_creates_with_one_key_queue_and_only_the_first_holds_it() {
    let (_db, pool) = pool().await;
    let caller = Uuid::now_v7();
    let walk = key("race");
    let keyed = Keyed {
        operation: "CreateOrder",
        caller,
        key: &walk,
        fingerprint: order_of(2),
    };
    let now = Utc::now();
    let mut first = pool.get().await.unwrap();
    let mut second = pool.get().await.unwrap();
    let first_tx = async {
        first
            .transaction(async |conn| {
                let claim =
                    idempotency::claim(conn, &keyed, Uuid::now_v7(), now, Duration::hours(1))
                        .await?;
                // Holds the key a moment, so the other waits on it.
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                Ok::<_, diesel::result::Error>(claim)
            })
            .await
            .unwrap()
    };
    let second_tx = async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        second
            .transaction(async |conn| {
                idempotency::claim(conn, &keyed, Uuid::now_v7(), now, Duration::hours(1)).await
            })
            .await
            .unwrap()
    };
    // Whichever claims first holds the key; the other waited for its commit.
    let (a, b) = tokio::join!(first_tx, second_tx);
    let claimed = [a, b].iter().filter(|c| **c == Claim::Claimed).count();
    assert_eq!(claimed, 1, "{a:?} {b:?}");
}

#[tokio::test]
async fn keys_expire_can_be_used_again_and_are_pruned() {
    let (_db, pool) = pool().await;
    let conn = pool.get().await.unwrap();
    let walk = key("walk-1");
    let keyed = Keyed {
        operation: "CreateOrder",
        caller: Uuid::now_v7(),
        key: &walk,
        fingerprint: order_of(2),
    };
    let then = Utc::now() - Duration::hours(25);
    let claim = idempotency::claim(&conn, &keyed, Uuid::now_v7(), then, Duration::hours(24));
    assert_eq!(claim.await.unwrap(), Claim::Claimed);
    let now = Utc::now();
    // Expired: not an answer, and not a refusal of another request.
    let other = Keyed {
        fingerprint: order_of(5),
        ..keyed
    };
    assert_eq!(idempotency::first(&conn, &other, now).await.unwrap(), None);
    let again = Uuid::now_v7();
    let claim = idempotency::claim(&conn, &other, again, now, Duration::hours(24));
    assert_eq!(claim.await.unwrap(), Claim::Claimed);
    assert_eq!(
        idempotency::first(&conn, &other, now).await.unwrap(),
        Some(again)
    );
    // Nothing has expired now; a day later, the key has.
    assert_eq!(idempotency::prune(&conn, now).await.unwrap(), 0);
    assert_eq!(
        idempotency::prune(&conn, now + Duration::hours(25))
            .await
            .unwrap(),
        1
    );
    assert_eq!(idempotency::first(&conn, &other, now).await.unwrap(), None);
}
