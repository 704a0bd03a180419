//! What the edge tells Prometheus: every HTTP request by method, route and
//! status with its latency (`http_server_requests_total`,
//! `http_server_request_duration_seconds`), upstream calls sent again
//! (`edge_upstream_retries_total`), and the process. Served at `/metrics`
//! on `METRICS_ADDR`, apart from the API's port.
//!
//! The route is the contract's path template (`/api/reservations/{reservation_id}`),
//! never the path itself, so the series stay few whatever callers send.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use service_kit::metrics::Metrics;

/// The route a response answered, set by whoever matched it.
#[derive(Clone, Debug)]
pub struct RouteLabel(pub Arc<str>);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Answered {
    method: String,
    route: Arc<str>,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Timed {
    method: String,
    route: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Upstream {
    upstream: String,
}

/// The edge's metrics; cheap to clone.
#[derive(Clone, Debug)]
pub struct EdgeMetrics {
    registry: Metrics,
    requests: Family<Answered, Counter>,
    duration: Family<Timed, Histogram, fn() -> Histogram>,
    retries: Family<Upstream, Counter>,
}

fn latency() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Default for EdgeMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl EdgeMetrics {
    pub fn new() -> Self {
        let registry = Metrics::new();
        let requests = Family::<Answered, Counter>::default();
        let duration = Family::<Timed, Histogram, fn() -> Histogram>::new_with_constructor(latency);
        let retries = Family::<Upstream, Counter>::default();
        registry.register(
            "http_server_requests",
            "HTTP requests answered, by method, route and status.",
            requests.clone(),
        );
        registry.register(
            "http_server_request_duration_seconds",
            "How long the edge took to answer, to its headers, by method and route.",
            duration.clone(),
        );
        registry.register(
            "edge_upstream_retries",
            "Upstream calls sent a second time after a failure that made that safe.",
            retries.clone(),
        );
        Self {
            registry,
            requests,
            duration,
            retries,
        }
    }

    pub fn registry(&self) -> &Metrics {
        &self.registry
    }

    pub fn retried(&self, upstream: &str) {
        self.retries
            .get_or_create(&Upstream {
                upstream: upstream.to_owned(),
            })
            .inc();
    }
}

/// The middleware: counts and times every request.
pub async fn record(State(metrics): State<EdgeMetrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let own = own_route(request.uri().path());
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map(|label| label.0.clone())
        .unwrap_or_else(|| Arc::from(own));
    metrics
        .duration
        .get_or_create(&Timed {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&Answered {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// The edge's own routes by name; anything else that no contract route
/// matched is `unmatched`.
fn own_route(path: &str) -> &'static str {
    match path {
        "/healthz" => "/healthz",
        "/livez" => "/livez",
        "/openapi.json" => "/openapi.json",
        "/docs" => "/docs",
        _ if path.starts_with("/docs/") => "/docs/*",
        _ => "unmatched",
    }
}
