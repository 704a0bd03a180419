//! A request whose bytes are not a valid message of its type (a string that
//! is not UTF-8, a field cut short) is the caller's mistake, so it is
//! answered INVALID_ARGUMENT naming the field, like any other bad input.
//!
//! tonic-prost answers INTERNAL instead, as gRPC's own status-code table
//! suggests, before any of our code runs: its codec turns prost's
//! `DecodeError` into `Status::internal(error.to_string())`. This response
//! map recognises that status by prost's message and rewrites it. It covers
//! every method a service serves, health and reflection included, and
//! leaves a client's own decoding of replies alone: that never passes
//! through a server's responses.

use http::HeaderValue;
use tonic::{Code, Status};

use crate::error::ServiceError;

/// How prost's `DecodeError` starts its message.
const PROST_DECODE_ERROR: &str = "failed to decode Protobuf message: ";

/// Rewrites a trailers-only INTERNAL answer to a request that did not decode.
/// Every other response passes untouched, after one header comparison.
pub fn reclassify<B>(mut response: http::Response<B>) -> http::Response<B> {
    let internal = HeaderValue::from_static("13");
    if response.headers().get("grpc-status") != Some(&internal) {
        return response;
    }
    let Some(status) = Status::from_header_map(response.headers()) else {
        return response;
    };
    let Some(reason) = status.message().strip_prefix(PROST_DECODE_ERROR) else {
        return response;
    };
    let invalid = invalid_request(reason);
    if invalid.add_header(response.headers_mut()).is_err() {
        tracing::warn!(reason, "could not rewrite an undecodable request's status");
    }
    response
}

/// The status for prost's description of what did not decode, which reads
/// `Inner.field: Outer.field: what was wrong`, innermost field first.
fn invalid_request(reason: &str) -> Status {
    let mut fields = Vec::new();
    let mut rest = reason;
    while let Some((segment, after)) = rest.split_once(": ") {
        match segment.split_once('.') {
            Some((message, field)) if is_ident(message) && is_ident(field) => {
                fields.push(field);
                rest = after;
            }
            _ => break,
        }
    }
    if fields.is_empty() {
        return Status::new(
            Code::InvalidArgument,
            format!("the request is not a valid protobuf message: {rest}"),
        );
    }
    fields.reverse();
    ServiceError::invalid(fields.join("."), format!("is not valid protobuf: {rest}")).into()
}

fn is_ident(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use kursi_proto::reservation::v1::CreateReservationRequest;
    use prost::Message;
    use tonic_types::StatusExt;

    fn answer(status: &Status) -> http::Response<()> {
        let mut response = http::Response::new(());
        status
            .add_header(response.headers_mut())
            .expect("status headers");
        response
    }

    fn violations(status: &Status) -> Vec<(String, String)> {
        status
            .get_details_bad_request()
            .map(|bad| {
                bad.field_violations
                    .into_iter()
                    .map(|v| (v.field, v.description))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn prost_decode_errors_become_invalid_arguments_naming_the_field() {
        // contact_info (2) holding a name (1) of one byte that is not UTF-8.
        let err = CreateReservationRequest::decode(&[0x12, 0x03, 0x0a, 0x01, 0xff][..])
            .expect_err("not UTF-8");
        let response = reclassify(answer(&Status::internal(err.to_string())));
        let status = Status::from_header_map(response.headers()).expect("a status");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            violations(&status),
            [(
                "contact_info.name".to_owned(),
                "is not valid protobuf: invalid string value: data is not UTF-8 encoded".to_owned()
            )]
        );
        assert!(status.message().contains("contact_info.name"), "{status:?}");
    }

    #[test]
    fn a_decode_error_outside_any_field_still_says_what_is_wrong() {
        // Field number 0 does not exist: the message breaks before any field.
        let err = CreateReservationRequest::decode(&[0x00][..]).expect_err("tag 0");
        let response = reclassify(answer(&Status::internal(err.to_string())));
        let status = Status::from_header_map(response.headers()).expect("a status");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "the request is not a valid protobuf message: invalid tag value: 0"
        );
    }

    #[test]
    fn other_answers_are_left_alone() {
        for status in [
            Status::internal("internal error; the details are in the service's log"),
            Status::not_found("failed to decode Protobuf message: not really"),
            Status::ok(""),
        ] {
            let before = answer(&status);
            let after = reclassify(answer(&status));
            assert_eq!(before.headers(), after.headers(), "{status:?}");
        }
    }
}
