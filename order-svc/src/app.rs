//! Wires order-svc together and serves it: used by `main` and by tests,
//! which pass a listener on port 0 and their own shutdown signal.

use std::future::Future;

use kursi_proto::order::v1::OrderEvent;
use kursi_proto::order::v1::order_service_server::OrderServiceServer;
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

use crate::api::OrderApi;
use crate::cancellations::Cancellations;
use crate::catalog::Catalog;
use crate::config::OrderConfig;
use crate::orders::Orders;
use crate::sweeper::Sweeper;

pub async fn run(
    config: OrderConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let database_url = config.common.database_url.expose().to_owned();
    let pool = db::pool_for(&config.common);
    let host = Host::with_remote_keys(&config.common, &[OrderServiceServer::<OrderApi>::NAME])
        .await?
        .with_database(&pool, config.common.database_connect_timeout);
    let outbox = Outbox::new(pool);
    let clock = config.common.clock.clone();
    let catalog = Catalog::new(&config.catalog_url, config.catalog_timeout, clock.clone())
        .map_err(ServeError::Setup)?;

    // Event streams and background tasks end when shutdown starts, so that
    // the server's graceful drain is not held open by a follower's stream.
    let (shutdown, stopping) = shutdown::watched(shutdown);

    let accounts = Accounts::new(&config.common.auth_grpc_url).map_err(ServeError::Setup)?;
    let orders = Orders::new(outbox.clone(), catalog, accounts, &config);
    let api = OrderApi::new(
        orders,
        outbox.clone(),
        config.max_tickets,
        stopping.clone(),
        config.event_poll_interval,
    );
    let routes = Routes::new(OrderServiceServer::new(api));

    let poll = config.event_poll_interval;
    let sweeper = Sweeper::new(outbox.clone(), clock.clone());
    let sweep_interval = config.sweep_interval;
    let cancellations = Cancellations::new(outbox.clone(), clock);
    let relay = config.relay.clone();
    let health = host.readiness().reporter();
    let metrics = host.metrics().clone();
    let sweeps = Sweeps::register(&metrics);
    let follow = config.relay.clone();
    let setup = async move {
        db::prepare_when_reachable(&database_url, &crate::MIGRATIONS)
            .await
            .map_err(|err| ServiceError::Unavailable(err.to_string()))?;
        outbox.start::<OrderEvent>(poll, relay, health, &metrics, stopping.clone());
        tokio::spawn(sweeper.run(sweep_interval, stopping.clone(), sweeps));
        match follow {
            Some(nats) => {
                tokio::spawn(cancellations.follow(nats, stopping));
            }
            None => tracing::warn!(
                "NATS_URL is not set: cancelled showtimes are not followed, and their orders stay as they are"
            ),
        }
        Ok::<_, ServiceError>(())
    };
    tracing::info!(addr = %listener.local_addr().map_err(|e| ServeError::Setup(e.to_string()))?, "order-svc listening");
    host.serve(listener, routes, setup, shutdown).await
}
