//! `GET /metrics` on `METRICS_ADDR`: the registry as Prometheus text.

use std::net::SocketAddr;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::Metrics;

/// Serves `metrics` on `addr` until shutdown.
pub async fn serve(
    addr: SocketAddr,
    metrics: Metrics,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await.map_err(|err| {
        std::io::Error::new(
            err.kind(),
            format!("cannot listen on METRICS_ADDR={addr}: {err}"),
        )
    })?;
    tracing::info!(%addr, "serving metrics at /metrics");
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let text = metrics.encode();
            async move {
                (
                    [(
                        CONTENT_TYPE,
                        prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
                    )],
                    text,
                )
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { crate::shutdown::stopped(&mut shutdown).await })
        .await
}
