//! Wires reservation-svc together and serves it; used by `main` and by tests.

use std::future::Future;

use kursi_proto::reservation::v1::reservation_service_server::{
    ReservationService, ReservationServiceServer,
};
use service_kit::config::CommonConfig;
use service_kit::db;
use service_kit::server::{Host, ServeError};
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;

/// The gRPC handlers; every RPC still answers UNIMPLEMENTED.
pub struct ReservationServiceApi;

impl ReservationService for ReservationServiceApi {}

pub async fn run(
    config: CommonConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let host = Host::with_remote_keys(
        &config,
        &[ReservationServiceServer::<ReservationServiceApi>::NAME],
    )
    .await?;
    let routes = Routes::new(ReservationServiceServer::new(ReservationServiceApi));
    let database_url = config.database_url.expose().to_owned();
    let setup = async move { db::prepare_when_reachable(&database_url, &crate::MIGRATIONS).await };
    host.serve(listener, routes, setup, shutdown).await
}
