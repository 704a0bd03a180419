//! Every answer that is not a success: a google.rpc.Status as JSON
//! (`{"code", "message", "details"}`) with the HTTP status grpc-gateway and
//! Envoy use for its code.

use axum::response::{IntoResponse, Response};
use base64::Engine;
use http::header::{ALLOW, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, StatusCode};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};
use serde_json::{Value, json};
use tonic::Code;

use crate::json::{FieldError, JsonShape};

const BAD_REQUEST_TYPE: &str = "type.googleapis.com/google.rpc.BadRequest";

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Code,
    pub message: String,
    pub details: Vec<Value>,
    headers: Vec<(http::HeaderName, HeaderValue)>,
}

/// The HTTP status of a gRPC code (DESIGN.md §2; grpc-gateway's table).
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        // grpc-gateway's "client closed request".
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            status: http_status(code),
            code,
            message: message.into(),
            details: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// 400 with a google.rpc.BadRequest naming the fields.
    pub fn invalid(violations: Vec<FieldError>) -> Self {
        let message = violations
            .iter()
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect::<Vec<_>>()
            .join("; ");
        let mut error = Self::new(
            Code::InvalidArgument,
            format!("invalid argument: {message}"),
        );
        error.details.push(json!({
            "@type": BAD_REQUEST_TYPE,
            "field_violations": violations
                .iter()
                .map(|v| json!({"field": v.field, "description": v.description}))
                .collect::<Vec<_>>(),
        }));
        error
    }

    pub fn invalid_field(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, description)])
    }

    pub fn not_found(method: &Method, path: &str) -> Self {
        Self::new(
            Code::NotFound,
            format!("no route for {method} {}", printable(path)),
        )
    }

    pub fn method_not_allowed(method: &Method, path: &str, allowed: &[Method]) -> Self {
        let list = allowed
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let mut error = Self::new(
            Code::Unimplemented,
            format!("{method} is not allowed on {}; use {list}", printable(path)),
        );
        error.status = StatusCode::METHOD_NOT_ALLOWED;
        if let Ok(value) = HeaderValue::from_str(&list) {
            error.headers.push((ALLOW, value));
        }
        error
    }

    pub fn payload_too_large(limit: usize) -> Self {
        let mut error = Self::new(
            Code::ResourceExhausted,
            format!("the request body is larger than {limit} bytes"),
        );
        error.status = StatusCode::PAYLOAD_TOO_LARGE;
        error
    }

    /// 408: the client stopped sending its body. The connection is closed
    /// after the answer (HTTP/1), since the rest of the body may still come.
    pub fn request_timeout(why: impl Into<String>) -> Self {
        let mut error = Self::new(Code::DeadlineExceeded, why);
        error.status = StatusCode::REQUEST_TIMEOUT;
        error
            .headers
            .push((http::header::CONNECTION, HeaderValue::from_static("close")));
        error
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        let mut error = Self::new(
            Code::InvalidArgument,
            format!(
                "content type {content_type:?} is not supported; send application/json or \
                 application/x-www-form-urlencoded"
            ),
        );
        error.status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        error
    }

    /// A body compressed in a way the edge does not undo (RFC 9110 §12.5.3).
    pub fn unsupported_content_encoding(coding: &str) -> Self {
        let mut error = Self::new(
            Code::InvalidArgument,
            format!("content encoding {coding:?} is not supported; send the body uncompressed"),
        );
        error.status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        error
    }

    /// 401 with the `WWW-Authenticate: Bearer` challenge (RFC 6750); `bad`
    /// when a token came and was refused.
    pub fn unauthenticated(message: impl Into<String>, bad: bool) -> Self {
        let message = message.into();
        let mut error = Self::new(Code::Unauthenticated, message.clone());
        let challenge = if bad {
            format!(
                "Bearer realm=\"kursi\", error=\"invalid_token\", error_description=\"{}\"",
                message.replace(['"', '\\'], "'")
            )
        } else {
            "Bearer realm=\"kursi\"".to_owned()
        };
        let value = HeaderValue::from_str(&challenge)
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer realm=\"kursi\""));
        error.headers.push((WWW_AUTHENTICATE, value));
        error
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        let mut error = Self::new(Code::PermissionDenied, message);
        error.headers.push((
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"kursi\", error=\"insufficient_scope\""),
        ));
        error
    }

    /// The upstream could not be reached at all.
    pub fn upstream_unreachable(upstream: &str) -> Self {
        Self::new(
            Code::Unavailable,
            format!("the {upstream} service is unavailable; retry shortly"),
        )
    }

    pub fn upstream_timeout(upstream: &str) -> Self {
        Self::new(
            Code::DeadlineExceeded,
            format!("the {upstream} service did not answer before the deadline"),
        )
    }

    /// An error status from an upstream, or from the channel to it.
    pub fn from_status(
        status: &tonic::Status,
        upstream: &str,
        pool: &DescriptorPool,
        shape: &JsonShape,
    ) -> Self {
        // A status made on this side (connection refused, reset, protocol
        // error) carries its source error; the service never answered.
        let local = std::error::Error::source(status).is_some()
            || (matches!(status.code(), Code::Unknown | Code::Internal)
                && status.message().starts_with("h2 protocol error"));
        if local {
            tracing::warn!(upstream, error = %status, "upstream call failed");
            // A CANCELLED made on this side is a connection that closed
            // under the call (the service died mid-request): unreachable,
            // not slow. The edge's own deadline answers 504 elsewhere.
            if status.code() == Code::DeadlineExceeded {
                return Self::upstream_timeout(upstream);
            }
            return Self::upstream_unreachable(upstream);
        }
        let mut error = Self::new(status.code(), status.message());
        error.details = decode_details(status.details(), pool, shape);
        if error.has_reason(service_kit::error::IDEMPOTENCY_KEY_REUSED) {
            // The IETF Idempotency-Key draft's answer to a key reused with
            // another request.
            error.status = StatusCode::UNPROCESSABLE_ENTITY;
        }
        error
    }

    /// Whether a google.rpc.ErrorInfo detail gives this reason.
    fn has_reason(&self, reason: &str) -> bool {
        self.details.iter().any(|detail| {
            detail["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
                && detail["reason"] == reason
        })
    }

    pub fn body(&self) -> Value {
        json!({
            "code": self.code as i32,
            "message": self.message,
            "details": self.details,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body().to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        response
    }
}

/// The `details` of the google.rpc.Status in `grpc-status-details-bin`,
/// each an `Any` written as its message with an `@type`.
/// Adds google.rpc's error details (tonic-types' descriptors) to `pool`, so
/// that an upstream's `grpc-status-details-bin` renders as JSON. A file
/// whose messages the contracts define already is left out: they vendor
/// `google/rpc/status.proto` (for the long-running operations), which
/// tonic-types ships as `status.proto`.
pub fn add_error_details(pool: &mut DescriptorPool) -> Result<(), String> {
    let set = prost_types::FileDescriptorSet::decode(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .map_err(|err| err.to_string())?;
    for file in set.file {
        let package = file.package().to_owned();
        let defined = file.message_type.iter().any(|message| {
            let name = format!("{package}.{}", message.name());
            pool.get_message_by_name(&name).is_some()
        });
        if !defined {
            pool.add_file_descriptor_proto(file)
                .map_err(|err| err.to_string())?;
        }
    }
    Ok(())
}

fn decode_details(bytes: &[u8], pool: &DescriptorPool, shape: &JsonShape) -> Vec<Value> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let Ok(status) = tonic_types::pb::Status::decode(bytes) else {
        tracing::warn!("an upstream sent grpc-status-details-bin that does not decode");
        return Vec::new();
    };
    status
        .details
        .iter()
        .map(|any| {
            let type_name = any.type_url.rsplit('/').next().unwrap_or_default();
            let rendered = pool
                .get_message_by_name(type_name)
                .and_then(|descriptor| {
                    DynamicMessage::decode(descriptor, any.value.as_slice()).ok()
                })
                .and_then(|message| shape.render(&message).ok());
            match rendered.map(without_empty_fields) {
                Some(Value::Object(mut fields)) => {
                    let mut out = serde_json::Map::with_capacity(fields.len() + 1);
                    out.insert("@type".into(), Value::String(any.type_url.clone()));
                    out.append(&mut fields);
                    Value::Object(out)
                }
                _ => json!({
                    "@type": any.type_url,
                    "value": base64::engine::general_purpose::STANDARD.encode(&any.value),
                }),
            }
        })
        .collect()
}

/// An error detail as the edge writes its own: fields that say nothing
/// (empty, null, zero-length) left out, so a field violation reads the same
/// whether the edge or a service found it.
fn without_empty_fields(value: Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| (name, without_empty_fields(value)))
                .filter(|(_, value)| !says_nothing(value))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_empty_fields).collect()),
        other => other,
    }
}

