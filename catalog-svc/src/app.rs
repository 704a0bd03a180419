//! Wires catalog-svc together and serves it; used by `main` and by tests.

use std::future::Future;

use kursi_proto::catalog::v1::catalog_service_server::{CatalogService, CatalogServiceServer};
use service_kit::config::CommonConfig;
use service_kit::db;
use service_kit::server::{Host, ServeError};
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;

/// The gRPC handlers; every RPC still answers UNIMPLEMENTED.
pub struct CatalogServiceApi;

impl CatalogService for CatalogServiceApi {}

pub async fn run(
    config: CommonConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let host =
        Host::with_remote_keys(&config, &[CatalogServiceServer::<CatalogServiceApi>::NAME]).await?;
    let routes = Routes::new(CatalogServiceServer::new(CatalogServiceApi));
    let database_url = config.database_url.expose().to_owned();
    let setup = async move { db::prepare_when_reachable(&database_url, &crate::MIGRATIONS).await };
    host.serve(listener, routes, setup, shutdown).await
}
