//! The edge's HTTP server; used by `main` and by tests.

use std::future::Future;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;

use crate::config::EdgeConfig;
use crate::health::Upstreams;

#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    #[error("an upstream URL is unusable: {0}")]
    Upstream(#[from] tonic::transport::Error),
    #[error("the HTTP server failed: {0}")]
    Serve(#[from] std::io::Error),
}

pub async fn run(
    config: EdgeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), EdgeError> {
    let upstreams = Upstreams::new(&config.upstreams)?;
    let app = Router::new()
        .route(
            "/healthz",
            get(move || async move { upstreams.report().await }),
        )
        .fallback(not_built_yet);
    tracing::info!(addr = ?listener.local_addr().ok(), "edge listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// REST transcoding is not built yet: say so in the error shape the real
/// edge will use (google.rpc.Status, code 12 = UNIMPLEMENTED).
async fn not_built_yet() -> (StatusCode, axum::Json<serde_json::Value>) {
    (
        StatusCode::NOT_IMPLEMENTED,
        axum::Json(json!({
            "code": 12,
            "message": "REST routes are not built yet; call the gRPC services directly",
            "details": [],
        })),
    )
}
