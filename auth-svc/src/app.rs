//! Wires auth-svc together and serves it: used by `main` and by tests, which
//! pass a listener on port 0 and their own shutdown signal.

use std::future::Future;

use kursi_proto::auth::v1::auth_service_server::AuthServiceServer;
use service_kit::ServiceError;
use service_kit::db;
use service_kit::server::{Host, ServeError};
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;

use crate::accounts::Accounts;
use crate::api::AuthApi;
use crate::config::AuthConfig;
use crate::db::{MIGRATIONS, signing_keys};
use crate::jwks::PublishedKeys;
use crate::keys::SigningKey;
use crate::passwords::PasswordHasher;

pub async fn run(
    config: AuthConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let key = SigningKey::from_pem(config.signing_key_pem.expose()).map_err(ServeError::Setup)?;
    let database_url = config.common.database_url.expose().to_owned();
    let pool = db::pool_for(&config.common);
    let clock = config.common.clock.clone();
    let published = PublishedKeys::new(pool.clone(), config.access_token_ttl, clock.clone());
    let host = Host::new(
        (&config.common).into(),
        &[AuthServiceServer::<AuthApi>::NAME],
        published.clone(),
        &config.common.jwt,
    )
    .await?
    .with_database(&pool, config.common.database_connect_timeout);

    let cost = config.bcrypt_cost;
    let hasher = tokio::task::spawn_blocking(move || PasswordHasher::new(cost))
        .await
        .map_err(|err| ServeError::Setup(err.to_string()))?
        .map_err(ServeError::Setup)?;
    let accounts = Accounts::new(pool.clone(), hasher, key.clone(), &config);
    let routes = Routes::new(AuthServiceServer::new(AuthApi::new(
        accounts.clone(),
        published,
    )));

    let setup = async move {
        db::prepare_when_reachable(&database_url, &MIGRATIONS)
            .await
            .map_err(|err| ServiceError::Unavailable(err.to_string()))?;
        let mut conn = pool.get().await?;
        signing_keys::make_current(&mut conn, key.kid(), key.public_x(), clock.now()).await?;
        tracing::info!(kid = key.kid(), "signing with the configured key");
        drop(conn);
        if let Some(admin) = &config.bootstrap_admin {
            accounts.bootstrap_admin(admin).await?;
        }
        Ok::<_, ServiceError>(())
    };
    tracing::info!(addr = %listener.local_addr().map_err(|e| ServeError::Setup(e.to_string()))?, "auth-svc listening");
    host.serve(listener, routes, setup, shutdown).await
}
