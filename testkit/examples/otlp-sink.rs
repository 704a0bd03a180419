//! An OTLP/gRPC trace receiver that counts the spans it is sent and keeps
//! none: somewhere to export to when measuring what tracing costs
//! (`loadgen/bench/observability.sh`), or when trying traces without a
//! collector.
//!
//! ```sh
//! cargo run -p kursi-testkit --example otlp-sink -- 4317
//! # then run the stack with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317
//! ```
//!
//! Prints the spans received so far every ten seconds when any arrived,
//! and the total when stopped (SIGINT or SIGTERM).

#![allow(clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tokio::signal::unix::{SignalKind, signal};

#[derive(Clone, Default)]
struct Counted(Arc<AtomicU64>);

#[tonic::async_trait]
impl TraceService for Counted {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let spans: usize = request
            .get_ref()
            .resource_spans
            .iter()
            .flat_map(|resource| &resource.scope_spans)
            .map(|scope| scope.spans.len())
            .sum();
        self.0.fetch_add(spans as u64, Ordering::Relaxed);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tokio::main]
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("a port number"))
        .unwrap_or(4317);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the port is free");
    println!("OTLP/gRPC sink at OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{port}");
    let counted = Counted::default();
    let total = counted.0.clone();
    let mut interrupt = signal(SignalKind::interrupt()).expect("SIGINT");
    let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM");
    let stopped = async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    };
    let report = total.clone();
    tokio::spawn(async move {
        let mut last = 0;
        loop {
            tokio::time::sleep(Duration::from_secs(10)).await;
            let now = report.load(Ordering::Relaxed);
            if now != last {
                println!("spans received: {now}");
                last = now;
            }
        }
    });
    tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(counted))
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            stopped,
        )
        .await
        .expect("the sink serves");
    println!("spans received: {}", total.load(Ordering::Relaxed));
}
