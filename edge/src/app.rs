//! The edge's HTTP server (HTTP/1.1 and h2c); used by `main` and by tests.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, Method};
use prost_reflect::DescriptorPool;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::{Cors, EdgeConfig};
use crate::door::Door;
use crate::error::ApiError;
use crate::gateway::Gateway;
use crate::json::JsonShape;
use crate::metadata::REQUEST_ID;
use crate::metrics::EdgeMetrics;
use crate::routes::RouteTable;
use crate::upstream::Upstreams;

#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    #[error("an upstream URL is unusable: {0}")]
    Upstream(#[from] tonic::transport::Error),
    #[error("the contracts' descriptor set is unusable: {0}")]
    Descriptors(String),
    #[error("a contract's REST binding is unusable: {0}")]
    Routes(#[from] crate::routes::RouteError),
    #[error("the HTTP server failed: {0}")]
    Serve(#[from] std::io::Error),
}

/// Serves the Kursi contracts until `shutdown` resolves, then lets requests
/// in flight finish.
pub async fn run(
    config: EdgeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), EdgeError> {
    run_with_contracts(config, kursi_proto::FILE_DESCRIPTOR_SET, listener, shutdown).await
}

/// [`run`] for another descriptor set (tests use a contract of their own).
pub async fn run_with_contracts(
    config: EdgeConfig,
    descriptor_set: &[u8],
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), EdgeError> {
    let metrics = EdgeMetrics::new();
    let app = router_with(&config, descriptor_set, metrics.clone())?;
    tracing::info!(addr = ?listener.local_addr().ok(), "edge listening");
    let (shutdown, stopping) = service_kit::shutdown::watched(shutdown);
    if let Some(addr) = config.metrics_addr {
        let registry = metrics.registry().clone();
        tokio::spawn(async move {
            if let Err(err) = service_kit::metrics::serve(addr, registry, stopping).await {
                tracing::error!(error = %err, "metrics are not served");
            }
        });
    }
    crate::server::serve(listener, app, config.clients.clone(), shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// The whole HTTP application.
pub fn router(config: &EdgeConfig, descriptor_set: &[u8]) -> Result<Router, EdgeError> {
    router_with(config, descriptor_set, EdgeMetrics::new())
}

fn router_with(
    config: &EdgeConfig,
    descriptor_set: &[u8],
    metrics: EdgeMetrics,
) -> Result<Router, EdgeError> {
    let mut pool = DescriptorPool::decode(descriptor_set)
        .map_err(|err| EdgeError::Descriptors(err.to_string()))?;
    // google.rpc error details, so upstream errors' details render as JSON.
    crate::error::add_error_details(&mut pool).map_err(EdgeError::Descriptors)?;
    let routes = RouteTable::build(&pool)?;
    let shape = Arc::new(JsonShape::new(&pool));
    let openapi = crate::openapi::document(&routes, &pool, &shape).to_string();
    let upstreams = Upstreams::new(&config.upstreams)?;
    for route in routes.routes() {
        if upstreams.get(&route.upstream).is_none() {
            tracing::warn!(
                rpc = route.rpc.full_name(),
                upstream = route.upstream,
                "no address configured; this route answers 503"
            );
        }
    }
    let door = Door::new(upstreams.get("auth").cloned(), &config.jwt);
    let gateway = Arc::new(Gateway {
        pool,
        routes,
        shape,
        upstreams,
        door,
        request_timeout: config.request_timeout,
        max_request_timeout: config.max_request_timeout,
        max_body_bytes: config.max_body_bytes,
        clients: config.clients.clone(),
        metrics: metrics.clone(),
    });
    let openapi: Arc<str> = Arc::from(openapi);

    let mut app = Router::new()
        .route(
            "/healthz",
            get(|State(gateway): State<Arc<Gateway>>| async move {
                crate::health::report(&gateway.upstreams).await
            })
            .fallback(own_route_method),
        )
        // The edge itself serves, whatever its upstreams do: what an
        // orchestrator's readiness and liveness probes ask (/healthz says
        // which upstream is down, and is 503 while one is).
        .route(
            "/livez",
            get(|| async {
                (
                    [(CONTENT_TYPE, "application/json")],
                    "{\"status\":\"SERVING\"}",
                )
            })
            .fallback(own_route_method),
        )
        .route(
            "/openapi.json",
            get(move || {
                let openapi = openapi.clone();
                async move { ([(CONTENT_TYPE, "application/json")], openapi.to_string()) }
            })
            .fallback(own_route_method),
        )
        .route(
            crate::docs::DOCS_PATH,
            get(crate::docs::index).fallback(own_route_method),
        )
        .route("/docs/", get(crate::docs::file).fallback(own_route_method))
        .route(
            "/docs/{*path}",
            get(crate::docs::file).fallback(own_route_method),
        )
        .fallback(
            |State(gateway): State<Arc<Gateway>>, request: Request| async move {
                gateway.handle(request).await
            },
        )
        .with_state(gateway);
    if let Some(cors) = cors_layer(&config.cors) {
        app = app.layer(cors);
    }
    Ok(app
        .layer(CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::from_fn(crate::metadata::request_id))
        .layer(axum::middleware::from_fn(traced))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::record,
        )))
}

/// Each request a span continuing the caller's W3C trace, when the edge
/// exports traces; otherwise nothing is made.
async fn traced(request: Request, next: axum::middleware::Next) -> Response {
    use tracing::Instrument;
    if !service_kit::telemetry::tracing_enabled() {
        return next.run(request).await;
    }
    let span = tracing::info_span!(
        "http.server",
        otel.name = %format!("{} {}", request.method(), request.uri().path()),
        otel.kind = "server",
        http.request.method = %request.method(),
        url.path = %request.uri().path(),
        http.route = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        trace_id = tracing::field::Empty,
    );
    service_kit::telemetry::continue_trace(&span, request.headers());
    let method = request.method().clone();
    let response = next.run(request).instrument(span.clone()).await;
    if let Some(route) = response.extensions().get::<crate::metrics::RouteLabel>() {
        span.record("http.route", &*route.0);
        span.record("otel.name", format!("{method} {}", route.0));
    }
    span.record("http.response.status_code", response.status().as_u16());
    response
}

async fn own_route_method(method: Method, request: Request) -> Response {
    ApiError::method_not_allowed(&method, request.uri().path(), &[Method::GET, Method::HEAD])
        .into_response()
}

/// A bug in the edge answers JSON instead of dropping the connection.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(
        tonic::Code::Internal,
        "the edge failed on this request; the details are in its log",
    )
    .into_response()
}

fn cors_layer(cors: &Cors) -> Option<CorsLayer> {
    let origins = match cors {
        Cors::Off => return None,
        Cors::Any => AllowOrigin::any(),
        Cors::Origins(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok())
                .collect::<Vec<_>>(),
        ),
    };
    Some(
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                AUTHORIZATION,
                CONTENT_TYPE,
                REQUEST_ID,
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("grpc-timeout"),
                HeaderName::from_static("x-request-timeout"),
            ])
            .expose_headers([REQUEST_ID, WWW_AUTHENTICATE])
            .max_age(Duration::from_secs(600)),
    )
}
