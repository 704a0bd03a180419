//! Waiting for a pooled connection: a busy pool is waited for, a database
//! that cannot be reached is refused UNAVAILABLE at once.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use service_kit::ServiceError;
use service_kit::db::{self, Migrations, ScopedFutureExt};
use testkit::TestDb;

static NOTHING_BUT_KEYS: Migrations =
    Migrations::new(&[("idempotency", &service_kit::idempotency::MIGRATIONS)]);

/// A pool of one whose connect timeout is a tenth of a second: held for
/// ten times that by one caller, the next waits its turn rather than
/// being refused as if the database were away.
#[tokio::test]
async fn a_busy_pool_is_waited_for_past_the_connect_timeout() {
    let db = TestDb::new("dbpool", &NOTHING_BUT_KEYS).await;
    let pool = db::pool_with(db.url(), 1, Duration::from_millis(100));
    let (held, holding) = tokio::sync::oneshot::channel();
    let owner = pool.clone();
    let released = tokio::spawn(async move {
        let holder = db::connection(&owner).await.expect("the only connection");
        held.send(()).unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(holder);
    });
    holding.await.unwrap();
    let read: Result<i32, ServiceError> = db::read(&pool, |conn| {
        async move {
            use diesel_async::RunQueryDsl;
            let one: i32 = diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
                .get_result(conn)
                .await?;
            Ok(one)
        }
        .scope_boxed()
    })
    .await;
    assert_eq!(read.expect("served once the connection is free"), 1);
    released.await.unwrap();
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_is_unavailable() {
    // Nothing listens on port 1.
    let pool = db::pool_with(
        "postgres://postgres@127.0.0.1:1/nowhere",
        2,
        Duration::from_millis(200),
    );
    let refused = db::connection(&pool).await.map(drop).unwrap_err();
    assert!(
        matches!(refused, ServiceError::Unavailable(_)),
        "{refused:?}"
    );
}
