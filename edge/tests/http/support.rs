//! A real edge on port 0, a plain HTTP client for it, and an echo upstream
//! that serves the tests' own contract (`contracts/echo.proto`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use bytes::Bytes;
use edge::config::{EdgeConfig, Upstream};
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;
use serde_json::Value;
use testkit::Spawned;
use testkit::raw::RawCodec;
use tonic::codegen::{BoxFuture, Service};
use tonic::{Code, Status};

/// A running edge, stopped when dropped.
pub struct Edge {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), edge::app::EdgeError>>>,
}

impl Edge {
    /// The Kursi contracts, with these upstreams and the default settings.
    pub async fn start(upstreams: Vec<Upstream>) -> Self {
        Self::start_with(upstreams, |_| {}).await
    }

    pub async fn start_with(
        upstreams: Vec<Upstream>,
        adjust: impl FnOnce(&mut EdgeConfig),
    ) -> Self {
        Self::serve(upstreams, adjust, kursi_proto::FILE_DESCRIPTOR_SET.to_vec()).await
    }

    /// The tests' echo contract instead of Kursi's.
    pub async fn start_echo(upstreams: Vec<Upstream>) -> Self {
        Self::start_echo_with(upstreams, |_| {}).await
    }

    pub async fn start_echo_with(
        upstreams: Vec<Upstream>,
        adjust: impl FnOnce(&mut EdgeConfig),
    ) -> Self {
        Self::serve(upstreams, adjust, echo_descriptor_set().to_vec()).await
    }

    async fn serve(
        upstreams: Vec<Upstream>,
        adjust: impl FnOnce(&mut EdgeConfig),
        descriptors: Vec<u8>,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = EdgeConfig::new(addr, upstreams);
        adjust(&mut config);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            edge::app::run_with_contracts(config, &descriptors, listener, async {
                let _ = rx.await;
            })
            .await
        });
        Self {
            addr,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Stops the edge and waits until it has let requests in flight finish.
    pub async fn stop(mut self) -> Result<(), edge::app::EdgeError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap(),
            None => Ok(()),
        }
    }

    pub fn get(&self, path: &str) -> Call {
        Call::new(self.addr, Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call {
        Call::new(self.addr, Method::POST, path)
    }

    pub fn call(&self, method: Method, path: &str) -> Call {
        Call::new(self.addr, method, path)
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// One HTTP request, sent on a connection of its own.
pub struct Call {
    addr: SocketAddr,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Bytes,
    http2: bool,
}

impl Call {
    fn new(addr: SocketAddr, method: Method, path: &str) -> Self {
        Self {
            addr,
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: Bytes::new(),
            http2: false,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn json(self, value: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }

    pub fn form(self, form: &str) -> Self {
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
    }

    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// HTTP/2 with prior knowledge (h2c) instead of HTTP/1.1.
    pub fn http2(mut self) -> Self {
        self.http2 = true;
        self
    }

    pub async fn send(self) -> Reply {
        self.try_send().await.unwrap()
    }

    /// [`Call::send`], with the client's error when the edge refused the
    /// request below HTTP (a reset stream, a closed connection).
    pub async fn try_send(self) -> Result<Reply, hyper::Error> {
        let stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let mut request = Request::builder()
            .method(self.method)
            .uri(format!("http://{}{}", self.addr, self.path));
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let request = request.body(Full::new(self.body)).unwrap();
        let response = if self.http2 {
            let (mut sender, connection) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                    .await?;
            tokio::spawn(connection);
            sender.send_request(request).await?
        } else {
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            sender.send_request(request).await?
        };
        let status = response.status().as_u16();
        let version = response.version();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            version,
            headers,
            body,
        })
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub version: http::Version,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and that the body is JSON; returns the JSON.
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{}",
            self.text()
        );
        self.json()
    }

    /// Asserts an error answer: status, gRPC code and a google.rpc.Status body.
    pub fn expect_error(&self, status: u16, code: Code) -> Value {
        let body = self.expect(status);
        assert_eq!(body["code"], code as i32, "{body}");
        assert!(body["message"].is_string(), "{body}");
        assert!(body["details"].is_array(), "{body}");
        body
    }
}

/// The first field violation's field of a 400.
pub fn violated_field(body: &Value) -> String {
    body["details"][0]["field_violations"][0]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("no field violation: {body}"))
        .to_owned()
}

pub fn upstream(name: &str, url: impl Into<String>) -> Upstream {
    Upstream::new(name, url)
}

/// A loopback address where nothing listens.
pub async fn vacant_addr() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// The echo contract, compiled with protox as `proto/build.rs` compiles
/// Kursi's, so its custom options survive.
pub fn echo_descriptor_set() -> &'static [u8] {
    static SET: OnceLock<Vec<u8>> = OnceLock::new();
    SET.get_or_init(|| {
        let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut compiler =
            protox::Compiler::new([here.join("tests/http/contracts"), here.join("../proto")])
                .unwrap();
        compiler.include_imports(true).include_source_info(true);
        compiler.open_files(["echo.proto"]).unwrap();
        compiler.encode_file_descriptor_set()
    })
}

