//! Logs and traces.
//!
//! - `RUST_LOG` (`info`): the log filter, in `tracing_subscriber::EnvFilter`
//!   syntax.
//! - `LOG_FORMAT` (`text`): `text` for people, `json` for log collectors.
//!   Logs go to stderr.
//! - `OTEL_EXPORTER_OTLP_ENDPOINT` (unset: no traces): an OTLP/gRPC
//!   receiver (`http://127.0.0.1:4317`). When set, each request is a span
//!   continuing the caller's W3C `traceparent`, the span of every call a
//!   service makes carries it on, database transactions are spans, and log
//!   lines carry the trace id. When unset, no span is made at all: nothing
//!   is exported, and nothing is slowed.
//! - `OTEL_SERVICE_NAME` (the binary's name): the traces' `service.name`.

use std::sync::OnceLock;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Set once traces are exported: only then are request spans made.
static TRACING: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether this process exports traces.
pub fn tracing_enabled() -> bool {
    TRACING.get().is_some()
}

/// Logs to stderr, and traces to `OTEL_EXPORTER_OTLP_ENDPOINT` when set;
/// `service` names this process in them. Call [`shutdown`] before exiting
/// so that the last spans are sent.
pub fn init(service: &str) {
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|value| !value.trim().is_empty());
    let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| service.to_owned());
    init_with(endpoint.as_deref(), &name);
}

/// [`init`] with the endpoint given (tests run their own receiver).
pub fn init_with(otlp_endpoint: Option<&str>, service: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let traces = otlp_endpoint.and_then(|endpoint| match provider(endpoint, service) {
        Ok(provider) => Some(provider),
        Err(err) => {
            eprintln!("{service}: traces are not exported to {endpoint}: {err}");
            None
        }
    });
    type Base = tracing_subscriber::layer::Layered<EnvFilter, tracing_subscriber::Registry>;
    let mut layers: Vec<Box<dyn Layer<Base> + Send + Sync>> = Vec::new();
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    layers.push(if json {
        fmt.json().boxed()
    } else {
        fmt.boxed()
    });
    if let Some(provider) = &traces {
        layers.push(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("kursi"))
                .boxed(),
        );
    }
    // A second init (tests start several services in one process) is harmless.
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(layers)
        .try_init()
        .is_ok();
    if installed && let Some(provider) = traces {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let _ = TRACING.set(provider);
    }
}

fn provider(endpoint: &str, service: &str) -> Result<SdkTracerProvider, String> {
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|err| err.to_string())?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service.to_owned())
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Sends the spans not yet exported; before the process exits.
pub fn shutdown() {
    if let Some(provider) = TRACING.get() {
        if let Err(err) = provider.force_flush() {
            tracing::warn!(error = %err, "the last spans were not exported");
        }
        let _ = provider.shutdown();
    }
}

/// Continues the trace a caller sent in `headers` (W3C `traceparent`) in
/// `span`, and records its trace id on the span so log lines carry it.
pub fn continue_trace(span: &tracing::Span, headers: &http::HeaderMap) {
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    });
    let _ = span.set_parent(parent);
    let trace_id = span.context().span().span_context().trace_id();
    span.record("trace_id", tracing::field::display(trace_id));
}

/// Carries the current span's trace on to a call this process makes.
pub fn inject(headers: &mut http::HeaderMap) {
    if !tracing_enabled() {
        return;
    }
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut HeaderInjector(headers));
    });
}

/// [`inject`] into a gRPC request's metadata.
pub fn inject_metadata(metadata: &mut tonic::metadata::MetadataMap) {
    if !tracing_enabled() {
        return;
    }
    let mut headers = http::HeaderMap::new();
    inject(&mut headers);
    for (name, value) in &headers {
        if let Ok(key) = tonic::metadata::MetadataKey::from_bytes(name.as_str().as_bytes())
            && let Ok(value) = tonic::metadata::MetadataValue::try_from(value.as_bytes())
        {
            metadata.insert(key, value);
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if value.is_empty() {
            return;
        }
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// The tower layer that makes each gRPC request a span continuing its
/// caller's trace (only when traces are exported).
#[derive(Clone, Copy, Debug, Default)]
pub struct ServerSpans;

impl<S> tower::Layer<S> for ServerSpans {
    type Service = ServerSpansService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServerSpansService { inner }
    }
}

#[derive(Clone, Debug)]
pub struct ServerSpansService<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for ServerSpansService<S>
where
    S: tower::Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        futures_util::future::Either<S::Future, tracing::instrument::Instrumented<S::Future>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        use tracing::Instrument;
        let path = request.uri().path();
        // Probes and reflection are not worth a trace each.
        if !tracing_enabled()
            || path.starts_with("/grpc.health.")
            || path.starts_with("/grpc.reflection.")
        {
            return futures_util::future::Either::Left(self.inner.call(request));
        }
        let (service, method) = path
            .strip_prefix('/')
            .and_then(|p| p.split_once('/'))
            .unwrap_or(("", path));
        let span = tracing::info_span!(
            "grpc.server",
            otel.name = %path,
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            trace_id = tracing::field::Empty,
        );
        continue_trace(&span, request.headers());
        futures_util::future::Either::Right(self.inner.call(request).instrument(span))
    }
}
