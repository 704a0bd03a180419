//! Database work that loses its connection under it: a read, and a
//! transaction that never reached COMMIT, are run again on a fresh
//! connection; a COMMIT whose outcome is unknown is not, and says so.
//! The server ends the session the way an operator or a restart would
//! (`pg_terminate_backend`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::time::Duration;

use service_kit::ServiceError;
use service_kit::db::{self, Migrations, Pool, ScopedFutureExt};
use testkit::TestDb;

static NOTHING_BUT_KEYS: Migrations =
    Migrations::new(&[("idempotency", &service_kit::idempotency::MIGRATIONS)]);

async fn database() -> (TestDb, Pool) {
    let db = TestDb::new("dbretry", &NOTHING_BUT_KEYS).await;
    db.client()
        .await
        .batch_execute("CREATE TABLE bookings (label text PRIMARY KEY)")
        .await
        .unwrap();
    let pool = db::pool(db.url(), 2);
    (db, pool)
}

/// The statements the work runs (`RunQueryDsl` kept in here: its methods
/// would shadow the atomics' `load` outside).
mod sql {
    use diesel::sql_types::{Integer, Text};
    use diesel_async::{AsyncPgConnection, RunQueryDsl};
    use service_kit::ServiceError;
    use service_kit::db::{bind, prepared};

    /// Ends this connection's own session, as pg_terminate_backend from
    /// elsewhere would: the statement fails and the connection is gone.
    pub async fn end_my_session(conn: &mut AsyncPgConnection) -> Result<(), ServiceError> {
        diesel::sql_query("SELECT pg_terminate_backend(pg_backend_pid())")
            .execute(conn)
            .await
            .map(drop)
            .map_err(ServiceError::from)
    }

    /// Ends every session of this database, this one last, as a restart
    /// or a failover would.
    pub async fn end_every_session(conn: &mut AsyncPgConnection) -> Result<(), ServiceError> {
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() ORDER BY pid = pg_backend_pid()",
        )
        .execute(conn)
        .await
        .map(drop)
        .map_err(ServiceError::from)
    }

    pub async fn seven(conn: &mut AsyncPgConnection) -> Result<usize, ServiceError> {
        prepared("SELECT ?", (bind::<Integer, _>(7),))
            .execute(conn)
            .await
            .map_err(ServiceError::from)
    }

    pub async fn book(conn: &mut AsyncPgConnection, label: &str) -> Result<(), ServiceError> {
        prepared("INSERT INTO bookings VALUES (?)", (bind::<Text, _>(label),))
            .execute(conn)
            .await
            .map(drop)
            .map_err(ServiceError::from)
    }

    pub async fn my_pid(conn: &mut AsyncPgConnection) -> Result<i32, ServiceError> {
        let pid: Vec<i32> = diesel::select(diesel::dsl::sql::<Integer>("pg_backend_pid()"))
            .load(conn)
            .await?;
        Ok(pid[0])
    }
}

async fn count(db: &TestDb) -> i64 {
    db.client()
        .await
        .query_one("SELECT count(*) FROM bookings", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_read_that_loses_its_connection_is_read_again() {
    let (_db, pool) = database().await;
    let attempts = &AtomicUsize::new(0);
    let answer: Result<usize, ServiceError> = db::read(&pool, |conn| {
        async move {
            if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                sql::end_my_session(conn).await?;
            }
            sql::seven(conn).await
        }
        .scope_boxed()
    })
    .await;
    assert_eq!(answer.unwrap(), 1);
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_transaction_that_lost_its_connection_before_commit_runs_again_once() {
    let (db, pool) = database().await;
    let attempts = &AtomicUsize::new(0);
    let answer: Result<(), ServiceError> = db::transaction(&pool, |conn| {
        async move {
            sql::book(conn, "T1").await?;
            if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                sql::end_my_session(conn).await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await;
    answer.unwrap();
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(
        count(&db).await,
        1,
        "the first attempt's insert was rolled back"
    );

    // Lost twice: answered UNAVAILABLE, nothing written.
    let lost: Result<(), ServiceError> = db::transaction(&pool, |conn| {
        async move {
            sql::book(conn, "T2").await?;
            sql::end_my_session(conn).await
        }
        .scope_boxed()
    })
    .await;
    assert!(
        matches!(lost, Err(ServiceError::ConnectionLost)),
        "{lost:?}"
    );
    assert_eq!(count(&db).await, 1);
}

#[tokio::test]
async fn a_commit_whose_outcome_is_unknown_is_not_run_again() {
    let (db, pool) = database().await;
    // A deferred trigger runs at COMMIT and takes its time, so the session
    // can be ended while the COMMIT is under way.
    db.client()
        .await
        .batch_execute(
            "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS
               $$ BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$;
             CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON bookings
               DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();",
        )
        .await
        .unwrap();
    let attempts = &AtomicUsize::new(0);
    let backend = &AtomicI32::new(0);
    let killer = async {
        // Once the work is done (COMMIT is then sent), end its session.
        while attempts.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        db.client()
            .await
            .execute(
                "SELECT pg_terminate_backend($1)",
                &[&backend.load(Ordering::SeqCst)],
            )
            .await
            .unwrap();
    };
    let work = db::transaction(&pool, |conn| {
        async move {
            backend.store(sql::my_pid(conn).await?, Ordering::SeqCst);
            sql::book(conn, "T1").await?;
            attempts.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ServiceError>(())
        }
        .scope_boxed()
    });
    let (answer, ()) = tokio::join!(work, killer);
    assert!(
        matches!(answer, Err(ServiceError::CommitOutcomeUnknown)),
        "{answer:?}"
    );
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        1,
        "a COMMIT was sent twice"
    );
    assert_eq!(count(&db).await, 0);
}

/// Every session of the database ends at once (a restart, a failover, an
/// operator) under a read, while the pool holds the others idle: the second
/// attempt must not be on another of the dead ones, whose end the client
/// has not seen yet.
#[tokio::test]
async fn when_every_pooled_connection_dies_at_once_the_second_attempt_is_on_a_fresh_one() {
    let (db, _) = database().await;
    let pool = db::pool(db.url(), 4);
    let held: Vec<_> = futures_util::future::join_all((0..4).map(|_| pool.get())).await;
    assert!(held.iter().all(Result::is_ok), "four connections open");
    drop(held);

    let attempts = &AtomicUsize::new(0);
    let read: Result<usize, ServiceError> = db::read(&pool, |conn| {
        async move {
            if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                sql::end_every_session(conn).await?;
            }
            sql::seven(conn).await
        }
        .scope_boxed()
    })
    .await;
    assert_eq!(read.unwrap(), 1, "the read is answered");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);

    let held: Vec<_> = futures_util::future::join_all((0..4).map(|_| pool.get())).await;
    drop(held);
    let attempts = &AtomicUsize::new(0);
    let booked: Result<(), ServiceError> = db::transaction(&pool, |conn| {
        async move {
            sql::book(conn, "T9").await?;
            if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                sql::end_every_session(conn).await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await;
    booked.unwrap();
    assert_eq!(count(&db).await, 1);
}
