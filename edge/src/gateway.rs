//! One REST request through the edge: find the route, admit the caller,
//! build the request message, call the service, render its answer.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use prost_reflect::{DescriptorPool, DynamicMessage};
use serde_json::Value;
use tokio::time::Instant;
use tonic::Code;

use crate::door::Door;
use crate::error::ApiError;
use crate::json::JsonShape;
use crate::metrics::RouteLabel;
use crate::request::{self, Parts};
use crate::retry::{self, RetryRule};
use crate::routes::template::RequestPath;
use crate::routes::{BodyRule, Lookup, Route, RouteTable};
use crate::upstream::{DynamicCodec, Upstreams, client};

pub struct Gateway {
    pub pool: DescriptorPool,
    pub routes: RouteTable,
    pub shape: Arc<JsonShape>,
    pub upstreams: Upstreams,
    pub door: Door,
    pub request_timeout: Duration,
    pub max_request_timeout: Duration,
    pub max_body_bytes: usize,
    pub clients: crate::config::ClientLimits,
    pub metrics: crate::metrics::EdgeMetrics,
}

impl Gateway {
    pub async fn handle(&self, request: Request) -> Response {
        let mut matched = None;
        let mut response = match self.transcode(request, &mut matched).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        };
        if let Some(route) = matched {
            response.extensions_mut().insert(RouteLabel(route));
        }
        response
    }

    /// Answers the request; `matched` is set to the route's template as
    /// soon as a route matches, for the metrics.
    async fn transcode(
        &self,
        request: Request,
        matched: &mut Option<Arc<str>>,
    ) -> Result<Response, ApiError> {
        let (parts, body) = request.into_parts();
        let path = parts.uri.path();
        // OpenAPI cannot say that a variable spans segments
        // (`{name=operations/*}` is documented as `/api/{name}`), so a
        // client following /openapi.json sends its slashes percent-encoded:
        // a path that matches nothing is tried again with them as slashes,
        // for such a variable only.
        let encoded_slash = path.contains("%2F") || path.contains("%2f");
        let unescaped = if encoded_slash {
            path.replace("%2F", "/").replace("%2f", "/")
        } else {
            String::new()
        };
        let request_path = RequestPath::new(path);
        let unescaped_path = RequestPath::new(&unescaped);
        let found = match self.routes.lookup(&parts.method, &request_path) {
            Lookup::NotFound if encoded_slash => {
                match self.routes.lookup(&parts.method, &unescaped_path) {
                    Lookup::Found(route, captures) if route.template.spans_segments() => {
                        Lookup::Found(route, captures)
                    }
                    _ => Lookup::NotFound,
                }
            }
            other => other,
        };
        let (route, captures) = match found {
            Lookup::Found(route, captures) => {
                *matched = Some(Arc::from(route.template.source()));
                (route, captures)
            }
            Lookup::MethodNotAllowed(allowed) => {
                return Err(ApiError::method_not_allowed(&parts.method, path, &allowed));
            }
            Lookup::NotFound => return Err(ApiError::not_found(&parts.method, path)),
        };
        self.door.check(&route.policy, &parts.headers).await?;
        let deadline = crate::metadata::deadline(
            &parts.headers,
            self.request_timeout,
            self.max_request_timeout,
        )?;
        let metadata = crate::metadata::forwarded(&parts.headers)?;
        let path_values = captures.decode().map_err(|err| {
            ApiError::invalid_field(err.field_path, "is not valid percent-encoded UTF-8")
        })?;
        let body = match route.body {
            BodyRule::None => Bytes::new(),
            _ => self.read_body(&parts.headers, body).await?,
        };
        let (message, local_times) = request::build(
            route,
            &self.shape,
            Parts {
                path_values,
                query: parts.uri.query(),
                headers: &parts.headers,
                body,
            },
        )?;
        let mut metadata = metadata;
        if !local_times.is_empty()
            && let Ok(value) = local_times.join(",").parse()
        {
            metadata.insert(crate::local_time::METADATA, value);
        }
        let outgoing = Outgoing {
            message,
            metadata,
            until: Instant::now() + deadline,
            retry: RetryRule::for_request(&parts.method, &parts.headers),
        };
        if route.server_streaming() {
            self.stream(route, &outgoing).await
        } else {
            self.unary(route, &outgoing).await
        }
    }

    /// The body, refused with 413 past the limit and 408 when the client
    /// pauses too long or takes too long over it (`server.rs`).
    async fn read_body(&self, headers: &http::HeaderMap, body: Body) -> Result<Bytes, ApiError> {
        let limit = self.max_body_bytes;
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(ApiError::payload_too_large(limit));
        }
        let limits = &self.clients;
        let whole = Instant::now() + limits.body_timeout;
        let mut body = Limited::new(body, limit);
        let mut read = BytesMut::new();
        loop {
            let pause = Instant::now() + limits.body_idle_timeout;
            let frame = match tokio::time::timeout_at(pause.min(whole), body.frame()).await {
                Ok(frame) => frame,
                Err(_) if pause < whole => {
                    return Err(ApiError::request_timeout(format!(
                        "the request body stopped coming: nothing for {} s",
                        limits.body_idle_timeout.as_secs()
                    )));
                }
                Err(_) => {
                    return Err(ApiError::request_timeout(format!(
                        "the request body took longer than {} s",
                        limits.body_timeout.as_secs()
                    )));
                }
            };
            match frame {
                None => return Ok(read.freeze()),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        read.extend_from_slice(&data);
                    }
                }
                Some(Err(err)) if err.downcast_ref::<LengthLimitError>().is_some() => {
                    return Err(ApiError::payload_too_large(limit));
                }
                Some(Err(err)) => {
                    return Err(ApiError::invalid_field(
                        "body",
                        format!("the body could not be read: {err}"),
                    ));
                }
            }
        }
    }

    fn channel(&self, route: &Route) -> Result<&tonic::transport::Channel, ApiError> {
        self.upstreams.get(&route.upstream).ok_or_else(|| {
            ApiError::new(
                Code::Unavailable,
                format!(
                    "no address is configured for the {} service ({}_GRPC_URL)",
                    route.upstream,
                    route.upstream.to_uppercase()
                ),
            )
        })
    }

    async fn unary(&self, route: &Route, outgoing: &Outgoing) -> Result<Response, ApiError> {
        let answer = self
            .with_retry(route, outgoing, |mut grpc, call| {
                let path = route.grpc_path.clone();
                async move { grpc.unary(call, path, DynamicCodec).await }
            })
            .await?;
        let body = self.render_reply(route, answer.into_inner())?;
        Ok(json_body_response(StatusCode::OK, body))
    }

    /// A server-streaming RPC: newline-delimited JSON, one
    /// `{"result": …}` per message, and `{"error": …}` if the stream fails.
    async fn stream(&self, route: &Route, outgoing: &Outgoing) -> Result<Response, ApiError> {
        let until = outgoing.until;
        let answer = self
            .with_retry(route, outgoing, |mut grpc, call| {
                let path = route.grpc_path.clone();
                async move { grpc.server_streaming(call, path, DynamicCodec).await }
            })
            .await?;
        let stream = answer.into_inner();
        let output = route.rpc.output();
        let shape_pool = (self.shape.clone(), self.pool.clone());
        let upstream = route.upstream.clone();
        let lines = futures_util::stream::unfold(
            (Some(stream), shape_pool, output, upstream),
            move |(stream, (shape, pool), output, upstream)| async move {
                let mut stream = stream?;
                let next = tokio::time::timeout_at(until, stream.next()).await;
                let (line, keep) = match next {
                    Err(_) => (error_line(&ApiError::upstream_timeout(&upstream)), false),
                    Ok(None) => return None,
                    Ok(Some(Ok(bytes))) => match crate::render::reply(&shape, &output, bytes, None)
                    {
                        Ok(json) => (result_line(&json), true),
                        Err(_) => (error_line(&bad_reply(&upstream)), false),
                    },
                    Ok(Some(Err(status))) => (
                        error_line(&upstream_error(&status, &upstream, until, &pool, &shape)),
                        false,
                    ),
                };
                let stream = keep.then_some(stream);
                Some((
                    Ok::<_, std::convert::Infallible>(Bytes::from(line)),
                    (stream, (shape, pool), output, upstream),
                ))
            },
        );
        let mut response = Response::new(Body::from_stream(lines));
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        Ok(response)
    }

    /// Makes the call, and once more when it failed in a way `retry.rs`
    /// says is safe to repeat, all within the request's deadline.
    async fn with_retry<T, F>(
        &self,
        route: &Route,
        outgoing: &Outgoing,
        send: impl Fn(
            tonic::client::Grpc<tonic::transport::Channel>,
            tonic::Request<DynamicMessage>,
        ) -> F,
    ) -> Result<T, ApiError>
    where
        F: Future<Output = Result<T, tonic::Status>>,
    {
        let channel = self.channel(route)?;
        let until = outgoing.until;
        let attempts = async {
            let mut sent_again = false;
            loop {
                let mut grpc = client(channel);
                let result = match grpc.ready().await {
                    Ok(()) => send(grpc, outgoing.call()).await,
                    // No connection: nothing was sent.
                    Err(err) => Err(tonic::Status::from_error(Box::new(err))),
                };
                match result {
                    Ok(answer) => return Ok(answer),
                    Err(status)
                        if !sent_again && outgoing.retry.allows(retry::delivery(&status)) =>
                    {
                        tracing::info!(
                            upstream = route.upstream,
                            error = %status,
                            "the upstream call failed before its answer; sending it again"
                        );
                        self.metrics.retried(&route.upstream);
                        sent_again = true;
                    }
                    Err(status) => return Err(self.status_error(&status, route, until)),
                }
            }
        };
        tokio::time::timeout_at(until, attempts)
            .await
            .map_err(|_| ApiError::upstream_timeout(&route.upstream))?
    }

    fn status_error(&self, status: &tonic::Status, route: &Route, until: Instant) -> ApiError {
        upstream_error(status, &route.upstream, until, &self.pool, &self.shape)
    }

    /// The reply as callers see it, or its `response_body` field, as JSON text.
    fn render_reply(&self, route: &Route, bytes: Bytes) -> Result<Vec<u8>, ApiError> {
        let descriptor = route.rpc.output();
        crate::render::reply(&self.shape, &descriptor, bytes, route.response_body.as_ref())
            .map_err(|err| {
                tracing::warn!(rpc = route.rpc.full_name(), error = %err, "a reply does not fit the contract");
                bad_reply(&route.upstream)
            })
    }
}

