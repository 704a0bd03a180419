//! Wires order-svc together and serves it; used by `main` and by tests.

use std::future::Future;

use kursi_proto::order::v1::order_service_server::{OrderService, OrderServiceServer};
use service_kit::config::CommonConfig;
use service_kit::db;
use service_kit::server::{Host, ServeError};
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::Routes;

/// The gRPC handlers; every RPC still answers UNIMPLEMENTED.
pub struct OrderServiceApi;

impl OrderService for OrderServiceApi {}

pub async fn run(
    config: CommonConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let host =
        Host::with_remote_keys(&config, &[OrderServiceServer::<OrderServiceApi>::NAME]).await?;
    let routes = Routes::new(OrderServiceServer::new(OrderServiceApi));
    let database_url = config.database_url.expose().to_owned();
    let setup = async move { db::prepare_when_reachable(&database_url, &crate::MIGRATIONS).await };
    host.serve(listener, routes, setup, shutdown).await
}
