//! The database side of a service: its connection pool, creating its database
//! when the server does not have it yet, and running its embedded migrations.
//!
//! Everything goes through tokio-postgres (diesel-async underneath), so no
//! libpq is needed to build or run a service.

mod prepared;
mod probe;
mod retry;
mod violation;

pub use prepared::{Bind, Binds, Prepared, bind, prepared};
pub use probe::{PROBE_INTERVAL, watch_database};
pub use retry::{Lost, ScopedBoxFuture, ScopedFutureExt, Work, read, transaction, write_once};
pub use violation::{ConstraintKind, RefuseExt, Violation, refuse, violation};

use std::time::Duration;

use diesel::Connection;
use diesel::migration::MigrationSource;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolableConnection, RecyclingMethod,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

pub type Pool = diesel_async::pooled_connection::bb8::Pool<AsyncPgConnection>;
pub type PooledConnection<'a> =
    diesel_async::pooled_connection::bb8::PooledConnection<'a, AsyncPgConnection>;

/// Why the database could not be prepared at start-up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot reach the database server: {0}")]
    Unreachable(String),
    #[error("cannot create database {name}: {reason}")]
    Create { name: String, reason: String },
    #[error("migrations failed: {0}")]
    Migrations(String),
}

/// A parsed `postgres://` URL, kept to reach the same server's maintenance database.
#[derive(Debug, Clone)]
pub struct DatabaseUrl {
    config: tokio_postgres::Config,
    name: String,
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|err| format!("not a PostgreSQL URL: {err}"))?;
        let name = config.get_dbname().map(str::to_owned).ok_or_else(|| {
            "the URL names no database, as in postgres://HOST/kursi_auth".to_owned()
        })?;
        Ok(Self { config, name })
    }

    /// A client on the server's `postgres` database, for CREATE/DROP DATABASE.
    pub async fn connect_maintenance(&self) -> Result<tokio_postgres::Client, SetupError> {
        let mut config = self.config.clone();
        config.dbname("postgres");
        config.connect_timeout(Duration::from_secs(5));
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|err| SetupError::Unreachable(err.to_string()))?;
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "maintenance connection closed");
            }
        });
        Ok(client)
    }
}

/// Quotes a PostgreSQL identifier (database names come from settings).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A service's schema: sets of embedded migrations applied in order, each
/// from its folder under `migrations/` (the shared outbox's first, then the
/// service's own).
///
/// They share one `__diesel_schema_migrations` table, so a version that
/// appears in two sets would be taken as applied by the second: such a set
/// is refused before anything runs.
#[derive(Clone, Copy)]
pub struct Migrations {
    parts: &'static [(&'static str, &'static EmbeddedMigrations)],
}

impl Migrations {
    /// `parts` are `(folder under migrations/, its embedded migrations)`.
    pub const fn new(parts: &'static [(&'static str, &'static EmbeddedMigrations)]) -> Self {
        Self { parts }
    }

    /// The folders under `migrations/` this schema is built from, in order.
    pub fn folders(&self) -> impl Iterator<Item = &'static str> {
        self.parts.iter().map(|(folder, _)| *folder)
    }

    /// Fails when two sets hold the same version.
    pub fn check(&self) -> Result<(), SetupError> {
        let mut seen = std::collections::HashMap::new();
        for (folder, set) in self.parts {
            let list = MigrationSource::<diesel::pg::Pg>::migrations(*set)
                .map_err(|err| SetupError::Migrations(err.to_string()))?;
            for migration in list {
                let version = migration.name().version().to_string();
                if let Some(other) = seen.insert(version.clone(), *folder) {
                    return Err(SetupError::Migrations(format!(
                        "migration version {version} appears in both migrations/{other} and migrations/{folder}"
                    )));
                }
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for Migrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.folders()).finish()
    }
}

/// Lets a `static` set of embedded migrations be run more than once.
struct Embedded(&'static EmbeddedMigrations);

impl MigrationSource<diesel::pg::Pg> for Embedded {
    fn migrations(
        &self,
    ) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<diesel::pg::Pg>>>> {
        MigrationSource::<diesel::pg::Pg>::migrations(self.0)
    }
}

/// Creates the URL's database when the server does not have it yet.
pub async fn ensure_database(url: &str) -> Result<(), SetupError> {
    let url = DatabaseUrl::parse(url).map_err(SetupError::Unreachable)?;
    let client = url.connect_maintenance().await?;
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&url.name])
        .await
        .map_err(|err| SetupError::Unreachable(err.to_string()))?
        .is_some();
    if exists {
        return Ok(());
    }
    let create = format!("CREATE DATABASE {}", quote_ident(&url.name));
    match client.batch_execute(&create).await {
        Ok(()) => {
            tracing::info!(database = %url.name, "created database");
            Ok(())
        }
        // Another replica created it between our check and our CREATE:
        // DUPLICATE_DATABASE when its CREATE had committed, or, when the
        // two ran at the same moment, a UNIQUE_VIOLATION on
        // pg_database_datname_index (PostgreSQL 15 answers so).
        Err(err)
            if err.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE)
                || err.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) =>
        {
            Ok(())
        }
        Err(err) => Err(SetupError::Create {
            name: url.name.clone(),
            reason: err.to_string(),
        }),
    }
}

