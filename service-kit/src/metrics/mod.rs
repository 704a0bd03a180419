//! What a service tells Prometheus: its gRPC requests by method and code
//! with their latency (go-grpc-prometheus's names, which dashboards already
//! know), its database pool, its outbox and relay, its process (CPU, RSS),
//! and whatever the service counts of its own (sweeper runs, imports).
//!
//! Each service instance has its own registry, passed in with its state
//! (no global recorder: tests run several services in one process and must
//! read each one's counters alone). `METRICS_ADDR` serves it as Prometheus
//! text at `GET /metrics`; unset, nothing is served.

mod grpc;
mod pool;
mod process;
mod serve;
mod sweeps;

pub use grpc::GrpcMetricsLayer;
pub use prometheus_client;
pub use serve::serve;
pub use sweeps::Sweeps;

use std::sync::{Arc, OnceLock, RwLock};

use prometheus_client::collector::Collector;
use prometheus_client::registry::{Metric, Registry};

use crate::db::Pool;

/// One service instance's metrics. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Arc<RwLock<Registry>>,
    /// Registered when a gRPC server first asks for its layer.
    grpc: Arc<OnceLock<grpc::GrpcFamilies>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with the process's metrics.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(process::ProcessCollector));
        Self {
            registry: Arc::new(RwLock::new(registry)),
            grpc: Arc::default(),
        }
    }

    /// Adds a metric of the service's own, e.g. a counter of sweeper runs.
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        if let Ok(mut registry) = self.registry.write() {
            registry.register(name, help, metric);
        }
    }

    /// Adds metrics read at each scrape.
    pub fn register_collector(&self, collector: impl Collector) {
        if let Ok(mut registry) = self.registry.write() {
            registry.register_collector(Box::new(collector));
        }
    }

    /// The database pool's size, use and waits, read at each scrape.
    pub fn watch_pool(&self, pool: &Pool) {
        self.register_collector(pool::PoolCollector::new(pool.clone()));
    }

    /// The tower layer that counts and times every gRPC request.
    pub fn grpc_layer(&self) -> GrpcMetricsLayer {
        let families = self.grpc.get_or_init(|| {
            let mut registry = self
                .registry
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            grpc::GrpcFamilies::register(&mut registry)
        });
        GrpcMetricsLayer::new(families.clone())
    }

    /// The Prometheus text format of everything registered.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Ok(registry) = self.registry.read()
            && let Err(err) =
                prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        {
            tracing::error!(error = %err, "the metrics could not be encoded");
        }
        text
    }
}
