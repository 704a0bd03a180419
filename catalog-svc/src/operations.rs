//! The commands of `google.longrunning.Operations` over the catalog's
//! operations (the imports'): read, list, wait, ask to cancel, forget. The
//! import itself ([`crate::import`]) is the only one that moves an
//! operation; these read its row, or ask.

use std::time::Duration;

use chrono::{DateTime, Utc};
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::{Pool, ScopedFutureExt, read};

use crate::db::Page;
use crate::db::operations::{self, ListRequest, OperationRow};
use crate::domain::operation::{self as rules, Cancelling};
use crate::domain::{OperationName, Refusal};

/// How often WaitOperation looks at the operation again (an import in
/// another replica writes its end there).
const WAIT_POLL: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct Operations {
    pool: Pool,
    clock: Clock,
}

impl Operations {
    pub fn new(pool: Pool, clock: Clock) -> Self {
        Self { pool, clock }
    }

    /// The time operations are rendered at.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub async fn get(&self, name: OperationName) -> Result<OperationRow, ServiceError> {
        read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(operations::find(conn, name.id()).await?) }
                .scope_boxed()
        })
        .await?
        .ok_or_else(|| Refusal::NoOperation(name.to_string()).into())
    }

    pub async fn list(&self, request: &ListRequest) -> Result<Page<OperationRow>, ServiceError> {
        read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(operations::page(conn, request).await?) }
                .scope_boxed()
        })
        .await
    }

    /// The operation once it is done, or as it stands after `limit`.
    pub async fn wait(
        &self,
        name: OperationName,
        limit: Duration,
    ) -> Result<OperationRow, ServiceError> {
        let until = tokio::time::Instant::now() + limit;
        loop {
            let row = self.get(name).await?;
            let now = tokio::time::Instant::now();
            if row.state().is_done() || now >= until {
                return Ok(row);
            }
            tokio::time::sleep(WAIT_POLL.min(until - now)).await;
        }
    }

    /// Asks a running import to stop; it ends CANCELLED unless it committed
    /// first. A cancelled one is left as it is; one that succeeded or
    /// failed is refused.
    pub async fn cancel(&self, actor: Actor, name: OperationName) -> Result<(), ServiceError> {
        loop {
            let row = self.get(name).await?;
            match rules::cancel(row.state())? {
                Cancelling::AlreadyDone => return Ok(()),
                Cancelling::Ask => {
                    let now = self.clock.now();
                    // Marking it is idempotent: sent again after a lost
                    // connection, it asks the same.
                    let asked = read(&self.pool, |conn| {
                        async move {
                            Ok::<_, ServiceError>(
                                operations::ask_to_cancel(conn, name.id(), now).await?,
                            )
                        }
                        .scope_boxed()
                    })
                    .await?;
                    if asked.is_some() {
                        let by = actor.user_id().map(|id| id.to_string()).unwrap_or_default();
                        tracing::info!(operation = %name, by, "TheMovieDB import asked to stop");
                        return Ok(());
                    }
                    // It ended meanwhile: decide again on how it ended.
                }
            }
        }
    }

    /// Forgets an operation that has ended (what its import did stays).
    pub async fn delete(&self, name: OperationName) -> Result<(), ServiceError> {
        let row = self.get(name).await?;
        rules::check_deletable(row.state())?;
        // Deleting what has ended is idempotent too.
        let deleted = read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(operations::delete_ended(conn, name.id()).await?) }
                .scope_boxed()
        })
        .await?;
        match deleted {
            0 => Err(Refusal::NoOperation(name.to_string()).into()),
            _ => Ok(()),
        }
    }
}