/// An upstream's error status as the caller sees it. A tonic server ends a
/// call whose `grpc-timeout` ran out with CANCELLED ("Timeout expired"),
/// and that answer can arrive before the edge's own timer fires. Past the
/// deadline, CANCELLED means the deadline (504), not a caller that went
/// away (499); grpc-dotnet's client reads it the same way.
fn upstream_error(
    status: &tonic::Status,
    upstream: &str,
    until: Instant,
    pool: &DescriptorPool,
    shape: &JsonShape,
) -> ApiError {
    if status.code() == Code::Cancelled && Instant::now() >= until {
        return ApiError::upstream_timeout(upstream);
    }
    ApiError::from_status(status, upstream, pool, shape)
}

/// The service answered something that does not fit its contract.
fn bad_reply(upstream: &str) -> ApiError {
    let mut error = ApiError::new(
        Code::Unknown,
        format!("the {upstream} service sent a reply that does not fit its contract"),
    );
    error.status = StatusCode::BAD_GATEWAY;
    error
}

fn error_line(error: &ApiError) -> Vec<u8> {
    format!("{}\n", serde_json::json!({ "error": error.body() })).into_bytes()
}

/// `{"result": …}` around a message already written as JSON.
fn result_line(json: &[u8]) -> Vec<u8> {
    let mut line = Vec::with_capacity(json.len() + 12);
    line.extend_from_slice(b"{\"result\":");
    line.extend_from_slice(json);
    line.extend_from_slice(b"}\n");
    line
}

pub fn json_response(status: StatusCode, value: &Value) -> Response {
    json_body_response(status, value.to_string().into_bytes())
}

/// A response of JSON text already written.
pub fn json_body_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// One upstream call, kept so it can be sent again.
struct Outgoing {
    message: DynamicMessage,
    metadata: tonic::metadata::MetadataMap,
    until: Instant,
    retry: RetryRule,
}

impl Outgoing {
    /// The call, with what is left of the deadline as its `grpc-timeout`.
    fn call(&self) -> tonic::Request<DynamicMessage> {
        let mut call = tonic::Request::from_parts(
            self.metadata.clone(),
            Default::default(),
            self.message.clone(),
        );
        call.set_timeout(self.until.saturating_duration_since(Instant::now()));
        service_kit::telemetry::inject_metadata(call.metadata_mut());
        call
    }
}
