//! An OTLP/gRPC trace receiver that counts the spans it is sent and keeps
//! none: somewhere to export to when measuring what tracing costs
//! (`loadgen/bench/observability.sh`), or when trying traces without a
//! collector.
//!
//! ```sh
//! cargo run -p kursi-testkit --example otlp-sink -- 4317 --print
//! # then run the stack with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317
//! ```
//!
//! Prints the spans received so far every ten seconds when any arrived,
//! and the total when stopped (SIGINT or SIGTERM). With `--print`, prints
//! each span as it arrives: service, name, trace id, span id and parent.

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
struct Counted(Arc<AtomicU64>, bool);

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
        if self.1 {
            print_spans(request.get_ref());
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// One line a span: who sent it, its name, and where it hangs in its trace.
fn print_spans(request: &ExportTraceServiceRequest) {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    for resource in &request.resource_spans {
        let service = resource
            .resource
            .as_ref()
            .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
            .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                Value::StringValue(name) => Some(name.as_str()),
                _ => None,
            })
            .unwrap_or("?");
        for span in resource.scope_spans.iter().flat_map(|scope| &scope.spans) {
            let parent = if span.parent_span_id.is_empty() {
                "(root)".to_owned()
            } else {
                hex(&span.parent_span_id)
            };
            let micros = span
                .end_time_unix_nano
                .saturating_sub(span.start_time_unix_nano)
                / 1000;
            println!(
                "{service:16} {:48} trace {} span {} parent {parent} {micros} µs",
                span.name,
                hex(&span.trace_id),
                hex(&span.span_id)
            );
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let print = args.iter().any(|a| a == "--print");
    let port: u16 = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(|p| p.parse().expect("a port number"))
        .unwrap_or(4317);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the port is free");
    println!("OTLP/gRPC sink at OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{port}");
    let counted = Counted(Arc::default(), print);
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
