//! Database work that meets a dead connection is sent again, once, on a
//! fresh one, when that cannot apply a change twice.
//!
//! A pooled connection can die under a query: the server restarted, a
//! failover happened, an operator or an idle timeout ended the session.
//! The pool hands out connections it knows to be closed no more, but one
//! whose end it has not seen yet fails on first use. Which work is sent
//! again, and why each is safe:
//!
//! - [`read`]: work that only reads. Reading twice changes nothing.
//! - [`transaction`]: work inside one transaction, when the connection was
//!   lost before COMMIT was sent. The server rolls back a transaction whose
//!   session ends, so nothing of the first attempt stays.
//! - never a COMMIT whose outcome is unknown: when the connection is lost
//!   while committing, the change may or may not have been made. That is
//!   answered [`ServiceError::CommitOutcomeUnknown`] (UNAVAILABLE), and the
//!   client's retry with its idempotency key is what makes it safe.
//! - [`write_once`]: one statement that writes on its own (its own
//!   transaction, as the one-statement booking is). Lost under it, its
//!   outcome is unknown: never sent again, answered as above.
//!
//! Everything else (a constraint broken, a serialization failure) is the
//! work's own answer and is not retried here.

use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection, AsyncPgConnection, TransactionManager};
pub use scoped_futures::{ScopedBoxFuture, ScopedFutureExt};

use super::Pool;
use crate::ServiceError;

type Transactions = <AsyncPgConnection as AsyncConnection>::TransactionManager;

/// Work on a connection that may run twice:
/// `|conn| async move { … }.scope_boxed()`. The box lets the work borrow
/// what the caller holds (`'a`) for as long as the connection is lent to it,
/// and keeps the caller's future `Send` (an `AsyncFn` here would not be,
/// for a limit of the compiler's).
pub trait Work<'a, T, E>:
    for<'c> Fn(&'c mut AsyncPgConnection) -> ScopedBoxFuture<'a, 'c, Result<T, E>> + Send + Sync + 'a
{
}

impl<'a, T, E, F> Work<'a, T, E> for F where
    F: for<'c> Fn(&'c mut AsyncPgConnection) -> ScopedBoxFuture<'a, 'c, Result<T, E>>
        + Send
        + Sync
        + 'a
{
}

/// An error that may say the database connection was lost.
pub trait Lost {
    fn connection_lost(&self) -> bool;
}

impl Lost for ServiceError {
    fn connection_lost(&self) -> bool {
        matches!(self, ServiceError::ConnectionLost)
    }
}

/// Runs read-only `work` on a pooled connection, and once more on a fresh
/// one if the connection was lost under it.
pub async fn read<'a, T, E>(pool: &Pool, work: impl Work<'a, T, E>) -> Result<T, E>
where
    T: Send + 'a,
    E: From<ServiceError> + Lost + Send + 'a,
{
    traced("db.read", read_retried(pool, work)).await
}

async fn read_retried<'a, T, E>(pool: &Pool, work: impl Work<'a, T, E>) -> Result<T, E>
where
    T: Send + 'a,
    E: From<ServiceError> + Lost + Send + 'a,
{
    let mut conn = super::connection(pool).await?;
    match work(&mut conn).await {
        Err(err) if err.connection_lost() => {
            tracing::warn!("a read lost its database connection; reading again on another");
            discard(&mut conn);
            drop(conn);
            let mut conn = fresh(pool).await?;
            work(&mut conn).await
        }
        answer => answer,
    }
}

/// Runs one self-committing write; a lost connection is
/// [`ServiceError::CommitOutcomeUnknown`], never a second run.
pub async fn write_once<'a, T, E>(
    pool: &Pool,
    work: impl for<'c> FnOnce(&'c mut AsyncPgConnection) -> ScopedBoxFuture<'a, 'c, Result<T, E>>
    + Send
    + 'a,
) -> Result<T, E>
where
    T: Send + 'a,
    E: From<ServiceError> + Lost + Send + 'a,
{
    traced("db.write", async {
        let mut conn = super::connection(pool).await?;
        match work(&mut conn).await {
            Err(err) if err.connection_lost() => {
                discard(&mut conn);
                tracing::error!(
                    "the database connection was lost under a write; the outcome is unknown"
                );
                Err(ServiceError::CommitOutcomeUnknown.into())
            }
            answer => answer,
        }
    })
    .await
}

