//! Every gRPC request a service answers, counted and timed with the names
//! and labels of go-grpc-prometheus (`grpc_server_started_total`,
//! `grpc_server_handled_total{grpc_code}`, `grpc_server_handling_seconds`),
//! which existing dashboards and alerts already read.
//!
//! The code is the request's `grpc-status`: in the response headers when
//! the call failed before any message (trailers-only), else in the
//! trailers at the end of the body, so the body is watched to its end; a
//! body dropped before its trailers (the client went away) counts as
//! `Canceled`. Requests refused at the door (UNAUTHENTICATED) are counted
//! too: this layer sits outside the admission layer.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http_body::{Body as HttpBody, Frame, SizeHint};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tonic::body::Body;
use tower::{Layer, Service};

/// go-grpc-prometheus's default latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Method {
    grpc_type: &'static str,
    grpc_service: String,
    grpc_method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Handled {
    grpc_type: &'static str,
    grpc_service: String,
    grpc_method: String,
    grpc_code: &'static str,
}

#[derive(Clone, Debug)]
pub(super) struct GrpcFamilies {
    started: Family<Method, Counter>,
    handled: Family<Handled, Counter>,
    handling: Family<Method, Histogram, fn() -> Histogram>,
    /// The kind of each method, by gRPC path, from the descriptor sets.
    kinds: Arc<HashMap<String, &'static str>>,
}

impl GrpcFamilies {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let started = Family::<Method, Counter>::default();
        let handled = Family::<Handled, Counter>::default();
        let handling = Family::<Method, Histogram>::new_with_constructor(
            (|| Histogram::new(BUCKETS)) as fn() -> Histogram,
        );
        registry.register(
            "grpc_server_started",
            "RPCs started on the server.",
            started.clone(),
        );
        registry.register(
            "grpc_server_handled",
            "RPCs completed on the server, whatever their outcome.",
            handled.clone(),
        );
        registry.register(
            "grpc_server_handling_seconds",
            "How long the server took to answer an RPC, to its last byte.",
            handling.clone(),
        );
        Self {
            started,
            handled,
            handling,
            kinds: Arc::new(method_kinds()),
        }
    }
}

/// `unary`, `server_stream`, `client_stream` or `bidi_stream` for every
/// method of the contracts, health and reflection.
fn method_kinds() -> HashMap<String, &'static str> {
    let mut pool = prost_reflect::DescriptorPool::new();
    for set in [
        kursi_proto::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
    ] {
        if let Err(err) = pool.decode_file_descriptor_set(set) {
            tracing::warn!(error = %err, "a descriptor set for metrics does not decode");
        }
    }
    pool.services()
        .flat_map(|service| service.methods().collect::<Vec<_>>())
        .map(|method| {
            let kind = match (method.is_client_streaming(), method.is_server_streaming()) {
                (false, false) => "unary",
                (false, true) => "server_stream",
                (true, false) => "client_stream",
                (true, true) => "bidi_stream",
            };
            (
                format!("/{}/{}", method.parent_service().full_name(), method.name()),
                kind,
            )
        })
        .collect()
}

/// The tower layer; cheap to clone.
#[derive(Clone, Debug)]
pub struct GrpcMetricsLayer {
    families: GrpcFamilies,
}

impl GrpcMetricsLayer {
    pub(super) fn new(families: GrpcFamilies) -> Self {
        Self { families }
    }
}

impl<S> Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics {
            inner,
            families: self.families.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct GrpcMetrics<S> {
    inner: S,
    families: GrpcFamilies,
}

impl<S> Service<http::Request<Body>> for GrpcMetrics<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let path = request.uri().path();
        let (service, method) = path
            .strip_prefix('/')
            .and_then(|p| p.split_once('/'))
            .unwrap_or(("unknown", "unknown"));
        let labels = Method {
            grpc_type: self.families.kinds.get(path).copied().unwrap_or("unary"),
            grpc_service: service.to_owned(),
            grpc_method: method.to_owned(),
        };
        self.families.started.get_or_create(&labels).inc();
        let watch = Watch {
            families: self.families.clone(),
            labels,
            started: Instant::now(),
            done: false,
        };
        let call = self.inner.call(request);
        Box::pin(async move {
            let response = call.await?;
            let mut watch = watch;
            if let Some(code) = status_of(response.headers()) {
                // Trailers-only: the answer is complete.
                watch.finish(code);
                return Ok(response);
            }
            Ok(response.map(|body| Body::new(Watched { body, watch })))
        })
    }
}

/// One request being watched to its end.
struct Watch {
    families: GrpcFamilies,
    labels: Method,
    started: Instant,
    done: bool,
}

impl Watch {
    fn finish(&mut self, code: &'static str) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let Method {
            grpc_type,
            grpc_service,
            grpc_method,
        } = self.labels.clone();
        self.families
            .handled
            .get_or_create(&Handled {
                grpc_type,
                grpc_service,
                grpc_method,
                grpc_code: code,
            })
            .inc();
        self.families
            .handling
            .get_or_create(&self.labels)
            .observe(self.started.elapsed().as_secs_f64());
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // Dropped before its trailers: the client went away.
        self.finish("Canceled");
    }
}

/// A response body that reports the call's code when its trailers pass.
struct Watched {
    body: Body,
    watch: Watch,
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        let frame = Pin::new(&mut self.body).poll_frame(cx);
        match &frame {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    let code = status_of(trailers).unwrap_or("Unknown");
                    self.watch.finish(code);
                }
            }
            Poll::Ready(Some(Err(_))) => self.watch.finish("Unknown"),
            Poll::Ready(None) => self.watch.finish("Unknown"),
            Poll::Pending => {}
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The `grpc-status` of headers or trailers, by go-grpc-prometheus's names.
fn status_of(headers: &http::HeaderMap) -> Option<&'static str> {
    let value = headers.get("grpc-status")?.to_str().ok()?;
    let code = tonic::Code::from_bytes(value.as_bytes());
    Some(code_name(code))
}

fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "Canceled",
        Unknown => "Unknown",
        InvalidArgument => "InvalidArgument",
        DeadlineExceeded => "DeadlineExceeded",
        NotFound => "NotFound",
        AlreadyExists => "AlreadyExists",
        PermissionDenied => "PermissionDenied",
        ResourceExhausted => "ResourceExhausted",
        FailedPrecondition => "FailedPrecondition",
        Aborted => "Aborted",
        OutOfRange => "OutOfRange",
        Unimplemented => "Unimplemented",
        Internal => "Internal",
        Unavailable => "Unavailable",
        DataLoss => "DataLoss",
        Unauthenticated => "Unauthenticated",
    }
}
