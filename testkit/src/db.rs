//! One database per test, cloned from a migrated template.
//!
//! The template's name carries a hash of the migration files, so a changed
//! migration gets a fresh template. Building it is serialized across test
//! processes by an advisory lock, and it is renamed into place only once
//! fully migrated, so a template that exists is always complete.

use std::path::Path;
use std::time::Duration;

use service_kit::db::Migrations;
use service_kit::db::quote_ident;
use sha2::{Digest, Sha256};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

/// The server tests create databases on: `TEST_DATABASE_URL`, or the local
/// PostgreSQL that `scripts/test` finds or starts.
fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
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
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|err| panic!("tests need PostgreSQL at TEST_DATABASE_URL ({url}): {err}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A database that exists for one test and is dropped with it.
pub struct TestDb {
    name: String,
    url: String,
    admin_url: String,
}

impl TestDb {
    /// A fresh, migrated database for `service`, named in the template's
    /// name; `migrations` is the service's schema.
    pub async fn new(service: &str, migrations: &Migrations) -> Self {
        let admin_url = admin_url();
        let admin = connect(&admin_url).await;
        let template = ensure_template(&admin, &admin_url, service, migrations).await;
        drop_stale_test_databases(&admin).await;
        let name = test_database_name(service, unix_seconds());
        let create = format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_ident(&name),
            quote_ident(&template)
        );
        retry_while_in_use(&admin, &create).await;
        Self {
            url: with_database(&admin_url, &name),
            name,
            admin_url,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A plain client on this database, for assertions on the rows themselves.
    pub async fn client(&self) -> Client {
        connect(&self.url).await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let drop = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&self.name)
        );
        // Drop runs inside the test's runtime; a thread of its own may block.
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

/// Test databases are named `kursi_test_<service>_<created, unix seconds>_<random>`,
/// so a later run can tell the leftovers of a killed one.
const TEST_DATABASE_PREFIX: &str = "kursi_test_";

/// A test database older than this, that nobody is connected to, was left
/// behind by a run that was killed (its `Drop` never ran). No test runs
/// this long.
const STALE_AFTER_SECONDS: u64 = 30 * 60;

fn test_database_name(service: &str, created: u64) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    // 63 bytes is PostgreSQL's limit for a name; longer ones are cut.
    format!(
        "{TEST_DATABASE_PREFIX}{service}_{created}_{}",
        &random[..16]
    )
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// When a test database was created, from its name; `None` for a name of
/// the earlier scheme, which carried no time.
fn created_at(name: &str) -> Option<u64> {
    let mut parts = name.rsplit('_');
    let _random = parts.next()?;
    parts.next()?.parse().ok()
}

fn is_stale(name: &str, now: u64) -> bool {
    created_at(name).is_none_or(|created| now.saturating_sub(created) > STALE_AFTER_SECONDS)
}

/// Drops the test databases that killed runs left behind: old enough, and
/// nobody connected (DROP without FORCE refuses otherwise, and a test still
/// using one keeps it). One test process at a time does it.
async fn drop_stale_test_databases(admin: &Client) {
    let claimed = admin
        .query_one(
            "SELECT pg_try_advisory_lock(hashtext('kursi_test_sweep'))",
            &[],
        )
        .await
        .is_ok_and(|row| row.get::<_, bool>(0));
    if !claimed {
        return;
    }
    let pattern = format!("{TEST_DATABASE_PREFIX}%");
    let rows = admin
        .query(
            "SELECT datname::text FROM pg_database d WHERE datname LIKE $1
                AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
            &[&pattern],
        )
        .await
        .unwrap_or_default();
    let now = unix_seconds();
    for name in rows.iter().map(|row| row.get::<_, String>(0)) {
        if is_stale(&name, now) {
            let _ = admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {}", quote_ident(&name)))
                .await;
        }
    }
    let _ = admin
        .execute(
            "SELECT pg_advisory_unlock(hashtext('kursi_test_sweep'))",
            &[],
        )
        .await;
}

async fn ensure_template(
    admin: &Client,
    admin_url: &str,
    service: &str,
    migrations: &Migrations,
) -> String {
    let template = format!("kursi_tmpl_{service}_{}", migrations_hash(migrations));
    if database_exists(admin, &template).await {
        return template;
    }
    admin
        .execute("SELECT pg_advisory_lock(hashtext($1))", &[&template])
        .await
        .expect("advisory lock");
    if !database_exists(admin, &template).await {
        let building = format!("{template}_wip");
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&building)
            ))
            .await
            .expect("drop a half-built template");
        admin
            .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&building)))
            .await
            .expect("create template");
        service_kit::db::run_migrations(&with_database(admin_url, &building), migrations)
            .await
            .expect("migrate template");
        let rename = format!(
            "ALTER DATABASE {} RENAME TO {}",
            quote_ident(&building),
            quote_ident(&template)
        );
        retry_while_in_use(admin, &rename).await;
        admin
            .batch_execute(&format!(
                "COMMENT ON DATABASE {} IS '{TEMPLATE_COMMENT}{}'",
                quote_ident(&template),
                unix_seconds()
            ))
            .await
            .expect("comment on the template");
        drop_stale_templates(admin, service, &template).await;
    }
    admin
        .execute("SELECT pg_advisory_unlock(hashtext($1))", &[&template])
        .await
        .expect("advisory unlock");
    template
}