fn says_nothing(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
        _ => false,
    }
}

/// A path for an error message: cut short and without control characters.
fn printable(path: &str) -> String {
    let mut out: String = path.chars().filter(|c| !c.is_control()).take(200).collect();
    if path.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_design_table() {
        assert_eq!(http_status(Code::InvalidArgument), StatusCode::BAD_REQUEST);
        assert_eq!(
            http_status(Code::FailedPrecondition),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(http_status(Code::OutOfRange), StatusCode::BAD_REQUEST);
        assert_eq!(http_status(Code::Unauthenticated), StatusCode::UNAUTHORIZED);
        assert_eq!(http_status(Code::PermissionDenied), StatusCode::FORBIDDEN);
        assert_eq!(http_status(Code::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(http_status(Code::AlreadyExists), StatusCode::CONFLICT);
        assert_eq!(http_status(Code::Aborted), StatusCode::CONFLICT);
        assert_eq!(
            http_status(Code::ResourceExhausted),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            http_status(Code::Unimplemented),
            StatusCode::NOT_IMPLEMENTED
        );
        assert_eq!(
            http_status(Code::Unavailable),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            http_status(Code::DeadlineExceeded),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(
            http_status(Code::DataLoss),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn field_violations_are_details() {
        let error = ApiError::invalid_field("contact_info.email", "not an email");
        let body = error.body();
        assert_eq!(body["code"], 3);
        assert_eq!(
            body["details"][0]["field_violations"][0]["field"],
            "contact_info.email"
        );
    }

    #[test]
    fn a_reused_idempotency_key_is_422_with_its_details() {
        let mut pool = DescriptorPool::decode(kursi_proto::FILE_DESCRIPTOR_SET).unwrap();
        add_error_details(&mut pool).unwrap();
        let shape = JsonShape::new(&pool);
        let status = tonic::Status::from(service_kit::ServiceError::IdempotencyKeyReused {
            field: "idempotency_key",
            key: "walk-1".into(),
        });
        let error = ApiError::from_status(&status, "order", &pool, &shape);
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error.code, Code::FailedPrecondition);
        let body = error.body();
        assert_eq!(body["details"][0]["reason"], "IDEMPOTENCY_KEY_REUSED");
        assert_eq!(body["details"][0]["metadata"]["idempotency_key"], "walk-1");
        let other = tonic::Status::failed_precondition("the order is PAID");
        let error = ApiError::from_status(&other, "order", &pool, &shape);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_services_field_violation_reads_as_the_edges_own() {
        let mut pool = DescriptorPool::decode(kursi_proto::FILE_DESCRIPTOR_SET).unwrap();
        add_error_details(&mut pool).unwrap();
        let shape = JsonShape::new(&pool);
        let status = tonic::Status::from(service_kit::ServiceError::invalid(
            "contact_info.email",
            "not an email",
        ));
        let from_service = ApiError::from_status(&status, "reservation", &pool, &shape);
        let from_edge = ApiError::invalid_field("contact_info.email", "not an email");
        assert_eq!(from_service.body()["details"], from_edge.body()["details"]);
    }

    #[test]
    fn a_connection_closed_under_a_call_is_unreachable_not_slow() {
        let pool = DescriptorPool::decode(kursi_proto::FILE_DESCRIPTOR_SET).unwrap();
        let shape = JsonShape::new(&pool);
        // As tonic reports a connection the service closed mid-call.
        let mut cancelled = tonic::Status::cancelled("connection closed");
        cancelled.set_source(std::sync::Arc::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        let error = ApiError::from_status(&cancelled, "reservation", &pool, &shape);
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
    }
}