/// Runs the pending migrations, one replica at a time.
///
/// diesel's migration harness is synchronous, so it runs on a blocking thread
/// over diesel-async's connection wrapper. A session-level advisory lock keeps
/// replicas starting together from racing through the same migration.
pub async fn run_migrations(url: &str, migrations: &Migrations) -> Result<(), SetupError> {
    migrations.check()?;
    let migrations = *migrations;
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || -> Result<(), SetupError> {
        use diesel::RunQueryDsl;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|err| SetupError::Unreachable(err.to_string()))?;
        let lock = "SELECT pg_advisory_lock(hashtext('kursi.migrations'))";
        diesel::sql_query(lock)
            .execute(&mut conn)
            .map_err(|err| SetupError::Migrations(err.to_string()))?;
        for (folder, set) in migrations.parts {
            let applied = conn
                .run_pending_migrations(Embedded(set))
                .map_err(|err| SetupError::Migrations(format!("migrations/{folder}: {err}")))?;
            for version in applied {
                tracing::info!(%version, folder, "applied migration");
            }
        }
        // Closing the connection releases the advisory lock.
        Ok(())
    })
    .await
    .map_err(|err| SetupError::Migrations(err.to_string()))?
}

/// Creates the database if needed and brings its schema up to date.
pub async fn prepare(url: &str, migrations: &Migrations) -> Result<(), SetupError> {
    ensure_database(url).await?;
    run_migrations(url, migrations).await
}

/// A pool that connects lazily, so a service can start (and report
/// NOT_SERVING) while its database is still coming up.
///
/// A connection handed out is not pinged with `SELECT 1` (diesel-async's
/// default): that was a second round trip on every request, as costly to
/// PostgreSQL as a small read itself. It is only checked for what is known
/// without asking the server: closed (the server ended the session, say on
/// restart) or left in a broken transaction. Such a connection is thrown
/// away and another one is handed out.
///
/// A request waits at most `connect_timeout` for a connection, so that with
/// the database away it is told UNAVAILABLE at once rather than at its
/// deadline.
pub fn pool_with(url: &str, size: u32, connect_timeout: Duration) -> Pool {
    let mut config = ManagerConfig::default();
    config.recycling_method =
        RecyclingMethod::CustomFunction(Box::new(|conn: &mut AsyncPgConnection| {
            let broken = conn.is_broken();
            Box::pin(async move {
                if broken {
                    Err(diesel::result::Error::BrokenTransactionManager)
                } else {
                    Ok(())
                }
            })
        }));
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    bb8::Pool::builder()
        .max_size(size)
        .connection_timeout(connect_timeout)
        .build_unchecked(manager)
}

/// A connection from the pool, told apart from the two reasons there may
/// be none: the pool's own wait is the connect timeout
/// (`DATABASE_CONNECT_TIMEOUT_SECONDS`), so with the database away (no
/// connection open, none can be opened) the caller hears UNAVAILABLE at
/// once; a pool that holds open connections but none idle is busy, not
/// broken, and the caller waits on for one, up to [`BUSY_POOL_WAIT`] (a
/// request's deadline ends the wait sooner). Connections of a database
/// that went away fail their next use and are dropped, so a busy pool of
/// dead connections empties and refuses within a connect timeout too.
pub async fn connection(pool: &Pool) -> Result<PooledConnection<'_>, crate::ServiceError> {
    let started = std::time::Instant::now();
    loop {
        match pool.get().await {
            Ok(conn) => return Ok(conn),
            Err(bb8::RunError::TimedOut)
                if pool.state().connections > 0 && started.elapsed() < BUSY_POOL_WAIT => {}
            Err(err) => return Err(err.into()),
        }
    }
}

/// How long a request waits for a busy pool at most.
pub const BUSY_POOL_WAIT: Duration = Duration::from_secs(30);

/// The service's pool, as its settings say (`DATABASE_URL`,
/// `DATABASE_POOL_SIZE`, `DATABASE_CONNECT_TIMEOUT_SECONDS`).
pub fn pool_for(config: &crate::config::CommonConfig) -> Pool {
    pool_with(
        config.database_url.expose(),
        config.database_pool_size,
        config.database_connect_timeout,
    )
}

/// [`pool_with`] the default connect timeout: for tests and tools.
pub fn pool(url: &str, size: u32) -> Pool {
    pool_with(url, size, DEFAULT_CONNECT_TIMEOUT)
}

/// `DATABASE_CONNECT_TIMEOUT_SECONDS`' default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// [`prepare`], waiting for a database server that is still starting (as in
/// a fresh `docker compose up`) instead of failing at once.
pub async fn prepare_when_reachable(url: &str, migrations: &Migrations) -> Result<(), SetupError> {
    const ATTEMPTS: u32 = 30;
    let mut attempt = 1;
    loop {
        match prepare(url, migrations).await {
            Err(SetupError::Unreachable(reason)) if attempt < ATTEMPTS => {
                tracing::warn!(%reason, attempt, "database not reachable yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}