/// A gRPC server for `kursi.echo.v1.EchoService` that answers each call
/// with the request's own bytes, plus the metadata it received as
/// `received_metadata`.
pub async fn start_echo_upstream() -> Spawned {
    testkit::spawn(|listener, shutdown| async move {
        let (_, health) = tonic_health::server::health_reporter();
        tonic::transport::Server::builder()
            .add_service(health)
            .add_service(EchoService)
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                shutdown,
            )
            .await
    })
    .await
}

#[derive(Clone)]
struct EchoService;

impl tonic::server::NamedService for EchoService {
    const NAME: &'static str = "kursi.echo.v1.EchoService";
}

impl Service<http::Request<tonic::body::Body>> for EchoService {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let streaming = request.uri().path().ends_with("/Watch");
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(RawCodec);
            if streaming {
                Ok(grpc.server_streaming(EchoStream, request).await)
            } else {
                Ok(grpc.unary(EchoUnary, request).await)
            }
        })
    }
}

/// The fields of an echo request the upstream acts on.
#[derive(Clone, PartialEq, prost::Message)]
struct Control {
    #[prost(string, tag = "1")]
    id: String,
    #[prost(bool, tag = "14")]
    hang: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Received {
    #[prost(map = "string, string", tag = "15")]
    received_metadata: HashMap<String, String>,
}

async fn echo(request: tonic::Request<Bytes>) -> Result<Bytes, Status> {
    let received = Received {
        received_metadata: [
            "authorization",
            "x-request-id",
            "idempotency-key",
            "grpc-timeout",
            "traceparent",
            "tracestate",
        ]
        .into_iter()
        .filter_map(|key| {
            let value = request.metadata().get(key)?.to_str().ok()?;
            Some((key.to_owned(), value.to_owned()))
        })
        .collect(),
    };
    let bytes = request.into_inner();
    let control = Control::decode(bytes.clone()).unwrap_or_default();
    if control.hang {
        std::future::pending::<()>().await;
    }
    match control.id.as_str() {
        // A wire-type 7 tag: no protobuf decoder accepts it.
        "garbage" => return Ok(Bytes::from_static(&[0x0f, 0xff, 0xff])),
        "invalid" => {
            let mut details = tonic_types::ErrorDetails::new();
            details.add_bad_request_violation("inner.note", "must not be empty");
            return Err(<Status as tonic_types::StatusExt>::with_error_details(
                Code::InvalidArgument,
                "invalid argument: inner.note: must not be empty",
                details,
            ));
        }
        // What a tonic server answers when a call's grpc-timeout runs out.
        "timeout-expired" => return Err(Status::cancelled("Timeout expired")),
        _ => {}
    }
    let mut out = bytes.to_vec();
    received.encode(&mut out).unwrap();
    Ok(Bytes::from(out))
}

struct EchoUnary;

impl tonic::server::UnaryService<Bytes> for EchoUnary {
    type Response = Bytes;
    type Future = BoxFuture<tonic::Response<Bytes>, Status>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        Box::pin(async move { echo(request).await.map(tonic::Response::new) })
    }
}

struct EchoStream;

impl tonic::server::ServerStreamingService<Bytes> for EchoStream {
    type Response = Bytes;
    type ResponseStream =
        std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, Status>> + Send>>;
    type Future = BoxFuture<tonic::Response<Self::ResponseStream>, Status>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        Box::pin(async move {
            let reply = echo(request).await?;
            let items = vec![Ok(reply.clone()), Ok(reply.clone()), Ok(reply)];
            let stream: Self::ResponseStream = Box::pin(futures_util::stream::iter(items));
            Ok(tonic::Response::new(stream))
        })
    }
}