/// Runs `work` in a transaction, and once more on a fresh connection if
/// the connection was lost before COMMIT; see the module's comment.
pub async fn transaction<'a, T, E>(pool: &Pool, work: impl Work<'a, T, E>) -> Result<T, E>
where
    T: Send + 'a,
    E: From<ServiceError> + From<DieselError> + Lost + Send + 'a,
{
    traced("db.transaction", transaction_retried(pool, work)).await
}

async fn transaction_retried<'a, T, E>(pool: &Pool, work: impl Work<'a, T, E>) -> Result<T, E>
where
    T: Send + 'a,
    E: From<ServiceError> + From<DieselError> + Lost + Send + 'a,
{
    let first = match super::connection(pool).await {
        Ok(mut conn) => once(&mut conn, &work).await,
        Err(err) => return Err(err.into()),
    };
    match first {
        Attempt::Done(answer) => answer,
        Attempt::LostBeforeCommit(_) => {
            tracing::warn!(
                "a transaction lost its database connection before COMMIT; running it again on another"
            );
            let mut conn = fresh(pool).await?;
            match once(&mut conn, &work).await {
                Attempt::Done(answer) | Attempt::LostBeforeCommit(answer) => answer,
            }
        }
    }
}

/// The connection a second attempt runs on: opened for it, outside the
/// pool. The pool's other idle connections may have died with the first
/// (a restart, a failover, `pg_terminate_backend` of every session) without
/// the client having seen it yet, so another pooled one could fail the same
/// way. A connect costs a few milliseconds, on a path taken only after a
/// loss; it is bounded by the pool's connect timeout.
async fn fresh(pool: &Pool) -> Result<AsyncPgConnection, ServiceError> {
    let timeout = pool.config().connection_timeout;
    match tokio::time::timeout(timeout, pool.dedicated_connection()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "no fresh database connection for a second attempt");
            Err(ServiceError::Unavailable(
                "the database is unavailable; retry later".into(),
            ))
        }
        Err(_) => {
            tracing::warn!(
                "no fresh database connection for a second attempt within the connect timeout"
            );
            Err(ServiceError::Unavailable(
                "the database is unavailable; retry later".into(),
            ))
        }
    }
}

enum Attempt<T, E> {
    Done(Result<T, E>),
    LostBeforeCommit(Result<T, E>),
}

async fn once<'a, T, E>(conn: &mut AsyncPgConnection, work: &impl Work<'a, T, E>) -> Attempt<T, E>
where
    T: Send + 'a,
    E: From<ServiceError> + From<DieselError> + Lost + Send + 'a,
{
    // BEGIN, the work, COMMIT or ROLLBACK, as diesel's `transaction` does,
    // but knowing whether the COMMIT had been sent when the connection died.
    if let Err(err) = Transactions::begin_transaction(&mut *conn).await {
        let err = E::from(err);
        return if err.connection_lost() {
            Attempt::LostBeforeCommit(Err(err))
        } else {
            Attempt::Done(Err(err))
        };
    }
    let (answer, committing) = match work(conn).await {
        Ok(value) => match Transactions::commit_transaction(&mut *conn).await {
            Ok(()) => (Ok(value), true),
            Err(err) => (Err(E::from(err)), true),
        },
        Err(err) => {
            // A failed rollback leaves the connection broken; the pool
            // drops it. The work's own error is the answer.
            let _ = Transactions::rollback_transaction(&mut *conn).await;
            (Err(err), false)
        }
    };
    if answer.as_ref().is_err_and(Lost::connection_lost) {
        discard(conn);
    }
    match answer {
        Err(err) if err.connection_lost() && committing => {
            tracing::error!(
                "the database connection was lost during COMMIT; the outcome is unknown"
            );
            Attempt::Done(Err(ServiceError::CommitOutcomeUnknown.into()))
        }
        Err(err) if err.connection_lost() => Attempt::LostBeforeCommit(Err(err)),
        answer => Attempt::Done(answer),
    }
}

/// Marks a connection that was lost as broken, so the pool drops it when
/// it comes back instead of handing it out again: the client may not have
/// seen the server's goodbye yet, and would not know it is closed.
fn discard(conn: &mut AsyncPgConnection) {
    Transactions::transaction_manager_status_mut(conn).set_in_error();
}

/// The database work as a span of the request's trace, when traces are
/// exported; as it is otherwise.
async fn traced<F: std::future::Future>(name: &'static str, work: F) -> F::Output {
    use tracing::Instrument;
    if crate::telemetry::tracing_enabled() {
        let span = tracing::info_span!("db", otel.name = name, db.system = "postgresql");
        work.instrument(span).await
    } else {
        work.await
    }
}
