//! `src/db/schema.rs` are written by hand: they must say what the
//! migrations build, table by table and column by column.

use testkit::TestDb;

#[tokio::test]
async fn schema_rs_says_what_the_migrations_build() {
    let db = TestDb::new("auth", &auth_svc::db::MIGRATIONS).await;
    testkit::schema::assert_declared_as_migrated(
        &db.client().await,
        &[include_str!("../../src/db/schema.rs")],
    )
    .await;
}
