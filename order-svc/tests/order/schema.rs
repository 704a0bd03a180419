//! `src/db/schema.rs`, and the shared outbox's and idempotency keys', are
//! written by hand: they must say what the migrations build, table by table
//! and column by column.

use testkit::TestDb;

#[tokio::test]
async fn schema_rs_says_what_the_migrations_build() {
    let db = TestDb::new("order", &order_svc::MIGRATIONS).await;
    testkit::schema::assert_declared_as_migrated(
        &db.client().await,
        &[
            include_str!("../../src/db/schema.rs"),
            include_str!("../../../service-kit/src/outbox/schema.rs"),
            include_str!("../../../service-kit/src/idempotency/schema.rs"),
        ],
    )
    .await;
}
