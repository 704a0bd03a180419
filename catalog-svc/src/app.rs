//! Wires catalog-svc together and serves it: used by `main` and by tests,
//! which pass a listener on port 0 and their own shutdown signal.

use std::future::Future;

use kursi_proto::catalog::v1::CatalogEvent;
use kursi_proto::catalog::v1::catalog_service_server::CatalogServiceServer;
use kursi_proto::google::longrunning::operations_server::OperationsServer;
use service_kit::ServiceError;
use service_kit::db;
use service_kit::outbox::Outbox;
use service_kit::server::{Host, ServeError};
use service_kit::shutdown;
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;

use crate::api::{CatalogApi, OperationsApi};
use crate::config::CatalogConfig;
use crate::import::Importer;
use crate::movies::Movies;
use crate::operations::Operations;
use crate::showtimes::Showtimes;
use crate::tmdb::TmdbClient;

pub async fn run(
    config: CatalogConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let served = [
        CatalogServiceServer::<CatalogApi>::NAME,
        OperationsServer::<OperationsApi>::NAME,
    ];
    let database_url = config.common.database_url.expose().to_owned();
    let pool = db::pool_for(&config.common);
    let host = Host::with_remote_keys(&config.common, &served)
        .await?
        .with_database(&pool, config.common.database_connect_timeout);
    let outbox = Outbox::new(pool);
    let client = TmdbClient::new(&config.tmdb).map_err(ServeError::Setup)?;

    // Event streams and background tasks end when shutdown starts, so that
    // the server's graceful drain is not held open by a follower's stream.
    let (shutdown, stopping) = shutdown::watched(shutdown);

    let clock = config.common.clock.clone();
    let importer = Importer::new(outbox.clone(), client, clock.clone())
        .stopping_with(stopping.clone())
        .observed_by(host.metrics());
    let operations = OperationsApi {
        operations: Operations::new(outbox.pool().clone(), clock.clone()),
        request_timeout: config.common.request_timeout,
    };
    let api = CatalogApi {
        movies: Movies::new(outbox.clone(), clock.clone()),
        showtimes: Showtimes::new(outbox.clone(), config.schedule.clone(), clock.clone()),
        importer: importer.clone(),
        outbox: outbox.clone(),
        shutdown: stopping.clone(),
        event_poll: config.event_poll_interval,
        clock,
    };
    let routes =
        Routes::new(CatalogServiceServer::new(api)).add_service(OperationsServer::new(operations));

    let poll = config.event_poll_interval;
    let import = config.import;
    let relay = config.relay.clone();
    let health = host.readiness().reporter();
    let metrics = host.metrics().clone();
    let setup = async move {
        db::prepare_when_reachable(&database_url, &crate::MIGRATIONS)
            .await
            .map_err(|err| ServiceError::Unavailable(err.to_string()))?;
        outbox.start::<CatalogEvent>(poll, relay, health, &metrics, stopping.clone());
        // Imports a stopped process left RUNNING read as interrupted.
        if let Err(err) = importer.interrupt_orphans().await {
            tracing::warn!(error = %err, "could not mark interrupted imports");
        }
        if import.on_start || import.interval.is_some() {
            tokio::spawn(importer.run_periodically(
                import.on_start,
                import.interval,
                import.pages,
                stopping,
            ));
        }
        Ok::<_, ServiceError>(())
    };
    tracing::info!(addr = %listener.local_addr().map_err(|e| ServeError::Setup(e.to_string()))?, "catalog-svc listening");
    host.serve(listener, routes, setup, shutdown).await
}
