//! Wires reservation-svc together and serves it: used by `main` and by
//! tests, which pass a listener on port 0 and their own shutdown signal.

use std::future::Future;

use kursi_proto::reservation::v1::reservation_service_server::ReservationServiceServer;
use service_kit::ServiceError;
use service_kit::db;
use service_kit::server::{Host, ServeError};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::server::NamedService;
use tonic::service::Routes;

use crate::api::ReservationApi;
use crate::config::ReservationConfig;
use crate::events::EventSignal;
use crate::floor::Floor;
use crate::reservations::Reservations;
use crate::sweeper::Sweeper;

pub async fn run(
    config: ReservationConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let host = Host::with_remote_keys(
        &config.common,
        &[ReservationServiceServer::<ReservationApi>::NAME],
    )
    .await?;
    let database_url = config.common.database_url.expose().to_owned();
    let pool = db::pool(&database_url, config.common.database_pool_size);
    let signal = EventSignal::default();

    // Event streams and the sweeper end when shutdown starts, so that the
    // server's graceful drain is not held open by a follower's stream.
    let (stopping_tx, stopping) = watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        let _ = stopping_tx.send(true);
    };

    let reservations = Reservations::new(pool.clone(), config.policy.clone(), signal.clone());
    let api = ReservationApi::new(
        reservations,
        Floor::new(pool.clone()),
        signal.clone(),
        stopping.clone(),
        config.event_poll_interval,
    );
    let routes = Routes::new(ReservationServiceServer::new(api));

    let sweeper = Sweeper::new(pool, config.policy.clone(), signal);
    let interval = config.sweeper_interval;
    let setup = async move {
        db::prepare_when_reachable(&database_url, &crate::MIGRATIONS)
            .await
            .map_err(|err| ServiceError::Unavailable(err.to_string()))?;
        tokio::spawn(sweeper.run(interval, stopping));
        Ok::<_, ServiceError>(())
    };
    tracing::info!(addr = %listener.local_addr().map_err(|e| ServeError::Setup(e.to_string()))?, "reservation-svc listening");
    host.serve(listener, routes, setup, shutdown).await
}
