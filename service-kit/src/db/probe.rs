//! The database, asked every second whether it answers, so that a service
//! reports NOT_SERVING on grpc.health.v1 while its database is away (and
//! SERVING again soon after it is back) rather than only failing requests.

use std::time::Duration;

use diesel::sql_types::Integer;
use diesel_async::RunQueryDsl;
use tokio::sync::watch;

use super::{Pool, bind, prepared};
use crate::auth::Readiness;

/// How often the database is asked.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// Asks the database every [`PROBE_INTERVAL`] until shutdown; an answer
/// later than `timeout` counts as none.
pub async fn watch_database(
    pool: Pool,
    readiness: Readiness,
    timeout: Duration,
    shutdown: watch::Receiver<bool>,
) {
    crate::shutdown::every(PROBE_INTERVAL, shutdown, || {
        let pool = pool.clone();
        let readiness = readiness.clone();
        async move {
            let reachable = tokio::time::timeout(timeout, answers(&pool))
                .await
                .unwrap_or(false);
            if !reachable {
                tracing::warn!("the database does not answer; reporting NOT_SERVING");
            }
            readiness.set_database_reachable(reachable).await;
        }
    })
    .await;
}

async fn answers(pool: &Pool) -> bool {
    let Ok(mut conn) = pool.get().await else {
        return false;
    };
    prepared("SELECT ?", (bind::<Integer, _>(1),))
        .execute(&mut *conn)
        .await
        .is_ok()
}
