//! Wires reservation-svc together and serves it: used by `main` and by
//! tests, which pass a listener on port 0 and their own shutdown signal.

use std::future::Future;

use kursi_proto::reservation::v1::ReservationEvent;
use kursi_proto::reservation::v1::reservation_service_server::ReservationServiceServer;
use service_kit::ServiceError;
use service_kit::accounts::Accounts;
use service_kit::db;
use service_kit::metrics::Sweeps;
use service_kit::outbox::Outbox;
use service_kit::server::{Host, ServeError};
use service_kit::shutdown;
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;

use crate::api::ReservationApi;
use crate::bookings::Bookings;
use crate::config::ReservationConfig;
use crate::floor::Floor;
use crate::reservations::Reservations;
use crate::sweeper::Sweeper;

pub async fn run(
    config: ReservationConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let database_url = config.common.database_url.expose().to_owned();
    let pool = db::pool_for(&config.common);
    let host = Host::with_remote_keys(
        &config.common,
        &[ReservationServiceServer::<ReservationApi>::NAME],
    )
    .await?
    .with_database(&pool, config.common.database_connect_timeout);
    let outbox = Outbox::new(pool.clone());

    // Event streams and background tasks end when shutdown starts, so that
    // the server's graceful drain is not held open by a follower's stream.
    let (shutdown, stopping) = shutdown::watched(shutdown);

    let clock = config.common.clock.clone();
    let reservations = Reservations::new(outbox.clone(), config.policy.clone(), clock.clone());
    let reservations_waitlist = reservations.waitlist().clone();
    let accounts = Accounts::new(&config.common.auth_grpc_url).map_err(ServeError::Setup)?;
    let bookings = Bookings::new(
        outbox.clone(),
        config.policy.clone(),
        clock.clone(),
        accounts,
        config.idempotency_key_ttl,
    );
    let api = ReservationApi::new(
        bookings,
        reservations,
        Floor::new(pool, clock.clone(), reservations_waitlist),
        outbox.clone(),
        stopping.clone(),
        config.event_poll_interval,
    );
    let routes = Routes::new(ReservationServiceServer::new(api));

    let sweeper = Sweeper::new(outbox.clone(), config.policy.clone(), clock);
    let interval = config.sweeper_interval;
    let (poll, relay) = (config.event_poll_interval, config.relay.clone());
    let health = host.readiness().reporter();
    let metrics = host.metrics().clone();
    let sweeps = Sweeps::register(&metrics);
    let setup = async move {
        db::prepare_when_reachable(&database_url, &crate::MIGRATIONS)
            .await
            .map_err(|err| ServiceError::Unavailable(err.to_string()))?;
        outbox.start::<ReservationEvent>(poll, relay, health, &metrics, stopping.clone());
        tokio::spawn(sweeper.run(interval, stopping, sweeps));
        Ok::<_, ServiceError>(())
    };
    tracing::info!(addr = %listener.local_addr().map_err(|e| ServeError::Setup(e.to_string()))?, "reservation-svc listening");
    host.serve(listener, routes, setup, shutdown).await
}
