//! The gRPC server every service runs: its own routes behind the admission
//! layer, plus grpc.health.v1 and server reflection, with a request timeout,
//! a concurrency limit and graceful shutdown.
//!
//! The server answers health checks (NOT_SERVING) while the service is still
//! preparing its database, and turns SERVING once that is done.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::HealthService;
use tower::limit::GlobalConcurrencyLimitLayer;

use crate::auth::{Admission, KeySource, PolicyTable, Readiness, TokenVerifier};
use crate::config::CommonConfig;
use crate::metrics::Metrics;

/// Limits applied to every request, and where metrics are served.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    pub request_timeout: Duration,
    pub max_concurrent_requests: usize,
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub max_connection_age: Duration,
}

impl From<&CommonConfig> for ServerOptions {
    fn from(config: &CommonConfig) -> Self {
        Self {
            request_timeout: config.request_timeout,
            max_concurrent_requests: config.max_concurrent_requests,
            metrics_addr: config.metrics_addr,
            max_connection_age: config.max_connection_age,
        }
    }
}

/// Why a service stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("the contracts' access policies could not be read: {0}")]
    Policies(String),
    #[error("reflection could not be set up: {0}")]
    Reflection(String),
    #[error("start-up failed: {0}")]
    Setup(String),
    #[error("the server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Everything a service needs around its own handlers.
pub struct Host {
    options: ServerOptions,
    services: Vec<&'static str>,
    readiness: Readiness,
    admission: Admission,
    health: HealthServer<HealthService>,
    metrics: Metrics,
    /// The database the service needs, probed for health once it is ready.
    database: Option<(crate::db::Pool, Duration)>,
}

impl Host {
    /// `services` are the full names of the gRPC services this process
    /// serves, as reported by health checks.
    pub async fn new(
        options: ServerOptions,
        services: &[&'static str],
        keys: impl KeySource,
        jwt: &crate::config::JwtSettings,
    ) -> Result<Self, ServeError> {
        let reporter = tonic_health::server::HealthReporter::new();
        let health = HealthServer::new(HealthService::from_health_reporter(reporter.clone()));
        let readiness = Readiness::new(reporter, services).await;
        let policies = Arc::new(PolicyTable::kursi().map_err(ServeError::Policies)?);
        let verifier = Arc::new(TokenVerifier::new(keys, jwt));
        let admission = Admission::new(policies, verifier, readiness.clone());
        Ok(Self {
            options,
            services: services.to_vec(),
            readiness,
            admission,
            health,
            metrics: Metrics::new(),
            database: None,
        })
    }

    /// A host that verifies tokens with the keys auth-svc publishes at
    /// `AUTH_GRPC_URL`: what every service but auth-svc uses.
    pub async fn with_remote_keys(
        config: &CommonConfig,
        services: &[&'static str],
    ) -> Result<Self, ServeError> {
        let keys =
            crate::auth::RemoteJwks::new(&config.auth_grpc_url).map_err(ServeError::Setup)?;
        Self::new(config.into(), services, keys, &config.jwt).await
    }

    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// The service's database: its pool's metrics are served, and once the
    /// service is ready it is probed every second, so that health says
    /// NOT_SERVING while it is away (`db::watch_database`).
    pub fn with_database(mut self, pool: &crate::db::Pool, timeout: Duration) -> Self {
        self.metrics.watch_pool(pool);
        self.database = Some((pool.clone(), timeout));
        self
    }

    /// This service instance's metrics: the service adds its own (its
    /// sweeper, its imports) before serving.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Serves `routes` on `listener` until `shutdown` resolves. `setup` runs
    /// meanwhile (migrations, bootstrap); the service turns SERVING when it
    /// succeeds, and the process stops with its error when it fails.
    pub async fn serve<E: std::fmt::Display>(
        self,
        listener: TcpListener,
        routes: Routes,
        setup: impl Future<Output = Result<(), E>>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let reflection_v1 = reflection(&self.services)
            .build_v1()
            .map_err(|err| ServeError::Reflection(err.to_string()))?;
        let reflection_v1alpha = reflection(&self.services)
            .build_v1alpha()
            .map_err(|err| ServeError::Reflection(err.to_string()))?;
        let routes = routes
            .add_service(self.health)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);

        let readiness = self.readiness.clone();
        let (shutdown, stopping) = crate::shutdown::watched(shutdown);
        let probe_stopping = stopping.clone();
        let draining = async move {
            shutdown.await;
            tracing::info!("shutting down: finishing requests in flight");
            readiness.set_draining().await;
        };
        if let Some(addr) = self.options.metrics_addr {
            let metrics = self.metrics.clone();
            tokio::spawn(async move {
                if let Err(err) = crate::metrics::serve(addr, metrics, stopping).await {
                    tracing::error!(error = %err, "metrics are not served");
                }
            });
        }
        let layers = tower::ServiceBuilder::new()
            .layer(crate::telemetry::ServerSpans)
            .layer(self.metrics.grpc_layer())
            .layer(GlobalConcurrencyLimitLayer::new(
                self.options.max_concurrent_requests,
            ))
            .layer(self.admission)
            .map_response(crate::undecodable::reclassify)
            .into_inner();
        let server = Server::builder()
            .timeout(self.options.request_timeout)
            // HTTP/2 connections last; without an age, replicas added later
            // would get none of the callers already connected. GOAWAY lets
            // a caller's calls in flight finish and open the next
            // elsewhere (the edge sends a refused call again).
            .max_connection_age(self.options.max_connection_age)
            .max_connection_age_grace(self.options.request_timeout)
            .layer(layers)
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming(listener), draining);
        tokio::pin!(server);

        tokio::select! {
            result = &mut server => return result.map_err(ServeError::from),
            result = setup => {
                result.map_err(|err| ServeError::Setup(err.to_string()))?;
                self.readiness.set_ready().await;
                tracing::info!("ready: serving");
                if let Some((pool, timeout)) = self.database {
                    tokio::spawn(crate::db::watch_database(
                        pool,
                        self.readiness.clone(),
                        timeout,
                        probe_stopping,
                    ));
                }
            }
        }
        server.await.map_err(ServeError::from)
    }
}

/// Reflection that describes every type a client may meet (the contracts,
/// health, google.rpc error details) but lists only the services this
/// process serves, so `grpcurl list` tells the truth about each port.
fn reflection<'a>(services: &[&'static str]) -> tonic_reflection::server::Builder<'a> {
    let listed = services.iter().copied().chain([
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ]);
    listed.fold(
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(kursi_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET),
        |builder, name| builder.with_service_name(name),
    )
}

/// The accepted connections, with TCP_NODELAY set. tonic applies its own
/// `tcp_nodelay` setting only to listeners it binds itself; without it a
/// reply written in two segments waits for the client's delayed ACK, about
/// 40 ms, which dominates latency whenever the server is not busy.
pub fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(Duration::from_secs(60)))
}

/// Binds the service's address, with a message naming the setting on failure.
pub async fn bind(addr: std::net::SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|err| ServeError::Setup(format!("cannot listen on LISTEN_ADDR={addr}: {err}")))
}

#[cfg(test)]
mod tests {
    use tokio_stream::StreamExt;

    use super::*;

    #[tokio::test]
    async fn accepted_connections_have_nodelay_set() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut accepted = incoming(listener);
        let _client = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let server_side = accepted
            .next()
            .await
            .expect("a connection")
            .expect("accepted");
        assert!(server_side.nodelay().expect("read TCP_NODELAY"));
    }
}