/// Templates of other migration sets: of no more use once a day has gone
/// by, but meanwhile maybe in use by a run of another checkout (a branch
/// with other migrations), so never dropped sooner, nor while anyone is
/// connected. A template's creation time is its comment.
async fn drop_stale_templates(admin: &Client, service: &str, current: &str) {
    let prefix = format!("kursi_tmpl_{service}_%");
    let rows = admin
        .query(
            "SELECT datname::text, shobj_description(oid, 'pg_database') FROM pg_database
              WHERE datname LIKE $1 AND datname <> $2",
            &[&prefix, &current],
        )
        .await
        .unwrap_or_default();
    let now = unix_seconds();
    for row in rows {
        let name: String = row.get(0);
        let created = row
            .get::<_, Option<String>>(1)
            .and_then(|comment| comment.strip_prefix(TEMPLATE_COMMENT)?.parse::<u64>().ok());
        if created.is_some_and(|created| now.saturating_sub(created) < STALE_TEMPLATE_SECONDS) {
            continue;
        }
        let _ = admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {}", quote_ident(&name)))
            .await;
    }
}

const TEMPLATE_COMMENT: &str = "kursi test template, created ";
const STALE_TEMPLATE_SECONDS: u64 = 24 * 60 * 60;

async fn database_exists(admin: &Client, name: &str) -> bool {
    admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .expect("query pg_database")
        .is_some()
}

/// CREATE DATABASE … TEMPLATE and RENAME refuse while anyone is still
/// connected to the source, which happens for a moment after migrating.
async fn retry_while_in_use(admin: &Client, sql: &str) {
    for _ in 0..100 {
        match admin.batch_execute(sql).await {
            Ok(()) => return,
            Err(err) if err.code() == Some(&SqlState::OBJECT_IN_USE) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("{sql}: {err}"),
        }
    }
    panic!("{sql}: the source database stayed in use");
}

/// A short hash of the schema's migration files, names and contents.
fn migrations_hash(migrations: &Migrations) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut hasher = Sha256::new();
    for folder in migrations.folders() {
        let dir = root.join(folder);
        let mut files = Vec::new();
        collect(&dir, &mut files);
        files.sort();
        for file in files {
            hasher.update(
                file.strip_prefix(&root)
                    .unwrap_or(&file)
                    .to_string_lossy()
                    .as_bytes(),
            );
            hasher.update(std::fs::read(&file).unwrap_or_default());
        }
    }
    hasher.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn leftovers_are_told_by_the_time_in_their_name() {
        let now = 1_800_000_000;
        let fresh = super::test_database_name("reservation", now - 60);
        let old = super::test_database_name("reservation", now - 3_600);
        assert!(fresh.len() <= 63, "{fresh}");
        assert_eq!(super::created_at(&fresh), Some(now - 60));
        assert!(!super::is_stale(&fresh, now));
        assert!(super::is_stale(&old, now));
        // The earlier scheme: kursi_test_<service>_<uuid>.
        assert!(super::is_stale(
            "kursi_test_order_0123456789abcdef0123456789abcdef",
            now
        ));
    }

    use super::with_database;

    #[test]
    fn database_names_are_swapped_in_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h:1/db?sslmode=disable", "x"),
            "postgres://u:p@h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:1", "x"), "postgres://h:1/x");
    }
}
