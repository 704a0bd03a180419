//! What travels with a call besides the message: the caller's token, a
//! request id, the deadline and an idempotency key.

use std::time::Duration;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, HeaderName, HeaderValue};
use tonic::metadata::{AsciiMetadataValue, MetadataMap};

use crate::error::ApiError;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");
const REQUEST_TIMEOUT: HeaderName = HeaderName::from_static("x-request-timeout");
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// The longest request id taken from a caller; longer ones are replaced.
const MAX_REQUEST_ID: usize = 128;

/// Gives every request an `x-request-id` (the caller's when usable, else a
/// new UUID) and echoes it on the response, whatever the response is.
pub async fn request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .filter(|value| usable_request_id(value))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .unwrap_or_else(|_| HeaderValue::from_static("unknown"))
        });
    request.headers_mut().insert(REQUEST_ID, id.clone());
    let mut response = next.run(request).await;
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

fn usable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= MAX_REQUEST_ID && bytes.iter().all(|b| b.is_ascii_graphic())
}

/// The call's deadline: `Grpc-Timeout` (gRPC's `100m`, `5S`…) or
/// `X-Request-Timeout` (seconds, `2.5`), else `default`; never more than `max`.
pub fn deadline(
    headers: &HeaderMap,
    default: Duration,
    max: Duration,
) -> Result<Duration, ApiError> {
    let asked = if let Some(value) = headers.get(&GRPC_TIMEOUT) {
        Some(parse_grpc_timeout(value.as_bytes()).ok_or_else(|| {
            ApiError::invalid_field(
                "Grpc-Timeout",
                "expected 1 to 8 digits and a unit (H, M, S, m, u, n), such as 500m",
            )
        })?)
    } else if let Some(value) = headers.get(&REQUEST_TIMEOUT) {
        Some(parse_seconds(value.as_bytes()).ok_or_else(|| {
            ApiError::invalid_field(
                "X-Request-Timeout",
                "expected a positive number of seconds, such as 2.5",
            )
        })?)
    } else {
        None
    };
    Ok(asked.unwrap_or(default).min(max))
}

fn parse_grpc_timeout(value: &[u8]) -> Option<Duration> {
    let text = std::str::from_utf8(value).ok()?.trim();
    // The unit is one ASCII letter, so the split falls on a char boundary.
    if !text.as_bytes().last()?.is_ascii() {
        return None;
    }
    let (digits, unit) = text.split_at(text.len() - 1);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

fn parse_seconds(value: &[u8]) -> Option<Duration> {
    let text = std::str::from_utf8(value).ok()?.trim();
    let seconds: f64 = text.parse().ok()?;
    if !seconds.is_finite() || seconds <= 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(seconds).ok()
}

/// The metadata forwarded with a call: `authorization`, `x-request-id`,
/// `idempotency-key` and the W3C trace context (`traceparent`,
/// `tracestate`) as the caller sent them. (`grpc-timeout` is set from the
/// deadline by tonic; when the edge exports traces, its own span replaces
/// the caller's `traceparent` as the parent the service sees.)
pub fn forwarded(headers: &HeaderMap) -> Result<MetadataMap, ApiError> {
    let mut metadata = MetadataMap::new();
    for (header, key, label) in [
        (
            http::header::AUTHORIZATION,
            "authorization",
            "Authorization",
        ),
        (REQUEST_ID, "x-request-id", "X-Request-Id"),
        (IDEMPOTENCY_KEY, "idempotency-key", "Idempotency-Key"),
        (TRACEPARENT, "traceparent", "traceparent"),
        (TRACESTATE, "tracestate", "tracestate"),
    ] {
        if let Some(value) = headers.get(&header) {
            let value = AsciiMetadataValue::try_from(value.as_bytes())
                .map_err(|_| ApiError::invalid_field(label, "must be visible ASCII characters"))?;
            metadata.insert(key, value);
        }
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts() {
        assert_eq!(parse_grpc_timeout(b"5S"), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_grpc_timeout(b"250m"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(parse_grpc_timeout(b"1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout(b"S"), None);
        assert_eq!(parse_grpc_timeout(b"123456789S"), None);
        assert_eq!(parse_grpc_timeout(b"5x"), None);
        assert_eq!(parse_grpc_timeout(b""), None);
        assert_eq!(parse_grpc_timeout("5é".as_bytes()), None);
    }

    #[test]
    fn request_timeouts_in_seconds() {
        assert_eq!(parse_seconds(b"2.5"), Some(Duration::from_millis(2500)));
        assert_eq!(parse_seconds(b"0"), None);
        assert_eq!(parse_seconds(b"-1"), None);
        assert_eq!(parse_seconds(b"NaN"), None);
        assert_eq!(parse_seconds(b"1e400"), None);
    }

    #[test]
    fn deadlines_are_capped() {
        let mut headers = HeaderMap::new();
        headers.insert(GRPC_TIMEOUT, HeaderValue::from_static("99999999H"));
        let got = deadline(&headers, Duration::from_secs(30), Duration::from_secs(60))
            .expect("valid header");
        assert_eq!(got, Duration::from_secs(60));
        assert_eq!(
            deadline(
                &HeaderMap::new(),
                Duration::from_secs(30),
                Duration::from_secs(60)
            )
            .expect("no header"),
            Duration::from_secs(30)
        );
    }
}
