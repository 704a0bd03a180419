//! Replicas starting together on an empty database: each one's `prepare`
//! migrates it, and two at once must both succeed and leave the schema one
//! alone would.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;

use service_kit::db::quote_ident;
use testkit::TestDb;
use tokio_postgres::{Client, NoTls};

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A database name nobody has created yet, dropped when this goes out of
/// scope. It follows TestDb's naming, so a killed run's leftover is
/// cleaned up by a later run.
struct FreshName {
    name: String,
    admin_url: String,
}

impl FreshName {
    fn new() -> Self {
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let random = uuid::Uuid::new_v4().simple().to_string();
        Self {
            name: format!("kursi_test_migrate_{created}_{}", &random[..16]),
            admin_url: admin_url(),
        }
    }

    fn url(&self) -> String {
        with_database(&self.admin_url, &self.name)
    }
}

impl Drop for FreshName {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let drop = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&self.name)
        );
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok((client, connection)) =
                        tokio_postgres::connect(&admin_url, NoTls).await
                    {
                        tokio::spawn(connection);
                        let _ = client.batch_execute(&drop).await;
                    }
                });
            }
        })
        .join();
    }
}

/// Every column of every table in `public`, every index and constraint by
/// name, and every applied migration version: enough to tell two schemas
/// apart.
async fn schema(client: &Client) -> (BTreeSet<String>, Vec<String>) {
    let mut shape = BTreeSet::new();
    for row in client
        .query(
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
             FROM information_schema.columns WHERE table_schema = 'public'",
            &[],
        )
        .await
        .unwrap()
    {
        shape.insert(row.get::<_, String>(0));
    }
    for row in client
        .query(
            "SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public' \
             UNION ALL SELECT 'constraint ' || conname || ': ' || pg_get_constraintdef(oid) \
             FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
            &[],
        )
        .await
        .unwrap()
    {
        shape.insert(row.get::<_, String>(0));
    }
    let versions = client
        .query(
            "SELECT version FROM __diesel_schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect();
    (shape, versions)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_migrating_one_empty_database_at_once_both_succeed_with_the_schema_one_would_make()
 {
    let fresh = FreshName::new();
    let url = fresh.url();
    // Empty, as a fresh server's database is once the first replica (or
    // the Job) created it: no tables, no migrations recorded.
    let admin = connect(&admin_url()).await;
    admin
        .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&fresh.name)))
        .await
        .unwrap();

    let migrations = &reservation_svc::MIGRATIONS;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let replica = |barrier: std::sync::Arc<tokio::sync::Barrier>, url: String| {
        tokio::spawn(async move {
            barrier.wait().await;
            service_kit::db::prepare(&url, migrations).await
        })
    };
    let (a, b) = tokio::join!(
        replica(barrier.clone(), url.clone()),
        replica(barrier.clone(), url.clone())
    );
    a.unwrap().expect("replica A prepares the database");
    b.unwrap().expect("replica B prepares the database");

    // The same schema a single run makes: TestDb's template was migrated
    // by one `run_migrations` alone.
    let raced = schema(&connect(&url).await).await;
    let reference = TestDb::new("reservation", migrations).await;
    let alone = schema(&reference.client().await).await;
    assert!(!alone.1.is_empty(), "the reference schema has migrations");
    assert_eq!(raced.1, alone.1, "every migration recorded exactly once");
    assert_eq!(
        raced.0, alone.0,
        "the same tables, columns, indexes, constraints"
    );

    // A third start, later, finds nothing to do and still succeeds.
    service_kit::db::prepare(&url, migrations)
        .await
        .expect("a later replica prepares the ready database");
    assert_eq!(schema(&connect(&url).await).await, raced);
}

/// Replicas starting on a server where their database does not exist yet:
/// each one's `ensure_database` creates it, and those that lose the race
/// (PostgreSQL answers a simultaneous CREATE DATABASE with a unique
/// violation, not only DUPLICATE_DATABASE) must start all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_creating_one_missing_database_at_once_all_succeed() {
    for _round in 0..5 {
        let fresh = FreshName::new();
        let url = fresh.url();
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(4));
        let racers: Vec<_> = (0..4)
            .map(|_| {
                let (barrier, url) = (barrier.clone(), url.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    service_kit::db::ensure_database(&url).await
                })
            })
            .collect();
        for racer in racers {
            racer
                .await
                .unwrap()
                .expect("every replica finds or creates its database");
        }
        let exists: i64 = connect(&admin_url())
            .await
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname = $1",
                &[&fresh.name],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(exists, 1);
    }
}
