//! The published key set, read from auth-svc's own database: what GetJwks
//! answers and what auth-svc itself verifies tokens with.

use std::time::Duration;

use futures_util::future::BoxFuture;
use kursi_proto::auth::v1::Jwk;
use service_kit::ServiceError;
use service_kit::auth::{KeySource, KeySourceError};
use service_kit::clock::Clock;
use service_kit::db::{self, Pool, ScopedFutureExt};

use crate::db::signing_keys;
use crate::keys;

/// Retired keys stay published this long past the access-token lifetime, to
/// cover clock skew and in-flight requests.
const RETIREMENT_SLACK: Duration = Duration::from_secs(120);

#[derive(Clone)]
pub struct PublishedKeys {
    pool: Pool,
    grace: chrono::Duration,
    clock: Clock,
}

impl PublishedKeys {
    pub fn new(pool: Pool, access_ttl: Duration, clock: Clock) -> Self {
        let grace = access_ttl + RETIREMENT_SLACK;
        Self {
            pool,
            grace: chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX),
            clock,
        }
    }

    /// The current key, and those retired less than the access-token
    /// lifetime (and some slack) ago.
    pub async fn list(&self) -> Result<Vec<Jwk>, ServiceError> {
        let cutoff = self.clock.now() - self.grace;
        let keys = db::read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(signing_keys::published(conn, cutoff).await?) }
                .scope_boxed()
        })
        .await?;
        Ok(keys.iter().map(|(kid, x)| keys::jwk(kid, x)).collect())
    }
}

impl KeySource for PublishedKeys {
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<Jwk>, KeySourceError>> {
        Box::pin(async move {
            self.list()
                .await
                .map_err(|err| KeySourceError(err.to_string()))
        })
    }
}
